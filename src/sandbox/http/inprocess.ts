// The in-process sandbox: a Smithy HttpHandler for the AWS SDK clients under --sandbox, so that the real
// SDK serialisation and signing run and no port is opened. One core per state directory per process.
import {HttpResponse, type HttpHandler, type HttpRequest} from '@smithy/protocol-http'

import {SandboxCore} from '../core.js'

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
