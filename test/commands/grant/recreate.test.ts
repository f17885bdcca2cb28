import {CreateGrantCommand, KMSClient, ListGrantsCommand, RevokeGrantCommand} from '@aws-sdk/client-kms'
import {STSClient} from '@aws-sdk/client-sts'
import {runCommand} from '@oclif/test'
import {expect} from 'chai'

import {toGrantInfo} from '../../../src/lib/grants/list.js'
import {revokeGrants} from '../../../src/lib/grants/revoke.js'
import {Journal} from '../../../src/lib/journal.js'
import {OPS, entry, keyArn} from '../../lib/grants/fixtures.js'
import {mockedClients} from './helpers.js'
import {sdk} from '../../helpers/mock-sdk.js'

const kms = new KMSClient({region: 'us-east-1'})

async function revokedBatch(...entries: ReturnType<typeof entry>[]) {
  sdk.kms.on(RevokeGrantCommand).resolves({})
  const journal = new Journal()
  const results = await revokeGrants(kms, entries.map((e) => toGrantInfo(e)), {batch: `b-test-${Math.random().toString(16).slice(2, 8)}`, ctx: {journal, region: 'us-east-1'}})
  return {batch: journal.get(results[0].journalId)!.batch!, results}
}

describe('grant recreate', () => {
  mockedClients()

  beforeEach(() => {
    let n = 0
    sdk.kms.on(CreateGrantCommand).callsFake(() => ({GrantId: `${++n}`.padStart(64, 'c'), GrantToken: `token-${n}`}))
  })

  it('recreates every grant of a batch with the same definition, and says the IDs are new', async () => {
    const withConstraint = entry(7, 1, {Constraints: {EncryptionContextEquals: {tenant: 'acme'}}, RetiringPrincipal: OPS})
    const {batch} = await revokedBatch(withConstraint, entry(8, 1))
    const {stderr, stdout} = await runCommand(['grant:recreate', batch])
    const sent = sdk.kms.commandCalls(CreateGrantCommand).map((c) => c.args[0].input)
    expect(sent).to.have.deep.members([
      {Constraints: {EncryptionContextEquals: {tenant: 'acme'}}, GranteePrincipal: withConstraint.GranteePrincipal, KeyId: keyArn(7), Name: 'grant-7-1', Operations: ['Decrypt', 'GenerateDataKey'], RetiringPrincipal: OPS},
      {GranteePrincipal: entry(8, 1).GranteePrincipal, KeyId: keyArn(8), Name: 'grant-8-1', Operations: ['Decrypt', 'GenerateDataKey']},
    ])
    expect(stdout).to.contain('New grant ID')
    expect(stderr).to.contain('2 recreated, 0 failed.')
    expect(stderr).to.contain('Recreated grants have NEW grant IDs and tokens')
    const created = new Journal().list({action: 'grant.create'}).filter((r) => r.reverses)
    expect(created.length).to.be.at.least(2)
  })

  it('--json gives old and new IDs and the new tokens; a second run recreates nothing', async () => {
    const {batch} = await revokedBatch(entry(9, 1))
    const {stdout} = await runCommand(['grant:recreate', batch, '--json'])
    const doc = JSON.parse(stdout)
    expect(doc.created).to.equal(1)
    expect(doc.results[0]).to.include({oldGrantId: entry(9, 1).GrantId, status: 'created'})
    expect(doc.results[0].newGrantId).to.not.equal(entry(9, 1).GrantId)
    expect(doc.results[0].grantToken).to.match(/^token-/)
    sdk.kms.resetHistory()
    const again = await runCommand(['grant:recreate', batch, '--json'])
    const doc2 = JSON.parse(again.stdout)
    expect(doc2.created).to.equal(0)
    expect(doc2.results[0].reason).to.contain('already recreated')
    expect(sdk.kms.commandCalls(CreateGrantCommand)).to.have.length(0)
  })

  it('takes a single journal entry ID', async () => {
    const {results} = await revokedBatch(entry(10, 1), entry(10, 2))
    await runCommand(['grant:recreate', results[1].journalId])
    const sent = sdk.kms.commandCalls(CreateGrantCommand).map((c) => c.args[0].input.Name)
    expect(sent).to.deep.equal(['grant-10-2'])
  })

  it('--dry-run shows the CreateGrant requests and sends nothing', async () => {
    const {batch} = await revokedBatch(entry(11, 1))
    const {stdout} = await runCommand(['grant:recreate', batch, '--dry-run'])
    expect(stdout).to.contain('Dry run: would send CreateGrant 1 time; nothing was sent.')
    expect(stdout).to.contain('"Name": "grant-11-1"')
    expect(sdk.kms.commandCalls(CreateGrantCommand)).to.have.length(0)
  })

  it('exits 3 when some grants cannot be recreated', async () => {
    const {batch} = await revokedBatch(entry(12, 1), entry(13, 1))
    sdk.kms.on(CreateGrantCommand, {KeyId: keyArn(13)}).rejects(Object.assign(new Error('key is disabled'), {name: 'DisabledException'}))
    const {stderr, stdout} = await runCommand(['grant:recreate', batch])
    expect(process.exitCode).to.equal(3)
    expect(stdout).to.contain('failed:')
    expect(stderr).to.contain('1 recreated, 1 failed.')
  })

  it('skips a grant whose revoke never finished when it still exists', async () => {
    const journal = new Journal()
    const e = journal.begin({action: 'grant.revoke', batch: 'b-unfinished-1', before: JSON.parse(JSON.stringify(entry(14, 1))), region: 'us-east-1'})
    sdk.kms.on(ListGrantsCommand).resolves({Grants: [entry(14, 1)], Truncated: false})
    const {stderr} = await runCommand(['grant:recreate', e.id])
    expect(stderr).to.contain('the grant still exists')
    expect(sdk.kms.commandCalls(CreateGrantCommand)).to.have.length(0)
  })

  it('refuses an unknown ID and an entry that is not a grant removal', async () => {
    const a = await runCommand(['grant:recreate', 'b-does-not-exist'])
    expect(process.exitCode).to.equal(1)
    expect(a.stderr).to.contain('No grant revoke in the journal has the ID or batch ID "b-does-not-exist"')
    process.exitCode = undefined
    const other = new Journal().begin({action: 'key.disable', before: {}, region: 'us-east-1'})
    const b = await runCommand(['grant:recreate', other.id])
    expect(process.exitCode).to.equal(2)
    expect(b.stderr).to.contain('is a key.disable, not a grant revoke or retire')
    expect(sdk.kms.commandCalls(CreateGrantCommand)).to.have.length(0)
  })
})
