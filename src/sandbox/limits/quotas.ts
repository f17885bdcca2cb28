// Request-rate quotas of the sandbox: one token bucket per operation (per calling account and region,
// as KMS counts them), holding at most one second's worth of requests and refilled continuously.
// A request that finds its bucket empty is refused with ThrottlingException ("Rate exceeded", HTTP 400).
//
// `aws` uses KMS's published rates (src/lib/quotas.ts; the symmetric cryptographic operations
// share one bucket, as they share one quota) and CloudTrail LookupEvents' 2 per second; `scale`
// multiplies every rate (0.1 for a tenth of them, 10 for ten times).
import {LOOKUP_EVENTS_RATE, kmsQuota} from '../../lib/quotas.js'
import {SandboxError} from '../errors.js'

/** Operations that share the cryptographic-operations quota. */
export const CRYPTO_OPERATIONS = new Set([
  'Decrypt', 'Encrypt', 'GenerateDataKey', 'GenerateDataKeyPair', 'GenerateDataKeyPairWithoutPlaintext', 'GenerateDataKeyWithoutPlaintext',
  'GenerateMac', 'GenerateRandom', 'GetPublicKey', 'ReEncrypt', 'Sign', 'Verify', 'VerifyMac', 'DeriveSharedSecret',
])

/** The rate (requests per second) of an operation under `--quotas aws`, before scaling. */
export function awsRate(service: string, operation: string): number | undefined {
  if (service === 'cloudtrail') return operation === 'LookupEvents' ? LOOKUP_EVENTS_RATE : undefined
  if (service !== 'kms') return undefined
  return kmsQuota(operation)
}

/** The bucket an operation draws from: crypto operations share one. */
export function bucketName(service: string, operation: string): string {
  return service === 'kms' && CRYPTO_OPERATIONS.has(operation) ? 'kms:cryptographic' : `${service}:${operation}`
}

export interface TokenBucket {
  capacity: number
  /** Tokens per millisecond. */
  perMs: number
  tokens: number
  updatedMs: number
}

/** KMS and CloudTrail both answer an exceeded quota this way. */
export const throttled = (): SandboxError => new SandboxError('ThrottlingException', 'Rate exceeded', 400)

/** Token buckets keyed by account, region and operation. `now` is injectable for tests (monotonic milliseconds). */
export class RateLimiter {
  readonly scale: number
  private readonly buckets = new Map<string, TokenBucket>()
  private readonly now: () => number

  constructor(scale = 1, now: () => number = () => performance.now()) {
    if (!(scale > 0) || !Number.isFinite(scale)) throw new RangeError('The quota scale must be a positive number.')
    this.scale = scale
    this.now = now
  }

  /** The scaled rate (requests per second) of an operation, or undefined when it has no quota. */
  rateOf(service: string, operation: string): number | undefined {
    const rate = awsRate(service, operation)
    return rate === undefined ? undefined : rate * this.scale
  }

  /** Takes one token; false when the bucket is empty (the request is throttled). */
  take(service: string, operation: string, account: string, region: string): boolean {
    const rate = this.rateOf(service, operation)
    if (rate === undefined) return true
    const name = `${account}:${region}:${bucketName(service, operation)}`
    const now = this.now()
    let b = this.buckets.get(name)
    if (!b) {
      // At most one second's worth at once (at least one request, for rates under 1/s).
      const capacity = Math.max(1, rate)
      b = {capacity, perMs: rate / 1000, tokens: capacity, updatedMs: now}
      this.buckets.set(name, b)
    } else {
      b.tokens = Math.min(b.capacity, b.tokens + (now - b.updatedMs) * b.perMs)
      b.updatedMs = now
    }

    if (b.tokens < 1) return false
    b.tokens -= 1
    return true
  }

  /** Throws ThrottlingException when the request is over its quota. */
  check(service: string, operation: string, account: string, region: string): void {
    if (!this.take(service, operation, account, region)) throw throttled()
  }
}
