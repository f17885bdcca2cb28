// Client-side pacing: keep each KMS operation under its per-account, per-region request quota,
// with bounded concurrency, so that bulk work finishes as fast as the quota allows without
// a storm of ThrottlingException. The Pacer sits in front of the client's one retry strategy
// (clients.ts): it never retries. On abort, calls still queued are dropped at once.
import pLimit from 'p-limit'

import {KmsctlError} from './errors.js'
import {kmsQuota} from './quotas.js'

export {KMS_QUOTAS, LOOKUP_EVENTS_RATE} from './quotas.js'

/**
 * KMSCTL_QUOTA_SCALE multiplies the published quotas kmsctl paces to: for accounts whose Service
 * Quotas were raised (2 for twice the rates), or a sandbox serving scaled quotas (--quotas-scale).
 * Rates given explicitly (--rate) are used as given.
 */
export function quotaScale(env: NodeJS.ProcessEnv = process.env): number {
  const n = Number(env.KMSCTL_QUOTA_SCALE)
  return env.KMSCTL_QUOTA_SCALE && Number.isFinite(n) && n > 0 ? n : 1
}

export interface PacerOptions {
  /** Per-operation rates overriding the published quotas (quotas.ts). */
  rates?: Record<string, number>
  /** Most calls of one operation in flight at once (default 16). */
  concurrency?: number
  /** Fraction of the quota to use (default 1). */
  share?: number
  /**
   * Spread each second's calls over quarter-second windows instead of starting them together: the
   * server's one-second bucket then keeps slack for calls that arrive late and bunched (many
   * account-regions at once on a busy machine), so none is throttled for arriving early.
   */
  smooth?: boolean
  /** Abort: calls not started yet are dropped (they reject with notStarted()); calls in flight finish. */
  signal?: AbortSignal
}

/** The error of a paced call dropped by an abort before it was sent. */
export function notStarted(): KmsctlError {
  return new KmsctlError('INTERRUPTED', 'Interrupted before it was sent.', {details: {notStarted: true}})
}

/** True for the error of a call that an abort dropped before it was sent. */
export function isNotStarted(error: unknown): boolean {
  return error instanceof KmsctlError && error.code === 'INTERRUPTED' && error.details?.notStarted === true
}

/**
 * Runs calls with bounded concurrency and a strict per-operation rate: at most `rate` calls
 * start in any one-second window for each operation. Each operation has its own concurrency
 * bound, so that a long queue of one operation (1,000 DescribeKey) never holds back another
 * with its own quota (GetKeyRotationStatus): both proceed at their own rates.
 */
export class Pacer {
  private readonly gates = new Map<string, <T>(fn: () => Promise<T>) => Promise<T>>()
  private readonly limits: Array<ReturnType<typeof pLimit>> = []
  private readonly windows: StartWindow[] = []
  /** Calls queued and not started yet: each drops its call (rejects with notStarted()). */
  private readonly waiting = new Set<() => void>()
  private readonly options: PacerOptions
  private readonly controller = new AbortController()

  constructor(options: PacerOptions = {}) {
    this.options = options
    this.controller.signal.addEventListener(
      'abort',
      () => {
        for (const l of this.limits) l.clearQueue()
        for (const w of this.windows) w.close()
        for (const drop of this.waiting) drop()
        this.waiting.clear()
      },
      {once: true},
    )
    if (options.signal) this.abortOn(options.signal)
  }

  /** From this signal's abort on, calls not started yet are dropped (they reject with notStarted()). */
  abortOn(signal: AbortSignal): void {
    if (signal.aborted) this.controller.abort()
    else signal.addEventListener('abort', () => this.controller.abort(), {once: true})
  }

  /** The rate in requests per second used for an operation. */
  rateOf(operation: string): number {
    const rate = this.options.rates?.[operation] ?? kmsQuota(operation) * quotaScale()
    return Math.max(0.1, rate * (this.options.share ?? 1))
  }

  /**
   * Runs fn when both the operation's concurrency bound and its rate allow it. After an abort,
   * fn is never started: the call rejects with notStarted().
   */
  run<T>(operation: string, fn: () => Promise<T>): Promise<T> {
    const {signal} = this.controller
    if (signal.aborted) return Promise.reject(notStarted())
    let paced = this.gates.get(operation)
    if (!paced) {
      const rate = this.rateOf(operation)
      // Integer calls per window: for rates below 1/s widen the window instead.
      const limit = rate >= 1 ? (this.options.smooth ? Math.max(1, Math.floor(rate / 4)) : Math.floor(rate)) : 1
      const interval = rate >= 1 ? Math.round((1000 * limit) / rate) : Math.round(1000 / rate)
      const window = new StartWindow(limit, interval)
      this.windows.push(window)
      // The concurrency slot is taken first, so that the rate limits when calls really start.
      const slots = pLimit(this.options.concurrency ?? 16)
      this.limits.push(slots)
      paced = <U>(f: () => Promise<U>) => {
        let started = false
        const queued = slots(async () => {
          await window.enter()
          if (signal.aborted) throw notStarted()
          started = true
          return f()
        })
        // On abort a call not started yet settles at once (clearQueue() would leave it pending):
        // no timer holds the process.
        return new Promise<U>((resolve, reject) => {
          const drop = () => {
            if (!started) reject(notStarted())
          }

          this.waiting.add(drop)
          queued.then(
            (value) => {
              this.waiting.delete(drop)
              resolve(value)
            },
            (error) => {
              this.waiting.delete(drop)
              reject(started ? error : notStarted())
            },
          )
        })
      }

      this.gates.set(operation, paced)
    }

    return paced(fn)
  }

  /** Time the quota makes unavoidable for n calls of an operation, in ms (for reports and benchmarks). */
  minimumMs(operation: string, n: number): number {
    const rate = this.rateOf(operation)
    const limit = rate >= 1 ? Math.floor(rate) : 1
    return n <= limit ? 0 : (Math.ceil(n / limit) - 1) * (1000 * limit) / rate
  }
}

/** Maps items through fn with bounded concurrency, preserving order. */
export async function mapConcurrent<T, R>(items: readonly T[], concurrency: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const limit = pLimit(Math.max(1, concurrency))
  return Promise.all(items.map((item, i) => limit(() => fn(item, i))))
}

/**
 * At most `limit` calls start in any `interval` ms, counted from when they really start. A timer that
 * fires late (a busy event loop) lets through what the window allows at that moment, never the calls
 * it "owes": a schedule fixed when calls are queued would release them in a burst after a stall, and
 * a burst arrives at the server faster than the quota refills, which is what throttles.
 */
export class StartWindow {
  private readonly interval: number
  private readonly limit: number
  private readonly queue: Array<{reject: (error: unknown) => void; resolve: () => void}> = []
  /** When the last `limit` calls started (oldest first). */
  private readonly starts: number[] = []
  private closed = false
  private timer?: NodeJS.Timeout

  private readonly now: () => number

  /** `now`: the time calls start at (tests pass one running ahead of the timers, as a stalled process sees it). */
  constructor(limit: number, interval: number, now: () => number = Date.now) {
    this.limit = Math.max(1, limit)
    this.interval = interval
    this.now = now
  }

  /** Resolves when a call may start (rejects with notStarted() once closed). */
  enter(): Promise<void> {
    if (this.closed) return Promise.reject(notStarted())
    return new Promise<void>((resolve, reject) => {
      this.queue.push({reject, resolve})
      this.pump()
    })
  }

  /** Drops every call waiting: each rejects with notStarted(). */
  close(): void {
    this.closed = true
    if (this.timer) clearTimeout(this.timer)
    this.timer = undefined
    for (const w of this.queue.splice(0)) w.reject(notStarted())
  }

  private pump(): void {
    if (this.timer || this.closed) return
    const now = this.now()
    while (this.queue.length > 0) {
      while (this.starts.length > 0 && now - this.starts[0] >= this.interval) this.starts.shift()
      if (this.starts.length < this.limit) {
        this.starts.push(now)
        this.queue.shift()!.resolve()
        continue
      }

      this.timer = setTimeout(() => {
        this.timer = undefined
        this.pump()
      }, Math.max(1, this.starts[0] + this.interval - now))
      return
    }
  }
}
