// What passes between the transports (http/), the request core (core.ts) and the emulated services
// (kms/, cloudtrail/, sts/): a request as received, the answer, and what a service knows of a request.
import type {ResolvedPrincipal, Principal} from './identity/principals.js'
import type {Limits} from './limits/limits.js'
import type {BucketMounts} from './s3/buckets.js'
import type {SandboxStore} from './store/store.js'

export interface SandboxRequest {
  body: string
  /** Header names in lower case. */
  headers: Record<string, string | undefined>
  /** HTTP method (POST when not given). */
  method?: string
  /** The request path without the query (/ when not given). */
  path?: string
  query?: Record<string, string | string[]>
  sourceIp: string
}

export interface SandboxResponse {
  body: string
  headers: Record<string, string>
  status: number
}

/** The SigV4 credential scope of a request: who signed it, for which region and service. */
export interface CredentialScope {
  accessKeyId: string
  region: string
  /** The service named in the scope (e.g. "kms"), if any. */
  service?: string
}

export interface RequestContext {
  accessKeyId: string
  /** e.g. "kms:Decrypt". */
  action: string
  /** Who is calling, with what their IAM policies allow. */
  caller: ResolvedPrincipal
  operation: string
  /** caller.principal. */
  principal: Principal
  region: string
  requestId: string
  /** The service's name, as in IAM actions ("kms", "cloudtrail", "sts"). */
  service: string
  sourceIp: string
  userAgent: string
}

/** The shared parts a service works with. */
export interface ServiceEnvironment {
  /** The S3 buckets (folders) that S3 serves and Athena tables read. */
  buckets: BucketMounts
  limits: Limits
  store: SandboxStore
}

/**
 * One emulated AWS service. The request core asks each registered service (services.ts), in order,
 * whether a request is for it; the first that names an operation handles the request.
 */
export interface SandboxService {
  /** The service's name, as in IAM actions and in the SigV4 credential scope. */
  name: string
  /** How its errors are written: AWS JSON 1.1 or the query protocol's XML. */
  protocol: 'json' | 'query'
  /** The operation this request asks of the service, or undefined when the request is not for it. */
  operationOf(req: SandboxRequest, scope: CredentialScope): string | undefined
  handle(ctx: RequestContext, req: SandboxRequest, env: ServiceEnvironment): Promise<SandboxResponse>
}
