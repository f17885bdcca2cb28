// Signature Version 4 for the requests kmsctl makes most often without an SDK client (the s3 source's
// GetObject and ListObjectsV2: hundreds of thousands on an organization trail), and the same steps
// for the sandbox's checks of signatures (S3's, and every JSON or query call to "/"). AWS's algorithm,
// step by step: the canonical request (method, path as sent, sorted query, signed headers, payload
// hash), the string to sign, and the HMAC with the day's signing key, derived once per secret, day,
// region and service. Tested against the SDK's signer (@smithy/signature-v4) on the same requests.
import type {AwsCredentialIdentity} from '@smithy/types'
import {createHash, createHmac} from 'node:crypto'

/** The SHA-256 of an empty payload (a GET). */
const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'

/** RFC 3986 percent-encoding, as SigV4 wants query names and values (and S3 its key segments). */
export function rfc3986(value: string): string {
  return encodeURIComponent(value).replaceAll(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
}

const signingKeys = new Map<string, Buffer>()

/** The day's signing key (four HMACs), kept for the next request of the same secret, day, region and service. */
function signingKey(secret: string, day: string, region: string, service: string): Buffer {
  const id = `${secret}\n${day}\n${region}\n${service}`
  let key = signingKeys.get(id)
  if (!key) {
    if (signingKeys.size >= 1000) signingKeys.clear()
    const kDate = createHmac('sha256', `AWS4${secret}`).update(day).digest()
    const kRegion = createHmac('sha256', kDate).update(region).digest()
    const kService = createHmac('sha256', kRegion).update(service).digest()
    key = createHmac('sha256', kService).update('aws4_request').digest()
    signingKeys.set(id, key)
  }

  return key
}

/** A query as SigV4 canonicalises it: names and values encoded, sorted by name then value. */
export function canonicalQuery(pairs: Array<[string, string]>): string {
  return pairs
    .map(([k, v]): [string, string] => [rfc3986(k), rfc3986(v)])
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join('&')
}

export interface CanonicalInput {
  /** Header names in lower case, with their values; all of them are signed. */
  headers: Record<string, string>
  method: string
  /** The path exactly as sent (S3 does not encode it a second time). */
  path: string
  payloadHash: string
  /** Already canonical (canonicalQuery). */
  query: string
}

/**
 * The signature (hex) of a canonical request, for a date (YYYYMMDDTHHMMSSZ), region and service; the
 * credential scope's day is the date's unless given (a request's Authorization names its own).
 */
export function signature(input: CanonicalInput, secret: string, amzDate: string, region: string, service: string, day = amzDate.slice(0, 8)): {signature: string; signedHeaders: string} {
  const names = Object.keys(input.headers).sort()
  const canonical = [
    input.method,
    input.path || '/',
    input.query,
    names.map((n) => `${n}:${input.headers[n].trim().replaceAll(/\s+/g, ' ')}\n`).join(''),
    names.join(';'),
    input.payloadHash,
  ].join('\n')
  const toSign = `AWS4-HMAC-SHA256\n${amzDate}\n${day}/${region}/${service}/aws4_request\n${createHash('sha256').update(canonical).digest('hex')}`
  return {signature: createHmac('sha256', signingKey(secret, day, region, service)).update(toSign).digest('hex'), signedHeaders: names.join(';')}
}

/**
 * The headers of a signed GET with no body: host, x-amz-date, x-amz-content-sha256, the session
 * token if any, and Authorization. `now` is for tests.
 */
export function signedGetHeaders(credentials: AwsCredentialIdentity, request: {host: string; path: string; query?: Array<[string, string]>; region: string; service: string}, now = new Date()): Record<string, string> {
  const amzDate = now.toISOString().replaceAll(/[-:]/g, '').replace(/\.\d{3}/, '')
  const headers: Record<string, string> = {host: request.host, 'x-amz-content-sha256': EMPTY_SHA256, 'x-amz-date': amzDate}
  if (credentials.sessionToken) headers['x-amz-security-token'] = credentials.sessionToken
  const signed = signature({headers, method: 'GET', path: request.path, payloadHash: EMPTY_SHA256, query: canonicalQuery(request.query ?? [])}, credentials.secretAccessKey, amzDate, request.region, request.service)
  headers.authorization = `AWS4-HMAC-SHA256 Credential=${credentials.accessKeyId}/${amzDate.slice(0, 8)}/${request.region}/${request.service}/aws4_request, SignedHeaders=${signed.signedHeaders}, Signature=${signed.signature}`
  return headers
}
