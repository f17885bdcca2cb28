// Extension points of the request core, for the realism issue (issue 4): key-policy and grant
// enforcement, per-operation quotas, latency and fault injection. Defaults: allow, no delay, no fault.
import type {Principal} from './principals.js'
import type {SessionCaller} from './sts/sessions.js'
import type {KeyRecord, SandboxState} from './state.js'

export interface RequestContext {
  accessKeyId: string
  /** e.g. "kms:Decrypt". */
  action: string
  operation: string
  principal: Principal
  region: string
  requestId: string
  service: 'account' | 'cloudtrail' | 'kms' | 'organizations' | 'sts'
  /** Set when the request is signed by an assumed-role session of the sandbox organisation. */
  session?: SessionCaller
  sourceIp: string
  userAgent: string
}

export interface SandboxHooks {
  /** Called for every KMS operation on a key once the key is resolved; throw a SandboxError to refuse. */
  authorize(ctx: RequestContext, key: KeyRecord | undefined, state: SandboxState, input: Record<string, any>): void
  /** Called once per request before it executes (quotas, latency, fault injection); throw to fail it. */
  beforeExecute(ctx: RequestContext): Promise<void> | void
  /** Optional (realism): the lockout safety check of a new key policy for the caller; throw to refuse it. */
  checkLockout?(ctx: RequestContext, policy: string, keyArn: string | undefined, keyAccount: string): void
  /** Optional (realism): true when the transport should close the connection without answering. */
  dropConnection?(): boolean
  /** Optional (realism): the principal behind an access key ID (default: the sandbox administrator). */
  resolvePrincipal?(accessKeyId: string): Principal
}

export const defaultHooks: SandboxHooks = {
  authorize() {},
  beforeExecute() {},
}
