// Server-side encryption of the sandbox's S3 objects with KMS keys (SSE-KMS). As S3 does, writing an
// object asks KMS for a data key under the object's KMS key (GenerateDataKey, encryption context
// aws:s3:arn = the object's ARN) and keeps the encrypted data key with the object; reading it asks
// KMS to decrypt that data key, on the caller's behalf, so the object is readable only by a caller
// who may kms:Decrypt under that key while the key is usable. The record is kept beside the bucket's
// objects, in a folder no listing shows: .kmsctl-s3/<key>.sse. The object's bytes are kept on disk as
// written (the sandbox keeps its key material unencrypted too): what is enforced is who may read.
import {mkdirSync, readFileSync, rmSync, statSync, writeFileSync} from 'node:fs'
import {dirname, join} from 'node:path'

/** The folder of a bucket that holds the encryption records (never listed, never an object). */
export const SSE_FOLDER = '.kmsctl-s3'

export type SseRecord =
  | {
      /** The encrypted data key (base64), decrypted by KMS on every read. */
      ciphertextBlob: string
      /** aws:s3:arn: the object's ARN. */
      encryptionContext: Record<string, string>
      /** The KMS key's ARN. */
      keyArn: string
      serverSideEncryption: 'aws:kms'
    }
  | {serverSideEncryption: 'AES256'}

export function objectArn(bucket: string, key: string): string {
  return `arn:aws:s3:::${bucket}/${key}`
}

function recordPath(dir: string, key: string): string {
  return join(dir, SSE_FOLDER, ...`${key}.sse`.split('/'))
}

/** The object's SSE-KMS record, or undefined when it is not encrypted with a KMS key. */
export function readSse(dir: string, key: string): SseRecord | undefined {
  const path = recordPath(dir, key)
  // Not a throwing read: most objects have no record, and an exception costs more than the stat.
  if (!statSync(path, {throwIfNoEntry: false})) return undefined
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as SseRecord
  } catch {
    return undefined
  }
}

/** Keeps the object's encryption record; none (an object written without SSE) removes an earlier one. */
export function writeSse(dir: string, key: string, record: SseRecord | undefined): void {
  const path = recordPath(dir, key)
  if (!record) {
    rmSync(path, {force: true})
    return
  }

  mkdirSync(dirname(path), {recursive: true})
  writeFileSync(path, `${JSON.stringify(record)}\n`)
}

/** How S3 answers when KMS refused the call it made for the caller: KMS's reason, S3's code and status. */
export function kmsRefusal(code: string, message: string): {code: string; message: string; status: number} {
  if (code === 'AccessDeniedException') return {code: 'AccessDenied', message, status: 403}
  if (code === 'NotFoundException') return {code: 'KMS.NotFoundException', message, status: 400}
  if (code === 'DisabledException' || code === 'KMSInvalidStateException') return {code: `KMS.${code}`, message, status: 403}
  return {code: `KMS.${code}`, message, status: 400}
}
