// Moving the sandbox's time: `kmsctl sandbox clock show|advance|set`. The offset lives in the state
// (clockOffsetMs, read by src/sandbox/clock.ts on every call, so a running server follows at once);
// KMSCTL_SANDBOX_NOW_OFFSET_MS adds a further offset from the environment, for tests. When time moves,
// what fell due happens at once: keys whose deletion window passed are deleted, automatic rotations
// that came due are made.
import {envOffsetMs} from '../clock.js'
import {maintain} from '../kms/operations.js'
import type {SandboxState} from '../state.js'
import {SandboxStore} from '../store.js'

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

export interface ClockChange {
  after: ClockStatus
  before: ClockStatus
  /** Keys deleted because their waiting period ended (ARNs). */
  deletedKeys: string[]
  dryRun: boolean
  /** Keys given new key material by automatic rotation, with the number of rotations. */
  rotatedKeys: Array<{keyArn: string; rotations: number}>
}

function status(stateOffsetMs: number, env: NodeJS.ProcessEnv, realMs: number): ClockStatus {
  const fromEnv = envOffsetMs(env)
  return {
    envOffsetMs: fromEnv,
    now: new Date(realMs + fromEnv + stateOffsetMs).toISOString(),
    offsetMs: fromEnv + stateOffsetMs,
    realNow: new Date(realMs).toISOString(),
    stateOffsetMs,
  }
}

export function clockStatus(dir: string, env: NodeJS.ProcessEnv = process.env): ClockStatus {
  const store = new SandboxStore(dir, {env})
  return status(store.read().clockOffsetMs ?? 0, env, Date.now())
}

/** Applies what falls due at `nowMs` and says what changed. */
function applyDue(state: SandboxState, nowMs: number): Pick<ClockChange, 'deletedKeys' | 'rotatedKeys'> {
  const materials = new Map(Object.values(state.keys).map((k) => [k.arn, k.materials.length]))
  maintain(state, nowMs)
  const deletedKeys = [...materials.keys()].filter((arn) => !state.keys[arn])
  const rotatedKeys = Object.values(state.keys)
    .filter((k) => materials.has(k.arn) && k.materials.length > materials.get(k.arn)!)
    .map((k) => ({keyArn: k.arn, rotations: k.materials.length - materials.get(k.arn)!}))
  return {deletedKeys, rotatedKeys}
}

/** Moves the sandbox's time by `deltaMs` (forward, or back when negative). */
export async function shiftClock(dir: string, deltaMs: number, options: {dryRun?: boolean; env?: NodeJS.ProcessEnv} = {}): Promise<ClockChange> {
  const env = options.env ?? process.env
  const store = new SandboxStore(dir, {env})
  const realMs = Date.now()
  const change = (state: SandboxState) => {
    const beforeOffset = state.clockOffsetMs ?? 0
    state.clockOffsetMs = beforeOffset + deltaMs
    const after = status(state.clockOffsetMs, env, realMs)
    const due = applyDue(state, Date.parse(after.now))
    return {after, before: status(beforeOffset, env, realMs), ...due, dryRun: Boolean(options.dryRun)}
  }

  if (options.dryRun) return change(structuredClone(store.read()))
  return store.mutate(change)
}

/** Sets the sandbox's time to `target`. */
export async function setClock(dir: string, target: Date, options: {dryRun?: boolean; env?: NodeJS.ProcessEnv} = {}): Promise<ClockChange> {
  const env = options.env ?? process.env
  const current = clockStatus(dir, env)
  return shiftClock(dir, target.getTime() - Date.parse(current.now), options)
}
