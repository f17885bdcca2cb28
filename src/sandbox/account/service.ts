// The Account Management API in the sandbox (REST-JSON): ListRegions, POST /listRegions, over the
// regions each account of the sandbox organisation has enabled.
import {SandboxError, err} from '../errors.js'
import {parseJson} from '../http/protocol.js'
import {listRegions} from '../organizations/operations.js'
import type {SandboxResponse, SandboxService} from '../request.js'

/** A REST-JSON error: the type in x-amzn-ErrorType, {"message": ...} in the body. */
function restJsonError(requestId: string, e: SandboxError): SandboxResponse {
  return {
    body: JSON.stringify({message: e.message}),
    headers: {'content-type': 'application/json', 'x-amzn-errortype': e.type, 'x-amzn-requestid': requestId},
    status: e.type === 'AccessDeniedException' ? 403 : e.status,
  }
}

export const accountService: SandboxService = {
  name: 'account',
  protocol: 'json',
  operationOf(req, scope) {
    if (req.headers['x-amz-target']) return undefined
    const path = (req.path ?? '').split('?')[0]
    if (path === '/listRegions') return 'ListRegions'
    return scope.service === 'account' ? path.replace(/^\//, '') : undefined
  },
  errorResponse: restJsonError,
  async handle(ctx, req, env) {
    await env.limits.admit({account: ctx.principal.accountId, operation: ctx.operation, region: ctx.region, service: 'account'})
    if (ctx.operation !== 'ListRegions') {
      return restJsonError(ctx.requestId, err('ResourceNotFoundException', `The kmsctl sandbox implements account:ListRegions only, not ${ctx.operation || '(no operation)'}.`, 404))
    }

    const out = listRegions(env.organization.current(), ctx.principal.accountId, parseJson(req.body))
    return {body: JSON.stringify(out), headers: {'content-type': 'application/json', 'x-amzn-requestid': ctx.requestId}, status: 200}
  },
}
