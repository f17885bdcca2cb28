// policy get, diff, lint and simulate: the commands that only read.
import {GetKeyPolicyCommand} from '@aws-sdk/client-kms'
import {readFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {expect} from 'chai'

import {ACCOUNT, DEFAULT_POLICY, KEY_ARN, KEY_ID, OTHER_ID, ROOT_STATEMENT, USE_STATEMENT, policyText, setupPolicyMocks} from './helpers.js'

describe('policy get / diff / lint / simulate', () => {
  const h = setupPolicyMocks()
  const file = (name: string, text: string) => {
    const p = join(h.dir, name)
    writeFileSync(p, text)
    return p
  }

  describe('policy get', () => {
    it('prints pretty JSON with a stable key order', async () => {
      h.state.policy = JSON.stringify({Statement: [{Resource: '*', Action: 'kms:*', Principal: {AWS: ACCOUNT}, Effect: 'Allow'}], Version: '2012-10-17'})
      const {stdout} = await h.run(['policy', 'get', 'alias/payments'])
      expect(stdout).to.equal('{\n  "Version": "2012-10-17",\n  "Statement": [\n    {\n      "Effect": "Allow",\n      "Principal": {\n        "AWS": "111122223333"\n      },\n      "Action": "kms:*",\n      "Resource": "*"\n    }\n  ]\n}\n')
    })

    it('--raw prints the policy byte for byte, --out writes it to a file', async () => {
      const raw = await h.run(['policy', 'get', KEY_ID, '--raw'])
      expect(raw.stdout).to.equal(DEFAULT_POLICY + '\n')
      const out = join(h.dir, 'p.json')
      const written = await h.run(['policy', 'get', KEY_ID, '--raw', '--out', out])
      expect(written.stdout).to.equal('')
      expect(readFileSync(out, 'utf8')).to.equal(DEFAULT_POLICY)
      expect(written.stderr).to.contain(`Wrote the policy of ${KEY_ID} to ${out}.`)
    })

    it('--json gives the parsed policy and the exact text', async () => {
      const r = JSON.parse((await h.run(['policy', 'get', KEY_ID, '--json'])).stdout)
      expect(r).to.deep.include({arn: KEY_ARN, keyId: KEY_ID, policyName: 'default', text: DEFAULT_POLICY})
      expect(r.policy.Statement[0].Sid).to.equal('Enable IAM User Permissions')
    })
  })

  describe('policy diff', () => {
    it('equivalent policies written differently give no diff', async () => {
      const same = file('same.json', JSON.stringify({Statement: {Resource: ['*'], Action: ['KMS:*'], Principal: {AWS: [ACCOUNT]}, Effect: 'Allow', Sid: 'Enable IAM User Permissions'}}))
      const {exitCode, stdout} = await h.run(['policy', 'diff', KEY_ID, '--file', same, '--fail-on-change'])
      expect(stdout).to.equal('No semantic change (1 statement equal).\n')
      expect(exitCode ?? 0).to.equal(0)
    })

    it('shows +/- rows and says access is widened; --fail-on-change exits 1', async () => {
      const widened = file('new.json', policyText([ROOT_STATEMENT, USE_STATEMENT]))
      const {exitCode, stdout} = await h.run(['policy', 'diff', KEY_ID, '--file', widened, '--fail-on-change'])
      expect(exitCode).to.equal(1)
      expect(stdout).to.match(/^ *\+ +Use +Allow +arn:aws:iam::111122223333:role\/App +kms:Decrypt/m)
      expect(stdout).to.contain('Access is WIDENED (1 statement changed, 1 unchanged):\n  + adds Allow statement "Use" for arn:aws:iam::111122223333:role/App')
    })

    it('fits the table to the terminal width', async () => {
      process.env.COLUMNS = '60'
      try {
        const {stdout} = await h.run(['policy', 'diff', KEY_ID, '--file', file('new.json', policyText([ROOT_STATEMENT, {...USE_STATEMENT, Condition: {StringEquals: {'kms:ViaService': 's3.us-east-1.amazonaws.com'}}}]))])
        const tableLines = stdout.split("\n").slice(0, stdout.split("\n").findIndex((l) => l.startsWith("Access")))
        expect(tableLines.length).to.be.greaterThan(3)
        expect(Math.max(...tableLines.map((l) => l.length))).to.be.at.most(60)
      } finally {
        delete process.env.COLUMNS
      }
    })

    it('--from-key compares with another key; --json gives the structured diff', async () => {
      h.state.others[OTHER_ID] = policyText([ROOT_STATEMENT])
      h.state.policy = policyText([ROOT_STATEMENT, USE_STATEMENT])
      const r = JSON.parse((await h.run(['policy', 'diff', KEY_ID, '--from-key', 'alias/other', '--json'])).stdout)
      expect(r.access).to.equal('narrowed')
      expect(r.changed).to.equal(true)
      expect(r.against).to.equal('alias/other')
      expect(r.changes).to.deep.equal([{access: 'narrowed', before: USE_STATEMENT, kind: 'removed', reasons: ['removes Allow statement "Use"'], sid: 'Use'}])
    })

    it('needs exactly one of --file and --from-key, and a readable file, before any call', async () => {
      const none = await h.run(['policy', 'diff', KEY_ID])
      expect(none.exitCode).to.equal(2)
      const missing = await h.run(['policy', 'diff', KEY_ID, '--file', join(h.dir, 'nope.json')])
      expect(missing.exitCode).to.equal(2)
      expect(h.kms.calls()).to.have.length(0)
    })
  })

  describe('policy lint', () => {
    it('exits 1 on errors and lists them with the statement', async () => {
      const p = file('public.json', policyText([ROOT_STATEMENT, {...USE_STATEMENT, Principal: '*'}]))
      const {exitCode, stderr, stdout} = await h.run(['policy', 'lint', p])
      expect(exitCode).to.equal(1)
      expect(stdout).to.match(/error +Use +public-principal/)
      expect(stderr).to.contain(`${p}: 1 error, 0 warnings.`)
      expect(h.kms.calls()).to.have.length(0)
    })

    it('exits 0 with warnings, 1 with --strict', async () => {
      const p = file('star.json', policyText([ROOT_STATEMENT, {...USE_STATEMENT, Action: 'kms:*'}]))
      const warn = await h.run(['policy', 'lint', p, '--json'])
      expect(warn.exitCode).to.equal(0)
      const r = JSON.parse(warn.stdout)
      expect(r.findings.map((f: {code: string}) => f.code)).to.have.members(['kms-star-non-root', 'separation-of-duties', 'create-grant-unrestricted'])
      expect(r).to.deep.include({errors: 0, exitCode: 0, kind: 'file', keyAccount: ACCOUNT})
      const strict = await h.run(['policy', 'lint', p, '--strict'])
      expect(strict.exitCode).to.equal(1)
    })

    it('lints a key\'s policy, using the key\'s account', async () => {
      h.state.policy = policyText([ROOT_STATEMENT, {...USE_STATEMENT, Principal: {AWS: 'arn:aws:iam::444455556666:role/Reader'}}])
      const r = JSON.parse((await h.run(['policy', 'lint', 'alias/payments', '--json'])).stdout)
      expect(r.source).to.equal(KEY_ARN)
      expect(r.findings.map((f: {code: string}) => f.code)).to.deep.equal(['cross-account'])
      expect(h.kms.commandCalls(GetKeyPolicyCommand)).to.have.length(1)
    })

    it('a name that is neither a file nor a key is a usage error', async () => {
      const {exitCode, stderr} = await h.run(['policy', 'lint', 'nope.json'])
      expect(exitCode).to.equal(2)
      expect(stderr).to.contain('Error: nope.json: no such file, and not a key ID, key ARN or alias.')
    })
  })

  describe('policy simulate', () => {
    beforeEach(() => {
      h.state.policy = policyText([ROOT_STATEMENT, {...USE_STATEMENT, Condition: {StringEquals: {'kms:EncryptionContext:app': 'web'}}}])
    })

    it('answers with the decision and the deciding statements', async () => {
      const r = JSON.parse((await h.run(['policy', 'simulate', 'alias/payments', '--principal', `arn:aws:sts::${ACCOUNT}:assumed-role/App/s1`, '--action', 'kms:Decrypt', '--context', 'app=web', '--json'])).stdout)
      expect(r.results).to.deep.equal([{action: 'kms:Decrypt', crossAccount: false, decision: 'allow', reason: 'kms:Decrypt is allowed by statement "Use".', statements: [{effect: 'Allow', index: 1, sid: 'Use'}]}])
      expect(r.context['aws:PrincipalArn']).to.equal(`arn:aws:iam::${ACCOUNT}:role/App`)
    })

    it('reports root delegation as DELEGATED TO IAM, and several actions at once', async () => {
      const {stderr, stdout} = await h.run(['policy', 'simulate', KEY_ID, '--principal', `arn:aws:iam::${ACCOUNT}:role/App`, '--action', 'kms:Decrypt,kms:PutKeyPolicy', '--context', 'app=api'])
      expect(stdout).to.match(/kms:Decrypt +DELEGATED TO IAM/)
      expect(stdout).to.match(/kms:PutKeyPolicy +DELEGATED TO IAM/)
      expect(stderr).to.contain("the caller's IAM policies decide")
    })

    it('evaluates a file with --trace', async () => {
      const p = file('deny.json', policyText([ROOT_STATEMENT, {Sid: 'NoIp', Effect: 'Deny', Principal: '*', Action: 'kms:*', Resource: '*', Condition: {NotIpAddress: {'aws:SourceIp': '192.0.2.0/24'}}}]))
      const {stdout} = await h.run(['policy', 'simulate', '--file', p, '--principal', `arn:aws:iam::${ACCOUNT}:user/bob`, '--action', 'Decrypt', '--condition', 'aws:SourceIp=198.51.100.7', '--trace'])
      expect(stdout).to.match(/kms:Decrypt +DENY \(explicit\) +statement "NoIp"/)
      expect(stdout).to.contain('aws:SourceIp is "198.51.100.7"; NotIpAddress "192.0.2.0/24" matches')
      const r = JSON.parse((await h.run(['policy', 'simulate', '--file', p, '--principal', `arn:aws:iam::${ACCOUNT}:user/bob`, '--action', 'Decrypt', '--condition', 'aws:SourceIp=192.0.2.7', '--trace', '--json'])).stdout)
      expect(r.results[0].decision).to.equal('delegated-to-iam')
      expect(r.results[0].trace[1].conditions).to.deep.equal([
        {key: 'aws:SourceIp', matched: false, operator: 'NotIpAddress', reason: 'aws:SourceIp is "192.0.2.7"; NotIpAddress "192.0.2.0/24" does not match', requestValues: ['192.0.2.7'], values: ['192.0.2.0/24']},
      ])
      expect(h.kms.calls()).to.have.length(0)
    })

    it('bad input is a usage error before any call', async () => {
      const both = await h.run(['policy', 'simulate', KEY_ID, '--file', 'x.json', '--principal', 'arn:aws:iam::111122223333:user/bob', '--action', 'kms:Decrypt'])
      expect(both.exitCode).to.equal(2)
      const badPrincipal = await h.run(['policy', 'simulate', KEY_ID, '--principal', 'bob', '--action', 'kms:Decrypt'])
      expect(badPrincipal.exitCode).to.equal(2)
      expect(badPrincipal.stderr).to.contain('--principal "bob" is not')
      const badContext = await h.run(['policy', 'simulate', KEY_ID, '--principal', 'arn:aws:iam::111122223333:user/bob', '--action', 'kms:Decrypt', '--context', 'app'])
      expect(badContext.exitCode).to.equal(2)
      expect(h.kms.calls()).to.have.length(0)
    })
  })
})
