// AWS Organizations in the sandbox (AWS JSON 1.1, X-Amz-Target AWSOrganizationsV20161128.*):
// ListAccounts and DescribeOrganization over the sandbox organisation (operations.ts).
import {err} from '../errors.js'
import {jsonOk, parseJson} from '../http/protocol.js'
import type {SandboxService} from '../request.js'
import {ORGANIZATIONS_OPERATIONS, ORGANIZATIONS_TARGET_PREFIX} from './operations.js'

export const organizationsService: SandboxService = {
  name: 'organizations',
  protocol: 'json',
  operationOf(req) {
    const target = req.headers['x-amz-target'] ?? ''
    return target.startsWith(ORGANIZATIONS_TARGET_PREFIX) ? target.slice(ORGANIZATIONS_TARGET_PREFIX.length) : undefined
  },
  async handle(ctx, req, env) {
    const input = parseJson(req.body)
    await env.limits.admit({account: ctx.principal.accountId, operation: ctx.operation, region: ctx.region, service: 'organizations'})
    const op = ORGANIZATIONS_OPERATIONS[ctx.operation]
    if (!op) throw err('UnsupportedAPIEndpointException', `The kmsctl sandbox implements Organizations ListAccounts and DescribeOrganization only, not ${ctx.operation}.`)
    return jsonOk(ctx.requestId, op.run(env.organization.current(), ctx.principal.accountId, input))
  },
}
