// One S3 object's body through the main thread's SDK client (--workers 0, or a client that cannot
// leave the main thread), downloaded whole into a buffer of its announced size; and a failed download
// as the scanning threads (s3-get.ts) send it back.
import type {GetObjectCommandOutput, S3Client} from '@aws-sdk/client-s3'

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

/** Reads a body stream into one buffer owned by the caller (so it can be moved to a worker thread). */
export async function readBody(body: unknown, length: number | undefined): Promise<Buffer> {
  if (!body) return Buffer.alloc(0)
  const stream = body as AsyncIterable<Uint8Array>
  if (length !== undefined && length >= 0) {
    let out = Buffer.allocUnsafeSlow(length)
    let at = 0
    for await (const chunk of stream) {
      if (at + chunk.length > out.length) {
        const bigger = Buffer.allocUnsafeSlow(Math.max(out.length * 2, at + chunk.length))
        out.copy(bigger, 0, 0, at)
        out = bigger
      }

      out.set(chunk, at)
      at += chunk.length
    }

    return at === out.length ? out : Buffer.from(out.subarray(0, at))
  }

  const chunks: Buffer[] = []
  for await (const chunk of stream) chunks.push(Buffer.from(chunk))
  return Buffer.concat(chunks)
}

/** GetObject and the whole body. Errors are thrown as the SDK throws them. */
export async function getObjectBody(client: S3ClientLike, bucket: string, key: string, size?: number, signal?: AbortSignal): Promise<Buffer> {
  const {GetObjectCommand} = await s3Sdk()
  const out: GetObjectCommandOutput = await client.send(new GetObjectCommand({Bucket: bucket, Key: key}), signal ? {abortSignal: signal} : {})
  return readBody(out.Body, out.ContentLength ?? size)
}
