// The sandbox's state directory, shared by concurrent processes:
//   state.json    keys, aliases, grants (written atomically under a lock: a crash mid-write leaves the old file;
//                 a crash can leave a state.json.*.tmp behind, which is ignored)
//   state.lock    the lock (proper-lockfile) held while a mutation reads, changes and writes state.json
//   events.jsonl  CloudTrail records, appended (never rewritten); each append starts with "\n" so that a
//                 line torn by a crash is cut off from the next record and skipped on read
// Reads are served from memory and reloaded only when state.json changed on disk (inode, size, mtime).
// The directory is created 0700 and its files 0600: key material is kept here in the clear.
import {randomBytes} from 'node:crypto'
import {closeSync, existsSync, fstatSync, fsyncSync, mkdirSync, openSync, readFileSync, readSync, renameSync, rmSync, statSync, writeSync} from 'node:fs'
import {join} from 'node:path'

import lockfile from 'proper-lockfile'

import {usageError} from '../../lib/errors.js'
import {type Clock, createClock} from '../clock.js'
import {fileSignature, forgetSignature} from './signature.js'
import {type SandboxState, emptyState} from './state.js'

export const STATE_FILE = 'state.json'
export const EVENTS_FILE = 'events.jsonl'
export const LOCK_FILE = 'state.lock'

export interface StoreOptions {
  /** Buffer CloudTrail appends and write them in batches (the HTTP server). Default false: append at once. */
  batchEvents?: boolean
  env?: NodeJS.ProcessEnv
}

export type TrailRecord = Record<string, any>

interface StoreMutation {
  fn: (state: SandboxState) => unknown
  reject: (error: unknown) => void
  resolve: (value: unknown) => void
}

export class SandboxStore {
  readonly clock: Clock
  readonly dir: string
  private batch: TrailRecord[] = []
  private readonly batchEvents: boolean
  /** Bumped whenever the in-memory state is replaced or written (for caches derived from it). */
  generation = 0
  private cache?: {signature: string; state: SandboxState}
  private events: TrailRecord[] = []
  private eventsIno = -1
  private eventsOffset = 0
  private eventsPending: Buffer = Buffer.alloc(0)
  private flushTimer?: NodeJS.Timeout

  constructor(dir: string, options: StoreOptions = {}) {
    this.dir = dir
    this.eventsPath = join(dir, EVENTS_FILE)
    this.statePath = join(dir, STATE_FILE)
    this.batchEvents = options.batchEvents ?? false
    makePrivateDir(dir)
    this.clock = createClock(() => this.cache?.state.clockOffsetMs ?? 0, options.env)
  }

  readonly eventsPath: string
  readonly statePath: string
  private appendFd?: {fd: number; ino: number}

  /** Appends CloudTrail records (batched in server mode). */
  appendEvents(records: TrailRecord[]): void {
    if (records.length === 0) return
    if (!this.batchEvents) {
      this.append(serialiseRecords(records))
      return
    }

    this.batch.push(...records)
    if (this.batch.length >= 500) this.flushEvents()
    else this.flushTimer ??= setTimeout(() => this.flushEvents(), 20)
  }

  /** Writes what is buffered and lets go of the events file. */
  close(): void {
    this.flushEvents()
    if (this.appendFd) closeSync(this.appendFd.fd)
    this.appendFd = undefined
  }

  /** Writes buffered CloudTrail records now. */
  flushEvents(): void {
    if (this.flushTimer) clearTimeout(this.flushTimer)
    this.flushTimer = undefined
    if (this.batch.length === 0) return
    const records = this.batch
    this.batch = []
    this.append(serialiseRecords(records))
  }

  /**
   * One O_APPEND write per batch (whole records: concurrent appenders never interleave inside one).
   * The descriptor stays open while the file is the same one (a reset elsewhere replaces it).
   */
  private append(text: string): void {
    let current: number | undefined
    try {
      current = statSync(this.eventsPath).ino
    } catch {
      current = undefined
    }

    if (this.appendFd && this.appendFd.ino !== current) {
      closeSync(this.appendFd.fd)
      this.appendFd = undefined
    }

    if (!this.appendFd) {
      const fd = openSync(this.eventsPath, 'a', 0o600)
      this.appendFd = {fd, ino: fstatSync(fd).ino}
    }

    const buf = Buffer.from(text, 'utf8')
    let written = 0
    while (written < buf.length) written += writeSync(this.appendFd.fd, buf, written, buf.length - written)
  }

  /**
   * Runs fn on the newest state under the directory lock and writes the result atomically.
   * If fn throws, nothing of its change is written and the error is the caller's.
   *
   * Mutations of this process queue here rather than compete for the directory lock (whose retries
   * back off); those that arrive while one is being written go together under the next lock hold and
   * are written once (one fsync for the group), each applied in turn to the state the previous left.
   * A mutation that throws leaves the state as it was before it (in a group: restored from a copy).
   */
  mutate<T>(fn: (state: SandboxState) => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.pending.push({fn, reject, resolve: resolve as (value: unknown) => void})
      if (!this.draining) void this.drain()
    })
  }

  private draining = false
  private pending: StoreMutation[] = []

  private async drain(): Promise<void> {
    this.draining = true
    try {
      while (this.pending.length > 0) {
        const group = this.pending.splice(0)
        // eslint-disable-next-line no-await-in-loop
        await this.mutateGroup(group)
      }
    } finally {
      this.draining = false
    }
  }

  private async mutateGroup(group: StoreMutation[]): Promise<void> {
    let release: () => Promise<void>
    try {
      release = await lockfile.lock(this.dir, {
        lockfilePath: join(this.dir, LOCK_FILE),
        realpath: false,
        // A holder killed with SIGKILL leaves the lock behind; it is taken over once stale.
        retries: {factor: 1.3, maxTimeout: 60, minTimeout: 2, randomize: true, retries: 400},
        stale: 4000,
        update: 1000,
        // A holder stalled past `stale` (a stopped process) loses the lock to another process; that must
        // not crash a running server. Mutations take milliseconds, so this is a corner case.
        onCompromised() {},
      })
    } catch (error) {
      for (const m of group) m.reject(error)
      return
    }

    const settle: Array<() => void> = []
    try {
      let state = this.read()
      let changed = false
      for (const m of group) {
        // Alone, a failed mutation drops the in-memory copy (re-read from disk); in a group the others'
        // changes are kept, so the state is restored from a copy taken before it.
        const before = group.length > 1 ? JSON.stringify(state) : undefined
        try {
          const result = m.fn(state)
          changed = true
          settle.push(() => m.resolve(result))
        } catch (error) {
          if (before === undefined) {
            this.cache = undefined
            this.generation++
          } else {
            state = parseState(before)
          }

          settle.push(() => m.reject(error))
        }
      }

      if (changed) {
        try {
          this.write(state)
        } catch (error) {
          this.cache = undefined
          this.generation++
          for (const m of group) m.reject(error)
          return
        }
      } else if (group.length > 1) {
        this.cache = undefined
        this.generation++
      }

      for (const done of settle) done()
    } finally {
      await release().catch(() => {})
    }
  }

  /** The current state (from memory unless state.json changed on disk). Do not modify it outside mutate(). */
  read(): SandboxState {
    const signature = fileSignature(this.statePath)
    if (signature === 'none') {
      // No state yet: an empty one in memory (written on the first mutation).
      if (!this.cache || this.cache.signature !== 'none') {
        this.cache = {signature: 'none', state: emptyState(Date.now())}
        this.generation++
      }

      return this.cache.state
    }

    const c = this.cache
    if (c && c.signature === signature) return c.state
    const state = parseState(readFileSync(this.statePath, 'utf8'))
    this.cache = {signature, state}
    this.generation++
    return state
  }

  /** Every CloudTrail record in the directory, oldest first (read incrementally; shared array, do not modify). */
  readEvents(): TrailRecord[] {
    this.flushEvents()
    if (!existsSync(this.eventsPath)) {
      this.events = []
      this.eventsOffset = 0
      this.eventsIno = -1
      this.eventsPending = Buffer.alloc(0)
      return this.events
    }

    const fd = openSync(this.eventsPath, 'r')
    try {
      const st = fstatSync(fd)
      if (st.ino !== this.eventsIno || st.size < this.eventsOffset) {
        this.events = []
        this.eventsOffset = 0
        this.eventsIno = st.ino
        this.eventsPending = Buffer.alloc(0)
      }

      if (st.size > this.eventsOffset) {
        const chunk = Buffer.alloc(st.size - this.eventsOffset)
        let read = 0
        while (read < chunk.length) {
          const n = readSync(fd, chunk, read, chunk.length - read, this.eventsOffset + read)
          if (n === 0) break
          read += n
        }

        this.eventsOffset += read
        const data = this.eventsPending.length > 0 ? Buffer.concat([this.eventsPending, chunk.subarray(0, read)]) : chunk.subarray(0, read)
        let start = 0
        for (;;) {
          const nl = data.indexOf(10, start)
          if (nl === -1) break
          this.parseLine(data.subarray(start, nl))
          start = nl + 1
        }

        const rest = data.subarray(start)
        // The last record is unterminated until the next append: complete if it parses.
        if (rest.length > 0 && this.parseLine(rest)) this.eventsPending = Buffer.alloc(0)
        else this.eventsPending = Buffer.from(rest)
      }
    } finally {
      closeSync(fd)
    }

    return this.events
  }

  /** Deletes keys, aliases, grants and events (under the lock). */
  async reset(): Promise<void> {
    await this.mutate((state) => {
      const fresh = emptyState(Date.now())
      state.aliases = fresh.aliases
      state.grants = fresh.grants
      state.keys = fresh.keys
      state.createdAt = fresh.createdAt
      state.clockOffsetMs = 0
      this.batch = []
      rmSync(this.eventsPath, {force: true})
    })
    this.events = []
    this.eventsOffset = 0
    this.eventsIno = -1
    this.eventsPending = Buffer.alloc(0)
  }

  private parseLine(line: Buffer): boolean {
    if (line.length === 0) return false
    try {
      const record = JSON.parse(line.toString('utf8'))
      if (record && typeof record === 'object') {
        this.events.push(record)
        return true
      }
    } catch {
      // A line torn by a crash: skipped.
    }

    return false
  }

  private write(state: SandboxState): void {
    writeAtomic(this.statePath, JSON.stringify(state))
    this.cache = {signature: fileSignature(this.statePath), state}
    this.generation++
  }
}

/**
 * Creates a directory (and its missing parents) readable by its owner only (0700), whatever the umask.
 * A path that cannot be a directory (a file is in the way, no permission, a read-only file system) is
 * a usage error naming the path and `what` it is (the flag that set it), never raw errno text.
 */
export function makePrivateDir(dir: string, what = 'The sandbox directory (--sandbox-dir)'): void {
  try {
    mkdirSync(dir, {mode: 0o700, recursive: true})
  } catch (error) {
    const why = DIR_ERRORS[(error as NodeJS.ErrnoException).code ?? '']
    if (!why) throw error
    throw usageError(`${what} ${dir} cannot be used: ${why}.`, 'Try this: a directory you can write, or a path where one can be created')
  }
}

const DIR_ERRORS: Record<string, string> = {
  EACCES: 'permission denied',
  EEXIST: 'it is a file, not a directory',
  ENOTDIR: 'a part of the path is not a directory',
  EPERM: 'permission denied',
  EROFS: 'the file system is read-only',
}

/**
 * Writes a file so that readers see the old content or the new, never a mix: a temporary file in the
 * same directory, flushed to disk, then renamed over the target. (What write-file-atomic does; done
 * here because that package needs CommonJS's __filename, which the bundled CLI does not have.)
 */
export function writeAtomic(path: string, data: string): void {
  const tmp = `${path}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`
  const fd = openSync(tmp, 'w', 0o600)
  try {
    const buf = Buffer.from(data, 'utf8')
    let written = 0
    while (written < buf.length) written += writeSync(fd, buf, written, buf.length - written)
    fsyncSync(fd)
  } catch (error) {
    closeSync(fd)
    rmSync(tmp, {force: true})
    throw error
  }

  closeSync(fd)
  try {
    renameSync(tmp, path)
  } catch (error) {
    rmSync(tmp, {force: true})
    throw error
  } finally {
    forgetSignature(path)
  }
}

function serialiseRecords(records: TrailRecord[]): string {
  let out = ''
  for (const r of records) out += '\n' + JSON.stringify(r)
  return out
}

function parseState(text: string): SandboxState {
  const state = JSON.parse(text) as SandboxState
  if (!state || state.version !== 1 || typeof state.keys !== 'object') throw new Error('The sandbox state file is not a kmsctl sandbox state (version 1).')
  state.aliases ??= {}
  state.grants ??= {}
  state.clockOffsetMs ??= 0
  return state
}
