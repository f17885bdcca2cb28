// Injected faults: latency added to each request, requests answered with an internal error (HTTP 500
// KMSInternalException for KMS, InternalFailure for the other services), and connections closed
// without an answer. The random source is injectable so that tests can count outcomes.
import {SandboxError} from '../errors.js'
import type {LatencyRange} from './settings.js'

export function internalFailure(service: string): SandboxError {
  const message = 'The request processing has failed because of an unknown error, exception or failure.'
  return new SandboxError(service === 'kms' ? 'KMSInternalException' : 'InternalFailure', message, 500)
}

/** A small seeded generator (mulberry32) for reproducible fault sequences. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d_2b_79_f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296
  }
}

/** The delay for one request: fixed, or uniform over the range. */
export function drawLatency(latency: LatencyRange | undefined, random: () => number): number {
  if (!latency) return 0
  return latency.minMs + Math.round((latency.maxMs - latency.minMs) * random())
}

/** True with probability `rate`. */
export function happens(rate: number, random: () => number): boolean {
  return rate > 0 && random() < rate
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => {
  setTimeout(resolve, ms)
})
