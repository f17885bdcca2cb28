// The KMS calls the Encryption SDK's KMS keyring makes (GenerateDataKey, Encrypt, Decrypt), sent
// through kmsctl's own clients, so that --sandbox, --endpoint-url, --region, --profile and the retry
// settings apply to them as to every other command. Each call is recorded (operation, key, outcome)
// so that a failure is reported as the AWS error it was, not as the SDK's summary of it.
import type {KMSClient} from '@aws-sdk/client-kms'

import {AwsClients} from '../aws/clients.js'
import {kmsSdk} from '../aws/sdk.js'
import {KmsctlError, fromAwsError} from '../errors.js'

export interface KmsCallRecord {
  error?: unknown
  keyId: string
  operation: 'Decrypt' | 'Encrypt' | 'GenerateDataKey'
  /** For a successful Decrypt: the key that decrypted the data key. */
  resultKeyId?: string
}

/** What the keyring's client supplier must return: the three calls, v3-style (promises). */
export interface EsdkKmsClient {
  decrypt(args: Record<string, unknown>): Promise<Record<string, unknown>>
  encrypt(args: Record<string, unknown>): Promise<Record<string, unknown>>
  generateDataKey(args: Record<string, unknown>): Promise<Record<string, unknown>>
}

/** A KMS client per region, built from one AwsClients (the command's region) on first use. */
export type KmsForRegion = (region: string) => Promise<KMSClient>

export function kmsForRegions(aws: AwsClients): KmsForRegion {
  const others = new Map<string, AwsClients>()
  return async (region: string) => {
    if (region === (await aws.region())) return aws.kms()
    let clients = others.get(region)
    if (!clients) {
      clients = new AwsClients({...aws.settings, region})
      others.set(region, clients)
    }

    return clients.kms()
  }
}

export class KmsAccess {
  readonly calls: KmsCallRecord[] = []
  private readonly kmsFor: KmsForRegion

  constructor(kmsFor: KmsForRegion) {
    this.kmsFor = kmsFor
  }

  /** The client supplier for the Encryption SDK's KMS keyring (it asks by the region of each key ARN). */
  clientProvider(): (region: string) => EsdkKmsClient {
    return (region: string) => ({
      decrypt: (args) => this.send(region, 'Decrypt', args),
      encrypt: (args) => this.send(region, 'Encrypt', args),
      generateDataKey: (args) => this.send(region, 'GenerateDataKey', args),
    })
  }

  /** The first failed call, as a KmsctlError naming the operation and key (undefined when none failed). */
  firstFailure(): KmsctlError | undefined {
    const failed = this.calls.find((c) => c.error !== undefined)
    return failed ? fromAwsError(failed.error, {key: failed.keyId, operation: failed.operation}) : undefined
  }

  /** The key that decrypted the data key, when a Decrypt succeeded. */
  decryptedWith(): string | undefined {
    return this.calls.find((c) => c.operation === 'Decrypt' && c.error === undefined && c.resultKeyId)?.resultKeyId
  }

  private async send(region: string, operation: KmsCallRecord['operation'], args: Record<string, unknown>): Promise<Record<string, unknown>> {
    const record: KmsCallRecord = {keyId: String(args.KeyId ?? ''), operation}
    this.calls.push(record)
    try {
      const kms = await this.kmsFor(region)
      const sdk = await kmsSdk()
      const command =
        operation === 'Decrypt'
          ? new sdk.DecryptCommand(args as never)
          : operation === 'Encrypt'
            ? new sdk.EncryptCommand(args as never)
            : new sdk.GenerateDataKeyCommand(args as never)
      const out = (await kms.send(command as never)) as unknown as Record<string, unknown>
      if (operation === 'Decrypt') record.resultKeyId = String(out.KeyId ?? '')
      return out
    } catch (error) {
      record.error = error
      throw error
    }
  }
}
