// Limits and faults of every sandbox request, as the settings in force ask (settings.ts): latency added
// before the request runs, KMS's request-rate quotas (quotas.ts), requests answered with an internal
// error and connections closed without an answer (faults.ts). Off by default.
import {drawLatency, happens, internalFailure, sleep} from './faults.js'
import {RateLimiter} from './quotas.js'
import {type RealismSettings, SettingsSource} from './settings.js'

export interface LimitsOptions {
  /** Settings that win over the directory's config.json (the `sandbox serve` flags). */
  overrides?: Partial<RealismSettings>
  /** Random source for faults (tests pass a seeded one). */
  random?: () => number
  /** Monotonic milliseconds for the rate limiter (tests pass a fake one). */
  monotonicNow?: () => number
}

/** What a request is, as limits see it. */
export interface LimitedRequest {
  /** The calling account (quotas are per account and region). */
  account: string
  operation: string
  region: string
  service: string
}

export class Limits {
  readonly settings: SettingsSource
  private limiter?: RateLimiter
  private readonly monotonicNow?: () => number
  private readonly random: () => number

  constructor(dir: string, options: LimitsOptions = {}) {
    this.settings = new SettingsSource(dir, options.overrides)
    this.random = options.random ?? Math.random
    this.monotonicNow = options.monotonicNow
  }

  /** Called once per request before it executes: latency, then quotas, then injected failures; throws to fail it. */
  async admit(req: LimitedRequest): Promise<void> {
    const settings = this.settings.current()
    const delay = drawLatency(settings.latency, this.random)
    if (delay > 0) await sleep(delay)
    if (settings.quotas === 'aws') this.rateLimiter(settings.quotasScale).check(req.service, req.operation, req.account, req.region)
    if (req.service !== 'sts' && happens(settings.failRate, this.random)) throw internalFailure(req.service)
  }

  /** Should the transport close this request's connection without an answer? */
  dropConnection(): boolean {
    return happens(this.settings.current().dropRate, this.random)
  }

  private rateLimiter(scale: number): RateLimiter {
    if (!this.limiter || this.limiter.scale !== scale) this.limiter = new RateLimiter(scale, this.monotonicNow)
    return this.limiter
  }
}
