// S3 for the s3 source without the SDK's client: GetObject in the scanning threads, and ListObjectsV2
// in the main thread, each one SigV4-signed GET (sigv4.ts) over a keep-alive agent. A body is read
// into one buffer of its announced size; S3's XML error becomes an error shaped as the SDK's (name,
// $metadata.httpStatusCode); listings ask for encoding-type=url and decode the keys. The SDK client
// costs 1.5-2 ms of CPU per GetObject in its middleware, endpoint rules and response parsing (a log
// file takes about 4 ms to scan), loading it costs the main thread about 100 ms before the first
// listing, and the SDK's signer costs each thread 25 ms to load and 0.05 ms a request: those decided
// how close the s3 source could come to reading the same files from disk. Retries as the SDK's
// standard mode: throttling, 5xx and dropped connections, up to maxAttempts, with jittered
// exponential backoff.
import type {AwsCredentialIdentity} from '@smithy/types'
import {Agent as HttpAgent, type IncomingMessage, request as httpRequest} from 'node:http'
import {Agent as HttpsAgent, request as httpsRequest} from 'node:https'

import type {S3ThreadSettings} from '../../aws/s3-config.js'
import type {BufferPool} from '../../buffer-pool.js'
import {canonicalQuery, rfc3986, signedGetHeaders} from '../../aws/sigv4.js'
import {BodyBuffer} from './s3-fetch.js'

const RETRYABLE_CODES = new Set(['InternalError', 'RequestTimeout', 'ServiceUnavailable', 'SlowDown', 'Throttling', 'ThrottlingException'])
const RETRYABLE_NETWORK = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'EAI_AGAIN'])

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
  const field = (name: string) => element(body, name)
  const name = field('Code') ?? (status === 403 ? 'AccessDenied' : status === 404 ? 'NoSuchKey' : `Http${status}`)
  // A bucket in another region: S3 names it (Region) or the endpoint to use (Endpoint).
  const region = field('Region') ?? /\.s3[.-]([a-z0-9-]+)\.amazonaws\.com/.exec(field('Endpoint') ?? '')?.[1]
  return Object.assign(new Error(field('Message') ?? `S3 answered HTTP ${status}`), {$metadata: {httpStatusCode: status, requestId}, name, ...(region ? {Region: region} : {})})
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

/** The text of XML character data: the five predefined entities and character references. */
function xmlText(value: string): string {
  return value.replaceAll(/&(#x[0-9a-f]+|#\d+|amp|lt|gt|quot|apos);/gi, (_, e: string) => {
    if (e[0] === '#') return String.fromCodePoint(e[1] === 'x' || e[1] === 'X' ? Number.parseInt(e.slice(2), 16) : Number(e.slice(1)))
    return {amp: '&', apos: "'", gt: '>', lt: '<', quot: '"'}[e.toLowerCase()]!
  })
}

/** The text of the first <name> element in a piece of XML, or undefined. */
function element(xml: string, name: string): string | undefined {
  const start = xml.indexOf(`<${name}>`)
  if (start === -1) return undefined
  const end = xml.indexOf(`</${name}>`, start)
  return end === -1 ? undefined : xmlText(xml.slice(start + name.length + 2, end))
}

/** The inner XML of every <name> element (not nested in one another: Contents, CommonPrefixes). */
function blocks(xml: string, name: string): string[] {
  const out: string[] = []
  const open = `<${name}>`
  const close = `</${name}>`
  for (let at = xml.indexOf(open); at !== -1; at = xml.indexOf(open, at)) {
    const end = xml.indexOf(close, at)
    if (end === -1) break
    out.push(xml.slice(at + open.length, end))
    at = end + close.length
  }

  return out
}

/**
 * A ListBucketResult document as a page. Read by element, not by a general XML parser: the document
 * is flat (Contents and CommonPrefixes hold only leaf elements, and Key appears nowhere else), and a
 * day of an organization trail lists thousands of keys before the first download can start; the
 * SDK's parser spent 25-30 ms on a 500-key page.
 */
export function listPageFrom(xml: string): ListPage {
  const open = /<ListBucketResult[\s>]/.exec(xml)
  if (!open) throw Object.assign(new Error('S3 answered ListObjectsV2 with a document that is not a ListBucketResult.'), {name: 'InvalidResponse'})
  const body = xml.slice(open.index)
  const decode = element(body, 'EncodingType') === 'url' ? urlDecoded : (v: string) => v
  const objects = blocks(body, 'Contents').flatMap((c) => {
    const key = element(c, 'Key')
    if (key === undefined) return []
    const size = Number(element(c, 'Size'))
    return [{key: decode(key), ...(Number.isSafeInteger(size) ? {size} : {})}]
  })
  const folders = blocks(body, 'CommonPrefixes').flatMap((c) => {
    const prefix = element(c, 'Prefix')
    return prefix === undefined ? [] : [decode(prefix)]
  })
  // The top-level elements come after the last Contents or CommonPrefixes, or before the first.
  const outside = body.replaceAll(/<(Contents|CommonPrefixes)>[\s\S]*?<\/\1>/g, '')
  const next = element(outside, 'IsTruncated') === 'true' ? element(outside, 'NextContinuationToken') : undefined
  return {folders, objects, ...(next ? {next} : {})}
}

/** With a pool, object bodies are read into its buffers: give each back once it is scanned. */
export function signedS3(settings: S3ThreadSettings, bucket: string, credentials: () => Promise<AwsCredentialIdentity>, pool?: BufferPool): SignedS3 {
  const secure = settings.endpoint ? settings.endpoint.startsWith('https:') : true
  // Enough sockets for every download a thread has in flight, kept open between objects.
  const agent = secure ? new HttpsAgent({keepAlive: true, maxSockets: 32}) : new HttpAgent({keepAlive: true, maxSockets: 32})
  const send = secure ? httpsRequest : httpRequest
  const userAgent = `kmsctl/${settings.customUserAgent[0]?.[1] ?? '0.0.0'} md/s3-get`
  let current: AwsCredentialIdentity | undefined

  /** Credentials, asked again of the provider within 5 minutes of their expiry. */
  const identity = async (): Promise<AwsCredentialIdentity> => {
    const expiring = current?.expiration && current.expiration.getTime() - Date.now() < 300_000
    if (!current || expiring) current = await credentials()
    return current
  }

  /** One signed GET: the body of a 200 (of its announced size), else S3's error. */
  const once = async (url: URL, query: Array<[string, string]> = []): Promise<Buffer> => {
    const headers = signedGetHeaders(await identity(), {host: url.host, path: url.pathname, query, region: settings.region, service: 's3'})
    headers['user-agent'] = userAgent
    const search = query.length > 0 ? `?${canonicalQuery(query)}` : ''
    return new Promise<Buffer>((resolve, reject) => {
      const req = send({agent, headers, host: url.hostname, method: 'GET', path: url.pathname + search, port: url.port || undefined}, (res: IncomingMessage) => {
        const status = res.statusCode ?? 0
        const length = Number(res.headers['content-length'])
        const sized = status === 200 && Number.isSafeInteger(length) && length >= 0
        const body = new BodyBuffer(sized ? length : undefined, pool)
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
      return listPageFrom((await retried(objectUrl(settings, bucket, ''), query)).toString('utf8'))
    },
  }
}
