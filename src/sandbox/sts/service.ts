// STS in the sandbox (query protocol, XML answers): GetCallerIdentity, answered for the principal
// behind the request's access key.
import {xml, xmlError} from '../http/protocol.js'
import type {SandboxService} from '../request.js'

const OPERATIONS: Record<string, true> = {GetCallerIdentity: true}

export const stsService: SandboxService = {
  name: 'sts',
  protocol: 'query',
  operationOf(req, scope) {
    if (req.headers['x-amz-target']) return undefined
    const contentType = req.headers['content-type'] ?? ''
    if (scope.service !== 'sts' && !contentType.startsWith('application/x-www-form-urlencoded')) return undefined
    return new URLSearchParams(req.body).get('Action') ?? ''
  },
  async handle(ctx, _req, env) {
    await env.limits.admit({account: ctx.principal.accountId, operation: ctx.operation, region: ctx.region, service: 'sts'})
    if (!OPERATIONS[ctx.operation]) {
      return xmlError(ctx.requestId, 'InvalidAction', `The kmsctl sandbox implements STS GetCallerIdentity only, not ${ctx.operation}.`)
    }

    const p = ctx.principal
    const body =
      `<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">\n` +
      `  <GetCallerIdentityResult>\n    <Arn>${xml(p.arn)}</Arn>\n    <UserId>${xml(p.principalId)}</UserId>\n    <Account>${p.accountId}</Account>\n  </GetCallerIdentityResult>\n` +
      `  <ResponseMetadata>\n    <RequestId>${ctx.requestId}</RequestId>\n  </ResponseMetadata>\n</GetCallerIdentityResponse>\n`
    return {body, headers: {'content-type': 'text/xml', 'x-amzn-requestid': ctx.requestId}, status: 200}
  },
}
