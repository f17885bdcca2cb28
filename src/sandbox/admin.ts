// What the `kmsctl sandbox` commands do, as plain functions over a state directory.
import {existsSync} from 'node:fs'

import {NOT_FOR_REAL_DATA} from './constants.js'
import {SandboxStore} from './store.js'
import {exportTrail as writeTrail} from './trail.js'

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
  files: string[]
  outDir: string
  records: number
}

export function exportSandboxTrail(dir: string, outDir: string): ExportTrailResult {
  const store = new SandboxStore(dir)
  const {files, records} = writeTrail(store.readEvents(), outDir)
  return {dir, files, outDir, records}
}
