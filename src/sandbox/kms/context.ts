// What a KMS operation sees: the state (read-only unless `write`), the clock, the caller and the hooks,
// plus what it reports back for the CloudTrail record (resources and responseElements).
import type {Clock} from '../clock.js'
import type {RequestContext, SandboxHooks} from '../hooks.js'
import type {SandboxState} from '../state.js'
import type {TrailRecord} from '../store.js'

export interface OpContext extends RequestContext {
  clock: Clock
  /** All CloudTrail records so far (GetKeyLastUsage). */
  events: () => TrailRecord[]
  hooks: SandboxHooks
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
