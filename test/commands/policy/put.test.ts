import {GetKeyPolicyCommand} from '@aws-sdk/client-kms'
import {readFileSync, readdirSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {expect} from 'chai'

import {Journal} from '../../../src/lib/journal.js'
import {ACCOUNT, ADMIN_SESSION, DEFAULT_POLICY, KEY_ARN, KEY_ID, ROOT_STATEMENT, USE_STATEMENT, policyText, setupPolicyMocks} from './helpers.js'

describe('policy put', () => {
  const h = setupPolicyMocks()
  const file = (name: string, text: string) => {
    const p = join(h.dir, name)
    writeFileSync(p, text)
    return p
  }

  const backups = () => {
    try {
      return readdirSync(join(h.home, 'backups'))
    } catch {
      return []
    }
  }

  const newPolicy = policyText([ROOT_STATEMENT, USE_STATEMENT])

  describe('bad input: one-line error, exit 2, nothing sent', () => {
    const cases: Array<[string, () => string, RegExp]> = [
      ['malformed JSON', () => file('bad.json', '{"Statement": [ {"Effect": "Allow",, } ]}'), /^Error: .*bad\.json: The policy is not valid JSON: /],
      ['a missing file', () => join(h.dir, 'nope.json'), /^Error: --file .*nope\.json: no such file\.$/],
      ['a policy over 32 KB', () => file('big.json', policyText([ROOT_STATEMENT, {...USE_STATEMENT, Sid: 'x'.repeat(33_000)}])), /^Error: .*big\.json: The policy is \d+ bytes; KMS accepts at most 32768\.$/],
      ['a policy without Statement', () => file('empty.json', '{"Version": "2012-10-17"}'), /^Error: .*empty\.json: The policy has no Statement\.$/],
      ['one invalid statement among valid ones', () => file('permit.json', policyText([ROOT_STATEMENT, {...USE_STATEMENT, Effect: 'Permit'}])), /^Error: .*permit\.json: Statement "Use": Effect must be "Allow" or "Deny", not "Permit"\.$/],
    ]
    for (const [name, make, message] of cases) {
      it(name, async () => {
        const {exitCode, stderr, stdout} = await h.run(['policy', 'put', KEY_ID, '--file', make(), '--yes'])
        expect(exitCode).to.equal(2)
        const lines = stderr.trim().split('\n')
        expect(lines[0]).to.match(message)
        expect(lines).to.have.length(2)
        expect(lines[1]).to.match(/^Try this: /)
        expect(stdout).to.equal('')
        expect(h.kms.calls()).to.have.length(0)
      })
    }

    it('lint errors (Resource other than "*") stop before any call', async () => {
      const {exitCode, stderr} = await h.run(['policy', 'put', KEY_ID, '--file', file('res.json', policyText([ROOT_STATEMENT, {...USE_STATEMENT, Resource: KEY_ARN}])), '--yes'])
      expect(exitCode).to.equal(2)
      expect(stderr).to.contain('resource-not-star')
      expect(stderr).to.match(/Error: .*res\.json has 1 lint error \(first: Statement "Use": Resource must be "\*"/)
      expect(h.kms.calls()).to.have.length(0)
    })

    it('--json gives the error as one document', async () => {
      const {exitCode, stdout} = await h.run(['policy', 'put', KEY_ID, '--file', join(h.dir, 'nope.json'), '--json'])
      expect(exitCode).to.equal(2)
      expect(JSON.parse(stdout).error).to.deep.include({code: 'USAGE', exitCode: 2})
    })
  })

  it('refuses a policy that would lock the caller out, before any PutKeyPolicy, with no backup', async () => {
    const lockout = file('lockout.json', policyText([USE_STATEMENT]))
    const {exitCode, stderr} = await h.run(['policy', 'put', KEY_ID, '--file', lockout, '--yes'])
    expect(exitCode).to.equal(2)
    expect(stderr).to.contain(`Error: The new policy would lock you out: ${ADMIN_SESSION} could no longer call kms:PutKeyPolicy (statement "Enable IAM User Permissions", which allowed it, is removed). Nothing was sent.`)
    expect(h.puts()).to.have.length(0)
    expect(backups()).to.deep.equal([])
    expect(new Journal().readAll()).to.deep.equal([])
  })

  it('a condition on the caller that the check cannot know is refused with a hint; --condition supplies it', async () => {
    const mfa = file('mfa.json', policyText([{Sid: 'Admins', Effect: 'Allow', Principal: {AWS: `arn:aws:iam::${ACCOUNT}:role/KeyAdmin`}, Action: 'kms:*', Resource: '*', Condition: {Bool: {'aws:MultiFactorAuthPresent': 'true'}}}]))
    const refused = await h.run(['policy', 'put', KEY_ID, '--file', mfa, '--yes'])
    expect(refused.exitCode).to.equal(2)
    expect(refused.stderr).to.contain('Try this: if your own requests carry aws:MultiFactorAuthPresent, give the values so the check can use them: --condition aws:MultiFactorAuthPresent=VALUE')
    expect(h.puts()).to.have.length(0)
    const ok = await h.run(['policy', 'put', KEY_ID, '--file', mfa, '--yes', '--condition', 'aws:MultiFactorAuthPresent=true'])
    expect(ok.exitCode).to.equal(undefined)
    expect(ok.stderr).to.contain('The new policy still lets arn:aws:sts::111122223333:assumed-role/KeyAdmin/alice call kms:PutKeyPolicy (statement "Admins").')
    expect(h.puts()).to.have.length(1)
  })

  it('--bypass-lockout-check needs the key typed: --yes is not enough; --confirm sends the bypass flag', async () => {
    const lockout = file('lockout.json', policyText([USE_STATEMENT, {Sid: 'Admin', Effect: 'Allow', Principal: {AWS: `arn:aws:iam::${ACCOUNT}:role/Other`}, Action: 'kms:*', Resource: '*'}]))
    const refused = await h.run(['policy', 'put', KEY_ID, '--file', lockout, '--bypass-lockout-check', '--yes'])
    expect(refused.exitCode).to.equal(2)
    expect(refused.stderr).to.contain('--yes is not enough')
    expect(h.puts()).to.have.length(0)
    const ok = await h.run(['policy', 'put', KEY_ID, '--file', lockout, '--bypass-lockout-check', '--confirm', KEY_ID])
    expect(ok.exitCode).to.equal(undefined)
    expect(h.puts()).to.have.length(1)
    expect(h.puts()[0].BypassPolicyLockoutSafetyCheck).to.equal(true)
  })

  it('ends with exit 0 and sends nothing when the new policy is equivalent', async () => {
    const same = file('same.json', JSON.stringify({Statement: [{...ROOT_STATEMENT, Principal: {AWS: ACCOUNT}, Action: ['kms:*']}]}))
    const {exitCode, stderr} = await h.run(['policy', 'put', KEY_ID, '--file', same, '--yes'])
    expect(exitCode).to.equal(undefined)
    expect(stderr).to.contain(`No change: ${same} is equivalent to the key policy of ${KEY_ID}.`)
    expect(h.puts()).to.have.length(0)
  })

  it('--dry-run shows the diff, passes the lockout check with a note, prints the request and sends nothing', async () => {
    const {exitCode, stderr, stdout} = await h.run(['policy', 'put', KEY_ID, '--file', file('new.json', newPolicy), '--dry-run'])
    expect(exitCode).to.equal(undefined)
    expect(stdout).to.match(/\+\s+Use/)
    expect(stdout).to.contain('Access is WIDENED')
    expect(stdout).to.contain(`Dry run: would send PutKeyPolicy KeyId=${KEY_ID} PolicyName=default BypassPolicyLockoutSafetyCheck=false`)
    expect(stdout).to.contain(newPolicy.trim())
    expect(stderr).to.contain('delegates kms:PutKeyPolicy to IAM through the account root')
    expect(stderr).to.contain('Nothing was sent.')
    expect(h.puts()).to.have.length(0)
    expect(backups()).to.deep.equal([])
  })

  it('asks for confirmation and refuses without a terminal; nothing is put, saved or journalled', async () => {
    const {exitCode, stderr} = await h.run(['policy', 'put', KEY_ID, '--file', file('new.json', newPolicy)])
    expect(exitCode).to.equal(2)
    expect(stderr).to.contain('Try this: --confirm 1234abcd-12ab-34cd-56ef-1234567890ab or --yes')
    expect(stderr).not.to.contain('Saved the current policy')
    expect(h.puts()).to.have.length(0)
    expect(backups()).to.deep.equal([])
    expect(new Journal().readAll()).to.deep.equal([])
  })

  it('a mismatching --confirm sends nothing; the alias is accepted', async () => {
    const bad = await h.run(['policy', 'put', KEY_ID, '--file', file('new.json', newPolicy), '--confirm', 'alias/other'])
    expect(bad.exitCode).to.equal(2)
    expect(bad.stderr).to.contain('--confirm "alias/other" does not match')
    expect(h.puts()).to.have.length(0)
    const good = await h.run(['policy', 'put', 'alias/payments', '--file', join(h.dir, 'new.json'), '--confirm', 'alias/payments'])
    expect(good.exitCode).to.equal(undefined)
    expect(h.puts()).to.have.length(1)
  })

  it('puts exactly the file, after a backup and a journal entry of the old policy, and verifies the read-back', async () => {
    const path = file('new.json', newPolicy)
    const {exitCode, stderr, stdout} = await h.run(['policy', 'put', KEY_ID, '--file', path, '--yes'])
    expect(exitCode).to.equal(undefined)
    expect(h.puts()).to.deep.equal([{BypassPolicyLockoutSafetyCheck: false, KeyId: KEY_ID, Policy: newPolicy, PolicyName: 'default'}])
    const [name] = backups()
    expect(name).to.match(new RegExp(`^${KEY_ID}-\\d{8}T\\d{6}Z\\.json$`))
    const backup = join(h.home, 'backups', name)
    expect(readFileSync(backup, 'utf8')).to.equal(DEFAULT_POLICY)
    expect(stderr).to.contain(`Saved the current policy to ${backup} (journal entry j-`)
    expect(stderr).to.contain('Confirmed with --yes')
    expect(stdout).to.contain(`Put the key policy of ${KEY_ID} (read back: identical).`)
    expect(stdout).to.contain(`kmsctl policy restore ${KEY_ID} --from ${backup}`)
    const [entry] = new Journal().readAll()
    expect(entry).to.deep.include({action: 'policy.put', caller: ADMIN_SESSION, region: 'us-east-1'})
    expect((entry.before as {policy: string}).policy).to.equal(DEFAULT_POLICY)
    expect(entry.outcome?.status).to.equal('ok')
    // Current policy, re-read before the put, read back after it.
    expect(h.kms.commandCalls(GetKeyPolicyCommand)).to.have.length(3)
  })

  it('--json returns one document with the diff, the lockout check, the backup and the verification', async () => {
    const {stdout} = await h.run(['policy', 'put', KEY_ID, '--file', file('new.json', newPolicy), '--yes', '--json'])
    const r = JSON.parse(stdout)
    expect(r.outcome).to.equal('written')
    expect(r.verified).to.equal('identical')
    expect(r.diff.access).to.equal('widened')
    expect(r.diff.changes.map((c: {kind: string; sid: string}) => [c.kind, c.sid])).to.deep.equal([['added', 'Use']])
    expect(r.lockout).to.deep.include({decision: 'delegated-to-iam', ok: true})
    expect(r.backup).to.be.a('string')
  })

  it('detects a change made by someone else between the diff and the put, and sends nothing', async () => {
    const theirs = policyText([ROOT_STATEMENT, {...USE_STATEMENT, Sid: 'Theirs'}])
    h.state.onGet = (n) => (n === 2 ? theirs : undefined)
    const {exitCode, stderr} = await h.run(['policy', 'put', KEY_ID, '--file', file('new.json', newPolicy), '--yes'])
    expect(exitCode).to.equal(1)
    expect(stderr).to.contain(`Error: The key policy of ${KEY_ID} changed since the diff was shown (someone else edited it); nothing was sent.`)
    expect(h.puts()).to.have.length(0)
    expect(new Journal().readAll()[0].outcome?.status).to.equal('skipped')
  })

  it('maps KMS refusing the policy (MalformedPolicyDocumentException) to exit 1 and records the failure', async () => {
    h.kms.on((await import('@aws-sdk/client-kms')).PutKeyPolicyCommand).rejects(Object.assign(new Error('Policy contains a statement with one or more invalid principals.'), {name: 'MalformedPolicyDocumentException'}))
    const {exitCode, stderr} = await h.run(['policy', 'put', KEY_ID, '--file', file('new.json', newPolicy), '--yes'])
    expect(exitCode).to.equal(1)
    expect(stderr).to.contain('KMS refused the key policy: Policy contains a statement with one or more invalid principals.')
    expect(new Journal().readAll()[0].outcome?.status).to.equal('failed')
  })
})
