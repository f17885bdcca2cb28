import {DescribeKeyCommand, KMSClient, ListAliasesCommand, ListGrantsCommand, type ListGrantsCommandInput, ListKeysCommand, RevokeGrantCommand} from '@aws-sdk/client-kms'
import {STSClient} from '@aws-sdk/client-sts'
import {runCommand} from '@oclif/test'
import {expect} from 'chai'

import {Journal} from '../../../src/lib/journal.js'
import {APP, OTHER, entry, grantId, keyArn, keyId, symmetricMetadata} from '../../lib/grants/fixtures.js'
import {itRefuses, mockedClients} from './helpers.js'
import {sdk} from '../../helpers/mock-sdk.js'

/** Keys 1..n; key 1 is AWS-managed; each key has grants 1 (APP) and 2 (OTHER). */
function setup(n = 3) {
  sdk.kms.on(DescribeKeyCommand).resolves({KeyMetadata: symmetricMetadata(2)})
  sdk.kms.on(ListKeysCommand).resolves({Keys: Array.from({length: n}, (_, i) => ({KeyArn: keyArn(i + 1), KeyId: keyId(i + 1)})), Truncated: false})
  sdk.kms.on(ListAliasesCommand).resolves({Aliases: [{AliasName: 'alias/aws/ebs', TargetKeyId: keyId(1)}, {AliasName: 'alias/two', TargetKeyId: keyId(2)}], Truncated: false})
  sdk.kms.on(ListGrantsCommand).callsFake((input: ListGrantsCommandInput) => {
    const k = Number(input.KeyId!.split('/').pop()!.slice(0, 8))
    let grants = [entry(k, 1), entry(k, 2, {GranteePrincipal: OTHER})]
    if (input.GranteePrincipal) grants = grants.filter((g) => g.GranteePrincipal === input.GranteePrincipal)
    if (input.GrantId) grants = grants.filter((g) => g.GrantId === input.GrantId)
    return {Grants: grants, Truncated: false}
  })
  sdk.kms.on(RevokeGrantCommand).resolves({})
}

const revoked = () => sdk.kms.commandCalls(RevokeGrantCommand).map((c) => c.args[0].input)

describe('grant revoke', () => {
  mockedClients()

  beforeEach(() => {
    setup()
  })

  it('revokes one grant by KEY GRANT_ID after journalling its definition', async () => {
    const {stderr, stdout} = await runCommand(['grant:revoke', 'alias/two', grantId(2, 1)])
    expect(revoked()).to.deep.equal([{GrantId: grantId(2, 1), KeyId: keyArn(2)}])
    expect(stdout).to.contain(`Revoked grant ${grantId(2, 1)} of key ${keyId(2)}.`)
    expect(stderr).to.match(/kmsctl grant recreate j-\S+ makes an equivalent grant, with a new grant ID/)
    const rec = new Journal().list({action: 'grant.revoke'}).at(-1)!
    expect((rec.before as {GrantId: string; GranteePrincipal: string}).GranteePrincipal).to.equal(APP)
    expect(rec.outcome?.status).to.equal('ok')
  })

  it('fails (exit 1) without sending RevokeGrant when the grant does not exist', async () => {
    const {stderr} = await runCommand(['grant:revoke', keyArn(2), 'f'.repeat(64)])
    expect(process.exitCode).to.equal(1)
    expect(stderr).to.contain(`Grant ${'f'.repeat(64)} does not exist on key ${keyId(2)}`)
    expect(revoked()).to.have.length(0)
    // A key ARN is used as given: no DescribeKey.
    expect(sdk.kms.commandCalls(DescribeKeyCommand)).to.have.length(0)
  })

  it('KEY --all --confirm KEY revokes every grant of the key', async () => {
    const {stdout} = await runCommand(['grant:revoke', 'alias/two', '--all', '--confirm', 'alias/two', '--json'])
    const doc = JSON.parse(stdout)
    expect(doc.revoked).to.equal(2)
    expect(doc.batch).to.match(/^b-/)
    expect(revoked().map((r) => r.GrantId)).to.have.members([grantId(2, 1), grantId(2, 2)])
    const recs = new Journal().list({batch: doc.batch})
    expect(recs).to.have.length(2)
    expect(recs.every((r) => r.action === 'grant.revoke' && r.outcome?.status === 'ok')).to.equal(true)
  })

  it('accepts the key ID as confirmation too, and refuses a mismatching --confirm (exit 2, nothing revoked)', async () => {
    await runCommand(['grant:revoke', 'alias/two', '--all', '--confirm', keyId(2)])
    expect(revoked()).to.have.length(2)
    sdk.kms.resetHistory()
    const {stderr} = await runCommand(['grant:revoke', 'alias/two', '--all', '--confirm', 'alias/three'])
    expect(process.exitCode).to.equal(2)
    expect(stderr).to.contain('--confirm "alias/three" does not match; expected "alias/two"')
    expect(revoked()).to.have.length(0)
  })

  it('refuses to prompt without a terminal, naming --confirm and --yes', async () => {
    const {stderr} = await runCommand(['grant:revoke', '--grantee', OTHER])
    expect(process.exitCode).to.equal(2)
    expect(stderr).to.contain(`Confirmation required to revoke 2 grants of ${OTHER} on 2 keys, and there is no terminal to ask on.`)
    expect(stderr).to.contain(`Try this: --confirm ${OTHER} or --yes`)
    expect(revoked()).to.have.length(0)
  })

  it('--grantee --yes revokes exactly that principal\'s grants on every customer-managed key, with a result per grant', async () => {
    const {stderr, stdout} = await runCommand(['grant:revoke', '--grantee', OTHER, '--yes'])
    expect(stderr).to.contain(`Confirmed with --yes: revoke 2 grants of ${OTHER} on 2 keys.`)
    expect(revoked()).to.have.deep.members([
      {GrantId: grantId(2, 2), KeyId: keyArn(2)},
      {GrantId: grantId(3, 2), KeyId: keyArn(3)},
    ])
    expect(stdout).to.contain('Result')
    expect(stdout.match(/revoked/g)).to.have.length(2)
    expect(stderr).to.contain('2 revoked, 0 failed.')
    expect(stderr).to.match(/To make equivalent grants again \(with new grant IDs\): kmsctl grant recreate b-\S+/)
  })

  it('KEY --grantee limits the revoke to one key', async () => {
    await runCommand(['grant:revoke', 'alias/two', '--grantee', APP, '--confirm', APP])
    expect(revoked()).to.deep.equal([{GrantId: grantId(2, 1), KeyId: keyArn(2)}])
    expect(sdk.kms.commandCalls(ListKeysCommand)).to.have.length(0)
  })

  it('--concurrency bounds the RevokeGrant calls in flight', async () => {
    let inFlight = 0
    let peak = 0
    sdk.kms.on(RevokeGrantCommand).callsFake(async () => {
      peak = Math.max(peak, ++inFlight)
      await new Promise((r) => setTimeout(r, 10))
      inFlight--
      return {}
    })
    await runCommand(['grant:revoke', '--grantee', APP, '--yes', '--concurrency', '1'])
    expect(revoked()).to.have.length(2)
    expect(peak).to.equal(1)
  })

  it('exits 3 on a partial failure and shows which grant failed', async () => {
    sdk.kms.on(RevokeGrantCommand, {GrantId: grantId(3, 2)}).rejects(Object.assign(new Error('User is not authorized'), {name: 'AccessDeniedException'}))
    const {stderr, stdout} = await runCommand(['grant:revoke', '--grantee', OTHER, '--yes'])
    expect(process.exitCode).to.equal(3)
    expect(stdout).to.contain('failed: Access denied')
    expect(stderr).to.contain('1 revoked, 1 failed.')
  })

  it('exits 1 when every revoke fails', async () => {
    sdk.kms.on(RevokeGrantCommand).rejects(Object.assign(new Error('User is not authorized'), {name: 'AccessDeniedException'}))
    const {stdout} = await runCommand(['grant:revoke', '--grantee', OTHER, '--yes', '--json'])
    expect(process.exitCode).to.equal(1)
    const doc = JSON.parse(stdout)
    expect(doc.failed).to.equal(2)
    expect(doc.results[0].error.code).to.equal('ACCESS_DENIED')
  })

  it('--dry-run lists what would be revoked and sends no RevokeGrant, without asking', async () => {
    const {stdout} = await runCommand(['grant:revoke', '--grantee', OTHER, '--dry-run'])
    expect(stdout).to.contain('Dry run: would revoke 2 grants (RevokeGrant 2 times); nothing was sent.')
    expect(stdout).to.contain(grantId(2, 2))
    expect(stdout).to.contain('alias/two')
    expect(revoked()).to.have.length(0)
  })

  it('says so when nothing matches', async () => {
    const {stderr} = await runCommand(['grant:revoke', '--grantee', 'arn:aws:iam::111122223333:role/nobody', '--yes'])
    expect(stderr).to.contain('No grants of arn:aws:iam::111122223333:role/nobody on 2 customer-managed keys: nothing to revoke.')
    expect(process.exitCode ?? 0).to.equal(0)
    expect(revoked()).to.have.length(0)
  })

  itRefuses('grant:revoke', [
    ['--all without KEY', ['--all', '--yes'], /--all revokes every grant of one key: it needs KEY/],
    ['GRANT_ID with --all', [keyId(2), grantId(2, 1), '--all'], /Give a GRANT_ID, or --all \/ --grantee, not both/],
    ['--all with --grantee', [keyId(2), '--all', '--grantee', APP], /^Error: --all and --grantee exclude each other\.$/m],
    ['nothing selected', [keyId(2)], /Nothing selected to revoke/],
    ['a bad grantee', ['--grantee', 'app', '--yes'], /--grantee "app" is not a principal ARN/],
    ['a bad grant ID', [keyId(2), 'not-a-grant'], /GRANT_ID "not-a-grant" is not a grant ID/],
  ])

  it('--help says who may retire and who may revoke', async () => {
    const {stdout} = await runCommand(['grant:revoke', '--help'])
    const text = stdout.replaceAll(/\s+/g, ' ')
    expect(text).to.contain('retire: done by the grant\'s retiring principal, by the grantee when the grant allows RetireGrant, or by the account that created the grant')
    expect(text).to.contain('revoke: done by an administrator with kms:RevokeGrant on the key')
    expect(text).to.contain('new grant IDs')
  })
})
