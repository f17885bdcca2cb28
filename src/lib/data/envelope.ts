// Envelope encryption of a stream with the AWS Encryption SDK: its message format, its KMS keyring
// (GenerateDataKey under the first key, Encrypt of the same data key under each further key),
// key commitment required on encrypt and on decrypt. The data never passes through KMS, and the
// plaintext data key never leaves the SDK's materials (which zero it after use).
//
// Memory stays flat whatever the size: data flows through in chunks of READ_CHUNK bytes and frames
// of frameLength bytes, with back-pressure from the output.
import type {EncryptionContext, KeyringNode, NodeDecryptionMaterial, NodeEncryptionMaterial} from '@aws-crypto/material-management-node'
import {pipeline} from 'node:stream/promises'

import {type EncryptionSdk, encryptionSdk} from '../aws/sdk.js'
import {KmsctlError, usageError} from '../errors.js'
import type {DataInput, DataOutput} from './files.js'
import {structuralProblem} from './inspect.js'
import {KmsAccess, type KmsForRegion} from './kms-access.js'
import {type HeaderSummary, RESERVED_CONTEXT_PREFIX, SUITES, type SuiteChoice, contextMismatches, decryptFailure, printable, summariseHeader} from './message.js'

/**
 * Frame length kmsctl writes. Each frame costs the SDK's streams a fixed amount of work (a cipher
 * set-up, a frame header parsed across read boundaries with a copy, a few stream hops): measured on
 * 1 GiB, 4 MiB frames need noticeably less CPU than 1 MiB ones with no more peak memory, while 8 MiB
 * and larger raise peak RSS (a frame is held until its tag is checked) without a clear gain.
 */
export const DEFAULT_FRAME_LENGTH = 4 * 1024 * 1024
/** The largest frame the SDK accepts (2^32 - 1 bytes); kmsctl caps it lower to keep memory flat. */
export const MAX_FRAME_LENGTH = 64 * 1024 * 1024
export const DEFAULT_MAX_ENCRYPTED_DATA_KEYS = 10

export interface EncryptOptions {
  /** Key ARNs: the first generates the data key, each further key encrypts a copy of it. */
  keyArns: string[]
  context: Record<string, string>
  suite: SuiteChoice
  frameLength: number
  maxEncryptedDataKeys: number
}

export interface EnvelopeResult {
  header: HeaderSummary
  bytesIn: number
  bytesOut: number
}

let KeyringClass: (new (input: Record<string, unknown>) => KeyringNode) | undefined

/**
 * The SDK's KMS keyring for Node (what @aws-crypto/kms-keyring-node's KmsKeyringNode is), always given
 * kmsctl's client supplier.
 */
function kmsKeyring(sdk: EncryptionSdk, input: Record<string, unknown>): KeyringNode {
  if (!KeyringClass) {
    // The SDK's base class refuses to be instantiated itself: a subclass, as the SDK's own.
    const Base = sdk.kmsKeyring.KmsKeyringClass(sdk.materials.KeyringNode as never) as unknown as new (input: Record<string, unknown>) => object
    KeyringClass = class KmsKeyringNode extends Base {} as unknown as new (input: Record<string, unknown>) => KeyringNode
  }

  return new KeyringClass(input)
}

/** Validates the context pairs the user gave for a message. */
export function checkContext(context: Record<string, string>, flag: string): void {
  for (const k of Object.keys(context)) {
    if (k.startsWith(RESERVED_CONTEXT_PREFIX)) {
      throw usageError(`--${flag} ${k}: keys starting with "${RESERVED_CONTEXT_PREFIX}" are reserved by the AWS Encryption SDK.`, `Try this: --${flag} app=payments`)
    }
  }
}

export function checkFrameLength(frameLength: number): void {
  if (!Number.isInteger(frameLength) || frameLength < 1 || frameLength > MAX_FRAME_LENGTH) {
    throw usageError(`--frame-length ${frameLength} is out of range (1..${MAX_FRAME_LENGTH}).`, `Try this: --frame-length ${DEFAULT_FRAME_LENGTH}`)
  }
}

export async function encryptData(input: DataInput, output: DataOutput, kmsFor: KmsForRegion, options: EncryptOptions): Promise<EnvelopeResult & {kms: KmsAccess}> {
  const sdk = await encryptionSdk()
  if (options.keyArns.length > options.maxEncryptedDataKeys) {
    throw usageError(`${options.keyArns.length} keys is more than --max-encrypted-data-keys ${options.maxEncryptedDataKeys}.`, 'Try this: fewer --key flags, or raise --max-encrypted-data-keys.')
  }

  const kms = new KmsAccess(kmsFor)
  const [generatorKeyId, ...keyIds] = options.keyArns
  const keyring = kmsKeyring(sdk, {clientProvider: kms.clientProvider(), generatorKeyId, keyIds})
  const {encryptStream} = sdk.encrypt.buildEncrypt({commitmentPolicy: sdk.materials.CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT, maxEncryptedDataKeys: options.maxEncryptedDataKeys})
  const stream = encryptStream(keyring, {
    encryptionContext: options.context,
    frameLength: options.frameLength,
    suiteId: SUITES[options.suite] as never,
  })
  let header: HeaderSummary | undefined
  stream.once('MessageHeader', (h: Parameters<typeof summariseHeader>[0]) => {
    header = summariseHeader(h)
  })
  const source = input.stream()
  let bytesIn = 0
  source.on('data', (chunk: Buffer) => {
    bytesIn += chunk.length
  })
  try {
    await pipeline(source, stream, output.stream)
    await output.commit()
  } catch (error) {
    await output.abort()
    const failure = kms.firstFailure()
    if (failure) throw failure
    if (error instanceof KmsctlError) throw error
    throw new KmsctlError('FAILED', `Encryption failed: ${(error as Error)?.message ?? error}`, {cause: error})
  }

  return {bytesIn, bytesOut: output.bytes, header: header!, kms}
}

export interface DecryptOptions {
  /** Strict mode: the message must have a data key encrypted under one of these key ARNs. */
  expectKeyArns?: string[]
  /** Discovery mode: any KMS key in these accounts (and partition). */
  discovery?: {accountIds: string[]; partition: string}
  /** Pairs the message's encryption context must contain. */
  expectContext: Record<string, string>
  maxEncryptedDataKeys: number
  /** Refuse messages without a signature (suites other than committed-signed). */
  requireSigned?: boolean
}

export interface DecryptResult extends EnvelopeResult {
  /** The key ARN whose Decrypt returned the data key. */
  decryptedWith?: string
  kms: KmsAccess
}

export async function decryptData(input: DataInput, output: DataOutput, kmsFor: KmsForRegion, options: DecryptOptions): Promise<DecryptResult> {
  const sdk = await encryptionSdk()
  const kms = new KmsAccess(kmsFor)
  const keyring = options.discovery
    ? kmsKeyring(sdk, {clientProvider: kms.clientProvider(), discovery: true, discoveryFilter: {accountIDs: options.discovery.accountIds, partition: options.discovery.partition}})
    : kmsKeyring(sdk, {clientProvider: kms.clientProvider(), keyIds: options.expectKeyArns ?? []})
  const progress = {headerAuthenticated: false, headerRead: false, streamedToStdout: false}
  let header: HeaderSummary | undefined
  const inner = new sdk.materials.NodeDefaultCryptographicMaterialsManager(keyring)
  // A materials manager around the SDK's default one: it sees the header before any KMS call, so a
  // message whose context lacks a required pair, or whose data keys are all under other keys, is
  // refused without calling KMS.
  const cmm = {
    decryptMaterials: async (request: {encryptionContext: EncryptionContext; encryptedDataKeys: ReadonlyArray<{providerId: string; providerInfo: string; encryptedDataKey: Uint8Array}>; suite: {id: number}}) => {
      progress.headerRead = true
      header = summariseHeader({
        contentType: 2,
        encryptedDataKeys: request.encryptedDataKeys,
        encryptionContext: request.encryptionContext,
        frameLength: 0,
        messageId: new Uint8Array(),
        suiteId: request.suite.id,
        version: 0,
      })
      if (options.requireSigned && !header.algorithm.signed) {
        throw new KmsctlError('REFUSED', `The message is not signed (${header.algorithm.name}) and --require-signature was given. Nothing was decrypted.`, {
          exitCode: 1,
          remedy: 'Ask the sender to encrypt with --algorithm committed-signed, or drop --require-signature if anyone who may decrypt may also write.',
        })
      }

      const mismatches = contextMismatches(options.expectContext, request.encryptionContext)
      if (mismatches.length > 0) {
        throw new KmsctlError('CONTEXT_MISMATCH', `The message's encryption context does not match --expect-context: ${mismatches.join('; ')}. Nothing was decrypted.`, {
          details: {encryptionContext: header.encryptionContext, mismatches},
          remedy: 'Check that this is the file you mean; kmsctl data inspect FILE shows its context.',
        })
      }

      if (options.expectKeyArns) {
        const kmsKeys = request.encryptedDataKeys.filter((k) => k.providerId === 'aws-kms').map((k) => k.providerInfo)
        if (!kmsKeys.some((k) => options.expectKeyArns!.includes(k))) {
          throw new KmsctlError('NO_MATCHING_KEY', `None of the message's data keys is encrypted under an expected key. Nothing was decrypted.`, {
            details: {expected: options.expectKeyArns, messageKeys: kmsKeys.map((k) => printable(k))},
            remedy: `The message's keys: ${kmsKeys.map((k) => printable(k)).join(', ') || '(none from KMS)'}. Pass one of them with --expect-key if you trust it; if you expected ${options.expectKeyArns.length === 1 ? 'this key' : 'one of these keys'}, the header may have been altered.`,
          })
        }
      }

      return inner.decryptMaterials(request as never) as Promise<NodeDecryptionMaterial>
    },
    getEncryptionMaterials: (request: unknown) => inner.getEncryptionMaterials(request as never) as Promise<NodeEncryptionMaterial>,
  }

  const {decryptStream} = sdk.decrypt.buildDecrypt({commitmentPolicy: sdk.materials.CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT, maxEncryptedDataKeys: options.maxEncryptedDataKeys})
  const stream = decryptStream(cmm as never)
  stream.once('MessageHeader', (h: Parameters<typeof summariseHeader>[0]) => {
    progress.headerAuthenticated = true
    header = summariseHeader(h)
  })
  const source = input.stream()
  let bytesIn = 0
  source.on('data', (chunk: Buffer) => {
    bytesIn += chunk.length
  })
  try {
    await pipeline(source, stream, output.stream)
    await output.commit()
  } catch (error) {
    progress.streamedToStdout = output.name === '-' && output.bytes > 0
    await output.abort()
    const failure = error instanceof KmsctlError ? undefined : kms.firstFailure()
    if (failure) {
      if (failure.code === 'INVALID_CIPHERTEXT') {
        throw new KmsctlError('AUTHENTICATION_FAILED', `Authentication failed: KMS could not decrypt the message's data key (${failure.awsCode}): the header was tampered with, or its encryption context differs from the one the data key was encrypted with.`, {
          awsCode: failure.awsCode,
          awsMessage: failure.awsMessage,
          cause: failure,
          remedy: 'Get an intact copy of the encrypted file.',
        })
      }

      throw failure
    }

    const failure2 = decryptFailure(error, progress)
    if (failure2.code === 'AUTHENTICATION_FAILED') {
      const problem = await structuralProblem(input)
      if (problem) {
        throw new KmsctlError('TRUNCATED', `The message is truncated or has bytes added: ${problem.replace(/^The /, 'the ')}${progress.streamedToStdout ? ' Output already written to stdout must not be used.' : ''}`, {
          cause: error,
          remedy: 'Get the complete encrypted file (compare its size with the original), and do not use any output of this run.',
        })
      }
    }

    throw failure2
  }

  return {bytesIn, bytesOut: output.bytes, decryptedWith: kms.decryptedWith(), header: header!, kms}
}
