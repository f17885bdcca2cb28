// CloudTrail records of every identity type, shaped as CloudTrail writes them.
import type {CloudTrailRecord} from '../../../src/lib/trail/normalise.js'

export const ACCOUNT = '111122223333'
export const OTHER = '444455556666'
export const KEY_ID = '1234abcd-12ab-34cd-56ef-1234567890ab'
export const KEY_ARN = `arn:aws:kms:us-east-1:${ACCOUNT}:key/${KEY_ID}`
export const OTHER_KEY_ID = '0987dcba-09fe-87dc-65ba-ab0987654321'
export const OTHER_KEY_ARN = `arn:aws:kms:us-east-1:${ACCOUNT}:key/${OTHER_KEY_ID}`

let n = 0

/** A KMS Decrypt record by an IAM user; override any field. */
export function record(overrides: Partial<CloudTrailRecord> = {}): CloudTrailRecord {
  n++
  return {
    eventVersion: '1.08',
    awsRegion: 'us-east-1',
    eventCategory: 'Management',
    eventID: `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`,
    eventName: 'Decrypt',
    eventSource: 'kms.amazonaws.com',
    eventTime: '2026-11-02T10:00:00Z',
    eventType: 'AwsApiCall',
    managementEvent: true,
    readOnly: true,
    recipientAccountId: ACCOUNT,
    requestParameters: {encryptionAlgorithm: 'SYMMETRIC_DEFAULT', keyId: KEY_ID},
    resources: [{ARN: KEY_ARN, accountId: ACCOUNT, type: 'AWS::KMS::Key'}],
    responseElements: null,
    sourceIPAddress: '203.0.113.10',
    userAgent: 'aws-cli/2.15.0 Python/3.11.6',
    userIdentity: iamUser(),
    ...overrides,
  }
}

export const iamUser = (name = 'alice') => ({
  accessKeyId: 'AKIAIOSFODNN7EXAMPLE',
  accountId: ACCOUNT,
  arn: `arn:aws:iam::${ACCOUNT}:user/${name}`,
  principalId: 'AIDAJ45Q7YFFAREXAMPLE',
  type: 'IAMUser',
  userName: name,
})

export const assumedRole = (role = 'Payments', session = 'i-0abc123') => ({
  accessKeyId: 'ASIAQ3EXAMPLE0000001',
  accountId: ACCOUNT,
  arn: `arn:aws:sts::${ACCOUNT}:assumed-role/${role}/${session}`,
  principalId: `AROAEXAMPLEROLEID:${session}`,
  sessionContext: {
    attributes: {creationDate: '2026-11-02T09:00:00Z', mfaAuthenticated: 'false'},
    sessionIssuer: {accountId: ACCOUNT, arn: `arn:aws:iam::${ACCOUNT}:role/service/${role}`, principalId: 'AROAEXAMPLEROLEID', type: 'Role', userName: role},
  },
  type: 'AssumedRole',
})

export const federatedUser = () => ({
  accessKeyId: 'ASIAFEDEXAMPLE000001',
  accountId: ACCOUNT,
  arn: `arn:aws:sts::${ACCOUNT}:federated-user/bob`,
  principalId: `${ACCOUNT}:bob`,
  sessionContext: {sessionIssuer: {accountId: ACCOUNT, arn: `arn:aws:iam::${ACCOUNT}:user/broker`, principalId: 'AIDABROKER', type: 'IAMUser', userName: 'broker'}},
  type: 'FederatedUser',
})

export const root = () => ({accessKeyId: 'ASIAROOTEXAMPLE00001', accountId: ACCOUNT, arn: `arn:aws:iam::${ACCOUNT}:root`, principalId: ACCOUNT, type: 'Root'})

export const awsService = (service = 's3.amazonaws.com') => ({invokedBy: service, type: 'AWSService'})

export const awsInternal = () => ({accountId: ACCOUNT, invokedBy: 'AWS Internal'})

export const awsAccount = () => ({accountId: OTHER, principalId: 'AIDAOTHERACCOUNTUSER', type: 'AWSAccount'})

export const samlUser = () => ({
  identityProvider: 'bdGOnTesti4+ooDLQ2EXAMPLE=',
  principalId: 'SAMLProvider:alice@example.com',
  type: 'SAMLUser',
  userName: 'alice@example.com',
})

export const webIdentityUser = () => ({
  identityProvider: 'accounts.google.com',
  principalId: 'accounts.google.com:client.apps.googleusercontent.com:1234567890',
  type: 'WebIdentityUser',
  userName: '1234567890',
})

export const identityCenterUser = () => ({
  accountId: ACCOUNT,
  credentialId: 'EXAMPLEVHULjJdTUdPJfofVa1sufHDoj7aYcOYcxFVllWR_Whr1fEXAMPLE',
  onBehalfOf: {identityStoreArn: 'arn:aws:identitystore::111122223333:identitystore/d-9067EXAMPLE', userId: '94482488-3041-7026-18f3-be45837cd0e4'},
  type: 'IdentityCenterUser',
})
