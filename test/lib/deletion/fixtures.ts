// Shared fixtures for the deletion tests: one customer-managed key and CloudTrail records about it
// (the SDK is stubbed with test/helpers/mock-sdk.ts).
import type {Event as LookupEvent} from '@aws-sdk/client-cloudtrail'
import type {KeyMetadata} from '@aws-sdk/client-kms'

export const KEY_ID = '1234abcd-12ab-34cd-56ef-1234567890ab'
export const ARN = `arn:aws:kms:us-east-1:111122223333:key/${KEY_ID}`
export const NOW = new Date('2026-11-28T12:00:00Z')
export const DAY = 86_400_000

export function metadata(overrides: Partial<KeyMetadata> = {}): KeyMetadata {
  return {
    Arn: ARN,
    CreationDate: new Date('2025-01-02T03:04:05Z'),
    Description: 'Monthly reports, 2019-2023',
    Enabled: false,
    KeyId: KEY_ID,
    KeyManager: 'CUSTOMER',
    KeySpec: 'SYMMETRIC_DEFAULT',
    KeyState: 'Disabled',
    KeyUsage: 'ENCRYPT_DECRYPT',
    MultiRegion: false,
    Origin: 'AWS_KMS',
    ...overrides,
  } as KeyMetadata
}

export interface RecordOptions {
  event?: string
  time?: Date
  user?: string
  ip?: string
  errorCode?: string
  source?: string
  id?: string
}

/** One LookupEvents result as CloudTrail returns it: a few fields plus the record as a JSON string. */
export function lookupEvent(o: RecordOptions = {}): LookupEvent {
  const time = o.time ?? new Date(NOW.getTime() - DAY)
  const event = o.event ?? 'Decrypt'
  const id = o.id ?? `ev-${event}-${time.getTime()}`
  const record = {
    awsRegion: 'us-east-1',
    eventID: id,
    eventName: event,
    eventSource: o.source ?? 'kms.amazonaws.com',
    eventTime: time.toISOString().replace(/\.\d{3}Z$/, 'Z'),
    readOnly: true,
    recipientAccountId: '111122223333',
    requestParameters: {encryptionAlgorithm: 'SYMMETRIC_DEFAULT', keyId: 'alias/reports'},
    resources: [{ARN, accountId: '111122223333', type: 'AWS::KMS::Key'}],
    sourceIPAddress: o.ip ?? '10.0.4.17',
    userAgent: 'aws-sdk-java/2.20.0',
    userIdentity: {accessKeyId: 'AKIAEXAMPLE', accountId: '111122223333', arn: `arn:aws:iam::111122223333:user/${o.user ?? 'report-batch'}`, type: 'IAMUser', userName: o.user ?? 'report-batch'},
    ...(o.errorCode ? {errorCode: o.errorCode, errorMessage: 'arn is disabled.'} : {}),
  }
  return {CloudTrailEvent: JSON.stringify(record), EventId: id, EventName: event, EventSource: record.eventSource, EventTime: time, Username: o.user ?? 'report-batch'}
}
