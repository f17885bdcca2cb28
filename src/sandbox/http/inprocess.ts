// The in-process sandbox: a Smithy HttpHandler for the AWS SDK clients under --sandbox, so that the real
// SDK serialisation and signing run and no port is opened. One core per state directory per process.
import {PassThrough, Readable} from 'node:stream'

import {HttpResponse, type HttpHandler, type HttpRequest} from '@smithy/protocol-http'

import {SandboxCore} from '../core.js'
import {isS3Request, refuseS3, serveS3} from '../s3/service.js'

export interface InProcessOptions {
  dir: string
}

const cores = new Map<string, SandboxCore>()

export function sandboxCoreFor(dir: string): SandboxCore {
  let core = cores.get(dir)
  if (!core) {
    // Principals, policy and grant enforcement, and the quotas and faults of the directory's config.json.
    core = new SandboxCore(dir)
    cores.set(dir, core)
  }

  return core
}

async function bodyText(body: unknown): Promise<string> {
  if (body === undefined || body === null) return ''
  if (typeof body === 'string') return body
  // Not Buffer.from(body): the SDK's JSON body adapter warns when its valueOf() is called.
  if (body instanceof Uint8Array) return Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8')
  if (typeof (body as AsyncIterable<unknown>)[Symbol.asyncIterator] === 'function') {
    const chunks: Buffer[] = []
    for await (const c of body as AsyncIterable<Buffer | string>) chunks.push(typeof c === 'string' ? Buffer.from(c) : Buffer.from(c))
    return Buffer.concat(chunks).toString('utf8')
  }

  return String(body)
}

/** A request body's bytes (PutObject), whatever form the SDK gave it in. */
async function bodyBytes(body: unknown): Promise<Buffer> {
  if (body === undefined || body === null) return Buffer.alloc(0)
  if (typeof body === 'string') return Buffer.from(body)
  if (body instanceof Uint8Array) return Buffer.from(body.buffer, body.byteOffset, body.byteLength)
  const chunks: Buffer[] = []
  for await (const c of body as AsyncIterable<Buffer | string>) chunks.push(typeof c === 'string' ? Buffer.from(c) : Buffer.from(c))
  return Buffer.concat(chunks)
}

function s3Url(request: HttpRequest): string {
  const query = Object.entries(request.query ?? {})
    .flatMap(([k, v]) => (Array.isArray(v) ? v : [v]).map((x) => (x === null || x === undefined ? encodeURIComponent(k) : `${encodeURIComponent(k)}=${encodeURIComponent(x)}`)))
    .join('&')
  return `${request.path ?? '/'}${query ? `?${query}` : ''}`
}

async function s3InProcess(core: SandboxCore, request: HttpRequest, headers: Record<string, string | undefined>): Promise<HttpResponse> {
  const body = new PassThrough()
  const head = new Promise<{headers: Record<string, string>; status: number}>((resolve) => {
    Object.assign(body, {
      writeHead(status: number, h: Record<string, string>) {
        resolve({headers: h, status})
        return body
      },
    })
  })
  const payload = request.method === 'PUT' ? [await bodyBytes(request.body)] : []
  const req = Object.assign(Readable.from(payload), {headers: {...headers, host: headers.host ?? request.hostname}, method: request.method, url: s3Url(request)})
  const refusal = await core.s3Refusal(req)
  if (refusal) refuseS3(body as never, refusal.code, refusal.message, request.method === 'HEAD')
  else serveS3(req as never, body as never, core.buckets, core.authorizeS3, (caller, operation, input) => core.kmsForS3(caller, operation, input))
  const {headers: out, status} = await head
  return new HttpResponse({body, headers: out, reason: undefined, statusCode: status})
}

export async function createSandboxRequestHandler({dir}: InProcessOptions): Promise<HttpHandler> {
  return handlerForCore(sandboxCoreFor(dir))
}

/** An SDK request handler over a given core. */
export function handlerForCore(core: SandboxCore): HttpHandler {
  const handler = {
    destroy() {},
    async handle(request: HttpRequest) {
      const headers: Record<string, string | undefined> = {}
      for (const [k, v] of Object.entries(request.headers ?? {})) headers[k.toLowerCase()] = v
      // A dropped connection, as the SDK sees one (a transient network error it retries).
      if (core.limits.dropConnection()) throw Object.assign(new Error('socket hang up'), {code: 'ECONNRESET'})
      // S3 (REST-XML): the same handler as over HTTP, answering into a stream the SDK reads as the body.
      if (isS3Request({headers, method: request.method, url: s3Url(request)})) return {response: await s3InProcess(core, request, headers)}
      const query = (request.query ?? {}) as Record<string, string | string[]>
      const out = await core.handle({body: await bodyText(request.body), headers, method: request.method, path: request.path, query, sourceIp: '127.0.0.1'})
      return {response: new HttpResponse({body: Buffer.from(out.body, 'utf8'), headers: out.headers, reason: undefined, statusCode: out.status})}
    },
    httpHandlerConfigs() {
      return {}
    },
    updateHttpClientConfig() {},
  }
  return handler as unknown as HttpHandler
}
