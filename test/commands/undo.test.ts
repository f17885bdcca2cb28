import {DescribeKeyCommand, DisableKeyCommand, EnableKeyCommand, KMSClient} from '@aws-sdk/client-kms'
import {GetCallerIdentityCommand, STSClient} from '@aws-sdk/client-sts'
import {runCommand} from '@oclif/test'
import {expect} from 'chai'
import {mkdtempSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {Journal} from '../../src/lib/journal.js'
import {mockSdk} from '../helpers/mock-sdk.js'

const acct = '111122223333'
const KEY = '00000001-0000-4000-8000-000000000000'
const ARN = `arn:aws:kms:us-east-1:${acct}:key/${KEY}`

describe('undo', () => {
  const sdk = mockSdk()
  let journal: Journal
  let entry: string

  beforeEach(() => {
    const home = mkdtempSync(join(tmpdir(), 'kmsctl-undo-'))
    process.env.KMSCTL_HOME = home
    journal = new Journal({dir: join(home, 'journal')})
    const e = journal.begin({action: 'key.disable', before: {state: 'Enabled'}, key: {aliases: ['alias/pay'], arn: ARN, keyId: KEY}, region: 'us-east-1'})
    journal.finish(e.id, {after: {state: 'Disabled'}, status: 'ok'})
    entry = e.id
    sdk.sts.on(GetCallerIdentityCommand).resolves({Account: acct, Arn: `arn:aws:iam::${acct}:user/oncall`, UserId: 'AIDA'})
    sdk.kms.on(DescribeKeyCommand).resolves({KeyMetadata: {Arn: ARN, KeyId: KEY, KeyManager: 'CUSTOMER', KeyState: 'Disabled'}})
    sdk.kms.on(EnableKeyCommand).resolves({})
    process.exitCode = undefined
  })

  afterEach(() => {
    process.exitCode = undefined
  })

  it('reverses the change after a matching --confirm, and journals the undo', async () => {
    const {stdout, stderr} = await runCommand(['undo', entry, '--confirm', 'alias/pay'])
    expect(process.exitCode ?? 0).to.equal(0)
    expect(sdk.kms.commandCalls(EnableKeyCommand).map((c) => c.args[0].input)).to.deep.equal([{KeyId: KEY}])
    expect(stderr).to.match(/Will\s+Enable key 00000001-0000-4000-8000-000000000000 \(it was Enabled before j-/)
    expect(stdout).to.include(`Undone ${entry}: Enable key ${KEY}`)
    const undo = journal.readAll().find((r) => r.reverses === entry)!
    expect(undo).to.deep.include({action: 'key.enable', before: {state: 'Disabled'}, caller: `arn:aws:iam::${acct}:user/oncall`})
    expect(undo.command).to.deep.equal(['undo', entry, '--confirm', 'alias/pay'])
    expect(undo.outcome?.status).to.equal('ok')
  })

  it('shows the plan with --dry-run and sends nothing', async () => {
    const {stderr} = await runCommand(['undo', entry, '--dry-run'])
    expect(stderr).to.match(/Sends\s+EnableKey \{"KeyId":"00000001-0000-4000-8000-000000000000"\}/)
    expect(stderr).to.include('Dry run: nothing was sent.')
    expect(sdk.kms.commandCalls(EnableKeyCommand)).to.have.length(0)
  })

  it('never prompts without a terminal, refuses a mismatching --confirm, and sends nothing', async () => {
    const none = await runCommand(['undo', entry])
    expect(process.exitCode).to.equal(2)
    expect(none.stderr).to.include('Try this: --confirm 00000001-0000-4000-8000-000000000000 or --yes')
    process.exitCode = undefined
    const wrong = await runCommand(['undo', entry, '--confirm', 'alias/nope'])
    expect(process.exitCode).to.equal(2)
    expect(wrong.stderr).to.include('--confirm "alias/nope" does not match')
    expect(sdk.kms.commandCalls(EnableKeyCommand)).to.have.length(0)
    expect(sdk.kms.commandCalls(DisableKeyCommand)).to.have.length(0)
  })

  it('confirms a batch with the text naming the change, refusing a bare count (exit 2)', async () => {
    const KEY2 = '00000002-0000-4000-8000-000000000000'
    const ARN2 = `arn:aws:kms:us-east-1:${acct}:key/${KEY2}`
    const batch = 'b-20261128T101500Z-d4e5f6'
    for (const [keyId, arn] of [[KEY, ARN], [KEY2, ARN2]]) {
      const e = journal.begin({action: 'key.disable', batch, before: {state: 'Enabled'}, key: {aliases: [], arn, keyId}, region: 'us-east-1'})
      journal.finish(e.id, {after: {state: 'Disabled'}, status: 'ok'})
    }

    sdk.kms.on(DescribeKeyCommand).callsFake(({KeyId}) => ({KeyMetadata: {Arn: KeyId === KEY2 ? ARN2 : ARN, KeyId, KeyManager: 'CUSTOMER', KeyState: 'Disabled'}}))
    const none = await runCommand(['undo', batch])
    expect(process.exitCode).to.equal(2)
    expect(none.stderr).to.include('Try this: --confirm "undo 2 changes" or --yes')
    process.exitCode = undefined
    const bare = await runCommand(['undo', batch, '--confirm', '2'])
    expect(process.exitCode).to.equal(2)
    expect(bare.stderr).to.include('--confirm "2" does not match; expected "undo 2 changes".')
    expect(sdk.kms.commandCalls(EnableKeyCommand)).to.have.length(0)
    process.exitCode = undefined
    const done = await runCommand(['undo', batch, '--confirm="undo 2 changes"'])
    expect(process.exitCode ?? 0, done.stderr).to.equal(0)
    expect(sdk.kms.commandCalls(EnableKeyCommand).map((c) => c.args[0].input.KeyId).sort()).to.deep.equal([KEY, KEY2])
  })

  it('refuses when the key moved on since, unless --force', async () => {
    sdk.kms.on(DescribeKeyCommand).resolves({KeyMetadata: {Arn: ARN, KeyId: KEY, KeyManager: 'CUSTOMER', KeyState: 'PendingImport'}})
    const r = await runCommand(['undo', entry, '--yes'])
    expect(process.exitCode).to.equal(2)
    expect(r.stderr).to.include(`Error: Not undone: key ${KEY} is PendingImport now, not Disabled as ${entry} left it.`)
    expect(sdk.kms.commandCalls(EnableKeyCommand)).to.have.length(0)
    process.exitCode = undefined
    await runCommand(['undo', entry, '--yes', '--force'])
    expect(sdk.kms.commandCalls(EnableKeyCommand)).to.have.length(1)
  })

  it('says plainly what cannot be undone (exit 1), and refuses an unknown entry (exit 2)', async () => {
    const created = journal.begin({action: 'key.create', before: null, key: {keyId: KEY}, region: 'us-east-1'})
    journal.finish(created.id, {status: 'ok'})
    const r = await runCommand(['undo', created.id, '--yes'])
    expect(process.exitCode).to.equal(1)
    expect(r.stderr).to.include('A key.create cannot be undone with kmsctl undo: a key cannot be un-created')
    process.exitCode = undefined
    const json = await runCommand(['undo', 'j-nope', '--json'])
    expect(process.exitCode).to.equal(2)
    expect(JSON.parse(json.stdout).error.code).to.equal('NOT_FOUND')
    expect(sdk.kms.commandCalls(EnableKeyCommand)).to.have.length(0)
  })
})
