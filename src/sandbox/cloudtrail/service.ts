// CloudTrail in the sandbox (AWS JSON 1.1): LookupEvents over the records of every call.
import {err} from '../errors.js'
import {jsonOk, parseJson} from '../http/protocol.js'
import type {SandboxService} from '../request.js'
import {LakeService} from './lake.js'
import {lookupEvents} from './lookup.js'

/** One CloudTrail Lake per store (its queries live as long as the process). */
const lakes = new WeakMap<object, LakeService>()

const TARGET_PREFIX = 'com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.'
/** Newer SDKs send the short form. */
const SHORT_TARGET_PREFIX = 'CloudTrail_20131101.'

export const cloudTrailService: SandboxService = {
  name: 'cloudtrail',
  protocol: 'json',
  operationOf(req) {
    const target = req.headers['x-amz-target'] ?? ''
    if (target.startsWith(TARGET_PREFIX)) return target.slice(TARGET_PREFIX.length)
    if (target.startsWith(SHORT_TARGET_PREFIX)) return target.slice(SHORT_TARGET_PREFIX.length)
    return undefined
  },
  async handle(ctx, req, env) {
    const input = parseJson(req.body)
    await env.limits.admit({account: ctx.principal.accountId, operation: ctx.operation, region: ctx.region, service: 'cloudtrail'})
    if (ctx.operation !== 'LookupEvents') {
      let lake = lakes.get(env.store)
      if (!lake) {
        lake = new LakeService(() => env.store.readEvents(), () => env.store.clock.nowMs())
        lakes.set(env.store, lake)
      }

      if (lake.handles(ctx.operation)) return jsonOk(ctx.requestId, await lake.call(ctx.operation, input))
      throw err('UnsupportedOperationException', `The kmsctl sandbox implements CloudTrail LookupEvents and the Lake queries (StartQuery, GetQueryResults, DescribeQuery, CancelQuery), not ${ctx.operation}.`)
    }

    return jsonOk(ctx.requestId, lookupEvents(env.store.readEvents(), input, ctx.region, env.store.clock.nowMs()))
  },
}
