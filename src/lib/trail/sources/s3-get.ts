// S3 for the s3 source without the SDK's client: GetObject in the scanning threads, and ListObjectsV2
// in the main thread, each one SigV4-signed GET (@smithy/signature-v4, the SDK's own signer) over a
// keep-alive agent. A body is read into one buffer of its announced size; S3's XML error becomes an
// error shaped as the SDK's (name, $metadata.httpStatusCode); a listing is read with the SDK's own XML
// parser (@aws-sdk/xml-builder), keys asked for and decoded with encoding-type=url. The SDK client
// costs 1.5-2 ms of CPU per GetObject in its middleware, endpoint rules and response parsing (a log
// file takes about 4 ms to scan), and loading it costs the main thread about 100 ms before the first
// listing: those decided how close the s3 source could come to reading the same files from disk.
// Retries as the SDK's standard mode: throttling, 5xx and dropped connections, up to maxAttempts,
// with jittered exponential backoff.
import type {AwsCredentialIdentity} from '@smithy/types'
import {Agent as HttpAgent, type IncomingMessage, request as httpRequest} from 'node:http'
import {Agent as HttpsAgent, request as httpsRequest} from 'node:https'

import type {S3ThreadSettings} from '../../aws/s3-config.js'
import {loadSdkPackage} from '../../aws/sdk.js'
import {BodyBuffer} from './s3-fetch.js'

type Signer = InstanceType<typeof import('@smithy/signature-v4').SignatureV4>

const RETRYABLE_CODES = new Set(['InternalError', 'RequestTimeout', 'ServiceUnavailable', 'SlowDown', 'Throttling', 'ThrottlingException'])
const RETRYABLE_NETWORK = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'EAI_AGAIN'])

/** RFC 3986 percent-encoding, as SigV4 and S3 want it. */
function rfc3986(value: string): string {
  return encodeURIComponent(value).replaceAll(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
}

/** S3's path encoding of a key: each segment percent-encoded as RFC 3986 asks, "/" kept. */
export function encodeKey(key: string): string {
  return key.split('/').map(rfc3986).join('/')
}

/** Where a bucket's object is: path style on an endpoint given (or a bucket name with dots), else virtual-hosted. */
export function objectUrl(settings: Pick<S3ThreadSettings, 'endpoint' | 'forcePathStyle' | 'region'>, bucket: string, key: string): URL {
  if (settings.endpoint) {
    const base = new URL(settings.endpoint)
    const path = base.pathname.replace(/\/$/, '')
    if (settings.forcePathStyle) return new URL(`${base.protocol}//${base.host}${path}/${bucket}/${encodeKey(key)}`)
    return new URL(`${base.protocol}//${bucket}.${base.host}${path}/${encodeKey(key)}`)
  }

  const domain = settings.region.startsWith('cn-') ? 'amazonaws.com.cn' : 'amazonaws.com'
  if (bucket.includes('.')) return new URL(`https://s3.${settings.region}.${domain}/${bucket}/${encodeKey(key)}`)
  return new URL(`https://${bucket}.s3.${settings.region}.${domain}/${encodeKey(key)}`)
}

/** S3's error document: its Code and Message. */
export function s3ErrorFrom(status: number, body: string, requestId?: string): Error {
  const field = (name: string) => new RegExp(`<${name}>([^<]*)</${name}>`).exec(body)?.[1]?.replaceAll('&lt;', '<').replaceAll('&gt;', '>').replaceAll('&quot;', '"').replaceAll('&apos;', "'").replaceAll('&amp;', '&')
  const name = field('Code') ?? (status === 403 ? 'AccessDenied' : status === 404 ? 'NoSuchKey' : `Http${status}`)
  return Object.assign(new Error(field('Message') ?? `S3 answered HTTP ${status}`), {$metadata: {httpStatusCode: status, requestId}, name})
}

/** Loads the signer's packages now (a thread started before its first download). */
export function preloadSigning(): void {
  for (const name of ['@smithy/signature-v4', '@smithy/hash-node', '@smithy/protocol-http']) void loadSdkPackage(name).catch(() => {})
}

/** One page of ListObjectsV2: folders (common prefixes) and objects, with the key to the next page. */
export interface ListPage {
  folders: string[]
  next?: string
  objects: Array<{key: string; size?: number}>
}

export interface SignedS3 {
  /** Closes the kept-alive connections (a process does not wait for them to time out). */
  close(): void
  /** The whole body of one object; throws S3's refusal as an error named by its code. */
  get(key: string, size?: number): Promise<Buffer>
  /** One page of ListObjectsV2 under a prefix, with a delimiter or not, from a continuation token. */
  list(prefix: string, delimiter?: string, token?: string): Promise<ListPage>
}

/** S3's url encoding-type decoded: percent-encoding, and "+" for a space as a form encodes it. */
function urlDecoded(value: string): string {
  return decodeURIComponent(value.replaceAll('+', ' '))
}

/** Elements that S3 may send once or several times, as a list. */
function many<T>(value: T | T[] | undefined): T[] {
  if (value === undefined || value === '') return []
  return Array.isArray(value) ? value : [value]
}

type XmlValue = string | {[name: string]: XmlValue | XmlValue[]}

/** A ListBucketResult document as a page. */
export async function listPageFrom(xml: string): Promise<ListPage> {
  const {parseXML} = await loadSdkPackage<typeof import('@aws-sdk/xml-builder')>('@aws-sdk/xml-builder')
  const doc = parseXML(xml) as {ListBucketResult?: Record<string, XmlValue | XmlValue[]>}
  const result = doc.ListBucketResult
  if (!result || typeof result !== 'object') throw Object.assign(new Error('S3 answered ListObjectsV2 with a document that is not a ListBucketResult.'), {name: 'InvalidResponse'})
  const text = (v: XmlValue | XmlValue[] | undefined): string | undefined => (typeof v === 'string' ? v : undefined)
  const decode = text(result.EncodingType) === 'url' ? urlDecoded : (v: string) => v
  const folders = many(result.CommonPrefixes as XmlValue | XmlValue[] | undefined)
    .map((p) => (typeof p === 'object' ? text(p.Prefix) : undefined))
    .filter((p): p is string => p !== undefined)
    .map((p) => decode(p))
  const objects = many(result.Contents as XmlValue | XmlValue[] | undefined).flatMap((o) => {
    const key = typeof o === 'object' ? text(o.Key) : undefined
    if (key === undefined) return []
    const size = typeof o === 'object' ? Number(text(o.Size)) : Number.NaN
    return [{key: decode(key), ...(Number.isSafeInteger(size) ? {size} : {})}]
  })
  const next = text(result.IsTruncated) === 'true' ? text(result.NextContinuationToken) : undefined
  return {folders, objects, ...(next ? {next} : {})}
}

export function signedS3(settings: S3ThreadSettings, bucket: string, credentials: () => Promise<AwsCredentialIdentity>): SignedS3 {
  const secure = settings.endpoint ? settings.endpoint.startsWith('https:') : true
  // Enough sockets for every download a thread has in flight, kept open between objects.
  const agent = secure ? new HttpsAgent({keepAlive: true, maxSockets: 32}) : new HttpAgent({keepAlive: true, maxSockets: 32})
  const send = secure ? httpsRequest : httpRequest
  const userAgent = `kmsctl/${settings.customUserAgent[0]?.[1] ?? '0.0.0'} md/s3-get`
  let signer: Promise<Signer> | undefined
  let signerFor: AwsCredentialIdentity | undefined
  let current: AwsCredentialIdentity | undefined

  /** Credentials, asked again within 5 minutes of their expiry; one signer per set (it caches the day's key). */
  const signing = async (): Promise<Signer> => {
    const expiring = current?.expiration && current.expiration.getTime() - Date.now() < 300_000
    if (!current || expiring) current = await credentials()
    if (!signer || signerFor !== current) {
      signerFor = current
      const identity = current
      signer = Promise.all([loadSdkPackage<typeof import('@smithy/signature-v4')>('@smithy/signature-v4'), loadSdkPackage<typeof import('@smithy/hash-node')>('@smithy/hash-node')]).then(
        ([sigv4, hash]) => new sigv4.SignatureV4({applyChecksum: false, credentials: identity, region: settings.region, service: 's3', sha256: hash.Hash.bind(null, 'sha256'), uriEscapePath: false}),
      )
    }

    return signer
  }

  /** One signed GET: the body of a 200 (of its announced size), else S3's error. */
  const once = async (url: URL, query: Array<[string, string]> = []): Promise<Buffer> => {
    const s = await signing()
    const {HttpRequest} = await loadSdkPackage<typeof import('@smithy/protocol-http')>('@smithy/protocol-http')
    const signed = await s.sign(
      new HttpRequest({
        headers: {host: url.host, 'user-agent': userAgent, 'x-amz-content-sha256': 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'},
        hostname: url.hostname,
        method: 'GET',
        path: url.pathname,
        port: url.port ? Number(url.port) : undefined,
        protocol: url.protocol,
        query: Object.fromEntries(query),
      }),
    )
    const search = query.length > 0 ? `?${query.map(([k, v]) => `${rfc3986(k)}=${rfc3986(v)}`).join('&')}` : ''
    return new Promise<Buffer>((resolve, reject) => {
      const req = send({agent, headers: signed.headers, host: url.hostname, method: 'GET', path: url.pathname + search, port: url.port || undefined}, (res: IncomingMessage) => {
        const status = res.statusCode ?? 0
        const length = Number(res.headers['content-length'])
        const sized = status === 200 && Number.isSafeInteger(length) && length >= 0
        const body = new BodyBuffer(sized ? length : undefined)
        res.on('data', (chunk: Buffer) => body.push(chunk))
        res.on('error', reject)
        res.on('end', () => {
          if (status === 200) {
            if (sized && body.received !== length) return reject(Object.assign(new Error(`S3 sent ${body.received} of ${length} bytes`), {code: 'ECONNRESET'}))
            return resolve(body.done())
          }

          reject(s3ErrorFrom(status, body.done().toString('utf8'), String(res.headers['x-amz-request-id'] ?? '')))
        })
      })
      req.on('error', reject)
      req.end()
    })
  }

  /** once(), retried as the SDK's standard mode retries. */
  const retried = async (url: URL, query?: Array<[string, string]>): Promise<Buffer> => {
    for (let attempt = 1; ; attempt++) {
      try {
        // eslint-disable-next-line no-await-in-loop
        return await once(url, query)
      } catch (error) {
        const e = error as NodeJS.ErrnoException & {$metadata?: {httpStatusCode?: number}}
        const status = e.$metadata?.httpStatusCode ?? 0
        const retryable = RETRYABLE_CODES.has(e.name) || status >= 500 || RETRYABLE_NETWORK.has(e.code ?? '')
        if (!retryable || attempt >= settings.maxAttempts) throw error
        // eslint-disable-next-line no-await-in-loop
        await new Promise((resolve) => {
          setTimeout(resolve, Math.random() * Math.min(20_000, 100 * 2 ** attempt))
        })
      }
    }
  }

  return {
    close() {
      agent.destroy()
    },
    get(key) {
      return retried(objectUrl(settings, bucket, key))
    },
    async list(prefix, delimiter, token) {
      const query: Array<[string, string]> = [['list-type', '2'], ['encoding-type', 'url'], ['prefix', prefix]]
      if (delimiter) query.push(['delimiter', delimiter])
      if (token) query.push(['continuation-token', token])
      query.sort((a, b) => (a[0] < b[0] ? -1 : 1))
      return listPageFrom((await retried(objectUrl(settings, bucket, ''), query)).toString('utf8'))
    },
  }
}
