import {CancelKeyDeletionCommand, DescribeKeyCommand, EnableKeyCommand, KMSClient, ListAliasesCommand} from '@aws-sdk/client-kms'
import {GetCallerIdentityCommand, STSClient} from '@aws-sdk/client-sts'
import {mkdtempSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {runCommand} from '@oclif/test'
import {expect} from 'chai'

import {Journal} from '../../../src/lib/journal.js'
import {ARN, KEY_ID, metadata} from '../../lib/deletion/fixtures.js'
import {mockSdk} from '../../helpers/mock-sdk.js'

describe('key cancel-deletion', () => {
  const sdk = mockSdk()
  const savedHome = process.env.KMSCTL_HOME
  const deletionDate = new Date('2026-12-05T12:00:00Z')
  let exitCode: number | undefined

  async function run(args: string[]) {
    process.exitCode = undefined
    const out = await runCommand(['key', 'cancel-deletion', ...args])
    exitCode = typeof process.exitCode === 'number' ? process.exitCode : undefined
    process.exitCode = undefined
    return out
  }

  beforeEach(() => {
    process.env.KMSCTL_HOME = mkdtempSync(join(tmpdir(), 'kmsctl-home-'))
    sdk.kms.on(DescribeKeyCommand).resolves({KeyMetadata: metadata({DeletionDate: deletionDate, KeyState: 'PendingDeletion'})})
    sdk.kms.on(ListAliasesCommand).resolves({Aliases: [{AliasName: 'alias/reports', TargetKeyId: KEY_ID}], Truncated: false})
    sdk.kms.on(CancelKeyDeletionCommand).resolves({KeyId: ARN})
    sdk.kms.on(EnableKeyCommand).resolves({})
    sdk.sts.on(GetCallerIdentityCommand).resolves({Account: '111122223333', Arn: 'arn:aws:iam::111122223333:user/ops', UserId: 'AIDAEXAMPLE'})
  })

  after(() => {
    process.env.KMSCTL_HOME = savedHome
  })

  it('without --enable: cancels and says the key stays Disabled', async () => {
    const {stdout} = await run(['alias/reports'])
    expect(exitCode).to.equal(undefined)
    expect(stdout).to.contain(`Cancelled the deletion of key alias/reports (${KEY_ID}). It is Disabled: KMS leaves a key Disabled when its deletion is cancelled.`)
    expect(stdout).to.contain('To use it again: kmsctl key enable alias/reports')
    expect(sdk.kms.commandCalls(CancelKeyDeletionCommand)[0].args[0].input).to.deep.equal({KeyId: KEY_ID})
    expect(sdk.kms.commandCalls(EnableKeyCommand)).to.have.length(0)
    const [entry] = new Journal().readAll()
    expect(entry).to.deep.include({action: 'key.cancel-deletion', account: '111122223333'})
    expect(entry.before).to.deep.equal({deletionDate: deletionDate.toISOString(), state: 'PendingDeletion'})
  })

  it('with --enable: cancels and enables, in JSON', async () => {
    const {stdout} = await run([KEY_ID, '--enable', '--json'])
    expect(exitCode).to.equal(undefined)
    const doc = JSON.parse(stdout)
    expect(doc).to.deep.include({cancelled: true, deletionDate: deletionDate.toISOString(), dryRun: false, enabled: true, keyId: KEY_ID, keyState: 'Enabled', previousState: 'PendingDeletion'})
    expect(sdk.kms.commandCalls(EnableKeyCommand)[0].args[0].input).to.deep.equal({KeyId: KEY_ID})
    expect(new Journal().readAll()[0].outcome?.after).to.deep.equal({state: 'Enabled'})
  })

  it('--dry-run lists the requests and sends none', async () => {
    const {stderr, stdout} = await run(['alias/reports', '--enable', '--dry-run'])
    expect(exitCode).to.equal(undefined)
    expect(stdout).to.contain(`Key alias/reports (${KEY_ID}) is PendingDeletion, to be deleted on 2026-12-05 12:00:00Z.`)
    expect(stdout).to.contain(`  CancelKeyDeletion {"KeyId":"${KEY_ID}"}\n  EnableKey {"KeyId":"${KEY_ID}"}`)
    expect(stderr).to.contain('Nothing was sent.')
    expect(sdk.kms.commandCalls(CancelKeyDeletionCommand)).to.have.length(0)
    expect(sdk.kms.commandCalls(EnableKeyCommand)).to.have.length(0)
    expect(new Journal().readAll()).to.have.length(0)
  })

  it('refuses a key that is not pending deletion (exit 2, nothing sent)', async () => {
    sdk.kms.on(DescribeKeyCommand).resolves({KeyMetadata: metadata({KeyState: 'Enabled'})})
    const {stderr} = await run(['alias/reports', '--enable'])
    expect(exitCode).to.equal(2)
    expect(stderr).to.contain(`Error: Key ${KEY_ID} is not scheduled for deletion (state Enabled): there is nothing to cancel.`)
    expect(sdk.kms.commandCalls(CancelKeyDeletionCommand)).to.have.length(0)
  })

  it('refuses a malformed key reference before any request', async () => {
    const {stderr} = await run(['reports'])
    expect(exitCode).to.equal(2)
    expect(stderr).to.contain('Try this: alias/reports')
    expect(sdk.kms.calls()).to.have.length(0)
  })
})
