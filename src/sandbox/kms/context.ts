// What a KMS operation sees: the state (read-only unless `write`), the clock and the caller, plus what
// it reports back for the CloudTrail record (resources and responseElements). Operations ask
// `authorize()` whether the caller may act on a key, once they have found it.
import {authorizeIamOnly, authorizeKeyRequest, checkPolicyLockout} from '../authorization/authorize.js'
import type {Clock} from '../clock.js'
import type {RequestContext} from '../request.js'
import type {KeyRecord, SandboxState} from '../store/state.js'
import type {TrailRecord} from '../store/store.js'

export interface OpContext extends RequestContext {
  clock: Clock
  /** All CloudTrail records so far (GetKeyLastUsage). */
  events: () => TrailRecord[]
  /** Key ARNs the call touched, for the record's resources[]. */
  resources: string[]
  /** responseElements for the CloudTrail record (null when unset). */
  responseElements?: Record<string, unknown> | null
  state: SandboxState
  /** True inside a store mutation: the operation may change `state`. */
  write: boolean
}

/** Thrown by a read-only run that turns out to need a write (e.g. the first use of alias/aws/s3). */
export class NeedsWrite extends Error {
  constructor() {
    super('needs write')
  }
}

export function needWrite(ctx: OpContext): void {
  if (!ctx.write) throw new NeedsWrite()
}

/**
 * Throws AccessDeniedException unless the caller may do this request's operation on `key` (key policy,
 * grants, IAM); without a key, the caller's IAM policies alone decide.
 */
export function authorize(ctx: OpContext, key: KeyRecord | undefined, input: Record<string, any>): void {
  if (!key) {
    authorizeIamOnly(ctx.caller, ctx.action)
    return
  }

  authorizeKeyRequest(ctx.operation, key, ctx.state, input, ctx.caller, {
    nowMs: ctx.clock.nowMs(),
    region: ctx.region,
    sourceIp: ctx.sourceIp,
    viaService: ctx.caller.viaService,
  })
}

/** The lockout safety check of a new key policy for this caller (PutKeyPolicy, CreateKey, ReplicateKey). */
export function checkLockoutFor(ctx: OpContext, policy: string, keyArn: string | undefined, keyAccount: string): void {
  checkPolicyLockout(policy, keyArn, keyAccount, ctx.caller)
}
