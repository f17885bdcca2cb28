// The one AWS SDK mock of the unit and command tests. For the calling describe block, the KMS,
// CloudTrail and STS clients are stubbed (aws-sdk-client-mock on their prototypes, so clients the
// code under test builds itself are stubbed too), reset to the defaults before each test, and
// restored after the block, so that sandbox clients in other files reach the real SDK.
import {CloudTrailClient} from '@aws-sdk/client-cloudtrail'
import {KMSClient} from '@aws-sdk/client-kms'
import {GetCallerIdentityCommand, STSClient} from '@aws-sdk/client-sts'
import {type AwsClientStub, mockClient} from 'aws-sdk-client-mock'

export const MOCK_ACCOUNT = '111122223333'
export const MOCK_CALLER = `arn:aws:iam::${MOCK_ACCOUNT}:user/oncall`

export interface MockSdk {
  /** The stubs: set answers with .on(), read what was sent with .commandCalls(). */
  readonly kms: AwsClientStub<KMSClient>
  readonly cloudtrail: AwsClientStub<CloudTrailClient>
  readonly sts: AwsClientStub<STSClient>
  /** A KMS client whose requests the stub answers (fake credentials and region, no network). */
  kmsClient(): KMSClient
  cloudtrailClient(): CloudTrailClient
}

const config = {credentials: {accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'not-a-secret'}, region: 'us-east-1'}

let stubs: {kms: AwsClientStub<KMSClient>; cloudtrail: AwsClientStub<CloudTrailClient>; sts: AwsClientStub<STSClient>} | undefined

function active() {
  if (!stubs) throw new Error('The SDK is not mocked here: call mockSdk() in the enclosing describe block.')
  return stubs
}

/** The stubs of the describe block being run (see mockSdk()); usable from module-level helpers. */
export const sdk: MockSdk = {
  get cloudtrail() {
    return active().cloudtrail
  },
  cloudtrailClient: () => new CloudTrailClient(config),
  get kms() {
    return active().kms
  },
  kmsClient: () => new KMSClient(config),
  get sts() {
    return active().sts
  },
}

/**
 * Stubs the SDK for the calling describe block: created in before(), reset before each test (STS
 * then answers GetCallerIdentity with MOCK_CALLER), restored in after(). Returns `sdk`. Call it
 * once per top-level describe block, before its own hooks.
 */
export function mockSdk(): MockSdk {
  before(() => {
    stubs = {cloudtrail: mockClient(CloudTrailClient), kms: mockClient(KMSClient), sts: mockClient(STSClient)}
  })
  beforeEach(() => {
    const s = active()
    s.kms.reset()
    s.cloudtrail.reset()
    s.sts.reset()
    s.sts.on(GetCallerIdentityCommand).resolves({Account: MOCK_ACCOUNT, Arn: MOCK_CALLER, UserId: 'AIDAEXAMPLE'})
  })
  after(() => {
    const s = active()
    s.kms.restore()
    s.cloudtrail.restore()
    s.sts.restore()
    stubs = undefined
  })
  return sdk
}

/** An AWS-shaped error, as the SDK throws it. */
export function awsError(name: string, message = name, status = 400): Error {
  return Object.assign(new Error(message), {$fault: status >= 500 ? 'server' : 'client', $metadata: {attempts: 1, httpStatusCode: status}, name})
}
