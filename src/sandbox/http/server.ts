// The sandbox over HTTP (`kmsctl sandbox serve`): any AWS client with --endpoint-url works against it.
import {type IncomingMessage, type Server, type ServerResponse, createServer} from 'node:http'
import type {AddressInfo} from 'node:net'

import ipaddr from 'ipaddr.js'

import {SandboxCore} from '../core.js'
import {isS3Request, refuseS3, serveS3} from '../s3/service.js'
import type {LimitsOptions} from '../limits/limits.js'

const MAX_BODY_BYTES = 1024 * 1024

export interface RunningServer {
  close(): Promise<void>
  core: SandboxCore
  port: number
  server: Server
  url: string
}

/** True for 127.0.0.0/8, ::1, localhost and IPv4-mapped loopback. */
export function isLoopbackHost(host: string): boolean {
  if (host === 'localhost') return true
  const h = host.replace(/^\[|\]$/g, '')
  if (!ipaddr.isValid(h)) return false
  let addr = ipaddr.parse(h)
  if (addr.kind() === 'ipv6' && (addr as ipaddr.IPv6).isIPv4MappedAddress()) addr = (addr as ipaddr.IPv6).toIPv4Address()
  return addr.range() === 'loopback'
}

function requestUrl(raw: string | undefined): URL {
  try {
    return new URL(raw ?? '/', 'http://sandbox.invalid')
  } catch {
    return new URL('/', 'http://sandbox.invalid')
  }
}

/** A Host header naming 127.0.0.1, localhost or [::1], with this port when it has one. */
export function isLoopbackHostHeader(host: string | undefined, port: number): boolean {
  if (!host) return false
  const m = /^(127\.0\.0\.1|localhost|\[::1\])(?::(\d+))?$/i.exec(host.trim())
  return Boolean(m) && (m![2] === undefined || Number(m![2]) === port)
}

function clientIp(req: IncomingMessage): string {
  const ip = req.socket.remoteAddress ?? '127.0.0.1'
  return ip.startsWith('::ffff:') ? ip.slice(7) : ip
}

export interface ServerOptions {
  /** Directories served as S3 buckets: [name, directory]. */
  buckets?: Array<[string, string]>
  /** Answer any Host header (the server is reachable under other names); loopback names only by default. */
  allowRemote?: boolean
  dir: string
  host: string
  /** Limits and faults: the `sandbox serve` flags, which win over the directory's config.json. */
  limits?: LimitsOptions
  port: number
}

export async function startHttpServer(options: ServerOptions): Promise<RunningServer> {
  let port = 0
  // DNS rebinding: a web page can make a browser send requests to 127.0.0.1 under its own name; the
  // sandbox answers only requests addressed to a loopback name and its own port.
  const allowHost = options.allowRemote ? undefined : (host: string | undefined) => isLoopbackHostHeader(host, port)
  const core = new SandboxCore(options.dir, {...options.limits, allowHost, batchEvents: true, buckets: options.buckets})
  const server = createServer({keepAlive: true}, (req: IncomingMessage, res: ServerResponse) => {
    // S3 (REST-XML) answers from the request line and headers, and streams object bodies.
    if (isS3Request(req)) {
      if (core.limits.dropConnection()) {
        req.socket.destroy()
        return
      }

      if (!core.hostAllowed(req.headers.host)) {
        req.resume()
        const body = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>AccessDenied</Code><Message>The sandbox answers requests to 127.0.0.1, localhost or [::1] only (a guard against DNS rebinding). Start it with --allow-remote to answer other names.</Message></Error>`
        res.writeHead(403, {'content-length': String(Buffer.byteLength(body)), 'content-type': 'application/xml'})
        res.end(body)
        return
      }

      core.s3Refusal(req).then(
        (refusal) => {
          if (refusal) {
            req.resume()
            refuseS3(res, refusal.code, refusal.message, req.method === 'HEAD')
          } else {
            serveS3(req, res, core.buckets, core.authorizeS3, (caller, operation, input) => core.kmsForS3(caller, operation, input))
          }
        },
        () => {
          res.writeHead(500)
          res.end()
        },
      )
      return
    }

    const chunks: Buffer[] = []
    let size = 0
    let tooLarge = false
    req.on('data', (c: Buffer) => {
      if (tooLarge) return
      size += c.length
      // No KMS request comes near this; a larger body is refused rather than buffered.
      if (size > MAX_BODY_BYTES) {
        tooLarge = true
        res.writeHead(413, {connection: 'close', 'content-type': 'application/x-amz-json-1.1'})
        res.end('{"__type":"SerializationException","message":"The request body is too large."}')
        req.destroy()
        return
      }

      chunks.push(c)
    })
    req.on('end', () => {
      if (tooLarge) return
      // --drop-rate: the connection is closed without an answer.
      if (core.limits.dropConnection()) {
        req.socket.destroy()
        return
      }

      const headers: Record<string, string | undefined> = {}
      for (const [k, v] of Object.entries(req.headers)) headers[k] = Array.isArray(v) ? v.join(',') : v
      const url = requestUrl(req.url)
      const query: Record<string, string | string[]> = {}
      for (const [k, v] of url.searchParams) {
        const had = query[k]
        query[k] = had === undefined ? v : [...(Array.isArray(had) ? had : [had]), v]
      }

      core
        .handle({body: Buffer.concat(chunks).toString('utf8'), headers, method: req.method, path: url.pathname, query, sourceIp: clientIp(req)})
        .then((out) => {
          res.writeHead(out.status, {...out.headers, 'content-length': Buffer.byteLength(out.body)})
          res.end(out.body)
        })
        .catch(() => {
          res.writeHead(500, {'content-type': 'application/x-amz-json-1.1'})
          res.end('{"__type":"KMSInternalException","message":"Internal error."}')
        })
    })
  })
  server.keepAliveTimeout = 30_000
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(options.port, options.host, () => {
      server.off('error', reject)
      resolve()
    })
  })
  port = (server.address() as AddressInfo).port
  const hostForUrl = options.host.includes(':') ? `[${options.host}]` : options.host
  return {
    async close() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      })
      core.close()
    },
    core,
    port,
    server,
    url: `http://${hostForUrl}:${port}`,
  }
}
