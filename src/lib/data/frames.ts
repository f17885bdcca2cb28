// The body of an AWS Encryption SDK message, frame by frame, driven by kmsctl over a reused input
// buffer rather than through the SDK's chain of streams. Everything that defines the format comes
// from the SDK's own functions: the frame header, IV and additional authenticated data of each frame
// (getEncryptFrame of @aws-crypto/encrypt-node, decodeBodyHeader and aadFactory of
// @aws-crypto/serialize), the cipher under the derived data key (the SDK's getCipher /
// getDecipher), the signature trailer (serializeSignatureInfo / deserializeSignature). What kmsctl
// does itself is the plumbing: one AES-GCM cipher per frame fed from views of one buffer, the
// output written in few, large writes.
//
// A regular frame:  sequence number (4) | IV | ciphertext (frameLength) | tag
// The final frame:  0xFFFFFFFF | sequence number (4) | IV | content length (4) | ciphertext | tag
// Non-framed body:  IV | content length (8) | ciphertext | tag
// Signed suites end with the trailer: signature length (2) | ECDSA signature over all before it.
import type {NodeAlgorithmSuite} from '@aws-crypto/material-management-node'
import type {HeaderInfo, MessageHeader} from '@aws-crypto/serialize'
import type {CipherGCM, DecipherGCM} from 'node:crypto'

import {loadSdkPackage} from '../aws/sdk.js'
import type {DataOutput} from './files.js'
import type {BufferedReader} from './reader.js'

/**
 * Plaintext handed to AES-GCM per update. Each update() returns a new buffer; at 32 KiB and below
 * the allocator reuses the memory of the ones already written, while larger ones come as fresh pages
 * from the kernel (measured: 1 GiB through AES-256-GCM in 512 KiB pieces spends some 0.5 s in page
 * faults, in 32 KiB pieces 0.03 s).
 */
export const CIPHER_PIECE = 32 * 1024
/** Output gathered before a write: small frames are written many at a time. */
export const WRITE_BATCH = 1024 * 1024

type EncryptStreamModule = typeof import('@aws-crypto/encrypt-node/build/main/src/encrypt_stream.js')
type FramedEncryptModule = typeof import('@aws-crypto/encrypt-node/build/main/src/framed_encrypt_stream.js')
type SerializeModule = typeof import('@aws-crypto/serialize')

/** The SDK functions the body needs (loaded with the rest of the Encryption SDK, never at start). */
export interface BodySdk {
  aad: ReturnType<SerializeModule['aadFactory']>
  decodeBodyHeader: SerializeModule['decodeBodyHeader']
  deserializeSignature: SerializeModule['deserializeSignature']
  getEncryptFrame: FramedEncryptModule['getEncryptFrame']
  getEncryptionInfo: EncryptStreamModule['getEncryptionInfo']
  serialize: SerializeModule
}

let body: Promise<BodySdk> | undefined

export function bodySdk(): Promise<BodySdk> {
  body ??= Promise.all([
    loadSdkPackage<SerializeModule>('@aws-crypto/serialize'),
    // Not re-exported by the package's index, but exported by its modules: the SDK's own header
    // serialisation and per-frame cipher set-up, rather than a copy of them.
    loadSdkPackage<EncryptStreamModule>('@aws-crypto/encrypt-node/build/main/src/encrypt_stream.js'),
    loadSdkPackage<FramedEncryptModule>('@aws-crypto/encrypt-node/build/main/src/framed_encrypt_stream.js'),
  ]).then(([serialize, encryptStream, framed]) => ({
    aad: serialize.aadFactory((text: string) => Buffer.from(text, 'utf8')),
    decodeBodyHeader: serialize.decodeBodyHeader,
    deserializeSignature: serialize.deserializeSignature,
    getEncryptFrame: framed.getEncryptFrame,
    getEncryptionInfo: encryptStream.getEncryptionInfo,
    serialize,
  }))
  return body
}

/** What went wrong in the body of a message being decrypted; message.ts names it for the user. */
export type BodyProblem =
  | 'extra-bytes' // bytes after the end of the message
  | 'frame-too-large' // a frame too large to hold until its tag is checked, with nowhere else to put it
  | 'malformed' // a frame header that does not parse
  | 'order' // a frame out of sequence
  | 'signature' // the trailer's signature does not verify
  | 'tag' // a frame does not match its authentication tag
  | 'truncated-body' // the input ends before the final frame is complete
  | 'truncated-signature' // the input ends inside the signature trailer

export class MessageBodyError extends Error {
  readonly problem: BodyProblem
  constructor(problem: BodyProblem, message: string, options?: {cause?: unknown}) {
    super(message, options)
    this.problem = problem
    this.name = 'MessageBodyError'
  }
}

/** Output gathered into batches of about WRITE_BATCH bytes, each written with one call. */
export class OutputBatch {
  private bytes = 0
  private readonly output: Pick<DataOutput, 'write'>
  private pieces: Uint8Array[] = []

  constructor(output: Pick<DataOutput, 'write'>) {
    this.output = output
  }

  add(pieces: readonly Uint8Array[]): void {
    for (const p of pieces) {
      if (p.byteLength === 0) continue
      this.pieces.push(p)
      this.bytes += p.byteLength
    }
  }

  /** Writes what is gathered once it reaches a batch (or always, with `force`). */
  async flush(force = false): Promise<void> {
    if (this.bytes === 0 || (!force && this.bytes < WRITE_BATCH)) return
    const pieces = this.pieces
    this.pieces = []
    this.bytes = 0
    await this.output.write(pieces)
  }
}

/**
 * Something that takes the message bytes in order (the ECDSA signer or verifier of signed suites).
 * update() must not keep `data` (it is a view of a reused buffer); ready(), when there is one, is
 * awaited after each frame (a signer in another thread holds back the producer with it).
 */
interface Digest {
  update(data: Uint8Array): unknown
  ready?(): Promise<void>
}

export interface EncryptingMessage {
  messageHeader: MessageHeader
  suite: NodeAlgorithmSuite
  getCipher: (iv: Uint8Array) => CipherGCM
  signer?: Digest
}

/** Encrypts one frame: returns its bytes (frame header, ciphertext, tag) in order, none of them a view of `plaintext`. */
export function encryptFrame(sdk: BodySdk, m: EncryptingMessage, sequenceNumber: number, plaintext: Buffer, isFinalFrame: boolean): Uint8Array[] {
  const {bodyHeader, cipher} = sdk.getEncryptFrame({
    getCipher: m.getCipher as never,
    isFinalFrame,
    messageHeader: m.messageHeader,
    pendingFrame: {content: [], contentLength: plaintext.byteLength, sequenceNumber},
    suite: m.suite,
  })
  const out: Uint8Array[] = [bodyHeader]
  for (let at = 0; at < plaintext.byteLength; at += CIPHER_PIECE) out.push(cipher.update(plaintext.subarray(at, at + CIPHER_PIECE)))
  const tail = cipher.final()
  if (tail.byteLength > 0) out.push(tail)
  out.push(cipher.getAuthTag())
  if (m.signer) for (const piece of out) m.signer.update(piece)
  return out
}

/**
 * Encrypts everything the reader gives into frames of the header's frame length, as the SDK does:
 * every full frame is a regular frame, and the final frame holds the rest (0 bytes when the input is
 * a multiple of the frame length). The reader's buffer must hold a whole frame. Returns the
 * plaintext length.
 */
export async function encryptBody(sdk: BodySdk, reader: BufferedReader, out: OutputBatch, m: EncryptingMessage): Promise<number> {
  const {frameLength} = m.messageHeader
  let plaintext = 0
  for (let sequenceNumber = 1; ; sequenceNumber++) {
    // eslint-disable-next-line no-await-in-loop
    const have = await reader.fill(frameLength)
    const isFinalFrame = have < frameLength
    const data = reader.take(isFinalFrame ? have : frameLength)
    out.add(encryptFrame(sdk, m, sequenceNumber, data, isFinalFrame))
    plaintext += data.length
    // eslint-disable-next-line no-await-in-loop
    await out.flush()
    // eslint-disable-next-line no-await-in-loop
    await m.signer?.ready?.()
    if (isFinalFrame) return plaintext
  }
}

export interface DecryptingMessage {
  headerInfo: HeaderInfo
  getDecipher: (iv: Uint8Array) => DecipherGCM
  verify?: Digest & {awsCryptoVerify(signature: Uint8Array): boolean | Promise<boolean>}
}

export interface DecryptBodyOptions {
  /**
   * Frames up to this plaintext size are held until their tag is checked, then released. A larger
   * frame (possible in a message written elsewhere) is released as it is decrypted when
   * `unverifiedToTemporary` (the output is a temporary file that only becomes the target once the
   * whole message is authenticated), and refused otherwise.
   */
  holdLimit: number
  unverifiedToTemporary: boolean
}

/**
 * Decrypts the body the reader gives (the header already read), frame by frame: each frame's
 * plaintext is added to `out` once its tag verifies; then checks the signature trailer (signed
 * suites) and that nothing follows the message. Returns the plaintext length.
 */
export async function decryptBody(sdk: BodySdk, reader: BufferedReader, out: OutputBatch, m: DecryptingMessage, options: DecryptBodyOptions): Promise<number> {
  const {headerInfo, verify} = m
  const {messageId, contentType} = headerInfo.messageHeader
  const {ivLength} = headerInfo.algorithmSuite
  // The longest frame header: the final frame's (4 + 4 + IV + 4); non-framed: IV + 8.
  const longestFrameHeader = 12 + ivLength
  let plaintext = 0
  for (let expected = 1; ; expected++) {
    // eslint-disable-next-line no-await-in-loop
    await reader.fill(longestFrameHeader)
    let frame
    try {
      frame = sdk.decodeBodyHeader(reader.peek(), headerInfo, 0)
    } catch (error) {
      throw new MessageBodyError('malformed', `frame ${expected}: ${(error as Error).message}`, {cause: error})
    }

    if (!frame) throw new MessageBodyError('truncated-body', `the input ends inside the header of frame ${expected}`)
    if (frame.sequenceNumber !== expected) throw new MessageBodyError('order', `frame ${frame.sequenceNumber} where frame ${expected} was due`)
    const iv = Buffer.from(frame.iv)
    const header = reader.take(frame.readPos)
    verify?.update(header)
    const {contentLength, isFinalFrame} = frame
    const tagLength = frame.tagLength / 8
    const hold = contentLength <= options.holdLimit
    if (!hold && !options.unverifiedToTemporary) {
      throw new MessageBodyError('frame-too-large', `frame ${expected} holds ${contentLength} bytes, more than the ${options.holdLimit} kmsctl holds in memory until they are authenticated`)
    }

    const aad = sdk.aad.messageAAD(messageId, sdk.aad.messageAADContentString({contentType, isFinalFrame}), frame.sequenceNumber, contentLength)
    const decipher = m.getDecipher(iv)
    decipher.setAAD(aad)
    const clear: Uint8Array[] = []
    for (let left = contentLength; left > 0; ) {
      if (reader.available === 0) {
        // eslint-disable-next-line no-await-in-loop
        await reader.fill(Math.min(left + tagLength, reader.capacity))
        if (reader.available === 0) throw new MessageBodyError('truncated-body', `the input ends inside frame ${expected}`)
      }

      const cipherText = reader.take(Math.min(left, reader.available, CIPHER_PIECE))
      verify?.update(cipherText)
      clear.push(decipher.update(cipherText))
      left -= cipherText.length
      if (!hold && clear.length > 0) {
        out.add(clear.splice(0))
        // eslint-disable-next-line no-await-in-loop
        await out.flush()
      }
    }

    // eslint-disable-next-line no-await-in-loop
    if ((await reader.fill(tagLength)) < tagLength) throw new MessageBodyError('truncated-body', `the input ends inside the tag of frame ${expected}`)
    const tag = reader.take(tagLength)
    verify?.update(tag)
    decipher.setAuthTag(tag)
    try {
      const tail = decipher.final()
      if (tail.byteLength > 0) clear.push(tail)
    } catch (error) {
      throw new MessageBodyError('tag', `frame ${expected} does not match its authentication tag`, {cause: error})
    }

    plaintext += contentLength
    out.add(clear)
    // eslint-disable-next-line no-await-in-loop
    await out.flush()
    // eslint-disable-next-line no-await-in-loop
    await verify?.ready?.()
    if (isFinalFrame) break
  }

  if (verify) {
    const signature = await readTrailer(reader)
    let ok: boolean | Promise<boolean>
    try {
      ok = verify.awsCryptoVerify(sdk.deserializeSignature(signature))
    } catch (error) {
      throw new MessageBodyError('signature', (error as Error).message, {cause: error})
    }

    // A verifier in another thread answers later; its own failures (the thread stopped) are not the message's.
    if (!(await ok)) throw new MessageBodyError('signature', 'the signature does not verify')
  }

  if ((await reader.fill(1)) > 0) throw new MessageBodyError('extra-bytes', verify ? 'bytes follow the signature trailer' : 'bytes follow the final frame of an unsigned message')
  await out.flush(true)
  return plaintext
}

/** Reads the signature trailer (2-byte length, then the signature) into a buffer of its own. */
async function readTrailer(reader: BufferedReader): Promise<Buffer> {
  if ((await reader.fill(2)) < 2) throw new MessageBodyError('truncated-signature', 'the input ends before the signature trailer')
  const trailer = Buffer.alloc(2 + reader.peek().readUInt16BE(0))
  for (let got = 0; got < trailer.length; ) {
    // eslint-disable-next-line no-await-in-loop
    if ((await reader.fill(1)) === 0) throw new MessageBodyError('truncated-signature', 'the input ends inside the signature trailer')
    got += reader.take(trailer.length - got).copy(trailer, got)
  }

  return trailer
}
