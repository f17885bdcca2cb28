// S3 in the sandbox (REST-XML), for the trail log files kmsctl and the AWS CLI read: ListBuckets,
// HeadBucket, ListObjectsV2, GetObject (with a byte range), HeadObject and PutObject (with SSE-S3 or
// SSE-KMS, see sse.ts), path-style and virtual-host-style. Object bodies up to 8 MiB are read in one
// piece, larger ones streamed from disk. The buckets are folders (buckets.ts) that exports, mounts
// and PutObject fill.
import {createHash, randomUUID} from 'node:crypto'
import {closeSync, createReadStream, mkdirSync, openSync, readSync, writeFileSync} from 'node:fs'
import {dirname, relative, resolve} from 'node:path'
import type {IncomingMessage, ServerResponse} from 'node:http'

import {canonicalQuery, signature} from '../../lib/aws/sigv4.js'
import {BufferPool} from '../../lib/buffer-pool.js'
import {SANDBOX_ACCOUNT} from '../constants.js'
import {parseAuthorization} from '../identity/authenticate.js'
import {type BucketMounts, bucketDir, listBuckets, listObjects, objectFile, writableKey} from './buckets.js'
import {type SseRecord, kmsRefusal, objectArn, readSse, writeSse} from './sse.js'

const NS = 'http://s3.amazonaws.com/doc/2006-03-01/'
const CREDENTIAL = /Credential=[^/,\s]+\/\d{8}\/[^/]+\/([^/]+)\/aws4_request/

/** Is this request for S3? Signed for the s3 service (SigV4 scope), and not a JSON-protocol call. */
export function isS3Request(req: Pick<IncomingMessage, 'headers' | 'method' | 'url'>): boolean {
  if (req.headers['x-amz-target']) return false
  const auth = String(req.headers.authorization ?? '')
  const scope = CREDENTIAL.exec(auth)?.[1]
  if (scope) return scope === 's3'
  // Presigned URLs carry the scope in the query.
  const credential = new URL(req.url ?? '/', 'http://x').searchParams.get('X-Amz-Credential') ?? ''
  return credential.split('/')[3] === 's3'
}

const xml = (s: string) => s.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('"', '&quot;')

/** The bucket named by a virtual-host-style Host header (bucket.s3.region.amazonaws.com, bucket.localhost). */
export function bucketFromHost(host: string | undefined): string | undefined {
  const name = (host ?? '').replace(/:\d+$/, '').toLowerCase()
  const m = /^(.+?)\.s3[.-]/.exec(name) ?? /^(.+)\.localhost$/.exec(name)
  return m && !/^s3[.-]/.test(name) ? m[1] : undefined
}

function send(res: ServerResponse, status: number, body: string, headers: Record<string, string> = {}, head = false): void {
  const requestId = randomUUID().replaceAll('-', '').slice(0, 16).toUpperCase()
  res.writeHead(status, {
    'content-length': String(Buffer.byteLength(body)),
    'content-type': 'application/xml',
    date: new Date().toUTCString(),
    server: 'AmazonS3',
    'x-amz-id-2': createHash('sha256').update(requestId).digest('base64'),
    'x-amz-request-id': requestId,
    ...headers,
  })
  res.end(head ? undefined : body)
}

function error(res: ServerResponse, status: number, code: string, message: string, extra: Record<string, string> = {}, head = false): void {
  const fields = Object.entries(extra)
    .map(([k, v]) => `<${k}>${xml(v)}</${k}>`)
    .join('')
  send(res, status, `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${xml(message)}</Message>${fields}<RequestId>${randomUUID()}</RequestId></Error>`, {}, head)
}

/** S3's url encoding-type: keys percent-encoded, "/" kept. */
const urlEncode = (s: string) => encodeURIComponent(s).replaceAll('%2F', '/')

const etags = new Map<string, string>()

/** An object's ETag: stable while the file is unchanged (path, size and mtime), computed once. */
function etag(path: string, size: number, mtime: Date): string {
  const id = `${path}:${size}:${mtime.getTime()}`
  let tag = etags.get(id)
  if (tag === undefined) {
    if (etags.size >= 100_000) etags.clear()
    tag = `"${createHash('md5').update(id).digest('hex')}"`
    etags.set(id, tag)
  }

  return tag
}

function listObjectsV2(res: ServerResponse, bucket: string, dir: string, q: URLSearchParams): void {
  const prefix = q.get('prefix') ?? ''
  const delimiter = q.get('delimiter') ?? ''
  const encode = q.get('encoding-type') === 'url'
  if (q.has('encoding-type') && !encode) return error(res, 400, 'InvalidArgument', 'Invalid Encoding Method specified in Request', {ArgumentName: 'encoding-type'})
  const maxRaw = q.get('max-keys')
  const maxKeys = maxRaw === null ? 1000 : Number(maxRaw)
  if (!Number.isInteger(maxKeys) || maxKeys < 0) return error(res, 400, 'InvalidArgument', 'Provided max-keys not an integer or within integer range', {ArgumentName: 'max-keys', ArgumentValue: maxRaw ?? ''})
  const limit = Math.min(maxKeys, 1000)
  const token = q.get('continuation-token')
  let after = q.get('start-after') ?? ''
  if (token !== null) {
    try {
      const decoded = JSON.parse(Buffer.from(token, 'base64').toString('utf8')) as {b: string; k: string}
      if (decoded.b !== bucket || typeof decoded.k !== 'string') throw new Error('mismatch')
      after = decoded.k
    } catch {
      return error(res, 400, 'InvalidArgument', 'The continuation token provided is incorrect', {ArgumentName: 'continuation-token'})
    }
  }

  const contents: string[] = []
  const prefixes: string[] = []
  let last = ''
  let truncated = false
  let count = 0
  for (const o of listObjects(dir, prefix)) {
    if (after && Buffer.compare(Buffer.from(o.key), Buffer.from(after)) <= 0) continue
    let entry: {key: string; kind: 'object' | 'prefix'} = {key: o.key, kind: 'object'}
    if (delimiter) {
      const at = o.key.indexOf(delimiter, prefix.length)
      if (at !== -1) entry = {key: o.key.slice(0, at + delimiter.length), kind: 'prefix'}
    }

    if (entry.kind === 'prefix' && prefixes.at(-1) === entry.key) continue
    if (count >= limit) {
      truncated = true
      break
    }

    count++
    last = entry.kind === 'prefix' ? entry.key + '\uFFFF' : o.key
    const key = encode ? urlEncode(entry.key) : entry.key
    if (entry.kind === 'prefix') prefixes.push(entry.key)
    else contents.push(`<Contents><Key>${xml(key)}</Key><LastModified>${o.mtime.toISOString()}</LastModified><ETag>${xml(etag(o.path, o.size, o.mtime))}</ETag><Size>${o.size}</Size><StorageClass>STANDARD</StorageClass></Contents>`)
  }

  const enc = (s: string) => xml(encode ? urlEncode(s) : s)
  const body = [
    `<?xml version="1.0" encoding="UTF-8"?>\n<ListBucketResult xmlns="${NS}">`,
    `<Name>${xml(bucket)}</Name><Prefix>${enc(prefix)}</Prefix>`,
    q.has('start-after') ? `<StartAfter>${enc(q.get('start-after')!)}</StartAfter>` : '',
    token === null ? '' : `<ContinuationToken>${xml(token)}</ContinuationToken>`,
    `<KeyCount>${count}</KeyCount><MaxKeys>${maxKeys}</MaxKeys>`,
    delimiter ? `<Delimiter>${enc(delimiter)}</Delimiter>` : '',
    encode ? '<EncodingType>url</EncodingType>' : '',
    `<IsTruncated>${truncated}</IsTruncated>`,
    truncated ? `<NextContinuationToken>${Buffer.from(JSON.stringify({b: bucket, k: last})).toString('base64')}</NextContinuationToken>` : '',
    ...contents,
    ...prefixes.map((p) => `<CommonPrefixes><Prefix>${enc(p)}</Prefix></CommonPrefixes>`),
    '</ListBucketResult>',
  ].join('')
  send(res, 200, body)
}

/** The response headers that say how an object is encrypted. */
function sseHeaders(record: SseRecord | undefined): Record<string, string> {
  if (!record) return {}
  if (record.serverSideEncryption === 'AES256') return {'x-amz-server-side-encryption': 'AES256'}
  return {'x-amz-server-side-encryption': 'aws:kms', 'x-amz-server-side-encryption-aws-kms-key-id': record.keyArn}
}

async function getObject(req: IncomingMessage, res: ServerResponse, env: S3Env, dir: string, key: string, head: boolean): Promise<void> {
  const file = objectFile(dir, key)
  if (!file) return error(res, 404, 'NoSuchKey', 'The specified key does not exist.', {Key: key}, head)
  const {path, stats: st} = file
  // An SSE-KMS object: S3 asks KMS to decrypt its data key, as the caller; KMS's refusal is S3's.
  const sse = readSse(dir, key)
  if (sse?.serverSideEncryption === 'aws:kms') {
    if (!env.kms) return error(res, 500, 'InternalError', 'This sandbox transport cannot reach KMS to decrypt an SSE-KMS object.', {}, head)
    const r = await env.kms(env.caller, 'Decrypt', {CiphertextBlob: sse.ciphertextBlob, EncryptionContext: sse.encryptionContext, KeyId: sse.keyArn})
    if (!r.ok) {
      const refusal = kmsRefusal(r.code, r.message)
      return error(res, refusal.status, refusal.code, refusal.message, {}, head)
    }
  }

  const headers: Record<string, string> = {
    'accept-ranges': 'bytes',
    'content-type': key.endsWith('.json') ? 'application/json' : 'application/octet-stream',
    etag: etag(path, st.size, st.mtime),
    'last-modified': st.mtime.toUTCString(),
    ...sseHeaders(sse),
  }
  let start = 0
  let end = st.size - 1
  let status = 200
  const range = req.headers.range
  if (range) {
    const m = /^bytes=(\d*)-(\d*)$/.exec(range)
    if (m && (m[1] !== '' || m[2] !== '')) {
      if (m[1] === '') {
        start = Math.max(0, st.size - Number(m[2]))
      } else {
        start = Number(m[1])
        if (m[2] !== '') end = Math.min(end, Number(m[2]))
      }

      if (start >= st.size || start > end) {
        return error(res, 416, 'InvalidRange', 'The requested range is not satisfiable', {ActualObjectSize: String(st.size), RangeRequested: range}, head)
      }

      status = 206
      headers['content-range'] = `bytes ${start}-${end}/${st.size}`
    }
  }

  const length = Math.max(0, end - start + 1)
  res.writeHead(status, {...headers, 'content-length': String(length), date: new Date().toUTCString(), server: 'AmazonS3', 'x-amz-request-id': randomUUID().replaceAll('-', '').slice(0, 16).toUpperCase()})
  if (head || length === 0) {
    res.end()
    return
  }

  // A body up to 8 MiB (every log file) is read in one asynchronous read of the size the stat gave and
  // sent in one write: half the CPU of a stream, and the event loop is never blocked. Larger ones are
  // streamed.
  if (length <= WHOLE_READ_MAX) {
    const buffer = bodyBuffers.take(length)
    let n: number
    try {
      n = readRangeSync(path, start, length, buffer)
    } catch {
      res.destroy()
      return
    }

    // The buffer is used again once the socket has taken every byte of it ('finish').
    res.once('finish', () => bodyBuffers.give(buffer))
    res.end(n === buffer.length ? buffer : buffer.subarray(0, n))
    return
  }

  const stream = createReadStream(path, {end, highWaterMark: 256 * 1024, start})
  stream.on('error', () => res.destroy())
  stream.pipe(res)
}

const WHOLE_READ_MAX = 8 * 1024 * 1024

/**
 * Bytes [start, start + length) of a file into the buffer: open, one read of the size the stat gave,
 * close. Synchronous: a log file comes from the page cache in tens of microseconds, and the three
 * hand-offs to libuv's thread pool of an asynchronous read cost the server more CPU than the read.
 */
function readRangeSync(path: string, start: number, length: number, into: Buffer): number {
  const fd = openSync(path, 'r')
  try {
    return readSync(fd, into, 0, length, start)
  } finally {
    closeSync(fd)
  }
}

/** Object bodies are read into reused buffers (at most 32 MiB of them kept). */
const POOL_BYTES = 32 * 1024 * 1024
const bodyBuffers = new BufferPool(POOL_BYTES)

/** The largest object PutObject takes in the sandbox (S3 takes 5 GB in one PUT). */
const PUT_MAX_BYTES = 256 * 1024 * 1024

function readRequestBody(req: IncomingMessage): Promise<Buffer | undefined> {
  return new Promise((resolveBody, rejectBody) => {
    const chunks: Buffer[] = []
    let size = 0
    let tooLarge = false
    req.on('data', (c: Buffer) => {
      size += c.length
      if (size > PUT_MAX_BYTES) tooLarge = true
      if (!tooLarge) chunks.push(c)
    })
    req.on('end', () => resolveBody(tooLarge ? undefined : Buffer.concat(chunks)))
    req.on('error', rejectBody)
  })
}

/** The body as sent: aws-chunked bodies (streaming SigV4, the AWS CLI's uploads) lose their chunk framing. */
function decodeBody(req: IncomingMessage, body: Buffer): Buffer {
  const declared = String(req.headers['x-amz-content-sha256'] ?? '')
  if (!declared.startsWith('STREAMING-')) return body
  const parts: Buffer[] = []
  let at = 0
  while (at < body.length) {
    const eol = body.indexOf('\r\n', at)
    if (eol === -1) break
    const size = Number.parseInt(body.toString('latin1', at, eol).split(';')[0], 16)
    if (!Number.isFinite(size) || size === 0) break
    parts.push(body.subarray(eol + 2, eol + 2 + size))
    at = eol + 2 + size + 2
  }

  return Buffer.concat(parts)
}

/**
 * PutObject: the object is written under the bucket's folder; with x-amz-server-side-encryption
 * aws:kms, S3 first asks KMS for a data key under the key named (GenerateDataKey, as the caller),
 * and a refusal fails the PUT with KMS's reason.
 */
async function putObject(req: IncomingMessage, res: ServerResponse, env: S3Env, bucket: string, dir: string, key: string): Promise<void> {
  const raw = await readRequestBody(req)
  if (!raw) return error(res, 400, 'EntityTooLarge', `Your proposed upload exceeds the maximum allowed size (the sandbox takes ${PUT_MAX_BYTES} bytes in one PUT).`)
  if (!writableKey(key)) return error(res, 400, 'InvalidArgument', `The sandbox cannot store an object under the key "${key}".`, {ArgumentName: 'key'})
  const path = resolve(dir, ...key.split('/'))
  if (relative(dir, path).startsWith('..')) return error(res, 400, 'InvalidArgument', 'The key leaves the bucket.', {ArgumentName: 'key'})
  const body = decodeBody(req, raw)
  const algorithm = req.headers['x-amz-server-side-encryption'] as string | undefined
  const keyId = req.headers['x-amz-server-side-encryption-aws-kms-key-id'] as string | undefined
  if (algorithm !== undefined && algorithm !== 'AES256' && algorithm !== 'aws:kms') {
    return error(res, 400, 'InvalidArgument', 'The encryption method specified is not supported', {ArgumentName: 'x-amz-server-side-encryption', ArgumentValue: algorithm})
  }

  if (keyId !== undefined && algorithm !== 'aws:kms') {
    return error(res, 400, 'InvalidArgument', 'Server Side Encryption with AWS KMS managed key requires HTTP header x-amz-server-side-encryption : aws:kms', {ArgumentName: 'x-amz-server-side-encryption-aws-kms-key-id'})
  }

  let record: SseRecord | undefined = algorithm === 'AES256' ? {serverSideEncryption: 'AES256'} : undefined
  if (algorithm === 'aws:kms') {
    if (!keyId) {
      return error(res, 400, 'InvalidArgument', 'The sandbox has no AWS managed key aws/s3: name the KMS key with x-amz-server-side-encryption-aws-kms-key-id.', {ArgumentName: 'x-amz-server-side-encryption-aws-kms-key-id'})
    }

    if (!env.kms) return error(res, 500, 'InternalError', 'This sandbox transport cannot reach KMS for SSE-KMS.')
    const encryptionContext = {'aws:s3:arn': objectArn(bucket, key)}
    const r = await env.kms(env.caller, 'GenerateDataKey', {EncryptionContext: encryptionContext, KeyId: keyId, KeySpec: 'AES_256'})
    if (!r.ok) {
      const refusal = kmsRefusal(r.code, r.message)
      return error(res, refusal.status, refusal.code, refusal.message)
    }

    record = {ciphertextBlob: String(r.output.CiphertextBlob), encryptionContext, keyArn: String(r.output.KeyId), serverSideEncryption: 'aws:kms'}
  }

  mkdirSync(dirname(path), {recursive: true})
  writeFileSync(path, body)
  writeSse(dir, key, record)
  const st = objectFile(dir, key)!.stats
  send(res, 200, '', {etag: etag(path, st.size, st.mtime), ...sseHeaders(record)})
}

/** The caller of an S3 request, as S3 names it to KMS. */
export interface S3Caller {
  accessKeyId: string
  region: string
  sessionToken?: string
}

/** A KMS call S3 makes for the caller (SandboxCore.kmsForS3). */
export type S3Kms = (
  caller: S3Caller,
  operation: 'Decrypt' | 'GenerateDataKey',
  input: Record<string, unknown>,
) => Promise<{code: string; message: string; ok: false} | {ok: true; output: Record<string, unknown>}>

interface S3Env {
  caller: S3Caller
  kms?: S3Kms
}

/**
 * Who may do what: the caller's identity-based policies (the sandbox's principals and their --iam-allow).
 * Undefined when allowed, else the caller's ARN for the AccessDenied message.
 */
export type S3Authorizer = (accessKeyId: string, action: string) => string | undefined

/** Answers one S3 request. The request body (none for these operations) is drained. */
export function serveS3(req: IncomingMessage, res: ServerResponse, mounts: BucketMounts, authorize?: S3Authorizer, kms?: S3Kms): void {
  const method = (req.method ?? 'GET').toUpperCase()
  if (method !== 'PUT') req.resume()
  // The path as sent (S3 takes keys literally: no dot-segment resolution) and the query.
  const raw = req.url ?? '/'
  const q = raw.indexOf('?')
  const searchParams = new URLSearchParams(q === -1 ? '' : raw.slice(q + 1))
  const url = {pathname: q === -1 ? raw : raw.slice(0, q), searchParams}
  const head = method === 'HEAD'
  const hostBucket = bucketFromHost(req.headers.host)
  let path: string[]
  try {
    path = url.pathname.split('/').slice(1).map((p) => decodeURIComponent(p))
  } catch {
    return error(res, 400, 'InvalidURI', "Couldn't parse the specified URI.", {URI: raw}, head)
  }

  let bucket: string | undefined
  let key: string
  if (hostBucket) {
    bucket = hostBucket
    key = path.join('/')
  } else {
    bucket = path[0] || undefined
    key = path.slice(1).join('/')
  }

  const accessKeyId = /Credential=([^/,\s]+)\//.exec(String(req.headers.authorization ?? ''))?.[1] ?? new URL(req.url ?? '/', 'http://x').searchParams.get('X-Amz-Credential')?.split('/')[0] ?? ''
  const refused = (action: string, resource: string): boolean => {
    const who = authorize?.(accessKeyId, action)
    if (who === undefined) return false
    error(res, 403, 'AccessDenied', `User: ${who} is not authorized to perform: ${action} on resource: "${resource}" because no identity-based policy allows the ${action} action`, {}, head)
    return true
  }

  if (method !== 'GET' && method !== 'HEAD' && !(method === 'PUT' && bucket && key)) {
    if (method === 'PUT') req.resume()
    return error(res, 501, 'NotImplemented', `The kmsctl sandbox's S3 does not implement ${method} here (it serves ListBuckets, ListObjectsV2, GetObject, HeadObject and PutObject).`)
  }

  if (!bucket) {
    if (refused('s3:ListAllMyBuckets', 'arn:aws:s3:::*')) return
    const owner = `<Owner><ID>${createHash('sha256').update(SANDBOX_ACCOUNT).digest('hex')}</ID><DisplayName>sandbox</DisplayName></Owner>`
    const buckets = listBuckets(mounts)
      .map((b) => `<Bucket><Name>${xml(b.name)}</Name><CreationDate>${b.created.toISOString()}</CreationDate></Bucket>`)
      .join('')
    return send(res, 200, `<?xml version="1.0" encoding="UTF-8"?>\n<ListAllMyBucketsResult xmlns="${NS}">${owner}<Buckets>${buckets}</Buckets></ListAllMyBucketsResult>`, {}, head)
  }

  const dir = bucketDir(mounts, bucket)
  if (!dir) return error(res, 404, 'NoSuchBucket', 'The specified bucket does not exist', {BucketName: bucket}, head)
  if (key === '') {
    if (refused('s3:ListBucket', `arn:aws:s3:::${bucket}`)) return
    if (head) return send(res, 200, '', {'x-amz-bucket-region': 'us-east-1'}, true)
    if (url.searchParams.has('location')) return send(res, 200, `<?xml version="1.0" encoding="UTF-8"?>\n<LocationConstraint xmlns="${NS}"/>`)
    if (url.searchParams.get('list-type') === '2') return listObjectsV2(res, bucket, dir, url.searchParams)
    return error(res, 501, 'NotImplemented', 'The kmsctl sandbox implements ListObjectsV2 (list-type=2) only.')
  }

  const region = CREDENTIAL_REGION.exec(String(req.headers.authorization ?? ''))?.[1] ?? 'us-east-1'
  const token = req.headers['x-amz-security-token']
  const env: S3Env = {caller: {accessKeyId, region, ...(typeof token === 'string' ? {sessionToken: token} : {})}, kms}
  const failed = () => {
    if (!res.headersSent) error(res, 500, 'InternalError', 'We encountered an internal error. Please try again.', {}, head)
  }

  if (method === 'PUT') {
    if (refused('s3:PutObject', `arn:aws:s3:::${bucket}/${key}`)) {
      req.resume()
      return
    }

    putObject(req, res, env, bucket, dir, key).catch(failed)
    return
  }

  if (refused('s3:GetObject', `arn:aws:s3:::${bucket}/${key}`)) return
  getObject(req, res, env, dir, key, head).catch(failed)
}

const CREDENTIAL_REGION = /Credential=[^/,\s]+\/\d{8}\/([^/]+)\//

/**
 * S3's SigV4 signature check: the canonical request from the path as sent (S3 does not encode it
 * twice), the sorted query, the signed headers and the declared payload hash; the string to sign
 * HMAC'd with the day's cached signing key (src/lib/aws/sigv4.ts, node:crypto directly: it runs on
 * every GetObject, and the generic signer cost several times as much).
 */
export async function s3SignatureMatches(req: Pick<IncomingMessage, 'headers' | 'method' | 'url'>, secretAccessKey: string): Promise<boolean> {
  const auth = parseAuthorization(String(req.headers.authorization ?? ''))
  const amzDate = String(req.headers['x-amz-date'] ?? '')
  if (!auth || !/^\d{8}T\d{6}Z$/.test(amzDate) || !auth.signedHeaders.includes('host')) return false
  const raw = req.url ?? '/'
  const q = raw.indexOf('?')
  const headers: Record<string, string> = {}
  for (const name of auth.signedHeaders) {
    const value = req.headers[name]
    headers[name] = Array.isArray(value) ? value.join(',') : String(value ?? '')
  }

  const expected = signature(
    {
      headers,
      method: req.method ?? 'GET',
      path: q === -1 ? raw : raw.slice(0, q),
      payloadHash: String(req.headers['x-amz-content-sha256'] ?? 'UNSIGNED-PAYLOAD'),
      query: q === -1 ? '' : canonicalQuery([...new URLSearchParams(raw.slice(q + 1))]),
    },
    secretAccessKey,
    amzDate,
    auth.region,
    auth.service,
  )
  return expected.signature === auth.signature
}

/** Answers S3's refusal of a request that is not signed, or not signed with the access key's secret. */
export function refuseS3(res: ServerResponse, code: 'AccessDenied' | 'SignatureDoesNotMatch', message: string, head: boolean): void {
  error(res, 403, code, message, {}, head)
}
