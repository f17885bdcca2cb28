// The one request core of the sandbox, shared by the in-process handler and the HTTP server: who is
// calling (identity/), which registered service and operation the request is for (services.ts), then
// the service runs it -> {status, headers, body}. Limits and faults (limits/) and authorization
// (authorization/) apply to every request.
import {randomUUID} from 'node:crypto'

import {SANDBOX_REGION} from './constants.js'
import {SandboxError, err, internalError} from './errors.js'
import {errorResponse} from './http/protocol.js'
import {parseAuthorization, readAuthorization, signatureMatches, signatureMismatch} from './identity/authenticate.js'
import {sessionCaller, sessionSecretOf} from './identity/sessions.js'
import {PrincipalDirectory, iamAllows} from './identity/principals.js'
import {Limits, type LimitsOptions} from './limits/limits.js'
import type {CredentialScope, RequestContext, SandboxRequest, SandboxResponse, SandboxService} from './request.js'
import {type BucketMounts, bucketMounts} from './s3/buckets.js'
import {userIdentity} from './cloudtrail/records.js'
import {kmsService} from './kms/service.js'
import {s3SignatureMatches} from './s3/service.js'
import {SERVICES} from './services.js'
import {OrganizationSource} from './organizations/model.js'
import {SandboxStore, type StoreOptions} from './store/store.js'

export type {SandboxRequest, SandboxResponse} from './request.js'

/** The access key, region and service of the request's SigV4 credential scope (what is known before it is checked). */
export function credentialScope(req: SandboxRequest): CredentialScope {
  const auth = parseAuthorization(req.headers.authorization)
  return {accessKeyId: auth?.accessKeyId ?? '', region: auth?.region ?? SANDBOX_REGION, service: auth?.service}
}

/** The registered service a request is for, and the operation it asks. */
export function route(req: SandboxRequest, scope: CredentialScope): {operation: string; service: SandboxService} | undefined {
  for (const service of SERVICES) {
    const operation = service.operationOf(req, scope)
    if (operation !== undefined) return {operation, service}
  }

  return undefined
}

export interface CoreOptions extends StoreOptions, LimitsOptions {
  /** Directories mounted as S3 buckets (name, directory), besides the folders of <dir>/s3. */
  buckets?: Array<[string, string]>
  /** The Host headers to answer (the HTTP server keeps to loopback names); every Host when absent. */
  allowHost?: (host: string | undefined) => boolean
}

const S3_SERVICE_HOST = 's3.amazonaws.com'

export type KmsForS3Result = {code: string; message: string; ok: false} | {ok: true; output: Record<string, unknown>}

export class SandboxCore {
  readonly buckets: BucketMounts
  readonly limits: Limits
  /** The sandbox organisation (organization.json): accounts, their roles and regions, the session secret. */
  readonly organization: OrganizationSource
  readonly principals: PrincipalDirectory
  readonly store: SandboxStore
  private readonly allowHost?: (host: string | undefined) => boolean

  constructor(dir: string, options: CoreOptions = {}) {
    this.allowHost = options.allowHost
    this.store = new SandboxStore(dir, options)
    this.principals = new PrincipalDirectory(dir)
    this.organization = new OrganizationSource(dir)
    this.limits = new Limits(dir, options)
    this.buckets = bucketMounts(dir, options.buckets)
  }

  close(): void {
    this.store.close()
  }

  /** The Host check of every request (DNS rebinding), for S3 also bucket.localhost (virtual-host style). */
  hostAllowed(host: string | undefined): boolean {
    if (!this.allowHost || this.allowHost(host)) return true
    const m = /^[a-z0-9.-]+\.(localhost(?::\d+)?)$/i.exec(host ?? '')
    return Boolean(m) && this.allowHost(m![1])
  }

  /**
   * S3's signature check, as for every other service: a request must be SigV4-signed, and where the
   * sandbox knows the access key's secret the signature must match. Undefined when admitted.
   */
  async s3Refusal(req: {headers: Record<string, string | string[] | undefined>; method?: string; url?: string}): Promise<{code: 'AccessDenied' | 'SignatureDoesNotMatch'; message: string} | undefined> {
    const auth = parseAuthorization(String(req.headers.authorization ?? ''))
    if (!auth) return {code: 'AccessDenied', message: 'Access Denied: the request is not signed with AWS Signature Version 4 (presigned URLs are not supported by the sandbox).'}
    const secret = this.principals.secretOf(auth.accessKeyId)
    if (secret === undefined) return undefined
    if (await s3SignatureMatches(req as never, secret)) return undefined
    return {code: 'SignatureDoesNotMatch', message: 'The request signature we calculated does not match the signature you provided. Check your key and signing method.'}
  }

  /** S3's check of the caller's IAM policies: undefined when allowed, else the caller's ARN. */
  readonly authorizeS3 = (accessKeyId: string, action: string): string | undefined => {
    const caller = this.principals.resolve(accessKeyId)
    if (caller.isDefault || caller.principal.type === 'Root' || iamAllows(caller.iamAllow, action)) return undefined
    return caller.principal.arn
  }

  /**
   * A KMS call S3 makes on a caller's behalf (SSE-KMS: GenerateDataKey when an object is written,
   * Decrypt when it is read): authorized as the caller, through s3.<region>.amazonaws.com
   * (kms:ViaService), and recorded in CloudTrail as AWS writes it: the caller's identity with
   * invokedBy s3.amazonaws.com, sourceIPAddress and userAgent s3.amazonaws.com.
   */
  async kmsForS3(who: {accessKeyId: string; region: string; sessionToken?: string}, operation: 'Decrypt' | 'GenerateDataKey', input: Record<string, unknown>): Promise<KmsForS3Result> {
    const session = sessionCaller(this.organization.current(), who.sessionToken, who.accessKeyId, 'kms', this.store.clock.nowMs())
    const resolved = session ?? this.principals.resolve(who.accessKeyId)
    const principal = {...resolved.principal, trailIdentity: {...userIdentity(resolved.principal), invokedBy: S3_SERVICE_HOST}}
    const caller = {...resolved, principal, viaService: `s3.${who.region}.amazonaws.com`}
    const ctx: RequestContext = {
      accessKeyId: who.accessKeyId,
      action: `kms:${operation}`,
      caller,
      operation,
      principal,
      region: who.region,
      requestId: randomUUID(),
      service: 'kms',
      sourceIp: S3_SERVICE_HOST,
      userAgent: S3_SERVICE_HOST,
    }
    const res = await kmsService.handle(ctx, {body: JSON.stringify(input), headers: {}, sourceIp: S3_SERVICE_HOST}, this)
    const body = JSON.parse(res.body || '{}') as Record<string, unknown>
    if (res.status === 200) return {ok: true, output: body}
    return {code: String(body.__type ?? 'KMSInternalException').split('#').pop()!, message: String(body.message ?? body.Message ?? ''), ok: false}
  }

  async handle(req: SandboxRequest): Promise<SandboxResponse> {
    const requestId = randomUUID()
    const routed = route(req, credentialScope(req))
    const protocol = routed?.service.protocol ?? 'json'
    try {
      if (this.allowHost && !this.allowHost(req.headers.host)) {
        throw err(
          'AccessDeniedException',
          `The sandbox answers requests to 127.0.0.1, localhost or [::1] only, not to Host "${req.headers.host ?? ''}" (a guard against DNS rebinding). Start it with --allow-remote to answer other names.`,
          403,
        )
      }

      // Every request is signed; the signature is checked wherever the sandbox knows the secret.
      const auth = readAuthorization(req)
      const token = req.headers['x-amz-security-token']
      const secret = sessionSecretOf(this.organization.current(), token, auth.accessKeyId) ?? this.principals.secretOf(auth.accessKeyId)
      if (secret !== undefined && !(await signatureMatches(req, auth, secret))) throw signatureMismatch()
      if (!routed) {
        const target = req.headers['x-amz-target'] ?? ''
        throw err('UnknownOperationException', `The sandbox does not know the operation "${target || '(no X-Amz-Target)'}".`)
      }

      const {operation, service} = routed
      // Temporary credentials of an assumed role act as its session; other keys as the principals map says.
      const session = sessionCaller(this.organization.current(), token, auth.accessKeyId, service.name, this.store.clock.nowMs())
      const caller = session ?? this.principals.resolve(auth.accessKeyId)
      const ctx: RequestContext = {
        accessKeyId: auth.accessKeyId,
        action: `${service.name}:${operation}`,
        caller,
        operation,
        principal: caller.principal,
        region: auth.region,
        requestId,
        service: service.name,
        sourceIp: req.sourceIp,
        userAgent: req.headers['user-agent'] ?? '',
      }
      return await service.handle(ctx, req, this)
    } catch (error) {
      const e = error instanceof SandboxError ? error : internalError()
      return routed?.service.errorResponse?.(requestId, e) ?? errorResponse(protocol, requestId, e)
    }
  }
}
