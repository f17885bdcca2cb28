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

/**
 * Stubs the SDK for the calling describe block: created in before(), reset before each test (STS
 * then answers GetCallerIdentity with MOCK_CALLER), restored in after().
 */
export function mockSdk(): MockSdk {
  let kms: AwsClientStub<KMSClient> | undefined
  let cloudtrail: AwsClientStub<CloudTrailClient> | undefined
  let sts: AwsClientStub<STSClient> | undefined
  before(() => {
    kms = mockClient(KMSClient)
    cloudtrail = mockClient(CloudTrailClient)
    sts = mockClient(STSClient)
  })
  beforeEach(() => {
    kms!.reset()
    cloudtrail!.reset()
    sts!.reset()
    sts!.on(GetCallerIdentityCommand).resolves({Account: MOCK_ACCOUNT, Arn: MOCK_CALLER, UserId: 'AIDAEXAMPLE'})
  })
  after(() => {
    kms!.restore()
    cloudtrail!.restore()
    sts!.restore()
  })
  return {
    get cloudtrail() {
      return cloudtrail!
    },
    cloudtrailClient: () => new CloudTrailClient(config),
    get kms() {
      return kms!
    },
    kmsClient: () => new KMSClient(config),
    get sts() {
      return sts!
    },
  }
}

/** An AWS-shaped error, as the SDK throws it. */
export function awsError(name: string, message = name, status = 400): Error {
  return Object.assign(new Error(message), {$fault: status >= 500 ? 'server' : 'client', $metadata: {attempts: 1, httpStatusCode: status}, name})
}
