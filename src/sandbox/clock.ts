// The sandbox's one clock: real time plus an offset kept in the state (for a later `sandbox clock advance`)
// plus KMSCTL_SANDBOX_NOW_OFFSET_MS from the environment (for tests). Every time the sandbox records or
// compares goes through here.
export interface Clock {
  /** Milliseconds since the epoch, as the sandbox sees it. */
  nowMs(): number
  now(): Date
}

export function envOffsetMs(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env.KMSCTL_SANDBOX_NOW_OFFSET_MS
  if (!raw) return 0
  const n = Number(raw)
  return Number.isFinite(n) ? n : 0
}

/** A clock whose offset is read on every call (the state's offset can change under a running server). */
export function createClock(stateOffsetMs: () => number, env: NodeJS.ProcessEnv = process.env): Clock {
  const nowMs = () => Date.now() + envOffsetMs(env) + stateOffsetMs()
  return {now: () => new Date(nowMs()), nowMs}
}

export const DAY_MS = 86_400_000
