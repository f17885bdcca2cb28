// The files source: CloudTrail log files as delivered to S3 and copied locally. Directories are
// walked, files outside --since/--until are skipped by their date folder and delivery time, and the
// files are scanned in worker threads across the cores. Matches come back in file order, without
// duplicates (same eventID); a corrupt or truncated file is reported by name and skipped.
// Nothing on this path loads the AWS SDK.
import {existsSync, statSync} from 'node:fs'
import {readdir} from 'node:fs/promises'
import {availableParallelism} from 'node:os'
import {join, resolve} from 'node:path'
import {pathToFileURL} from 'node:url'
import {Worker} from 'node:worker_threads'

import {usageError} from '../../errors.js'
import {DAY_MS} from '../../time.js'
import {packageRoot, workerScript} from '../../paths.js'
import {type FilterSpec, rawNeedles} from '../filters.js'
import {type FileMatch, type FileResult, type ScanJob, prepareJob, scanFile} from './file-scan.js'

export interface LogFile {
  /** Start of the date folder's day (UTC), when the path has one. */
  day?: number
  /** Delivery time from the file name (minute precision), when it has one. */
  delivered?: number
  path: string
}

/** Files are delivered minutes after their events; a file delivered this long after --until is skipped. */
export const DELIVERY_GRACE_MS = DAY_MS

/** The delivery stamp in a file name is not always after every event in it (copies, other writers): an hour of slack. */
const DELIVERY_STAMP_MARGIN_MS = 3_600_000

const DATE_FOLDER = /[/\\](\d{4})[/\\](\d{2})[/\\](\d{2})[/\\][^/\\]+$/
const DELIVERY = /_(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})Z_[^/\\]*$/

export function logFileDates(path: string): Pick<LogFile, 'day' | 'delivered'> {
  const out: Pick<LogFile, 'day' | 'delivered'> = {}
  const d = DATE_FOLDER.exec(path)
  if (d) {
    const t = Date.UTC(Number(d[1]), Number(d[2]) - 1, Number(d[3]))
    if (!Number.isNaN(t)) out.day = t
  }

  const m = DELIVERY.exec(path)
  if (m) {
    const t = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]))
    if (!Number.isNaN(t)) out.delivered = t
  }

  return out
}

/**
 * Can this file hold events in [since, until]? A file holds only events from before its delivery
 * (and its date folder is the delivery day), so anything delivered before --since is skipped; on
 * the --until side a day of delivery delay is allowed for.
 */
export function fileInWindow(file: LogFile, since?: number, until?: number): boolean {
  if (since !== undefined) {
    if (file.delivered !== undefined && file.delivered + DELIVERY_STAMP_MARGIN_MS < since) return false
    if (file.day !== undefined && file.day + DAY_MS <= since) return false
  }

  if (until !== undefined) {
    const start = file.delivered ?? file.day
    if (start !== undefined && start > until + DELIVERY_GRACE_MS) return false
  }

  return true
}

function isLogFile(name: string): boolean {
  return name.endsWith('.json.gz') || name.endsWith('.json')
}

/** Every log file under the paths (recursively), sorted by path; digest files are left out. */
export async function listLogFiles(paths: readonly string[]): Promise<LogFile[]> {
  const found = new Set<string>()
  for (const p of paths) {
    const abs = resolve(p)
    if (!existsSync(abs)) throw usageError(`No such file or directory: ${p}`, 'Try this: --source files DIR, where DIR holds the AWSLogs/ folder or .json.gz files.')
    const info = statSync(abs)
    if (!info.isDirectory() && !info.isFile()) throw usageError(`${p} is not a regular file or a directory.`, 'Try this: --source files DIR, where DIR holds the AWSLogs/ folder or .json.gz files.')
    if (info.isDirectory()) {
      // eslint-disable-next-line no-await-in-loop
      for (const rel of await readdir(abs, {recursive: true})) {
        if (isLogFile(rel) && !/(^|[/\\])CloudTrail-Digest([/\\]|$)/.test(rel)) found.add(join(abs, rel))
      }
    } else {
      found.add(abs)
    }
  }

  return [...found].sort().map((path) => ({path, ...logFileDates(path)}))
}

export interface FilesProgress {
  bytes: number
  filesDone: number
  filesTotal: number
  matched: number
}

export interface FilesQueryOptions {
  /** Known alias -> key bindings, for the key column. */
  aliases?: Array<[string, string]>
  /** Called with each file's new matches, in file order. */
  onMatches?: (matches: FileMatch[]) => void
  onProgress?: (progress: FilesProgress) => void
  paths: readonly string[]
  raw?: boolean
  signal?: AbortSignal
  spec: FilterSpec
  /** Worker threads (default: the machine's cores; 0 scans in this thread). */
  workers?: number
}

export interface CorruptFile {
  file: string
  reason: string
}

export interface FilesQueryResult {
  bytes: number
  corrupt: CorruptFile[]
  duplicates: number
  files: number
  interrupted: boolean
  /** Aliases learned from the logs (alias -> key), when --key named an alias. */
  learned: Array<[string, string]>
  matched: number
  /** Files skipped because their dates lie outside --since/--until. */
  skippedByDate: number
}

const WORKER = 'lib/trail/sources/files-worker'

function startWorker(job: ScanJob): Worker {
  if (!import.meta.url.endsWith('.ts')) return new Worker(workerScript(WORKER), {workerData: job})
  // Running from the TypeScript sources (unit tests): load the worker's source through tsx.
  const ts = pathToFileURL(join(packageRoot(), 'src', `${WORKER}.ts`)).href
  const source = `import('tsx/esm/api').then((m) => { m.register(); return import(${JSON.stringify(ts)}) })`
  return new Worker(source, {eval: true, workerData: job})
}

interface Pool {
  close(): Promise<void>
  run(index: number, path: string): Promise<FileResult>
}

function inlinePool(job: ScanJob): Pool {
  const prepared = prepareJob(job)
  return {
    async close() {},
    run: async (index, path) => scanFile(path, index, prepared),
  }
}

function workerPool(job: ScanJob, size: number): Pool {
  const workers: Array<{busy: number; worker: Worker}> = []
  const pending = new Map<number, {reject: (e: Error) => void; resolve: (r: FileResult) => void}>()
  let failure: Error | undefined
  for (let i = 0; i < size; i++) {
    const worker = startWorker(job)
    const slot = {busy: 0, worker}
    worker.on('message', (result: FileResult) => {
      slot.busy--
      const p = pending.get(result.index)
      pending.delete(result.index)
      p?.resolve(result)
    })
    worker.on('error', (error) => {
      failure = error
      for (const p of pending.values()) p.reject(error)
      pending.clear()
    })
    workers.push(slot)
  }

  return {
    async close() {
      await Promise.all(workers.map((w) => w.worker.terminate()))
    },
    run(index, path) {
      if (failure) return Promise.reject(failure)
      const slot = workers.reduce((a, b) => (b.busy < a.busy ? b : a))
      slot.busy++
      return new Promise((resolve, reject) => {
        pending.set(index, {reject, resolve})
        slot.worker.postMessage({index, path})
      })
    },
  }
}

/** Runs one job over the files with a bounded window; results are delivered in file order. */
async function runJob(
  files: LogFile[],
  job: ScanJob,
  workers: number,
  signal: AbortSignal | undefined,
  onResult: (result: FileResult, file: LogFile) => void,
): Promise<boolean> {
  const size = Math.max(0, Math.min(workers, files.length))
  const pool = size <= 1 && files.length <= 1 ? inlinePool(job) : size === 0 ? inlinePool(job) : workerPool(job, size)
  const window = Math.max(2, size * 3)
  const done = new Map<number, FileResult>()
  let next = 0
  let emitted = 0
  let interrupted = false
  try {
    await new Promise<void>((resolveAll, rejectAll) => {
      const flush = () => {
        while (done.has(emitted)) {
          const r = done.get(emitted)!
          done.delete(emitted)
          onResult(r, files[emitted])
          emitted++
        }
      }

      const pump = () => {
        if (signal?.aborted) {
          interrupted = true
          resolveAll()
          return
        }

        if (emitted === files.length) {
          resolveAll()
          return
        }

        while (next < files.length && next - emitted < window) {
          const index = next++
          pool.run(index, files[index].path).then(
            (r) => {
              done.set(index, r)
              try {
                flush()
              } catch (error) {
                rejectAll(error)
                return
              }

              pump()
            },
            (error: Error) => rejectAll(error),
          )
        }
      }

      signal?.addEventListener('abort', () => pump(), {once: true})
      pump()
    })
  } finally {
    await pool.close()
  }

  return interrupted
}

export async function queryFiles(options: FilesQueryOptions): Promise<FilesQueryResult> {
  const all = await listLogFiles(options.paths)
  const since = options.spec.since ? Date.parse(options.spec.since) : undefined
  const until = options.spec.until ? Date.parse(options.spec.until) : undefined
  const files = all.filter((f) => fileInWindow(f, since, until))
  const workers = options.workers ?? Math.min(availableParallelism(), 8)
  const result: FilesQueryResult = {
    bytes: 0,
    corrupt: [],
    duplicates: 0,
    files: files.length,
    interrupted: false,
    learned: [],
    matched: 0,
    skippedByDate: all.length - files.length,
  }
  let spec = options.spec
  const aliases = [...(options.aliases ?? [])]
  const reportCorrupt = new Set<string>()

  // A key given as an alias that could not be resolved: learn which key it named from the logs
  // themselves (CreateAlias/UpdateAlias, and calls that sent the alias and name the key ARN).
  const unresolved = spec.keys?.filter((k) => !k.id && k.aliases.length > 0) ?? []
  if (unresolved.length > 0 && files.length > 0) {
    const learnJob: ScanJob = {aliases: [], mode: 'learn', needles: [unresolved.flatMap((k) => k.aliases)], raw: false, spec}
    const bindings = new Map<string, Set<string>>()
    result.interrupted = await runJob(files, learnJob, workers, options.signal, (r, file) => {
      if (r.error) {
        reportCorrupt.add(file.path)
        result.corrupt.push({file: file.path, reason: r.error})
      }

      for (const [alias, key] of r.bindings) {
        if (!bindings.has(alias)) bindings.set(alias, new Set())
        bindings.get(alias)!.add(key)
      }
    })
    const keys = spec.keys!.map((k) => {
      if (k.id) return k
      const targets = k.aliases.flatMap((a) => [...(bindings.get(a) ?? [])])
      if (targets.length === 0) return k
      const arn = targets.find((t) => t.startsWith('arn:'))
      const id = arn ? arn.slice(arn.indexOf(':key/') + 5) : targets[0]
      for (const a of k.aliases) {
        result.learned.push([a, arn ?? id])
        aliases.push([a, arn ?? id])
      }

      return {...k, arn, id}
    })
    spec = {...spec, keys}
    if (result.interrupted) return result
  }

  const job: ScanJob = {aliases, mode: 'match', needles: rawNeedles(spec), raw: Boolean(options.raw), spec}
  const seen = new Set<string>()
  let filesDone = 0
  result.interrupted = await runJob(files, job, workers, options.signal, (r, file) => {
    filesDone++
    result.bytes += r.bytes
    if (r.error) {
      if (!reportCorrupt.has(file.path)) result.corrupt.push({file: file.path, reason: r.error})
    } else if (r.matches.length > 0) {
      const fresh: FileMatch[] = []
      for (const m of r.matches) {
        const id = m.event.eventId
        if (id && seen.has(id)) {
          result.duplicates++
          continue
        }

        if (id) seen.add(id)
        fresh.push(m)
      }

      result.matched += fresh.length
      if (fresh.length > 0) options.onMatches?.(fresh)
    }

    options.onProgress?.({bytes: result.bytes, filesDone, filesTotal: files.length, matched: result.matched})
  })
  return result
}
