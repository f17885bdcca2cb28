// KMS in the sandbox (AWS JSON 1.1, X-Amz-Target "TrentService.<Operation>"): finds the operation in
// the registry (registry.ts), applies limits and faults, lets IAM decide the operations on no key, runs
// the operation on the state (inside a store mutation when it changes it) and records the call in
// CloudTrail, successful or not.
import {IAM_ONLY_OPERATIONS, authorizeIamOnly} from '../authorization/authorize.js'
import {kmsRecord} from '../cloudtrail/records.js'
import {SandboxError, err, internalError} from '../errors.js'
import {jsonError, jsonOk, parseJson} from '../http/protocol.js'
import type {RequestContext, SandboxService, ServiceEnvironment} from '../request.js'
import type {SandboxState} from '../store/state.js'
import type {SandboxStore} from '../store/store.js'
import {NeedsWrite, type OpContext} from './context.js'
import {maintain, nextMaintenance} from './maintenance.js'
import {KMS_OPERATIONS, type OperationSpec} from './registry.js'

const TARGET_PREFIX = 'TrentService.'

/** When each store's state next needs a time-driven change, computed once per version of the state (O(keys)). */
const due = new WeakMap<SandboxStore, {at: number; generation: number}>()

function maintenanceDueAt(store: SandboxStore, state: SandboxState): number {
  let d = due.get(store)
  if (d?.generation !== store.generation) {
    d = {at: nextMaintenance(state), generation: store.generation}
    due.set(store, d)
  }

  return d.at
}

async function execute(store: SandboxStore, spec: OperationSpec, input: Record<string, any>, opCtx: OpContext): Promise<Record<string, unknown>> {
  // One look at the state file per request (a stat; the parse only when it changed).
  let state = store.read()
  if (maintenanceDueAt(store, state) <= store.clock.nowMs()) {
    await store.mutate((s) => maintain(s, store.clock.nowMs()))
    state = store.read()
  }

  const inWrite = () =>
    store.mutate((s) => {
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

async function handle(ctx: RequestContext, body: string, env: ServiceEnvironment) {
  const {store} = env
  const spec = KMS_OPERATIONS[ctx.operation]
  if (!spec) throw err('UnknownOperationException', `The kmsctl sandbox does not implement ${ctx.operation}.`)
  let input: Record<string, any> = {}
  const opCtx: OpContext = {
    ...ctx,
    clock: store.clock,
    events: () => store.readEvents(),
    resources: [],
    responseElements: null,
    state: undefined as never,
    write: false,
  }
  let result: Record<string, unknown> | undefined
  let failure: SandboxError | undefined
  try {
    input = parseJson(body)
    await env.limits.admit({account: ctx.principal.accountId, operation: ctx.operation, region: ctx.region, service: 'kms'})
    // Operations on no key: IAM decides them here, before their input is looked at.
    if (IAM_ONLY_OPERATIONS.has(ctx.operation)) authorizeIamOnly(ctx.caller, ctx.action)
    result = await execute(store, spec, input, opCtx)
  } catch (error) {
    failure = error instanceof SandboxError ? error : internalError()
    if (!(error instanceof SandboxError) && process.env.KMSCTL_SANDBOX_DEBUG) process.stderr.write(`${(error as Error)?.stack}\n`)
  }

  store.appendEvents([
    kmsRecord({
      errorCode: failure?.type,
      errorMessage: failure?.message,
      eventTimeMs: store.clock.nowMs(),
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
  ])
  if (failure) return jsonError(ctx.requestId, failure)
  return jsonOk(ctx.requestId, result!)
}

export const kmsService: SandboxService = {
  name: 'kms',
  protocol: 'json',
  operationOf(req) {
    const target = req.headers['x-amz-target'] ?? ''
    return target.startsWith(TARGET_PREFIX) ? target.slice(TARGET_PREFIX.length) : undefined
  },
  handle: (ctx, req, env) => handle(ctx, req.body, env),
}
