// Moving the sandbox's time: `kmsctl sandbox clock show|advance|set`. The offset lives in the state
// (clockOffsetMs, read by src/sandbox/clock.ts on every call, so a running server follows at once);
// KMSCTL_SANDBOX_NOW_OFFSET_MS adds a further offset from the environment, for tests. When time moves,
// what fell due happens at once: keys whose deletion window passed are deleted, automatic rotations
// that came due are made.
import {randomUUID} from 'node:crypto'

import {envOffsetMs} from '../clock.js'
import {SANDBOX_ACCOUNT} from '../constants.js'
import {maintain} from '../kms/operations.js'
import type {SandboxState} from '../state.js'
import {SandboxStore, type TrailRecord} from '../store.js'

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

/**
 * A change KMS makes on its own (a deletion at the end of the waiting period, an automatic rotation),
 * as CloudTrail records it: an AwsServiceEvent invoked by kms.amazonaws.com, at the time it happened.
 */
export function serviceEvent(eventName: 'DeleteKey' | 'RotateKey', keyArn: string, region: string, atMs: number): TrailRecord {
  return {
    eventVersion: '1.11',
    userIdentity: {accountId: SANDBOX_ACCOUNT, invokedBy: 'kms.amazonaws.com'},
    eventTime: new Date(atMs).toISOString().replace(/\.\d{3}Z$/, 'Z'),
    eventSource: 'kms.amazonaws.com',
    eventName,
    awsRegion: region,
    sourceIPAddress: 'kms.amazonaws.com',
    userAgent: 'kms.amazonaws.com',
    requestParameters: null,
    responseElements: null,
    eventID: randomUUID(),
    readOnly: false,
    resources: [{accountId: SANDBOX_ACCOUNT, type: 'AWS::KMS::Key', ARN: keyArn}],
    eventType: 'AwsServiceEvent',
    managementEvent: true,
    recipientAccountId: SANDBOX_ACCOUNT,
    serviceEventDetails: {keyId: keyArn.split('/').pop()},
    eventCategory: 'Management',
  }
}

/** Applies what falls due at `nowMs`, says what changed, and gives the CloudTrail events of the changes. */
function applyDue(state: SandboxState, nowMs: number): Pick<ClockChange, 'deletedKeys' | 'rotatedKeys'> & {events: TrailRecord[]} {
  const before = new Map(Object.values(state.keys).map((k) => [k.arn, {count: k.materials.length, deletionDate: k.deletionDate, region: k.region}]))
  maintain(state, nowMs)
  const events: TrailRecord[] = []
  const deletedKeys = [...before.keys()].filter((arn) => !state.keys[arn])
  for (const arn of deletedKeys) events.push(serviceEvent('DeleteKey', arn, before.get(arn)!.region, before.get(arn)!.deletionDate ?? nowMs))
  const rotatedKeys: ClockChange['rotatedKeys'] = []
  for (const k of Object.values(state.keys)) {
    const was = before.get(k.arn)
    if (!was || k.materials.length <= was.count) continue
    rotatedKeys.push({keyArn: k.arn, rotations: k.materials.length - was.count})
    for (const m of k.materials.slice(was.count)) events.push(serviceEvent('RotateKey', k.arn, k.region, m.createdAt))
  }

  events.sort((a, b) => Date.parse(a.eventTime) - Date.parse(b.eventTime))
  return {deletedKeys, events, rotatedKeys}
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
    const {events, ...due} = applyDue(state, Date.parse(after.now))
    return {change: {after, before: status(beforeOffset, env, realMs), ...due, dryRun: Boolean(options.dryRun)}, events}
  }

  if (options.dryRun) return change(structuredClone(store.read())).change
  const {change: done, events} = await store.mutate(change)
  store.appendEvents(events)
  store.flushEvents()
  return done
}

/** Sets the sandbox's time to `target`. */
export async function setClock(dir: string, target: Date, options: {dryRun?: boolean; env?: NodeJS.ProcessEnv} = {}): Promise<ClockChange> {
  const env = options.env ?? process.env
  const current = clockStatus(dir, env)
  return shiftClock(dir, target.getTime() - Date.parse(current.now), options)
}
