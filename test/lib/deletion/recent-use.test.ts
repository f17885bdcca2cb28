import {LookupEventsCommand} from '@aws-sdk/client-cloudtrail'
import {GetKeyLastUsageCommand} from '@aws-sdk/client-kms'
import {expect} from 'chai'

import {lastUsage, recentUse, toUsageEvent, trailUsage} from '../../../src/lib/deletion/recent-use.js'
import {Pacer} from '../../../src/lib/pacing.js'
import {awsError, mockSdk} from '../../helpers/mock-sdk.js'
import {ARN, DAY, KEY_ID, NOW, lookupEvent} from './fixtures.js'

describe('deletion: recent use of a key', () => {
  const sdk = mockSdk()
  const kms = sdk.kmsClient()
  const cloudtrail = sdk.cloudtrailClient()
  const fast = () => new Pacer({rates: {LookupEvents: 1000}})

  it('reads GetKeyLastUsage, and says why when it cannot', async () => {
    sdk.kms.on(GetKeyLastUsageCommand).resolves({KeyLastUsage: {CloudTrailEventId: 'ev-1', Operation: 'Decrypt', Timestamp: new Date(NOW.getTime() - 2 * DAY)}, TrackingStartDate: new Date('2026-01-01T00:00:00Z')})
    expect(await lastUsage(kms, KEY_ID)).to.deep.equal({
      cloudTrailEventId: 'ev-1',
      operation: 'Decrypt',
      status: 'ok',
      time: new Date(NOW.getTime() - 2 * DAY).toISOString(),
      trackingSince: '2026-01-01T00:00:00.000Z',
    })
    sdk.kms.on(GetKeyLastUsageCommand).rejects(awsError('AccessDeniedException', 'denied'))
    expect(await lastUsage(kms, KEY_ID)).to.deep.equal({reason: 'not allowed: kms:GetKeyLastUsage', status: 'unavailable'})
    sdk.kms.on(GetKeyLastUsageCommand).rejects(awsError('UnknownOperationException', 'unknown'))
    expect((await lastUsage(kms, KEY_ID)).reason).to.equal('GetKeyLastUsage is not supported by this endpoint')
  })

  it('keeps only KMS cryptographic calls from CloudTrail, newest first, grouped by caller', async () => {
    sdk.cloudtrail
      .on(LookupEventsCommand)
      .resolvesOnce({
        Events: [
          lookupEvent({event: 'Decrypt', time: new Date(NOW.getTime() - 3 * DAY), user: 'batch'}),
          lookupEvent({event: 'DescribeKey', time: new Date(NOW.getTime() - DAY)}),
          lookupEvent({event: 'GenerateDataKey', ip: '198.51.100.7', time: new Date(NOW.getTime() - DAY), user: 'web'}),
        ],
        NextToken: 't1',
      })
      .resolvesOnce({Events: [lookupEvent({event: 'Encrypt', time: new Date(NOW.getTime() - 2 * DAY), user: 'batch'}), lookupEvent({event: 'Decrypt', source: 's3.amazonaws.com'})]})
    const usage = await trailUsage(cloudtrail, ARN, new Date(NOW.getTime() - 30 * DAY), {pacer: fast()})
    expect(usage).to.deep.include({count: 3, pages: 2, status: 'ok', truncated: false})
    expect(usage.events.map((e) => e.event)).to.deep.equal(['GenerateDataKey', 'Encrypt', 'Decrypt'])
    expect(usage.callers.map((c) => [c.who, c.from, c.calls, c.events])).to.deep.equal([
      ['user/batch', '10.0.4.17', 2, ['Encrypt', 'Decrypt']],
      ['user/web', '198.51.100.7', 1, ['GenerateDataKey']],
    ])
    const sent = sdk.cloudtrail.commandCalls(LookupEventsCommand).map((c) => c.args[0].input)
    expect(sent[0]).to.deep.include({LookupAttributes: [{AttributeKey: 'ResourceName', AttributeValue: ARN}], MaxResults: 50})
    expect(sent[1].NextToken).to.equal('t1')
  })

  it('stops after maxPages and says the count is a lower bound', async () => {
    sdk.cloudtrail.on(LookupEventsCommand).resolves({Events: [lookupEvent()], NextToken: 'more'})
    const usage = await trailUsage(cloudtrail, ARN, new Date(NOW.getTime() - DAY), {maxPages: 2, pacer: fast()})
    expect(usage).to.deep.include({count: 2, pages: 2, truncated: true})
  })

  it('never throws: a refused LookupEvents makes the trail unavailable, with the reason', async () => {
    sdk.cloudtrail.on(LookupEventsCommand).rejects(awsError('AccessDeniedException', 'denied'))
    expect(await trailUsage(cloudtrail, ARN, NOW, {pacer: fast()})).to.deep.include({reason: 'not allowed: cloudtrail:LookupEvents', status: 'unavailable'})
  })

  it('judges use inside the window from either source, and whether any source could tell', async () => {
    sdk.kms.on(GetKeyLastUsageCommand).resolves({KeyLastUsage: {Operation: 'Decrypt', Timestamp: new Date(NOW.getTime() - 10 * DAY)}})
    sdk.cloudtrail.on(LookupEventsCommand).resolves({Events: []})
    const key = {arn: ARN, keyId: KEY_ID}
    const inside = await recentUse(kms, cloudtrail, key, {lookbackMs: 30 * DAY, now: NOW, pacer: fast()})
    expect(inside).to.deep.include({checked: true, since: new Date(NOW.getTime() - 30 * DAY).toISOString(), used: true})
    const outside = await recentUse(kms, cloudtrail, key, {lookbackMs: 7 * DAY, now: NOW, pacer: fast()})
    expect(outside).to.deep.include({checked: true, used: false})

    sdk.kms.on(GetKeyLastUsageCommand).rejects(awsError('AccessDeniedException', 'denied'))
    const blind = await recentUse(kms, undefined, key, {lookbackMs: 7 * DAY, now: NOW})
    expect(blind).to.deep.include({checked: false, used: false})
    expect(blind.trail.reason).to.equal('CloudTrail not consulted')
  })

  it('reads a LookupEvents result whose record is missing or unreadable from its own fields', () => {
    const e = toUsageEvent({EventId: 'x', EventName: 'Decrypt', EventSource: 'kms.amazonaws.com', EventTime: NOW, Username: 'alice'})
    expect(e).to.deep.include({event: 'Decrypt', eventId: 'x', time: NOW.toISOString()})
    expect(toUsageEvent({CloudTrailEvent: '{not json', EventName: 'ListKeys', EventSource: 'kms.amazonaws.com'})).to.equal(undefined)
  })
})
