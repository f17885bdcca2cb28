import {LookupEventsCommand} from '@aws-sdk/client-cloudtrail'
import {
  CancelKeyDeletionCommand,
  DescribeKeyCommand,
  EnableKeyCommand,
  GetKeyLastUsageCommand,
  ListAliasesCommand,
  ListGrantsCommand,
  ListResourceTagsCommand,
  ScheduleKeyDeletionCommand,
} from '@aws-sdk/client-kms'
import {mkdtempSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {expect} from 'chai'

import {runDeletionPreflight} from '../../../src/lib/deletion/preflight.js'
import {renderPreflight} from '../../../src/lib/deletion/report.js'
import {cancelKeyDeletion, planCancelDeletion, scheduleKeyDeletion} from '../../../src/lib/deletion/schedule.js'
import {KmsctlError} from '../../../src/lib/errors.js'
import {Journal} from '../../../src/lib/journal.js'
import {Pacer} from '../../../src/lib/pacing.js'
import {ARN, DAY, KEY_ID, NOW, lookupEvent, metadata} from './fixtures.js'
import {mockSdk} from '../../helpers/mock-sdk.js'

describe('scheduling and cancelling deletion', () => {
  const sdk = mockSdk()
  const kms = sdk.kmsClient()
  const cloudtrail = sdk.cloudtrailClient()
  let journal: Journal
  const ctx = () => ({account: '111122223333', caller: 'arn:aws:iam::111122223333:user/ops', command: ['key', 'schedule-deletion', 'alias/reports'], journal, region: 'us-east-1'})
  const preflight = () => runDeletionPreflight({cloudtrail, kms}, 'alias/reports', {days: 7, lookbackMs: 30 * DAY, now: NOW, pacer: new Pacer({rates: {LookupEvents: 1000}})})

  beforeEach(() => {
    journal = new Journal({dir: mkdtempSync(join(tmpdir(), 'kmsctl-journal-'))})
    sdk.kms.on(DescribeKeyCommand).resolves({KeyMetadata: metadata()})
    sdk.kms.on(ListAliasesCommand).resolves({Aliases: [{AliasName: 'alias/reports', TargetKeyId: KEY_ID}], Truncated: false})
    sdk.kms.on(ListResourceTagsCommand).resolves({Tags: [], Truncated: false})
    sdk.kms.on(ListGrantsCommand).resolves({Grants: [], Truncated: false})
    sdk.kms.on(GetKeyLastUsageCommand).resolves({KeyLastUsage: {}})
    sdk.cloudtrail.on(LookupEventsCommand).resolves({Events: []})
  })

  describe('schedule', () => {
    it('sends the key ID (not the alias) and journals the state before and the deletion date after', async () => {
      const deletionDate = new Date(NOW.getTime() + 7 * DAY)
      sdk.kms.on(ScheduleKeyDeletionCommand).resolves({DeletionDate: deletionDate, KeyId: ARN, KeyState: 'PendingDeletion', PendingWindowInDays: 7})
      const p = await preflight()
      const out = await scheduleKeyDeletion(kms, p, ctx())
      const sent = sdk.kms.commandCalls(ScheduleKeyDeletionCommand)
      expect(sent).to.have.length(1)
      expect(sent[0].args[0].input).to.deep.equal({KeyId: KEY_ID, PendingWindowInDays: 7})
      expect(out).to.deep.include({deletionDate: deletionDate.toISOString(), keyId: KEY_ID, keyState: 'PendingDeletion', pendingWindowInDays: 7})

      const [entry] = journal.readAll()
      expect(entry.id).to.equal(out.journalId)
      expect(entry).to.deep.include({action: 'key.schedule-deletion', account: '111122223333', caller: 'arn:aws:iam::111122223333:user/ops', region: 'us-east-1'})
      expect(entry.key).to.deep.equal({aliases: ['alias/reports'], arn: ARN, keyId: KEY_ID, ref: 'alias/reports'})
      expect(entry.before).to.deep.equal({aliases: ['alias/reports'], description: 'Monthly reports, 2019-2023', enabled: false, grantCount: 0, recentCryptoCalls: 0, state: 'Disabled', tags: {}})
      expect(entry.request).to.deep.equal({KeyId: KEY_ID, PendingWindowInDays: 7})
      expect(entry.outcome).to.deep.include({status: 'ok'})
      expect(entry.outcome?.after).to.deep.equal({deletionDate: deletionDate.toISOString(), pendingWindowInDays: 7, state: 'PendingDeletion'})
    })

    it('records the entry before sending, and the failure after', async () => {
      sdk.kms.on(ScheduleKeyDeletionCommand).callsFake(() => {
        expect(journal.readAll()).to.have.length(1)
        throw Object.assign(new Error('arn is pending import'), {name: 'KMSInvalidStateException'})
      })
      const p = await preflight()
      try {
        await scheduleKeyDeletion(kms, p, ctx())
        expect.fail('should have failed')
      } catch (error) {
        expect((error as KmsctlError).code).to.equal('INVALID_STATE')
      }

      const [entry] = journal.readAll()
      expect(entry.outcome).to.deep.include({status: 'failed'})
      expect(entry.outcome?.error?.code).to.equal('INVALID_STATE')
    })
  })

  it('a multi-Region primary with replicas: PendingReplicaDeletion, no date yet, and the report says why', async () => {
    const mrk = 'mrk-1234abcd12ab34cd56ef1234567890ab'
    sdk.kms.on(DescribeKeyCommand).resolves({
      KeyMetadata: metadata({
        Arn: `arn:aws:kms:us-east-1:111122223333:key/${mrk}`,
        KeyId: mrk,
        MultiRegion: true,
        MultiRegionConfiguration: {
          MultiRegionKeyType: 'PRIMARY',
          PrimaryKey: {Arn: `arn:aws:kms:us-east-1:111122223333:key/${mrk}`, Region: 'us-east-1'},
          ReplicaKeys: [{Arn: `arn:aws:kms:eu-west-1:111122223333:key/${mrk}`, Region: 'eu-west-1'}],
        },
      }),
    })
    sdk.kms.on(ScheduleKeyDeletionCommand).resolves({KeyId: `arn:aws:kms:us-east-1:111122223333:key/${mrk}`, KeyState: 'PendingReplicaDeletion', PendingWindowInDays: 7})
    const p = await preflight()
    const text = renderPreflight(p, 200)
    expect(text).to.contain(`primary with 1 replica:\n              eu-west-1  arn:aws:kms:eu-west-1:111122223333:key/${mrk}`)
    expect(text).to.contain('The primary goes to PendingReplicaDeletion and its 7-day window starts only after the last replica is deleted.')
    expect(text).to.match(/Deletion\s+after the last replica is deleted, then 7 days \(state PendingReplicaDeletion until then\)/)
    const out = await scheduleKeyDeletion(kms, p, ctx())
    expect(out).to.deep.include({deletionDate: undefined, keyId: mrk, keyState: 'PendingReplicaDeletion', pendingWindowInDays: 7})
    expect(journal.readAll()[0].before).to.deep.include({multiRegionType: 'PRIMARY', replicaRegions: ['eu-west-1']})
  })

  describe('the report', () => {
    it('shows every part of the pre-flight, and the usage', async () => {
      sdk.cloudtrail.on(LookupEventsCommand).resolves({Events: [lookupEvent({event: 'Decrypt', ip: '192.0.2.10', user: 'alice'})]})
      const text = renderPreflight(await preflight(), 160)
      expect(text).to.contain(`Deletion pre-flight for alias/reports (${KEY_ID})`)
      expect(text).to.match(/State\s+Disabled\n/)
      expect(text).to.match(/Manager\s+CUSTOMER\n/)
      expect(text).to.match(/Description\s+Monthly reports, 2019-2023\n/)
      expect(text).to.match(/Aliases\s+alias\/reports\n/)
      expect(text).to.match(/Grants\s+none\n/)
      expect(text).to.match(/Multi-Region\s+no\n/)
      expect(text).to.match(/Last used\s+never\n/)
      expect(text).to.match(/CloudTrail\s+1 cryptographic call in the last 30 days, by:\n\s+user\/alice from 192.0.2.10: 1 \(Decrypt\)\n/)
      expect(text).to.match(/Deletion\s+2026-12-05 12:00:00Z if scheduled now \(7 days\)/)
      expect(text).to.contain('Newest cryptographic calls on this key (CloudTrail, last 30 days):')
      expect(text).to.match(/2026-11-27 12:00:00Z\s+Decrypt\s+user\/alice\s+192\.0\.2\.10\s+ok/)
    })
  })

  describe('cancel', () => {
    beforeEach(() => {
      sdk.kms.on(DescribeKeyCommand).resolves({KeyMetadata: metadata({DeletionDate: new Date(NOW.getTime() + 7 * DAY), KeyState: 'PendingDeletion'})})
    })

    it('refuses a key that is not pending deletion, sending nothing else', async () => {
      sdk.kms.on(DescribeKeyCommand).resolves({KeyMetadata: metadata({KeyState: 'Enabled'})})
      try {
        await planCancelDeletion(kms, 'alias/reports', true)
        expect.fail('should have been refused')
      } catch (error) {
        expect((error as KmsctlError).message).to.equal(`Key ${KEY_ID} is not scheduled for deletion (state Enabled): there is nothing to cancel.`)
        expect((error as KmsctlError).exitCode).to.equal(2)
      }

      expect(sdk.kms.commandCalls(CancelKeyDeletionCommand)).to.have.length(0)
    })

    it('without --enable: only CancelKeyDeletion, and the key stays Disabled', async () => {
      sdk.kms.on(CancelKeyDeletionCommand).resolves({KeyId: ARN})
      const plan = await planCancelDeletion(kms, 'alias/reports', false)
      const out = await cancelKeyDeletion(kms, plan, ctx())
      expect(out).to.deep.include({enabled: false, keyState: 'Disabled'})
      expect(sdk.kms.commandCalls(CancelKeyDeletionCommand)[0].args[0].input).to.deep.equal({KeyId: KEY_ID})
      expect(sdk.kms.commandCalls(EnableKeyCommand)).to.have.length(0)
      const [entry] = journal.readAll()
      expect(entry).to.deep.include({action: 'key.cancel-deletion'})
      expect(entry.before).to.deep.equal({deletionDate: '2026-12-05T12:00:00.000Z', state: 'PendingDeletion'})
      expect(entry.outcome?.after).to.deep.equal({state: 'Disabled'})
    })

    it('with --enable: CancelKeyDeletion then EnableKey', async () => {
      sdk.kms.on(CancelKeyDeletionCommand).resolves({KeyId: ARN})
      sdk.kms.on(EnableKeyCommand).resolves({})
      const out = await cancelKeyDeletion(kms, await planCancelDeletion(kms, KEY_ID, true), ctx())
      expect(out).to.deep.include({enabled: true, keyState: 'Enabled'})
      const order = sdk.kms.calls().map((c) => c.args[0].constructor.name).filter((n) => n === 'CancelKeyDeletionCommand' || n === 'EnableKeyCommand')
      expect(order).to.deep.equal(['CancelKeyDeletionCommand', 'EnableKeyCommand'])
      expect(journal.readAll()[0].outcome?.after).to.deep.equal({state: 'Enabled'})
    })

    it('a failed EnableKey after a cancel is a partial outcome that says the key is safe but Disabled', async () => {
      sdk.kms.on(CancelKeyDeletionCommand).resolves({KeyId: ARN})
      sdk.kms.on(EnableKeyCommand).rejects(Object.assign(new Error('denied'), {name: 'AccessDeniedException'}))
      try {
        await cancelKeyDeletion(kms, await planCancelDeletion(kms, KEY_ID, true), ctx())
        expect.fail('should have failed')
      } catch (error) {
        const e = error as KmsctlError
        expect(e.message).to.match(new RegExp(`^The deletion of key ${KEY_ID} was cancelled, but enabling it failed: Access denied`))
        expect(e.remedy).to.equal(`kmsctl key enable ${KEY_ID} once the cause is fixed (the key is safe from deletion, and Disabled)`)
        expect(e.exitCode).to.equal(1)
      }

      expect(journal.readAll()[0].outcome).to.deep.include({status: 'partial'})
    })
  })
})
