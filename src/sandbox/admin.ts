// What the `kmsctl sandbox` commands do, as plain functions over a state directory.
import {existsSync, rmSync} from 'node:fs'
import {relative, sep} from 'node:path'

import {type ClockStatus, clockReading} from './clock.js'
import {exportTrail as writeTrail} from './cloudtrail/export.js'
import {DEFAULT_ACCESS_KEY_ID, NOT_FOR_REAL_DATA, SANDBOX_REGION} from './constants.js'
import {type MaintenanceReport, maintainAndReport} from './kms/maintenance.js'
import type {SandboxState} from './store/state.js'
import {SandboxStore} from './store/store.js'

export interface SandboxStatus {
  aliases: number
  dir: string
  /** CloudTrail records kept (every KMS call, successful or not). */
  eventsRecorded: number
  grants: number
  keys: number
  /** Number of keys in each state, e.g. {Enabled: 3, PendingDeletion: 1}. */
  keysByState: Record<string, number>
  /** Keys per region. */
  keysByRegion: Record<string, number>
  notice: string
  /** False when the directory has no state yet. */
  exists: boolean
}

export function sandboxStatus(dir: string): SandboxStatus {
  if (!existsSync(dir)) {
    // Nothing created yet: report an empty sandbox without creating its directory.
    return {aliases: 0, dir, eventsRecorded: 0, exists: false, grants: 0, keys: 0, keysByRegion: {}, keysByState: {}, notice: NOT_FOR_REAL_DATA}
  }

  const store = new SandboxStore(dir)
  const state = store.read()
  const keysByState: Record<string, number> = {}
  const keysByRegion: Record<string, number> = {}
  for (const k of Object.values(state.keys)) {
    keysByState[k.state] = (keysByState[k.state] ?? 0) + 1
    keysByRegion[k.region] = (keysByRegion[k.region] ?? 0) + 1
  }

  return {
    aliases: Object.keys(state.aliases).length,
    dir,
    eventsRecorded: store.readEvents().length,
    exists: existsSync(store.statePath),
    grants: Object.keys(state.grants).length,
    keys: Object.keys(state.keys).length,
    keysByRegion,
    keysByState,
    notice: NOT_FOR_REAL_DATA,
  }
}

export interface ResetResult {
  dir: string
  /** What was deleted. */
  removed: {aliases: number; events: number; grants: number; keys: number}
}

export async function resetSandbox(dir: string): Promise<ResetResult> {
  const before = sandboxStatus(dir)
  await new SandboxStore(dir).reset()
  return {dir, removed: {aliases: before.aliases, events: before.eventsRecorded, grants: before.grants, keys: before.keys}}
}

export interface ExportTrailResult {
  dir: string
  org?: string
  files: string[]
  outDir: string
  records: number
  /** The KMS key the log objects are encrypted under (SSE-KMS). */
  sseKmsKeyId?: string
}

export interface ExportTrailOptions {
  org?: string
  /**
   * Encrypt the log objects with SSE-KMS under this key, as a trail configured with a KMS key
   * delivers them: a data key per object (GenerateDataKey through S3, encryption context aws:s3:arn).
   */
  sseKms?: {bucket: string; keyId: string}
}

export async function exportSandboxTrail(dir: string, outDir: string, options: ExportTrailOptions = {}): Promise<ExportTrailResult> {
  const store = new SandboxStore(dir)
  const {files, records} = writeTrail(store.readEvents(), outDir, {org: options.org})
  if (options.sseKms) await encryptExport(dir, outDir, files, options.sseKms)
  return {dir, files, outDir, records, ...(options.org ? {org: options.org} : {}), ...(options.sseKms ? {sseKmsKeyId: options.sseKms.keyId} : {})}
}

/** SSE-KMS records for the exported log objects; on a refusal by KMS the files are removed and the reason thrown. */
async function encryptExport(dir: string, outDir: string, files: string[], sse: {bucket: string; keyId: string}): Promise<void> {
  const {SandboxCore} = await import('./core.js')
  const {objectArn, writeSse} = await import('./s3/sse.js')
  const core = new SandboxCore(dir)
  const region = /^arn:aws[\w-]*:kms:([^:]+):/.exec(sse.keyId)?.[1] ?? SANDBOX_REGION
  try {
    for (const file of files) {
      const key = relative(outDir, file).split(sep).join('/')
      const encryptionContext = {'aws:s3:arn': objectArn(sse.bucket, key)}
      // eslint-disable-next-line no-await-in-loop
      const r = await core.kmsForS3({accessKeyId: DEFAULT_ACCESS_KEY_ID, region}, 'GenerateDataKey', {EncryptionContext: encryptionContext, KeyId: sse.keyId, KeySpec: 'AES_256'})
      if (!r.ok) {
        for (const f of files) rmSync(f, {force: true})
        throw new SandboxAdminError(`KMS refused a data key under ${sse.keyId} (${r.code}): ${r.message}`)
      }

      writeSse(outDir, key, {ciphertextBlob: String(r.output.CiphertextBlob), encryptionContext, keyArn: String(r.output.KeyId), serverSideEncryption: 'aws:kms'})
    }
  } finally {
    core.close()
  }
}

/** A sandbox administration step that cannot be done, in words for the user. */
export class SandboxAdminError extends Error {}

// ---- Moving the sandbox's time (`kmsctl sandbox clock show|advance|set`) ----------------------------
// When time moves, what fell due happens at once: keys whose deletion window passed are deleted,
// automatic rotations that came due are made, each recorded in CloudTrail as KMS records it.

export interface ClockChange extends Omit<MaintenanceReport, 'events'> {
  after: ClockStatus
  before: ClockStatus
  dryRun: boolean
}

export function clockStatus(dir: string, env: NodeJS.ProcessEnv = process.env): ClockStatus {
  const store = new SandboxStore(dir, {env})
  return clockReading(store.read().clockOffsetMs ?? 0, env, Date.now())
}

/** Moves the sandbox's time by `deltaMs` (forward, or back when negative). */
export async function shiftClock(dir: string, deltaMs: number, options: {dryRun?: boolean; env?: NodeJS.ProcessEnv} = {}): Promise<ClockChange> {
  const env = options.env ?? process.env
  const store = new SandboxStore(dir, {env})
  const realMs = Date.now()
  const change = (state: SandboxState) => {
    const beforeOffset = state.clockOffsetMs ?? 0
    state.clockOffsetMs = beforeOffset + deltaMs
    const after = clockReading(state.clockOffsetMs, env, realMs)
    const {events, ...due} = maintainAndReport(state, Date.parse(after.now))
    return {change: {after, before: clockReading(beforeOffset, env, realMs), ...due, dryRun: Boolean(options.dryRun)}, events}
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

/** The human report of a clock change (shared by `sandbox clock advance` and `sandbox clock set`). */
export function clockChangeLines(change: ClockChange): string[] {
  const lines = [`${change.dryRun ? 'Would move' : 'Moved'} the sandbox clock from ${change.before.now} to ${change.after.now}.`]
  for (const arn of change.deletedKeys) lines.push(`${change.dryRun ? 'Would delete' : 'Deleted'} ${arn}: its deletion waiting period ended.`)
  for (const r of change.rotatedKeys) lines.push(`${change.dryRun ? 'Would rotate' : 'Rotated'} ${r.keyArn} (${r.rotations} automatic rotation${r.rotations === 1 ? '' : 's'}).`)
  return lines
}
