// The files source: CloudTrail log files as delivered to S3 and copied locally. Directories are
// walked, files outside --since/--until are skipped by their date folder and delivery time, and the
// files are scanned in worker threads across the cores. Matches come back in file order, without
// duplicates (same eventID); a corrupt or truncated file is reported by name and skipped.
// Nothing on this path loads the AWS SDK.
import {existsSync, statSync} from 'node:fs'
import {readdir} from 'node:fs/promises'
import {availableParallelism} from 'node:os'
import {join, resolve} from 'node:path'

import {usageError} from '../../errors.js'
import {DAY_MS} from '../../time.js'
import type {FilterSpec} from '../filters.js'
import type {FileMatch} from './file-scan.js'
import {scanPool} from './scan-pool.js'
import {runOrdered, scanLogs} from './scan-run.js'

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

export async function queryFiles(options: FilesQueryOptions): Promise<FilesQueryResult> {
  const all = await listLogFiles(options.paths)
  const since = options.spec.since ? Date.parse(options.spec.since) : undefined
  const until = options.spec.until ? Date.parse(options.spec.until) : undefined
  const files = all.filter((f) => fileInWindow(f, since, until))
  const workers = Math.max(0, Math.min(options.workers ?? Math.min(availableParallelism(), 8), files.length <= 1 ? 0 : files.length))
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
  const reported = new Set<string>()
  let filesDone = 0
  const scanned = await scanLogs({
    aliases: options.aliases,
    count: files.length,
    onMatches: options.onMatches,
    onResult(r, index, pass, matched) {
      const {path} = files[index]
      if (r.error && !reported.has(path)) {
        reported.add(path)
        result.corrupt.push({file: path, reason: r.error})
      }

      if (pass === 'learn') return
      filesDone++
      result.bytes += r.bytes
      options.onProgress?.({bytes: result.bytes, filesDone, filesTotal: files.length, matched})
    },
    raw: options.raw,
    async run(job, deliver) {
      const pool = scanPool(job, workers)
      try {
        return await runOrdered(files.length, Math.max(2, workers * 3), (index) => pool.run({index, path: files[index].path}), deliver, options.signal)
      } finally {
        await pool.close()
      }
    },
    spec: options.spec,
  })
  return {...result, ...scanned}
}
