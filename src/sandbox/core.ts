// The one request core of the sandbox, shared by the in-process handler and the HTTP server: who is
// calling (identity/), which registered service and operation the request is for (services.ts), then
// the service runs it -> {status, headers, body}. Limits and faults (limits/) and authorization
// (authorization/) apply to every request.
import {randomUUID} from 'node:crypto'

import {SANDBOX_REGION} from './constants.js'
import {SandboxError, err, internalError} from './errors.js'
import {jsonError} from './http/protocol.js'
import {PrincipalDirectory} from './identity/principals.js'
import {Limits, type LimitsOptions} from './limits/limits.js'
import type {CredentialScope, RequestContext, SandboxRequest, SandboxResponse, SandboxService} from './request.js'
import {SERVICES} from './services.js'
import {SandboxStore, type StoreOptions} from './store/store.js'

export type {SandboxRequest, SandboxResponse} from './request.js'

const CREDENTIAL = /Credential=([^/,\s]+)\/\d{8}\/([^/]+)\/([^/]+)\/aws4_request/

/** The access key, region and service of the request's SigV4 credential scope. */
export function credentialScope(req: SandboxRequest): CredentialScope {
  const cred = CREDENTIAL.exec(req.headers.authorization ?? '')
  return {accessKeyId: cred?.[1] ?? '', region: cred?.[2] ?? SANDBOX_REGION, service: cred?.[3]}
}

/** The registered service a request is for, and the operation it asks. */
export function route(req: SandboxRequest, scope: CredentialScope, services: readonly SandboxService[] = SERVICES): {operation: string; service: SandboxService} | undefined {
  for (const service of services) {
    const operation = service.operationOf(req, scope)
    if (operation !== undefined) return {operation, service}
  }

  return undefined
}

export interface CoreOptions extends StoreOptions, LimitsOptions {}

export class SandboxCore {
  readonly limits: Limits
  readonly principals: PrincipalDirectory
  readonly store: SandboxStore

  constructor(dir: string, options: CoreOptions = {}) {
    this.store = new SandboxStore(dir, options)
    this.principals = new PrincipalDirectory(dir)
    this.limits = new Limits(dir, options)
  }

  close(): void {
    this.store.close()
  }

  async handle(req: SandboxRequest): Promise<SandboxResponse> {
    const requestId = randomUUID()
    const scope = credentialScope(req)
    try {
      const routed = route(req, scope)
      if (!routed) {
        const target = req.headers['x-amz-target'] ?? ''
        return jsonError(requestId, err('UnknownOperationException', `The sandbox does not know the operation "${target || '(no X-Amz-Target)'}".`))
      }

      const {operation, service} = routed
      const caller = this.principals.resolve(scope.accessKeyId)
      const ctx: RequestContext = {
        accessKeyId: scope.accessKeyId,
        action: `${service.name}:${operation}`,
        caller,
        operation,
        principal: caller.principal,
        region: scope.region,
        requestId,
        service: service.name,
        sourceIp: req.sourceIp,
        userAgent: req.headers['user-agent'] ?? '',
      }
      return await service.handle(ctx, req, this)
    } catch (error) {
      return jsonError(requestId, error instanceof SandboxError ? error : internalError())
    }
  }
}
