import {CloudTrailClient, LookupEventsCommand} from '@aws-sdk/client-cloudtrail'
import {
  DescribeKeyCommand,
  GetKeyLastUsageCommand,
  KMSClient,
  ListAliasesCommand,
  ListGrantsCommand,
  ListResourceTagsCommand,
  ScheduleKeyDeletionCommand,
} from '@aws-sdk/client-kms'
import {GetCallerIdentityCommand, STSClient} from '@aws-sdk/client-sts'
import {mkdtempSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {runCommand} from '@oclif/test'
import {expect} from 'chai'

import {Journal} from '../../../src/lib/journal.js'
import {ARN, DAY, KEY_ID, lookupEvent, metadata} from '../../lib/deletion/fixtures.js'
import {mockSdk} from '../../helpers/mock-sdk.js'

describe('key schedule-deletion', () => {
  const sdk = mockSdk()
  const savedHome = process.env.KMSCTL_HOME
  let exitCode: number | undefined

  async function run(args: string[]) {
    process.exitCode = undefined
    const out = await runCommand(['key', 'schedule-deletion', ...args])
    exitCode = typeof process.exitCode === 'number' ? process.exitCode : undefined
    process.exitCode = undefined
    return out
  }

  const scheduled = () => sdk.kms.commandCalls(ScheduleKeyDeletionCommand)

  beforeEach(() => {
    process.env.KMSCTL_HOME = mkdtempSync(join(tmpdir(), 'kmsctl-home-'))
    sdk.kms.on(DescribeKeyCommand).resolves({KeyMetadata: metadata()})
    sdk.kms.on(ListAliasesCommand).resolves({Aliases: [{AliasName: 'alias/reports', TargetKeyId: KEY_ID}], Truncated: false})
    sdk.kms.on(ListResourceTagsCommand).resolves({Tags: [{TagKey: 'team', TagValue: 'finance'}], Truncated: false})
    sdk.kms.on(ListGrantsCommand).resolves({Grants: [], Truncated: false})
    sdk.kms.on(GetKeyLastUsageCommand).resolves({KeyLastUsage: {}})
    sdk.kms.on(ScheduleKeyDeletionCommand).callsFake((input: {PendingWindowInDays: number}) => ({
      DeletionDate: new Date(Date.now() + input.PendingWindowInDays * DAY),
      KeyId: ARN,
      KeyState: 'PendingDeletion',
      PendingWindowInDays: input.PendingWindowInDays,
    }))
    sdk.cloudtrail.on(LookupEventsCommand).resolves({Events: []})
    sdk.sts.on(GetCallerIdentityCommand).resolves({Account: '111122223333', Arn: 'arn:aws:iam::111122223333:user/ops', UserId: 'AIDAEXAMPLE'})
  })

  after(() => {
    process.env.KMSCTL_HOME = savedHome
  })

  describe('refusals: exit 2, nothing sent', () => {
    for (const days of ['6', '31']) {
      it(`--days ${days} before any request`, async () => {
        const {stderr, stdout} = await run([KEY_ID, '--days', days, '--confirm', KEY_ID])
        expect(exitCode).to.equal(2)
        expect(stderr).to.contain(`Error: --days ${days} is outside 7..30: KMS waits between 7 and 30 days before it deletes a key.`)
        expect(stderr).to.contain(`Try this: --days ${days === '6' ? 7 : 30}`)
        expect(stdout).to.equal('')
        expect(sdk.kms.calls()).to.have.length(0)
        expect(sdk.cloudtrail.calls()).to.have.length(0)
      })
    }

    it('an AWS managed key', async () => {
      sdk.kms.on(DescribeKeyCommand).resolves({KeyMetadata: metadata({KeyManager: 'AWS', KeyState: 'Enabled'})})
      const {stderr} = await run(['alias/aws/ebs', '--force', '--confirm', 'alias/aws/ebs'])
      expect(exitCode).to.equal(2)
      expect(stderr).to.contain(`Error: alias/aws/ebs (${KEY_ID}) is an AWS managed key: AWS owns its lifecycle, and it cannot be deleted.`)
      expect(stderr).to.contain('Try this: leave it (AWS managed keys have no monthly fee); to find your own keys: kmsctl key list --manager CUSTOMER')
      expect(scheduled()).to.have.length(0)
    })

    it('a key already pending deletion, with its date', async () => {
      const date = new Date(Date.now() + 3.5 * DAY)
      sdk.kms.on(DescribeKeyCommand).resolves({KeyMetadata: metadata({DeletionDate: date, KeyState: 'PendingDeletion'})})
      const {stderr} = await run([KEY_ID, '--force', '--confirm', KEY_ID])
      expect(exitCode).to.equal(2)
      expect(stderr).to.contain(`is already scheduled for deletion on ${date.toISOString().replace('T', ' ').replace(/\.\d{3}Z$/, 'Z')} (4 days left)`)
      expect(stderr).to.contain(`Try this: kmsctl key cancel-deletion ${KEY_ID} --enable (to keep the key)`)
      expect(scheduled()).to.have.length(0)
    })

    it('an Enabled key, with the report and the advice to disable it first', async () => {
      sdk.kms.on(DescribeKeyCommand).resolves({KeyMetadata: metadata({Enabled: true, KeyState: 'Enabled'})})
      const {stderr, stdout} = await run(['alias/reports', '--confirm', KEY_ID])
      expect(exitCode).to.equal(2)
      expect(stdout).to.contain(`Deletion pre-flight for alias/reports (${KEY_ID})`)
      expect(stdout).to.match(/State\s+Enabled \(still usable: disable it first\)/)
      expect(stderr).to.contain(`Error: Refusing to schedule deletion: key ${KEY_ID} is Enabled`)
      expect(stderr).to.contain('Try this: disable it first and watch CloudTrail for calls that now fail (kmsctl key disable alias/reports, then kmsctl trail query --key alias/reports --since 7d)')
      expect(scheduled()).to.have.length(0)
    })

    it('a key used inside the lookback window, with the calls in the report', async () => {
      sdk.cloudtrail.on(LookupEventsCommand).resolves({Events: [lookupEvent({event: 'Decrypt', ip: '198.51.100.7', time: new Date(Date.now() - 2 * DAY), user: 'nightly-export'})]})
      const {stderr, stdout} = await run(['alias/reports', '--confirm', 'alias/reports'])
      expect(exitCode).to.equal(2)
      expect(stdout).to.match(/CloudTrail\s+1 cryptographic call in the last 30 days, by:\n\s+user\/nightly-export from 198\.51\.100\.7: 1 \(Decrypt\)/)
      expect(stdout).to.contain('Newest cryptographic calls on this key (CloudTrail, last 30 days):')
      expect(stderr).to.contain(`Error: Refusing to schedule deletion: key ${KEY_ID} was used recently: 1 cryptographic call in CloudTrail in the last 30 days (newest: Decrypt by user/nightly-export from 198.51.100.7`)
      expect(stderr).to.contain('Try this: find out who still uses it (kmsctl trail query --key alias/reports --since 30d), wait until the calls stop, or pass --force.')
      expect(scheduled()).to.have.length(0)
    })

    it('--lookback sets the CloudTrail window', async () => {
      await run(['alias/reports', '--lookback', '7d', '--dry-run'])
      const input = sdk.cloudtrail.commandCalls(LookupEventsCommand)[0].args[0].input
      expect(Date.now() - input.StartTime!.getTime()).to.be.within(7 * DAY, 7 * DAY + 60_000)
      expect(exitCode).to.equal(undefined)
    })

    it('a wrong --confirm', async () => {
      const {stderr} = await run(['alias/reports', '--confirm', 'alias/report'])
      expect(exitCode).to.equal(2)
      expect(stderr).to.contain(`Error: --confirm "alias/report" does not match; expected "${KEY_ID}" or "alias/reports" or "${ARN}".`)
      expect(scheduled()).to.have.length(0)
    })

    it('--yes alone', async () => {
      const {stderr} = await run(['alias/reports', '--yes'])
      expect(exitCode).to.equal(2)
      expect(stderr).to.contain(`Error: --yes is not enough to schedule deletion of key ${KEY_ID}.`)
      expect(stderr).to.contain(`Try this: --confirm ${KEY_ID} (type the key ID or alias)`)
      expect(scheduled()).to.have.length(0)
    })

    it('no confirmation under --json: never a prompt', async () => {
      const {stdout} = await run(['alias/reports', '--json'])
      expect(exitCode).to.equal(2)
      const doc = JSON.parse(stdout)
      expect(doc.error).to.deep.include({code: 'CONFIRMATION_REQUIRED', exitCode: 2, remedy: `Try this: --confirm ${KEY_ID}`})
      expect(scheduled()).to.have.length(0)
    })

    it('the refusal under --json carries the pre-flight', async () => {
      sdk.kms.on(DescribeKeyCommand).resolves({KeyMetadata: metadata({Enabled: true, KeyState: 'Enabled'})})
      const {stdout} = await run(['alias/reports', '--json'])
      const doc = JSON.parse(stdout)
      expect(doc.error).to.deep.include({code: 'REFUSED', exitCode: 2})
      expect(doc.error.details.blockers).to.deep.equal(['ENABLED'])
      expect(doc.error.details.preflight).to.deep.include({keyId: KEY_ID, state: 'Enabled'})
    })
  })

  it('--dry-run shows the pre-flight and what would be sent, and sends nothing', async () => {
    const {stderr, stdout} = await run(['alias/reports', '--days', '7', '--dry-run'])
    expect(exitCode).to.equal(undefined)
    expect(stdout).to.match(/Tags\s+team=finance/)
    expect(stdout).to.match(/Deletion\s+\S+ \S+ if scheduled now \(7 days\)/)
    expect(stderr).to.contain(`Dry run: would send ScheduleKeyDeletion {"KeyId":"${KEY_ID}","PendingWindowInDays":7} after confirmation. Nothing was sent.`)
    expect(scheduled()).to.have.length(0)
  })

  it('--confirm with an alias schedules the deletion and journals the state before', async () => {
    const {result, stdout} = await run(['alias/reports', '--days', '7', '--confirm', 'alias/reports', '--json'])
    expect(exitCode).to.equal(undefined)
    const doc = JSON.parse(stdout)
    expect(doc).to.deep.include({confirmedBy: 'confirm-flag', dryRun: false, keyState: 'PendingDeletion', pendingWindowInDays: 7, scheduled: true})
    expect(doc).to.deep.equal(JSON.parse(JSON.stringify(result)))
    expect(scheduled()).to.have.length(1)
    expect(scheduled()[0].args[0].input).to.deep.equal({KeyId: KEY_ID, PendingWindowInDays: 7})
    const [entry] = new Journal().readAll()
    expect(entry).to.deep.include({account: '111122223333', action: 'key.schedule-deletion', caller: 'arn:aws:iam::111122223333:user/ops', id: doc.journalId})
    expect(entry.command).to.deep.equal(['alias/reports', '--days', '7', '--confirm', 'alias/reports', '--json'])
    expect((entry.before as {state: string}).state).to.equal('Disabled')
    expect((entry.outcome?.after as {deletionDate: string}).deletionDate).to.equal(doc.deletionDate)
  })

  it('--force lets an Enabled, recently used key through, with warnings, once confirmed', async () => {
    sdk.kms.on(DescribeKeyCommand).resolves({KeyMetadata: metadata({Enabled: true, KeyState: 'Enabled'})})
    sdk.cloudtrail.on(LookupEventsCommand).resolves({Events: [lookupEvent({event: 'Encrypt', time: new Date(Date.now() - DAY)})]})
    const {stderr, stdout} = await run([KEY_ID, '--force', '--confirm', KEY_ID])
    expect(exitCode).to.equal(undefined)
    expect(stderr).to.contain(`Warning: --force: key ${KEY_ID} is Enabled`)
    expect(stderr).to.contain(`Warning: --force: key ${KEY_ID} was used recently`)
    expect(stdout).to.match(new RegExp(`Scheduled deletion of key ${KEY_ID} on \\S+ \\S+ \\(in 30 days\\)\\.`))
    expect(stdout).to.contain(`To keep it, before then: kmsctl key cancel-deletion ${KEY_ID} --enable`)
    expect(scheduled()).to.have.length(1)
    expect((new Journal().readAll()[0].before as {enabled: boolean}).enabled).to.equal(true)
  })
})
