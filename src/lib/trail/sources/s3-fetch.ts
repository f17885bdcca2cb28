// One S3 object's body through the main thread's SDK client (--workers 0, or a client that cannot
// leave the main thread), downloaded whole into a buffer of its announced size; and a failed download
// as the scanning threads (s3-get.ts) send it back.
import type {GetObjectCommandOutput, S3Client} from '@aws-sdk/client-s3'

import type {BufferPool} from '../../buffer-pool.js'
import {s3Sdk} from '../../aws/sdk.js'

export type S3ClientLike = Pick<S3Client, 'send'>

/** A failed GetObject, as a worker thread sends it back (name, message, HTTP status). */
export interface FetchFailure {
  message: string
  name: string
  status?: number
}

/** The error a FetchFailure stands for, shaped as the SDK's errors are (name, $metadata). */
export function fetchError(failure: FetchFailure): Error {
  return Object.assign(new Error(failure.message), {$metadata: {httpStatusCode: failure.status}, code: failure.name, name: failure.name})
}

export function toFetchFailure(error: unknown): FetchFailure {
  const e = error as {$metadata?: {httpStatusCode?: number}; Code?: string; code?: string; message?: string; name?: string}
  const name = e?.name && e.name !== 'Error' ? e.name : (e?.Code ?? e?.code ?? e?.name ?? 'Error')
  return {message: e?.message ?? String(error), name, status: e?.$metadata?.httpStatusCode}
}

/**
 * A body gathered into one buffer of its announced size (grown if the sender sends more), owned by
 * the caller, so it can be moved to a worker thread; without a size, the chunks are joined at the end.
 */
export class BodyBuffer {
  private at = 0
  private readonly chunks: Buffer[] = []
  private out?: Buffer

  /** With a pool, the buffer of the announced size is taken from it (give it back when done with it). */
  constructor(length?: number, pool?: BufferPool) {
    if (length !== undefined && Number.isSafeInteger(length) && length >= 0) this.out = pool ? pool.take(length) : Buffer.allocUnsafeSlow(length)
  }

  /** Bytes received so far. */
  get received(): number {
    return this.out ? this.at : this.chunks.reduce((n, c) => n + c.length, 0)
  }

  push(chunk: Uint8Array): void {
    if (!this.out) {
      this.chunks.push(Buffer.from(chunk))
      return
    }

    if (this.at + chunk.length > this.out.length) {
      const bigger = Buffer.allocUnsafeSlow(Math.max(this.out.length * 2, this.at + chunk.length))
      this.out.copy(bigger, 0, 0, this.at)
      this.out = bigger
    }

    this.out.set(chunk, this.at)
    this.at += chunk.length
  }

  done(): Buffer {
    if (!this.out) return Buffer.concat(this.chunks)
    return this.at === this.out.length ? this.out : Buffer.from(this.out.subarray(0, this.at))
  }
}

/** Reads a body stream into one buffer owned by the caller (BodyBuffer). */
export async function readBody(body: unknown, length: number | undefined): Promise<Buffer> {
  if (!body) return Buffer.alloc(0)
  const out = new BodyBuffer(length)
  for await (const chunk of body as AsyncIterable<Uint8Array>) out.push(chunk)
  return out.done()
}

/** GetObject and the whole body. Errors are thrown as the SDK throws them. */
export async function getObjectBody(client: S3ClientLike, bucket: string, key: string, size?: number, signal?: AbortSignal): Promise<Buffer> {
  const {GetObjectCommand} = await s3Sdk()
  const out: GetObjectCommandOutput = await client.send(new GetObjectCommand({Bucket: bucket, Key: key}), signal ? {abortSignal: signal} : {})
  return readBody(out.Body, out.ContentLength ?? size)
}
