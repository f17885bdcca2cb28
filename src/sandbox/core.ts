// The one request core of the sandbox, shared by the in-process handler and the HTTP server:
// parse (service, operation, body, access key, source IP, user agent) -> execute -> {status, headers, body}.
// KMS and CloudTrail speak AWS JSON 1.1; STS GetCallerIdentity speaks the query protocol and answers XML.
import {randomUUID} from 'node:crypto'

import {SANDBOX_REGION} from './constants.js'
import {SandboxError, err, internalError} from './errors.js'
import {type RequestContext, type SandboxHooks, defaultHooks} from './hooks.js'
import {NeedsWrite, type OpContext} from './kms/context.js'
import {KMS_OPERATIONS, maintain, nextMaintenance} from './kms/operations.js'
import {resolvePrincipal} from './principals.js'
import type {SandboxState} from './state.js'
import {SandboxStore, type StoreOptions} from './store.js'
import {kmsRecords, lookupEvents} from './trail.js'
import {OrganizationSource} from './organizations/model.js'
import {ORGANIZATIONS_OPERATIONS, ORGANIZATIONS_TARGET_PREFIX, listRegions} from './organizations/operations.js'
import {type AssumeRoleInput, assumeRole, assumeRoleRecords, assumeRoleXml, stsErrorXml} from './sts/assume-role.js'
import {sessionCaller} from './sts/sessions.js'

export const KMS_TARGET_PREFIX = 'TrentService.'
export const CLOUDTRAIL_TARGET_PREFIX = 'com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.'
/** Newer SDKs send the short form. */
export const CLOUDTRAIL_SHORT_TARGET_PREFIX = 'CloudTrail_20131101.'

export interface SandboxRequest {
  body: string
  /** Header names in lower case. */
  headers: Record<string, string | undefined>
  /** HTTP method and path (REST services: account:ListRegions is POST /listRegions). */
  method?: string
  path?: string
  sourceIp: string
}

export interface SandboxResponse {
  body: string
  headers: Record<string, string>
  status: number
}

export interface ParsedRequest {
  accessKeyId: string
  operation: string
  region: string
  service: 'account' | 'cloudtrail' | 'kms' | 'organizations' | 'sts' | 'unknown'
}

const CREDENTIAL = /Credential=([^/,\s]+)\/\d{8}\/([^/]+)\/([^/]+)\/aws4_request/

/** Service, operation, access key and region from the headers (and, for STS, the form body). */
export function parseRequest(req: SandboxRequest): ParsedRequest {
  const auth = req.headers.authorization ?? ''
  const cred = CREDENTIAL.exec(auth)
  const accessKeyId = cred?.[1] ?? ''
  const region = cred?.[2] ?? SANDBOX_REGION
  const scopeService = cred?.[3]
  const target = req.headers['x-amz-target'] ?? ''
  if (target.startsWith(KMS_TARGET_PREFIX)) return {accessKeyId, operation: target.slice(KMS_TARGET_PREFIX.length), region, service: 'kms'}
  if (target.startsWith(CLOUDTRAIL_TARGET_PREFIX)) return {accessKeyId, operation: target.slice(CLOUDTRAIL_TARGET_PREFIX.length), region, service: 'cloudtrail'}
  if (target.startsWith(CLOUDTRAIL_SHORT_TARGET_PREFIX)) {
    return {accessKeyId, operation: target.slice(CLOUDTRAIL_SHORT_TARGET_PREFIX.length), region, service: 'cloudtrail'}
  }
  if (target.startsWith(ORGANIZATIONS_TARGET_PREFIX)) {
    return {accessKeyId, operation: target.slice(ORGANIZATIONS_TARGET_PREFIX.length), region, service: 'organizations'}
  }

  const path = (req.path ?? '').split('?')[0]
  if (!target && (scopeService === 'account' || path === '/listRegions')) {
    const operation = path === '/listRegions' ? 'ListRegions' : path.replace(/^\//, '')
    return {accessKeyId, operation, region, service: 'account'}
  }

  const contentType = req.headers['content-type'] ?? ''
  if (!target && (scopeService === 'sts' || contentType.startsWith('application/x-www-form-urlencoded'))) {
    const action = new URLSearchParams(req.body).get('Action') ?? ''
    return {accessKeyId, operation: action, region, service: 'sts'}
  }

  return {accessKeyId, operation: target, region, service: 'unknown'}
}

export interface CoreOptions extends StoreOptions {
  hooks?: SandboxHooks
}

export class SandboxCore {
  readonly hooks: SandboxHooks
  /** The sandbox organisation (organization.json): accounts, roles, session secret. */
  readonly organization: OrganizationSource
  readonly store: SandboxStore
  private due = {at: 0, generation: -1}

  constructor(dir: string, options: CoreOptions = {}) {
    this.store = new SandboxStore(dir, options)
    this.hooks = options.hooks ?? defaultHooks
    this.organization = new OrganizationSource(dir)
  }

  close(): void {
    this.store.close()
  }

  async handle(req: SandboxRequest): Promise<SandboxResponse> {
    const requestId = randomUUID()
    const parsed = parseRequest(req)
    try {
      // Temporary credentials of an assumed role act as its session; others as the principals map says.
      const service = parsed.service === 'unknown' ? 'kms' : parsed.service
      const session = sessionCaller(this.organization.current(), req.headers['x-amz-security-token'], parsed.accessKeyId, service, this.store.clock.nowMs())
      const ctx: RequestContext = {
        accessKeyId: parsed.accessKeyId,
        action: `${service === 'account' ? 'account' : service}:${parsed.operation}`,
        operation: parsed.operation,
        principal: session?.principal ?? this.hooks.resolvePrincipal?.(parsed.accessKeyId) ?? resolvePrincipal(parsed.accessKeyId),
        region: parsed.region,
        requestId,
        service,
        ...(session ? {session} : {}),
        sourceIp: req.sourceIp,
        userAgent: req.headers['user-agent'] ?? '',
      }
      switch (parsed.service) {
        case 'kms': {
          return await this.kms(ctx, req.body)
        }

        case 'cloudtrail': {
          return await this.cloudtrail(ctx, req.body)
        }

        case 'sts': {
          return await this.sts(ctx, req.body)
        }

        case 'organizations': {
          return await this.organizations(ctx, req.body)
        }

        case 'account': {
          return await this.account(ctx, req.body)
        }

        default: {
          return jsonError(requestId, err('UnknownOperationException', `The sandbox does not know the operation "${parsed.operation || '(no X-Amz-Target)'}".`))
        }
      }
    } catch (error) {
      const e = error instanceof SandboxError ? error : internalError()
      if (parsed.service === 'sts') return xmlError(requestId, e)
      if (parsed.service === 'account') return restJsonError(requestId, e)
      return jsonError(requestId, e)
    }
  }

  /** account:ListRegions (REST-JSON). */
  private async account(ctx: RequestContext, body: string): Promise<SandboxResponse> {
    await this.hooks.beforeExecute(ctx)
    if (ctx.operation !== 'ListRegions') {
      return restJsonError(ctx.requestId, err('ResourceNotFoundException', `The kmsctl sandbox implements account:ListRegions only, not ${ctx.operation || '(no operation)'}.`, 404))
    }

    const out = listRegions(this.organization.current(), ctx.principal.accountId, parseJson(body))
    return {body: JSON.stringify(out), headers: {'content-type': 'application/json', 'x-amzn-requestid': ctx.requestId}, status: 200}
  }

  /** Organizations ListAccounts and DescribeOrganization (JSON 1.1). */
  private async organizations(ctx: RequestContext, body: string): Promise<SandboxResponse> {
    await this.hooks.beforeExecute(ctx)
    const op = ORGANIZATIONS_OPERATIONS[ctx.operation]
    if (!op) throw err('UnsupportedAPIEndpointException', `The kmsctl sandbox implements Organizations ListAccounts and DescribeOrganization only, not ${ctx.operation}.`)
    return jsonOk(ctx.requestId, op.run(this.organization.current(), ctx.principal.accountId, parseJson(body)))
  }

  private async cloudtrail(ctx: RequestContext, body: string): Promise<SandboxResponse> {
    const input = parseJson(body)
    await this.hooks.beforeExecute(ctx)
    if (ctx.operation !== 'LookupEvents') {
      throw err('UnsupportedOperationException', `The kmsctl sandbox implements CloudTrail LookupEvents only, not ${ctx.operation}.`)
    }

    const out = lookupEvents(this.store.readEvents(), input, ctx.region, this.store.clock.nowMs(), ctx.principal.accountId)
    return jsonOk(ctx.requestId, out)
  }

  private async kms(ctx: RequestContext, body: string): Promise<SandboxResponse> {
    const spec = KMS_OPERATIONS[ctx.operation]
    if (!spec) throw err('UnknownOperationException', `The kmsctl sandbox does not implement ${ctx.operation}.`)
    let input: Record<string, any> = {}
    const opCtx: OpContext = {
      ...ctx,
      clock: this.store.clock,
      events: () => this.store.readEvents(),
      hooks: this.hooks,
      resources: [],
      responseElements: null,
      state: undefined as never,
      write: false,
    }
    let result: Record<string, unknown> | undefined
    let failure: SandboxError | undefined
    try {
      input = parseJson(body)
      await this.hooks.beforeExecute(ctx)
      result = await this.execute(spec, input, opCtx)
    } catch (error) {
      failure = error instanceof SandboxError ? error : internalError()
      if (!(error instanceof SandboxError) && process.env.KMSCTL_SANDBOX_DEBUG) process.stderr.write(`${(error as Error)?.stack}\n`)
    }

    this.store.appendEvents(
      kmsRecords({
        errorCode: failure?.type,
        errorMessage: failure?.message,
        eventTimeMs: this.store.clock.nowMs(),
        operation: ctx.operation,
        principal: ctx.principal,
        readOnly: spec.readOnly,
        region: ctx.region,
        requestId: ctx.requestId,
        requestInput: input,
        resources: opCtx.resources,
        responseElements: opCtx.responseElements ?? null,
        sourceIp: ctx.sourceIp,
        userAgent: ctx.userAgent,
      }),
    )
    if (failure) return jsonError(ctx.requestId, failure)
    return jsonOk(ctx.requestId, result!)
  }

  private async execute(spec: (typeof KMS_OPERATIONS)[string], input: Record<string, any>, opCtx: OpContext): Promise<Record<string, unknown>> {
    // One look at the state file per request (a stat; the parse only when it changed).
    let state = this.store.read()
    if (this.maintenanceDueAt(state) <= this.store.clock.nowMs()) {
      await this.store.mutate((s) => maintain(s, this.store.clock.nowMs()))
      state = this.store.read()
    }

    const inWrite = () =>
      this.store.mutate((s) => {
        opCtx.state = s
        opCtx.write = true
        opCtx.resources = []
        opCtx.responseElements = null
        return spec.run(input, opCtx)
      })
    if (spec.mutates) return inWrite()
    opCtx.state = state
    try {
      return spec.run(input, opCtx)
    } catch (error) {
      if (error instanceof NeedsWrite) return inWrite()
      throw error
    }
  }

  /** When the state next needs a time-driven change, computed once per version of the state (O(keys)). */
  private maintenanceDueAt(state: SandboxState): number {
    if (this.due.generation !== this.store.generation) this.due = {at: nextMaintenance(state), generation: this.store.generation}
    return this.due.at
  }

  private async sts(ctx: RequestContext, body: string): Promise<SandboxResponse> {
    await this.hooks.beforeExecute(ctx)
    if (ctx.operation === 'AssumeRole') return this.assumeRole(ctx, body)
    if (ctx.operation !== 'GetCallerIdentity') {
      return xmlError(ctx.requestId, err('InvalidAction', `The kmsctl sandbox implements STS GetCallerIdentity and AssumeRole only, not ${ctx.operation}.`))
    }

    const p = ctx.principal
    const body_ =
      `<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">\n` +
      `  <GetCallerIdentityResult>\n    <Arn>${xml(p.arn)}</Arn>\n    <UserId>${xml(p.principalId)}</UserId>\n    <Account>${p.accountId}</Account>\n  </GetCallerIdentityResult>\n` +
      `  <ResponseMetadata>\n    <RequestId>${ctx.requestId}</RequestId>\n  </ResponseMetadata>\n</GetCallerIdentityResponse>\n`
    return {body: body_, headers: {'content-type': 'text/xml', 'x-amzn-requestid': ctx.requestId}, status: 200}
  }

  /** STS AssumeRole: checks the role and its trust, issues the session, records the call in both accounts. */
  private assumeRole(ctx: RequestContext, body: string): SandboxResponse {
    const form = new URLSearchParams(body)
    const input: AssumeRoleInput = {}
    for (const k of ['RoleArn', 'RoleSessionName', 'ExternalId', 'DurationSeconds', 'Policy', 'SerialNumber', 'TokenCode'] as const) {
      const v = form.get(k)
      if (v !== null) input[k] = v
    }

    const p = ctx.principal
    const resolved = ctx.session ? {iamAllow: ctx.session.iamAllow, isAdministrator: false} : this.callerPermissions(ctx)
    const caller = {accountId: p.accountId, arn: p.arn, iamAllow: resolved.iamAllow, isAdministrator: resolved.isAdministrator, type: p.type}
    const nowMs = this.store.clock.nowMs()
    let failure: SandboxError | undefined
    let outcome: ReturnType<typeof assumeRole> | undefined
    try {
      outcome = assumeRole(this.organization.current(), input, caller, nowMs)
    } catch (error) {
      failure = error instanceof SandboxError ? error : internalError()
    }

    const identity = p.sessionIdentity ?? (p.trailIdentity && p.trailIdentity.type !== 'AWSAccount' ? p.trailIdentity : userIdentityOf(p))
    this.store.appendEvents(
      assumeRoleRecords({
        callerAccount: p.accountId,
        callerIdentity: identity,
        callerPrincipalId: p.principalId,
        errorCode: failure?.type,
        errorMessage: failure?.message,
        eventTimeMs: nowMs,
        input,
        outcome,
        region: ctx.region,
        requestId: ctx.requestId,
        sourceIp: ctx.sourceIp,
        userAgent: ctx.userAgent,
      }),
    )
    if (failure) return xmlError(ctx.requestId, failure)
    return {body: assumeRoleXml(outcome!, ctx.requestId), headers: {'content-type': 'text/xml', 'x-amzn-requestid': ctx.requestId}, status: 200}
  }

  /** What the caller's IAM allows, as far as the sandbox knows (the principals map, through the hooks). */
  private callerPermissions(ctx: RequestContext): {iamAllow: readonly string[]; isAdministrator: boolean} {
    const hooks = this.hooks as SandboxHooks & {principals?: {resolve(id: string): {iamAllow: readonly string[]; isDefault: boolean}}}
    const r = hooks.principals?.resolve(ctx.accessKeyId)
    if (!r) return {iamAllow: ['*'], isAdministrator: true}
    return {iamAllow: r.iamAllow, isAdministrator: r.isDefault}
  }
}

function userIdentityOf(p: RequestContext['principal']): Record<string, unknown> {
  return {accessKeyId: p.accessKeyId, accountId: p.accountId, arn: p.arn, principalId: p.principalId, type: p.type, ...(p.userName ? {userName: p.userName} : {})}
}

function xmlError(requestId: string, e: SandboxError): SandboxResponse {
  return {body: stsErrorXml(e, requestId), headers: {'content-type': 'text/xml', 'x-amzn-requestid': requestId}, status: e.status}
}

/** A REST-JSON error: the type in x-amzn-ErrorType, {"message": ...} in the body. */
function restJsonError(requestId: string, e: SandboxError): SandboxResponse {
  return {
    body: JSON.stringify({message: e.message}),
    headers: {'content-type': 'application/json', 'x-amzn-errortype': e.type, 'x-amzn-requestid': requestId},
    status: e.status === 400 && e.type === 'AccessDeniedException' ? 403 : e.status,
  }
}

function xml(s: string): string {
  return s.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('"', '&quot;')
}

function parseJson(body: string): Record<string, any> {
  if (!body || body.trim() === '') return {}
  let parsed: unknown
  try {
    parsed = JSON.parse(body)
  } catch {
    throw err('SerializationException', 'Start of structure or map found where not expected: the request body is not valid JSON.')
  }

  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw err('SerializationException', 'The request body must be a JSON object.')
  return parsed as Record<string, any>
}

const JSON_TYPE = 'application/x-amz-json-1.1'

function jsonOk(requestId: string, out: Record<string, unknown>): SandboxResponse {
  return {body: JSON.stringify(out), headers: {'content-type': JSON_TYPE, 'x-amzn-requestid': requestId}, status: 200}
}

/** An error exactly as AWS JSON 1.1 services send it: {"__type": ..., "message": ...} plus x-amzn-ErrorType. */
export function jsonError(requestId: string, e: SandboxError): SandboxResponse {
  const body: Record<string, string> = {__type: e.type}
  if (e.message) body.message = e.message
  return {
    body: JSON.stringify(body),
    headers: {'content-type': JSON_TYPE, 'x-amzn-errortype': e.type, 'x-amzn-requestid': requestId},
    status: e.status,
  }
}
