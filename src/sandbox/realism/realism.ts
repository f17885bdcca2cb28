// The sandbox's realism, as the request core's hooks (src/sandbox/hooks.ts): who is calling (the
// principals map), whether the key policy and grants let them (enforce.ts), and the quotas and faults
// of the settings in force (settings.ts). One Realism per sandbox directory per process.
import type {RequestContext, SandboxHooks} from '../hooks.js'
import type {Principal} from '../principals.js'
import type {KeyRecord, SandboxState} from '../state.js'
import {IAM_ONLY_OPERATIONS, type RequestFacts, authorizeIamOnly, authorizeKeyRequest, checkPolicyLockout} from './enforce.js'
import {drawLatency, happens, internalFailure, sleep} from './faults.js'
import {PrincipalDirectory, type ResolvedPrincipal} from './principals.js'
import {RateLimiter} from './quotas.js'
import {type RealismSettings, SettingsSource} from './settings.js'

export interface RealismOptions {
  /** Settings that win over the directory's config.json (the `sandbox serve` flags). */
  overrides?: Partial<RealismSettings>
  /** Random source for faults (tests pass a seeded one). */
  random?: () => number
  /** Monotonic milliseconds for the rate limiter (tests pass a fake one). */
  monotonicNow?: () => number
}

export class Realism implements SandboxHooks {
  readonly principals: PrincipalDirectory
  readonly settings: SettingsSource
  private limiter?: RateLimiter
  private readonly monotonicNow?: () => number
  private readonly random: () => number

  constructor(dir: string, options: RealismOptions = {}) {
    this.principals = new PrincipalDirectory(dir)
    this.settings = new SettingsSource(dir, options.overrides)
    this.random = options.random ?? Math.random
    this.monotonicNow = options.monotonicNow
  }

  authorize(ctx: RequestContext, key: KeyRecord | undefined, state: SandboxState, input: Record<string, any>): void {
    const caller = this.caller(ctx)
    if (!key) {
      authorizeIamOnly(caller, `kms:${ctx.operation}`)
      return
    }

    authorizeKeyRequest(ctx.operation, key, state, input, caller, this.facts(ctx, caller))
  }

  async beforeExecute(ctx: RequestContext): Promise<void> {
    const settings = this.settings.current()
    const delay = drawLatency(settings.latency, this.random)
    if (delay > 0) await sleep(delay)
    if (settings.quotas === 'aws') this.rateLimiter(settings.quotasScale).check(ctx.service, ctx.operation, ctx.principal.accountId, ctx.region)
    if ((ctx.service === 'kms' || ctx.service === 'cloudtrail') && happens(settings.failRate, this.random)) throw internalFailure(ctx.service)
    // Operations on no key: IAM decides them here, before their input is looked at.
    if (ctx.service === 'kms' && IAM_ONLY_OPERATIONS.has(ctx.operation)) {
      authorizeIamOnly(this.caller(ctx), `kms:${ctx.operation}`)
    }
  }

  /** The lockout safety check of PutKeyPolicy / CreateKey / ReplicateKey, with the policy evaluator. */
  checkLockout(ctx: RequestContext, policy: string, keyArn: string | undefined, keyAccount: string): void {
    checkPolicyLockout(policy, keyArn, keyAccount, this.caller(ctx))
  }

  /** Should the transport close this request's connection without an answer? */
  dropConnection(): boolean {
    return happens(this.settings.current().dropRate, this.random)
  }

  resolvePrincipal(accessKeyId: string): Principal {
    return this.principals.resolve(accessKeyId).principal
  }

  private caller(ctx: RequestContext): ResolvedPrincipal {
    if (ctx.session) return {iamAllow: ctx.session.iamAllow, isDefault: false, parsed: ctx.session.parsed, principal: ctx.session.principal}
    return this.principals.resolve(ctx.accessKeyId)
  }

  private facts(ctx: RequestContext, caller: ResolvedPrincipal): RequestFacts {
    const clock = (ctx as RequestContext & {clock?: {nowMs(): number}}).clock
    return {nowMs: clock ? clock.nowMs() : Date.now(), region: ctx.region, sourceIp: ctx.sourceIp, viaService: caller.viaService}
  }

  private rateLimiter(scale: number): RateLimiter {
    if (!this.limiter || this.limiter.scale !== scale) this.limiter = new RateLimiter(scale, this.monotonicNow)
    return this.limiter
  }
}

/** The hooks every sandbox core of a directory uses (the in-process handler and `sandbox serve`). */
export function createRealism(dir: string, options: RealismOptions = {}): Realism {
  return new Realism(dir, options)
}
