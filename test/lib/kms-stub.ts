// KMS stubbed for one describe block of unit tests, and a client to call it through.
import {KMSClient} from '@aws-sdk/client-kms'
import {type AwsClientStub, mockClient} from 'aws-sdk-client-mock'

export interface KmsStub {
  /** The stub: set answers with .on(), read what was sent with .commandCalls(). */
  readonly mock: AwsClientStub<KMSClient>
  /** A client whose requests the stub answers. */
  readonly kms: KMSClient
}

/**
 * For the calling describe block only: KMS stubbed in before() and restored in after(), so that
 * other test files get the real client back, and reset before each test.
 */
export function stubKms(): KmsStub {
  let mock: AwsClientStub<KMSClient> | undefined
  before(() => {
    mock = mockClient(KMSClient)
  })
  after(() => mock!.restore())
  beforeEach(() => mock!.reset())
  return {
    kms: new KMSClient({credentials: {accessKeyId: 'a', secretAccessKey: 'b'}, region: 'us-east-1'}),
    get mock() {
      return mock!
    },
  }
}
