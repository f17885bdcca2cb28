// Reading a message's header without decrypting it and without calling KMS: the Encryption SDK's
// own deserializer parses it; for a file, the frame headers are then walked (a few bytes read per
// frame) to give the plaintext size, the frame count and the trailer without reading the data.
import {open} from 'node:fs/promises'
import type {Readable} from 'node:stream'

import {KmsctlError} from '../errors.js'
import {loadSdkPackage} from '../aws/sdk.js'
import type {DataInput} from './files.js'
import {type HeaderSummary, summariseHeader} from './message.js'

export interface MessageSizes {
  /** The whole message, in bytes (files only). */
  total?: number
  /** Header plus its authentication tag. */
  header: number
  /** Body frames (files only). */
  body?: number
  /** The signature trailer (files only; 0 for unsigned suites). */
  trailer?: number
  /** Plaintext size, from the frame lengths (files only). */
  plaintext?: number
  frames?: number
}

export interface InspectResult {
  input: string
  header: HeaderSummary
  sizes: MessageSizes
  /** Problems seen in the structure (a truncated file, bytes after the message). */
  warnings: string[]
}

type Deserializer = (buffer: Uint8Array, options: {maxEncryptedDataKeys: number | false}) => false | {headerLength: number; headerAuth: {headerAuthLength: number}; messageHeader: Parameters<typeof summariseHeader>[0]; algorithmSuite: {ivLength: number; /** In bits. */ tagLength: number}}

async function deserializer(): Promise<Deserializer> {
  const [{deserializeFactory}, {NodeAlgorithmSuite}] = await Promise.all([
    loadSdkPackage<typeof import('@aws-crypto/serialize')>('@aws-crypto/serialize'),
    loadSdkPackage<typeof import('@aws-crypto/material-management-node')>('@aws-crypto/material-management-node'),
  ])
  const toUtf8 = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('utf8')
  return deserializeFactory(toUtf8, NodeAlgorithmSuite).deserializeMessageHeader as unknown as Deserializer
}

/** Reads chunks until the header parses; returns it with the bytes it took. */
async function readHeader(stream: Readable, parse: Deserializer, maxEncryptedDataKeys: number | false) {
  let buffer = Buffer.alloc(0)
  try {
    for await (const chunk of stream) {
      buffer = Buffer.concat([buffer, chunk as Buffer])
      const info = parse(buffer, {maxEncryptedDataKeys})
      if (info) return info
      // A header is at most a few hundred KB (each data key is up to 64 KB): refuse to buffer more.
      if (buffer.length > 16 * 1024 * 1024) break
    }
  } catch (error) {
    if (error instanceof KmsctlError) throw error
    throw new KmsctlError('NOT_A_MESSAGE', `Not an AWS Encryption SDK message, or its header is corrupt: ${(error as Error).message.split('\n')[0]}`, {
      cause: error,
      remedy: 'Check that the file is the output of kmsctl data encrypt or another AWS Encryption SDK.',
    })
  } finally {
    stream.destroy()
  }

  throw new KmsctlError('TRUNCATED', 'The input ends inside the message header: it is truncated, or not an encrypted message.', {
    remedy: 'Check that the file is complete and is the output of kmsctl data encrypt or another AWS Encryption SDK.',
  })
}

export async function inspectMessage(input: DataInput, options: {maxEncryptedDataKeys?: number | false} = {}): Promise<InspectResult> {
  const parse = await deserializer()
  const info = await readHeader(input.stream(), parse, options.maxEncryptedDataKeys ?? false)
  const header = summariseHeader(info.messageHeader)
  const headerBytes = info.headerLength + info.headerAuth.headerAuthLength
  const sizes: MessageSizes = {header: headerBytes}
  const warnings: string[] = []
  if (input.name !== '-' && input.size !== undefined && header.contentType === 'framed') {
    Object.assign(sizes, await walkFrames(input.name, input.size, headerBytes, header.frameLength, info.algorithmSuite.ivLength, info.algorithmSuite.tagLength / 8, warnings))
  } else if (input.size !== undefined) {
    sizes.total = input.size
  }

  if (header.algorithm.signed && sizes.trailer === 0) warnings.push('The suite is signed but the message has no signature trailer: the file is truncated.')

  return {header, input: input.name, sizes, warnings}
}

/**
 * Walks the framed body: each regular frame is sequence number (4) | IV | content (frameLength) |
 * tag; the final frame is 0xFFFFFFFF | sequence number (4) | IV | content length (4) | content | tag.
 * What follows the final frame is the signature trailer (2-byte length, then the signature).
 */
async function walkFrames(path: string, size: number, start: number, frameLength: number, ivLength: number, tagLength: number, warnings: string[]): Promise<MessageSizes> {
  const fh = await open(path, 'r')
  try {
    const head = Buffer.alloc(8 + ivLength + 4)
    let pos = start
    let frames = 0
    let plaintext = 0
    for (;;) {
      const {bytesRead} = await fh.read(head, 0, head.length, pos)
      if (bytesRead < 4) {
        warnings.push(`The body ends after ${frames} frames without a final frame: the file is truncated.`)
        return {body: size - start, frames, header: start, plaintext, total: size}
      }

      if (head.readUInt32BE(0) === 0xff_ff_ff_ff) {
        if (bytesRead < head.length) {
          warnings.push('The final frame header is cut short: the file is truncated.')
          return {body: size - start, frames: frames + 1, header: start, plaintext, total: size}
        }

        const contentLength = head.readUInt32BE(8 + ivLength)
        const end = pos + head.length + contentLength + tagLength
        plaintext += contentLength
        frames++
        if (end > size) {
          warnings.push('The final frame is cut short: the file is truncated.')
          return {body: size - start, frames, header: start, plaintext, total: size}
        }

        const trailer = size - end
        if (trailer > 0) {
          const lengthBuf = Buffer.alloc(2)
          await fh.read(lengthBuf, 0, 2, end)
          const declared = trailer >= 2 ? 2 + lengthBuf.readUInt16BE(0) : trailer
          if (declared !== trailer) warnings.push(`The signature trailer is ${trailer} bytes where ${declared} were declared: the file is truncated or has extra bytes.`)
        }

        return {body: end - start, frames, header: start, plaintext, total: size, trailer}
      }

      pos += 4 + ivLength + frameLength + tagLength
      plaintext += frameLength
      frames++
      if (pos > size) {
        warnings.push(`Frame ${frames} is cut short: the file is truncated.`)
        return {body: size - start, frames, header: start, plaintext: undefined, total: size}
      }
    }
  } finally {
    await fh.close()
  }
}
