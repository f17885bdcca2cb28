import {LookupEventsCommand} from '@aws-sdk/client-cloudtrail'
import {
  DescribeKeyCommand,
  GetKeyLastUsageCommand,
  ListAliasesCommand,
  ListGrantsCommand,
  ListResourceTagsCommand,
  ScheduleKeyDeletionCommand,
} from '@aws-sdk/client-kms'
import {expect} from 'chai'

import {
  type DeletionPreflight,
  blockersError,
  deletionBlockers,
  parseLookback,
  runDeletionPreflight,
  validateDays,
} from '../../../src/lib/deletion/preflight.js'
import {KmsctlError} from '../../../src/lib/errors.js'
import {Pacer} from '../../../src/lib/pacing.js'
import {ARN, DAY, KEY_ID, NOW, lookupEvent, metadata} from './fixtures.js'
import {mockSdk} from '../../helpers/mock-sdk.js'

async function refusalOf(promise: Promise<unknown>): Promise<KmsctlError> {
  try {
    await promise
  } catch (error) {
    expect(error).to.be.instanceOf(KmsctlError)
    return error as KmsctlError
  }

  throw new Error('expected a refusal')
}

describe('deletion pre-flight', () => {
  const sdk = mockSdk()
  const kms = sdk.kmsClient()
  const cloudtrail = sdk.cloudtrailClient()
  const fast = () => new Pacer({rates: {LookupEvents: 1000}})
  const run = (ref = 'alias/reports', extra: {days?: number; lookbackMs?: number} = {}) =>
    runDeletionPreflight({cloudtrail, kms}, ref, {days: extra.days ?? 30, lookbackMs: extra.lookbackMs ?? 30 * DAY, now: NOW, pacer: fast()})

  beforeEach(() => {
    sdk.kms.on(DescribeKeyCommand).resolves({KeyMetadata: metadata()})
    sdk.kms.on(ListAliasesCommand).resolves({Aliases: [{AliasName: 'alias/reports', TargetKeyId: KEY_ID}, {AliasName: 'alias/reports-old', TargetKeyId: KEY_ID}], Truncated: false})
    sdk.kms.on(ListResourceTagsCommand).resolves({Tags: [{TagKey: 'team', TagValue: 'finance'}], Truncated: false})
    sdk.kms.on(ListGrantsCommand).resolves({
      Grants: [{GrantId: 'g1', GranteePrincipal: 'arn:aws:iam::111122223333:role/report-reader', Name: 'reader', Operations: ['Decrypt', 'DescribeKey']}],
      Truncated: false,
    })
    sdk.kms.on(GetKeyLastUsageCommand).resolves({KeyLastUsage: {}, TrackingStartDate: new Date('2026-01-01T00:00:00Z')})
    sdk.cloudtrail.on(LookupEventsCommand).resolves({Events: []})
  })

  describe('inputs', () => {
    it('accepts 7..30 days and defaults to 30', () => {
      expect(validateDays(undefined)).to.equal(30)
      expect(validateDays(7)).to.equal(7)
      expect(validateDays(30)).to.equal(30)
    })

    it('refuses --days outside 7..30 with the nearest allowed value and exit 2', () => {
      expect(() => validateDays(6)).to.throw('--days 6 is outside 7..30: KMS waits between 7 and 30 days before it deletes a key.').with.property('remedy', 'Try this: --days 7')
      expect(() => validateDays(31)).to.throw('--days 31 is outside 7..30').with.property('exitCode', 2)
      expect(() => validateDays(0)).to.throw().with.property('remedy', 'Try this: --days 7')
    })

    it('parses --lookback up to the 90 days CloudTrail keeps', () => {
      expect(parseLookback('30d')).to.equal(30 * DAY)
      expect(parseLookback(undefined)).to.equal(30 * DAY)
      expect(parseLookback('90d')).to.equal(90 * DAY)
      expect(() => parseLookback('91d')).to.throw('--lookback 91d is longer than the 90 days CloudTrail event history keeps.').with.property('exitCode', 2)
      expect(() => parseLookback('lots')).to.throw('--lookback "lots" is not a duration.')
      expect(() => parseLookback('5m')).to.throw('too short')
    })
  })

  describe('hard refusals', () => {
    it('refuses an AWS managed key after DescribeKey alone', async () => {
      sdk.kms.on(DescribeKeyCommand).resolves({KeyMetadata: metadata({KeyManager: 'AWS', KeyState: 'Enabled'})})
      const e = await refusalOf(run('alias/aws/s3'))
      expect(e.message).to.equal(`alias/aws/s3 (${KEY_ID}) is an AWS managed key: AWS owns its lifecycle, and it cannot be deleted.`)
      expect(e.exitCode).to.equal(2)
      expect(e.code).to.equal('REFUSED')
      expect(sdk.kms.calls()).to.have.length(1)
      expect(sdk.cloudtrail.calls()).to.have.length(0)
      expect(sdk.kms.commandCalls(ScheduleKeyDeletionCommand)).to.have.length(0)
    })

    it('refuses a key already pending deletion and shows its date and days left', async () => {
      sdk.kms.on(DescribeKeyCommand).resolves({KeyMetadata: metadata({DeletionDate: new Date(NOW.getTime() + 9.5 * DAY), KeyState: 'PendingDeletion'})})
      const e = await refusalOf(run(KEY_ID))
      expect(e.message).to.equal(`Key ${KEY_ID} is already scheduled for deletion on 2026-12-08 00:00:00Z (10 days left).`)
      expect(e.remedy).to.equal(`kmsctl key cancel-deletion ${KEY_ID} --enable (to keep the key)`)
      expect(e.exitCode).to.equal(2)
      expect(e.details).to.deep.include({deletionDate: '2026-12-08T00:00:00.000Z', reason: 'PENDING_DELETION'})
      expect(sdk.kms.commandCalls(ScheduleKeyDeletionCommand)).to.have.length(0)
    })

    it('refuses a primary already waiting for its replicas', async () => {
      sdk.kms.on(DescribeKeyCommand).resolves({KeyMetadata: metadata({KeyState: 'PendingReplicaDeletion', PendingDeletionWindowInDays: 14})})
      const e = await refusalOf(run(KEY_ID))
      expect(e.message).to.equal(`Key ${KEY_ID} is already scheduled for deletion: it waits for its replicas to be deleted, then 14 more days.`)
    })
  })

  describe('the report', () => {
    it('gathers aliases, tags, grants, last use and the deletion date of a disabled, unused key', async () => {
      const p = await run()
      expect(p).to.deep.include({
        aliases: ['alias/reports', 'alias/reports-old'],
        arn: ARN,
        days: 30,
        description: 'Monthly reports, 2019-2023',
        keyId: KEY_ID,
        manager: 'CUSTOMER',
        ref: 'alias/reports',
        state: 'Disabled',
        waitsForReplicas: false,
        wouldDeleteOn: '2026-12-28T12:00:00.000Z',
      })
      expect(p.tags).to.deep.equal({team: 'finance'})
      expect(p.grants).to.deep.equal([{grantId: 'g1', grantee: 'arn:aws:iam::111122223333:role/report-reader', name: 'reader', operations: ['Decrypt', 'DescribeKey']}])
      expect(p.recentUse).to.deep.include({checked: true, since: '2026-10-29T12:00:00.000Z', used: false})
      expect(p.recentUse.lastUsage).to.deep.equal({cloudTrailEventId: undefined, operation: undefined, status: 'ok', time: undefined, trackingSince: '2026-01-01T00:00:00.000Z'})
      expect(p.unavailable).to.deep.equal({})
      expect(deletionBlockers(p, false)).to.deep.equal([])
    })

    it('asks CloudTrail for this key ARN over the lookback window only', async () => {
      await run('alias/reports', {lookbackMs: 7 * DAY})
      const calls = sdk.cloudtrail.commandCalls(LookupEventsCommand)
      expect(calls).to.have.length(1)
      expect(calls[0].args[0].input.EndTime).to.equal(undefined)
      expect(calls[0].args[0].input).to.deep.include({
        LookupAttributes: [{AttributeKey: 'ResourceName', AttributeValue: ARN}],
        StartTime: new Date(NOW.getTime() - 7 * DAY),
      })
      expect(sdk.kms.commandCalls(GetKeyLastUsageCommand)[0].args[0].input).to.deep.equal({KeyId: KEY_ID})
    })

    it('ignores management calls: only cryptographic calls count as use', async () => {
      sdk.cloudtrail.on(LookupEventsCommand).resolves({Events: [lookupEvent({event: 'DescribeKey'}), lookupEvent({event: 'DisableKey'}), lookupEvent({event: 'ListGrants'})]})
      const p = await run()
      expect(p.recentUse.trail.count).to.equal(0)
      expect(p.recentUse.used).to.equal(false)
    })

    it('finds the newest cryptographic calls with who and from where, newest first', async () => {
      sdk.cloudtrail.on(LookupEventsCommand).resolves({
        Events: [
          lookupEvent({event: 'Encrypt', time: new Date(NOW.getTime() - 5 * DAY)}),
          lookupEvent({event: 'Decrypt', ip: '192.0.2.10', time: new Date(NOW.getTime() - 2 * DAY), user: 'alice'}),
          lookupEvent({event: 'DescribeKey', time: new Date(NOW.getTime() - DAY)}),
        ],
      })
      const p = await run()
      expect(p.recentUse.used).to.equal(true)
      expect(p.recentUse.trail.count).to.equal(2)
      expect(p.recentUse.trail.events.map((e) => [e.event, e.who, e.from, e.outcome])).to.deep.equal([
        ['Decrypt', 'user/alice', '192.0.2.10', 'ok'],
        ['Encrypt', 'user/report-batch', '10.0.4.17', 'ok'],
      ])
      const blockers = deletionBlockers(p, false)
      expect(blockers).to.have.length(1)
      expect(blockers[0]).to.deep.include({code: 'RECENTLY_USED', forced: false})
      expect(blockers[0].message).to.equal(
        `key ${KEY_ID} was used recently: 2 cryptographic calls in CloudTrail in the last 30 days (newest: Decrypt by user/alice from 192.0.2.10 at 2026-11-26 12:00:00Z)`,
      )
    })

    it('counts a refused call on a disabled key as use: someone still depends on it', async () => {
      sdk.cloudtrail.on(LookupEventsCommand).resolves({Events: [lookupEvent({errorCode: 'DisabledException', event: 'Decrypt'})]})
      const p = await run()
      expect(p.recentUse.used).to.equal(true)
      expect(p.recentUse.trail.events[0].outcome).to.equal('DisabledException')
    })

    it('counts GetKeyLastUsage inside the window as use, and outside it as not', async () => {
      sdk.kms.on(GetKeyLastUsageCommand).resolves({KeyLastUsage: {Operation: 'Decrypt', Timestamp: new Date(NOW.getTime() - 3 * DAY)}})
      let p = await run()
      expect(p.recentUse.used).to.equal(true)
      expect(deletionBlockers(p, false)[0].message).to.equal(`key ${KEY_ID} was used recently: KMS last saw it used for Decrypt at 2026-11-25 12:00:00Z`)
      sdk.kms.on(GetKeyLastUsageCommand).resolves({KeyLastUsage: {Operation: 'Decrypt', Timestamp: new Date(NOW.getTime() - 45 * DAY)}})
      p = await run()
      expect(p.recentUse.used).to.equal(false)
      expect(p.recentUse.lastUsage.time).to.equal('2026-10-14T12:00:00.000Z')
    })

    it('reads LookupEvents pages up to the limit and says when there were more', async () => {
      sdk.cloudtrail
        .on(LookupEventsCommand)
        .resolvesOnce({Events: [lookupEvent({id: 'a'})], NextToken: 't1'})
        .resolvesOnce({Events: [lookupEvent({id: 'b'})], NextToken: 't2'})
        .resolves({Events: [lookupEvent({id: 'c'})], NextToken: 't3'})
      const p = await runDeletionPreflight({cloudtrail, kms}, KEY_ID, {days: 30, lookbackMs: 30 * DAY, maxPages: 3, now: NOW, pacer: fast()})
      const calls = sdk.cloudtrail.commandCalls(LookupEventsCommand)
      expect(calls.map((c) => c.args[0].input.NextToken)).to.deep.equal([undefined, 't1', 't2'])
      expect(p.recentUse.trail).to.deep.include({count: 3, pages: 3, truncated: true})
      expect(deletionBlockers(p, false)[0].message).to.contain('3+ cryptographic calls')
    })

    it('marks what could not be read, and refuses when nobody could check recent use', async () => {
      const denied = Object.assign(new Error('denied'), {name: 'AccessDeniedException'})
      sdk.kms.on(ListGrantsCommand).rejects(denied)
      sdk.kms.on(GetKeyLastUsageCommand).rejects(Object.assign(new Error('no such op'), {name: 'UnknownOperationException'}))
      sdk.cloudtrail.on(LookupEventsCommand).rejects(Object.assign(new Error('denied'), {name: 'AccessDeniedException'}))
      const p = await run()
      expect(p.grants).to.equal(undefined)
      expect(p.unavailable).to.deep.equal({
        GetKeyLastUsage: 'GetKeyLastUsage is not supported by this endpoint',
        ListGrants: 'not allowed: kms:ListGrants',
        LookupEvents: 'not allowed: cloudtrail:LookupEvents',
      })
      expect(p.recentUse.checked).to.equal(false)
      const blockers = deletionBlockers(p, false)
      expect(blockers.map((b) => b.code)).to.deep.equal(['USE_UNKNOWN'])
      expect(blockersError(p, blockers).remedy).to.equal('grant yourself kms:GetKeyLastUsage or cloudtrail:LookupEvents to check, or pass --force.')
    })

    it('one source is enough to speak to use', async () => {
      sdk.kms.on(GetKeyLastUsageCommand).rejects(Object.assign(new Error('no such op'), {name: 'UnknownOperationException'}))
      const p = await run()
      expect(p.recentUse.checked).to.equal(true)
      expect(deletionBlockers(p, false)).to.deep.equal([])
    })

    it('a multi-Region primary with replicas waits for them: no deletion date yet', async () => {
      sdk.kms.on(DescribeKeyCommand).resolves({
        KeyMetadata: metadata({
          KeyId: 'mrk-1234abcd12ab34cd56ef1234567890ab',
          MultiRegion: true,
          MultiRegionConfiguration: {
            MultiRegionKeyType: 'PRIMARY',
            PrimaryKey: {Arn: 'arn:aws:kms:us-east-1:111122223333:key/mrk-1234abcd12ab34cd56ef1234567890ab', Region: 'us-east-1'},
            ReplicaKeys: [{Arn: 'arn:aws:kms:eu-west-1:111122223333:key/mrk-1234abcd12ab34cd56ef1234567890ab', Region: 'eu-west-1'}],
          },
        }),
      })
      const p = await run('mrk-1234abcd12ab34cd56ef1234567890ab')
      expect(p.waitsForReplicas).to.equal(true)
      expect(p.wouldDeleteOn).to.equal(undefined)
      expect(p.multiRegion).to.deep.equal({
        primary: {arn: 'arn:aws:kms:us-east-1:111122223333:key/mrk-1234abcd12ab34cd56ef1234567890ab', region: 'us-east-1'},
        replicas: [{arn: 'arn:aws:kms:eu-west-1:111122223333:key/mrk-1234abcd12ab34cd56ef1234567890ab', region: 'eu-west-1'}],
        type: 'PRIMARY',
      })
    })
  })

  describe('refusals --force overrides', () => {
    let enabledAndUsed: DeletionPreflight
    beforeEach(async () => {
      sdk.kms.on(DescribeKeyCommand).resolves({KeyMetadata: metadata({Enabled: true, KeyState: 'Enabled'})})
      sdk.cloudtrail.on(LookupEventsCommand).resolves({Events: [lookupEvent({event: 'GenerateDataKey'})]})
      enabledAndUsed = await run()
    })

    it('an Enabled key is refused with the advice to disable it and watch CloudTrail', () => {
      const blockers = deletionBlockers(enabledAndUsed, false)
      expect(blockers.map((b) => b.code)).to.deep.equal(['ENABLED', 'RECENTLY_USED'])
      const e = blockersError(enabledAndUsed, blockers)
      expect(e.exitCode).to.equal(2)
      expect(e.message).to.match(new RegExp(`^Refusing to schedule deletion: key ${KEY_ID} is Enabled, so anything still using it keeps working until the day it is deleted; and key ${KEY_ID} was used recently: 1 cryptographic call in CloudTrail`))
      expect(e.remedy).to.equal(
        'disable it first and watch CloudTrail for calls that now fail (kmsctl key disable alias/reports, then kmsctl trail query --key alias/reports --since 7d); schedule the deletion when nothing has called it for a while, or pass --force.',
      )
      expect(e.details).to.deep.include({blockers: ['ENABLED', 'RECENTLY_USED']})
    })

    it('--force turns every one of them into a warning', () => {
      const blockers = deletionBlockers(enabledAndUsed, true)
      expect(blockers.every((b) => b.forced)).to.equal(true)
      expect(blockers).to.have.length(2)
    })

    it('nothing is ever scheduled by the pre-flight', () => {
      expect(sdk.kms.commandCalls(ScheduleKeyDeletionCommand)).to.have.length(0)
    })
  })
})
