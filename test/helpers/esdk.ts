// The AWS Encryption SDK's KMS keyring over a client the test owns (the in-process sandbox's), for
// the tests that check kmsctl's messages against the SDK's.
import {KmsKeyringNode} from '@aws-crypto/client-node'
import {DecryptCommand, EncryptCommand, GenerateDataKeyCommand, type KMSClient} from '@aws-sdk/client-kms'

/** A keyring whose KMS calls go to `kms()` (asked at each call: the sandbox may be made after the keyring). */
export function sandboxKeyring(kms: () => KMSClient, generatorKeyId: string, keyIds: string[] = []): KmsKeyringNode {
  return new KmsKeyringNode({
    clientProvider: () =>
      ({
        decrypt: (args: never) => kms().send(new DecryptCommand(args)),
        encrypt: (args: never) => kms().send(new EncryptCommand(args)),
        generateDataKey: (args: never) => kms().send(new GenerateDataKeyCommand(args)),
      }) as never,
    generatorKeyId,
    keyIds,
  })
}
