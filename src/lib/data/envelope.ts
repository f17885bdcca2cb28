// Envelope encryption with the AWS Encryption SDK: its message format, its KMS keyring
// (GenerateDataKey under the first key, Encrypt of the same data key under each further key), its
// materials manager, header serialisation and parsing, key derivation and key commitment (required
// on encrypt and on decrypt). The data never passes through KMS, and the plaintext data key never
// leaves the SDK's materials (which zero it after use).
//
// kmsctl drives the message body itself (frames.ts) over one reused buffer, with the SDK's functions
// for every byte of the format: the SDK's own streams allocate fresh buffers for every chunk and
// spend more time in the allocator and the garbage collector than in AES-GCM. Memory stays flat
// whatever the size: the input buffer, one frame held until its tag is checked, one batch of output.
import type {EncryptionContext, KeyringNode, NodeDecryptionMaterial, NodeEncryptionMaterial} from '@aws-crypto/material-management-node'
import type {HeaderInfo} from '@aws-crypto/serialize'
import {createPrivateKey, createPublicKey} from 'node:crypto'
import {availableParallelism, loadavg} from 'node:os'

import {type EncryptionSdk, encryptionSdk} from '../aws/sdk.js'
import {KmsctlError, usageError} from '../errors.js'
import {type DataInput, type DataOutput, READ_CHUNK} from './files.js'
import {OutputBatch, bodySdk, decryptBody, encryptBody} from './frames.js'
import {KmsAccess, type KmsForRegion} from './kms-access.js'
import {type DecryptProgress, type HeaderSummary, RESERVED_CONTEXT_PREFIX, SUITES, type SuiteChoice, contextMismatches, decryptFailure, printable, summariseHeader} from './message.js'
import {BufferedReader} from './reader.js'
import {HashThread, HashThreadError} from './signature-thread.js'

/**
 * Frame length kmsctl writes. A frame costs a cipher set-up and 60 bytes (header and tag), small at
 * this size; larger frames keep more output alive at once (a decrypted frame is held until its tag
 * is checked), and measured on 1 GiB, 4 MiB frames made V8 run some twenty full garbage collections
 * where 1 MiB frames need one.
 */
export const DEFAULT_FRAME_LENGTH = 1024 * 1024
/** The largest frame the SDK accepts (2^32 - 1 bytes); kmsctl caps it lower to keep memory flat. */
export const MAX_FRAME_LENGTH = 64 * 1024 * 1024
export const DEFAULT_MAX_ENCRYPTED_DATA_KEYS = 10
/** A message header is at most a few hundred KB (each data key is up to 64 KB): refuse to buffer more. */
const MAX_HEADER = 16 * 1024 * 1024
/** kmsctl writes and reads committed suites only. */
const COMMITMENT_POLICY = 'REQUIRE_ENCRYPT_REQUIRE_DECRYPT'

export interface EncryptOptions {
  /** Key ARNs: the first generates the data key, each further key encrypts a copy of it. */
  keyArns: string[]
  context: Record<string, string>
  suite: SuiteChoice
  frameLength: number
  maxEncryptedDataKeys: number
  /** Where signed suites hash the message (see signatureThread()); "auto" when absent. */
  signatureThread?: SignatureThreadChoice
}

/**
 * Whether the signature of a signed suite is computed in a thread of its own, beside AES-GCM.
 * "auto" does when the input is THREAD_THRESHOLD bytes or more (or of unknown size) and the machine
 * has a core to spare (its 1-minute load average is below the cores less one): on a busy machine the
 * second thread only competes with other work for the same cores and costs more than it saves.
 * KMSCTL_DATA_THREADS=1 makes "auto" always use the thread, KMSCTL_DATA_THREADS=0 never.
 */
export type SignatureThreadChoice = 'always' | 'auto' | 'never'
/** Below this size, starting a thread costs more than hashing in the main thread saves. */
export const THREAD_THRESHOLD = 4 * 1024 * 1024

export function useSignatureThread(choice: SignatureThreadChoice | undefined, input: Pick<DataInput, 'size'>, machine = {cores: availableParallelism(), load: loadavg()[0]}): boolean {
  if (choice === 'always' || choice === 'never') return choice === 'always'
  const env = process.env.KMSCTL_DATA_THREADS
  if (env === '0' || env === '1') return env === '1'
  return (input.size === undefined || input.size >= THREAD_THRESHOLD) && machine.cores >= 2 && machine.load < machine.cores - 1
}

function hashThread(choice: SignatureThreadChoice | undefined, input: DataInput): HashThread | undefined {
  return useSignatureThread(choice, input) ? HashThread.open() : undefined
}

/** The failure of the hashing thread, named (it is never the message's fault). */
function threadFailure(error: HashThreadError): KmsctlError {
  return new KmsctlError('FAILED', `The signature could not be computed: ${error.message}.`, {
    cause: error,
    remedy: 'Run the command again with KMSCTL_DATA_THREADS=0 (the signature is then computed in the main thread); do not use any output of this run.',
  })
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

/**
 * Runs one message through: opens the input, lets `body` read and write it, then commits the output;
 * on any failure the output is aborted (a temporary file is removed) and the error is given to
 * `failure`, which throws it named for what happened.
 */
async function transform<T>(input: DataInput, output: DataOutput, readerSize: number, body: (reader: BufferedReader, out: OutputBatch) => Promise<T>, failure: (error: unknown) => never): Promise<T> {
  let source
  try {
    source = await input.open()
  } catch (error) {
    await output.abort()
    throw new KmsctlError('FAILED', `Cannot read ${input.name}: ${(error as Error).message}`, {cause: error})
  }

  try {
    const result = await body(new BufferedReader(source, readerSize, MAX_HEADER), new OutputBatch(output))
    await output.commit()
    return result
  } catch (error) {
    await output.abort()
    failure(error)
  } finally {
    await source.close().catch(() => {})
  }
}

export async function encryptData(input: DataInput, output: DataOutput, kmsFor: KmsForRegion, options: EncryptOptions): Promise<EnvelopeResult & {kms: KmsAccess}> {
  const [sdk, frames] = await Promise.all([encryptionSdk(), bodySdk()])
  if (options.keyArns.length > options.maxEncryptedDataKeys) {
    throw usageError(`${options.keyArns.length} keys is more than --max-encrypted-data-keys ${options.maxEncryptedDataKeys}.`, 'Try this: fewer --key flags, or raise --max-encrypted-data-keys.')
  }

  const kms = new KmsAccess(kmsFor)
  const [generatorKeyId, ...keyIds] = options.keyArns
  const keyring = kmsKeyring(sdk, {clientProvider: kms.clientProvider(), generatorKeyId, keyIds})
  const cmm = new sdk.materials.NodeDefaultCryptographicMaterialsManager(keyring)
  const policy = sdk.materials.CommitmentPolicy[COMMITMENT_POLICY]
  let header: HeaderSummary | undefined
  // Started before KMS is asked for the data key, so that it is up by the time the body starts.
  const thread = options.suite === 'committed-signed' ? hashThread(options.signatureThread, input) : undefined
  const bytesIn = await transform(
    input,
    output,
    // The reader holds a whole frame: a frame is final when the input ends before it is full.
    Math.max(options.frameLength, READ_CHUNK),
    async (reader, out) => {
      const suite = new sdk.materials.NodeAlgorithmSuite(SUITES[options.suite] as never)
      const material = await cmm.getEncryptionMaterials({commitmentPolicy: policy, encryptionContext: options.context, suite})
      sdk.materials.CommitmentPolicySuites.isEncryptEnabled(policy, material.suite)
      if (material.encryptedDataKeys.length > options.maxEncryptedDataKeys) throw new Error('maxEncryptedDataKeys exceeded.')
      const info = frames.getEncryptionInfo(material, options.frameLength)
      try {
        header = summariseHeader(info.messageHeader)
        const signer = info.getSigner ? await messageSigner(material, thread, () => info.getSigner!()) : undefined
        for (const part of info.rawHeader) signer?.update(asBuffer(part))
        out.add(info.rawHeader)
        const plaintext = await encryptBody(frames, reader, out, {getCipher: info.getCipher as never, messageHeader: info.messageHeader, signer, suite: material.suite})
        if (signer) out.add([frames.serialize.serializeSignatureInfo(await signer.sign())])
        await out.flush(true)
        return plaintext
      } finally {
        info.dispose()
      }
    },
    (error) => {
      const failure = kms.firstFailure()
      if (failure) throw failure
      if (error instanceof KmsctlError) throw error
      if (error instanceof HashThreadError) throw threadFailure(error)
      throw new KmsctlError('FAILED', `Encryption failed: ${(error as Error)?.message ?? error}`, {cause: error})
    },
  ).finally(() => thread?.close())
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
  /** Where signed suites hash the message (see signatureThread()); "auto" when absent. */
  signatureThread?: SignatureThreadChoice
}

export interface DecryptResult extends EnvelopeResult {
  /** The key ARN whose Decrypt returned the data key. */
  decryptedWith?: string
  kms: KmsAccess
}

/** Reads until the SDK's deserializer has a whole header; returns it parsed from a copy of its bytes (the reader's buffer is reused). */
async function readMessageHeader(reader: BufferedReader, parse: (buffer: Uint8Array) => HeaderInfo | false): Promise<HeaderInfo> {
  for (let want = 1; ; ) {
    // eslint-disable-next-line no-await-in-loop
    const have = await reader.fill(want)
    const info = parse(reader.peek())
    if (info) return parse(Buffer.from(reader.take(info.headerLength + info.headerAuth.headerAuthLength))) as HeaderInfo
    if (reader.ended) throw new Error('Incomplete Header')
    want = have + 1
  }
}

export async function decryptData(input: DataInput, output: DataOutput, kmsFor: KmsForRegion, options: DecryptOptions): Promise<DecryptResult> {
  const [sdk, frames] = await Promise.all([encryptionSdk(), bodySdk()])
  const kms = new KmsAccess(kmsFor)
  const keyring = options.discovery
    ? kmsKeyring(sdk, {clientProvider: kms.clientProvider(), discovery: true, discoveryFilter: {accountIDs: options.discovery.accountIds, partition: options.discovery.partition}})
    : kmsKeyring(sdk, {clientProvider: kms.clientProvider(), keyIds: options.expectKeyArns ?? []})
  const cmm = new sdk.materials.NodeDefaultCryptographicMaterialsManager(keyring)
  const policy = sdk.materials.CommitmentPolicy[COMMITMENT_POLICY]
  const {deserializeMessageHeader} = frames.serialize.deserializeFactory((b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('utf8'), sdk.materials.NodeAlgorithmSuite)
  const progress: DecryptProgress = {headerAuthenticated: false, headerRead: false, streamedToStdout: false}
  let header: HeaderSummary | undefined
  let thread: HashThread | undefined
  const bytesIn = await transform(
    input,
    output,
    READ_CHUNK,
    async (reader, out) => {
      const info = await readMessageHeader(reader, (b) => deserializeMessageHeader(b, {maxEncryptedDataKeys: options.maxEncryptedDataKeys}))
      const {messageHeader, algorithmSuite, rawHeader, headerAuth} = info
      const messageIdHex = Buffer.from(messageHeader.messageId).toString('hex')
      sdk.materials.CommitmentPolicySuites.isDecryptEnabled(policy, algorithmSuite, messageIdHex)
      progress.headerRead = true
      header = summariseHeader(messageHeader)
      // Refused before any KMS call: an unsigned message where a signature is required, a context
      // without a required pair, data keys all under other keys.
      refuseBeforeKms(header, messageHeader.encryptionContext, messageHeader.encryptedDataKeys, options)
      // Started before KMS is asked for the data key, so that it is up by the time the body starts.
      if (header.algorithm.signed) thread = hashThread(options.signatureThread, input)
      const material = (await cmm.decryptMaterials({
        encryptedDataKeys: messageHeader.encryptedDataKeys,
        encryptionContext: messageHeader.encryptionContext,
        suite: new sdk.materials.NodeAlgorithmSuite(algorithmSuite.id),
      })) as NodeDecryptionMaterial
      sdk.materials.CommitmentPolicySuites.isDecryptEnabled(policy, material.suite, messageIdHex)
      const helper = sdk.materials.getDecryptionHelper(material)
      try {
        // Derives the key, checking the header's key commitment, then the header's tag.
        const getDecipher = helper.getDecipherInfo(messageHeader.messageId, 'suiteData' in messageHeader ? messageHeader.suiteData : undefined)
        const check = getDecipher(headerAuth.headerIv)
        check.setAAD(asBuffer(rawHeader))
        check.setAuthTag(asBuffer(headerAuth.headerAuthTag))
        check.update(Buffer.alloc(0))
        check.final()
        progress.headerAuthenticated = true
        const verify = helper.getVerify ? await messageVerifier(material, thread, () => helper.getVerify!()) : undefined
        if (verify) {
          verify.update(asBuffer(rawHeader))
          verify.update(asBuffer(frames.serialize.serializeMessageHeaderAuth({headerAuthTag: headerAuth.headerAuthTag, headerIv: headerAuth.headerIv, messageHeader})))
        }

        await decryptBody(frames, reader, out, {getDecipher: getDecipher as never, headerInfo: info, verify}, {holdLimit: MAX_FRAME_LENGTH, unverifiedToTemporary: output.temporary})
        return reader.bytesRead
      } finally {
        helper.dispose()
      }
    },
    (error) => {
      progress.streamedToStdout = !output.temporary && output.bytes > 0
      if (error instanceof HashThreadError) throw threadFailure(error)
      const failure = error instanceof KmsctlError ? undefined : kms.firstFailure()
      if (failure?.code === 'INVALID_CIPHERTEXT') {
        throw new KmsctlError('AUTHENTICATION_FAILED', `Authentication failed: KMS could not decrypt the message's data key (${failure.awsCode}): the header was tampered with, or its encryption context differs from the one the data key was encrypted with.`, {
          awsCode: failure.awsCode,
          awsMessage: failure.awsMessage,
          cause: failure,
          remedy: 'Get an intact copy of the encrypted file.',
        })
      }

      throw failure ?? decryptFailure(error, progress)
    },
  ).finally(() => thread?.close())
  return {bytesIn, bytesOut: output.bytes, decryptedWith: kms.decryptedWith(), header: header!, kms}
}

interface MessageSigner {
  update(data: Uint8Array): void
  ready?(): Promise<void>
  sign(): Promise<Uint8Array>
}

/**
 * The signer of a signed message: in the thread when there is one and it came up (given the
 * material's private key as a KeyObject), else the SDK's signer in this thread. Both sign the same
 * bytes with the same key and hash, and return the DER signature the SDK writes in the trailer.
 */
async function messageSigner(material: NodeEncryptionMaterial, thread: HashThread | undefined, sdkSigner: () => {update(d: Uint8Array): unknown; awsCryptoSign(): Uint8Array}): Promise<MessageSigner> {
  const privateKey = material.signatureKey?.privateKey
  if (thread && material.suite.signatureHash && typeof privateKey === 'string' && (await thread.begin('sign', material.suite.signatureHash, createPrivateKey(privateKey)))) {
    return {ready: () => thread.ready(), sign: () => thread.sign(), update: (d) => thread.update(d)}
  }

  await thread?.close()
  const signer = sdkSigner()
  return {sign: async () => signer.awsCryptoSign(), update: (d) => signer.update(d)}
}

interface MessageVerifier {
  update(data: Uint8Array): void
  ready?(): Promise<void>
  awsCryptoVerify(signature: Uint8Array): boolean | Promise<boolean>
}

/** The verifier of a signed message: in the thread (given the material's public key) or the SDK's, as messageSigner. */
async function messageVerifier(material: NodeDecryptionMaterial, thread: HashThread | undefined, sdkVerifier: () => {update(d: Uint8Array): unknown; awsCryptoVerify(s: Uint8Array): boolean}): Promise<MessageVerifier> {
  const publicKey = material.verificationKey?.publicKey
  if (thread && material.suite.signatureHash && typeof publicKey === 'string' && (await thread.begin('verify', material.suite.signatureHash, createPublicKey(publicKey)))) {
    return {awsCryptoVerify: (s) => thread.verify(s), ready: () => thread.ready(), update: (d) => thread.update(d)}
  }

  await thread?.close()
  const verify = sdkVerifier()
  return {awsCryptoVerify: (s) => verify.awsCryptoVerify(s), update: (d) => verify.update(d)}
}

/** A Buffer view of the same bytes (the SDK's functions return Uint8Arrays, node:crypto's types want Buffers). */
function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
}

type EncryptedDataKeys = ReadonlyArray<{providerId: string; providerInfo: string}>

/** The checks that need only the header, made before any KMS call. */
function refuseBeforeKms(header: HeaderSummary, context: EncryptionContext, dataKeys: EncryptedDataKeys, options: DecryptOptions): void {
  if (options.requireSigned && !header.algorithm.signed) {
    throw new KmsctlError('REFUSED', `The message is not signed (${header.algorithm.name}) and --require-signature was given. Nothing was decrypted.`, {
      exitCode: 1,
      remedy: 'Ask the sender to encrypt with --algorithm committed-signed, or drop --require-signature if anyone who may decrypt may also write.',
    })
  }

  const mismatches = contextMismatches(options.expectContext, context)
  if (mismatches.length > 0) {
    throw new KmsctlError('CONTEXT_MISMATCH', `The message's encryption context does not match --expect-context: ${mismatches.join('; ')}. Nothing was decrypted.`, {
      details: {encryptionContext: header.encryptionContext, mismatches},
      remedy: 'Check that this is the file you mean; kmsctl data inspect FILE shows its context.',
    })
  }

  if (options.expectKeyArns) {
    const kmsKeys = dataKeys.filter((k) => k.providerId === 'aws-kms').map((k) => k.providerInfo)
    if (!kmsKeys.some((k) => options.expectKeyArns!.includes(k))) {
      throw new KmsctlError('NO_MATCHING_KEY', `None of the message's data keys is encrypted under an expected key. Nothing was decrypted.`, {
        details: {expected: options.expectKeyArns, messageKeys: kmsKeys.map((k) => printable(k))},
        remedy: `The message's keys: ${kmsKeys.map((k) => printable(k)).join(', ') || '(none from KMS)'}. Pass one of them with --expect-key if you trust it; if you expected ${options.expectKeyArns.length === 1 ? 'this key' : 'one of these keys'}, the header may have been altered.`,
      })
    }
  }
}
