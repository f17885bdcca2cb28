// STS in the sandbox (query protocol, XML answers): GetCallerIdentity, answered for the principal
// behind the request's access key (or session), and AssumeRole into the roles of the sandbox
// organisation's accounts (assume-role.ts), recorded in CloudTrail in both accounts.
import {SandboxError, internalError} from '../errors.js'
import {xml, xmlError} from '../http/protocol.js'
import {fullIdentity} from '../cloudtrail/records.js'
import type {RequestContext, SandboxResponse, SandboxService, ServiceEnvironment} from '../request.js'
import {type AssumeRoleInput, assumeRole, assumeRoleRecords, assumeRoleXml} from './assume-role.js'

const OPERATIONS: Record<string, true> = {AssumeRole: true, GetCallerIdentity: true}
const ASSUME_ROLE_MEMBERS = ['RoleArn', 'RoleSessionName', 'ExternalId', 'DurationSeconds', 'Policy', 'SerialNumber', 'TokenCode'] as const

function assume(ctx: RequestContext, body: string, env: ServiceEnvironment): SandboxResponse {
  const form = new URLSearchParams(body)
  const input: AssumeRoleInput = {}
  for (const k of ASSUME_ROLE_MEMBERS) {
    const v = form.get(k)
    if (v !== null) input[k] = v
  }

  const p = ctx.principal
  const caller = {accountId: p.accountId, arn: p.arn, iamAllow: ctx.caller.iamAllow, isAdministrator: ctx.caller.isDefault, type: p.type}
  const nowMs = env.store.clock.nowMs()
  let failure: SandboxError | undefined
  let outcome: ReturnType<typeof assumeRole> | undefined
  try {
    outcome = assumeRole(env.organization.current(), input, caller, nowMs)
  } catch (error) {
    failure = error instanceof SandboxError ? error : internalError()
  }

  env.store.appendEvents(
    assumeRoleRecords({
      callerAccount: p.accountId,
      callerIdentity: fullIdentity(p),
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
  if (failure) return xmlError(ctx.requestId, failure.type, failure.message, failure.status, failure.status >= 500 ? 'Receiver' : 'Sender')
  return {body: assumeRoleXml(outcome!, ctx.requestId), headers: {'content-type': 'text/xml', 'x-amzn-requestid': ctx.requestId}, status: 200}
}

export const stsService: SandboxService = {
  name: 'sts',
  protocol: 'query',
  operationOf(req, scope) {
    if (req.headers['x-amz-target']) return undefined
    const contentType = req.headers['content-type'] ?? ''
    if (scope.service !== 'sts' && !contentType.startsWith('application/x-www-form-urlencoded')) return undefined
    return new URLSearchParams(req.body).get('Action') ?? ''
  },
  async handle(ctx, req, env) {
    await env.limits.admit({account: ctx.principal.accountId, operation: ctx.operation, region: ctx.region, service: 'sts'})
    if (!OPERATIONS[ctx.operation]) {
      return xmlError(ctx.requestId, 'InvalidAction', `The kmsctl sandbox implements STS GetCallerIdentity and AssumeRole only, not ${ctx.operation}.`)
    }

    if (ctx.operation === 'AssumeRole') return assume(ctx, req.body, env)
    const p = ctx.principal
    const body =
      `<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">\n` +
      `  <GetCallerIdentityResult>\n    <Arn>${xml(p.arn)}</Arn>\n    <UserId>${xml(p.principalId)}</UserId>\n    <Account>${p.accountId}</Account>\n  </GetCallerIdentityResult>\n` +
      `  <ResponseMetadata>\n    <RequestId>${ctx.requestId}</RequestId>\n  </ResponseMetadata>\n</GetCallerIdentityResponse>\n`
    return {body, headers: {'content-type': 'text/xml', 'x-amzn-requestid': ctx.requestId}, status: 200}
  },
}
