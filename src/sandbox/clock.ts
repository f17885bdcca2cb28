// The sandbox's one clock: real time plus the offset kept in the state (moved by `kmsctl sandbox clock
// advance|set`, read on every call so a running server follows at once) plus KMSCTL_SANDBOX_NOW_OFFSET_MS
// from the environment (for tests). Every time the sandbox records or compares goes through here.
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

export interface ClockStatus {
  /** The sandbox's time now (ISO 8601). */
  now: string
  /** Real time now. */
  realNow: string
  /** Total offset from real time, in milliseconds (state + environment). */
  offsetMs: number
  /** The part kept in the sandbox state (changed by advance and set). */
  stateOffsetMs: number
  /** The part from KMSCTL_SANDBOX_NOW_OFFSET_MS. */
  envOffsetMs: number
}

/** The clock's reading for a state offset, at real time `realMs`. */
export function clockReading(stateOffsetMs: number, env: NodeJS.ProcessEnv, realMs: number): ClockStatus {
  const fromEnv = envOffsetMs(env)
  return {
    envOffsetMs: fromEnv,
    now: new Date(realMs + fromEnv + stateOffsetMs).toISOString(),
    offsetMs: fromEnv + stateOffsetMs,
    realNow: new Date(realMs).toISOString(),
    stateOffsetMs,
  }
}
