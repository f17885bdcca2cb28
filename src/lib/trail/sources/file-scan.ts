// One CloudTrail log file in, its matching records out: read, gunzip, split the Records array with
// the raw scanner, parse only the records that contain the needles, normalise and filter them.
// Runs inside the worker threads (and inline for a single file). Loads no AWS SDK code.
import {readFileSync} from 'node:fs'
import {gunzipSync} from 'node:zlib'

import {type FilterSpec, compileFilter, rawRecordTest} from '../filters.js'
import {type CloudTrailRecord, type TrailEvent, aliasBindings, normalise} from '../normalise.js'
import type {FetchFailure} from './s3-fetch.js'
import {type Needle, type RecordTest, ScanError, scanRecords} from './raw-scan.js'

/**
 * gunzip's output chunk: the uncompressed size from the gzip trailer (ISIZE), so that a file comes
 * out in one exactly sized piece with no copying; within bounds, as ISIZE is only a hint (it is
 * modulo 4 GiB, and of the last member only).
 */
function gunzipChunk(data: Buffer): number {
  const isize = data.length >= 18 ? data.readUInt32LE(data.length - 4) : 0
  return Math.min(64 * 1024 * 1024, Math.max(64 * 1024, isize + 1024))
}

export interface ScanJob {
  /** Known aliases (alias -> key ARN or ID are turned around here: key -> alias) for the key column. */
  aliases: Array<[string, string]>
  /** 'match': records that pass the filters; 'learn': alias bindings from records naming the needles. */
  mode: 'learn' | 'match'
  needles: Needle[][]
  /** Keep each match's record text exactly as it was in the file (for --raw). */
  raw: boolean
  spec: FilterSpec
}

export interface FileMatch {
  event: TrailEvent
  /** The record's text as it was in the file (only with ScanJob.raw). */
  raw?: string
}

export interface FileResult {
  bindings: Array<[string, string]>
  bytes: number
  error?: string
  /** The download failed (an S3 object fetched by a scanning thread): nothing was scanned. */
  failure?: FetchFailure
  index: number
  matches: FileMatch[]
  /** Records in the file, -1 when not counted (skipped by the raw pre-filter). */
  records: number
}

export interface PreparedJob {
  aliases: Map<string, string>
  job: ScanJob
  predicate: ReturnType<typeof compileFilter>
  /** The raw-text test of the filters that needles cannot express (match mode). */
  test?: RecordTest
}

export function prepareJob(job: ScanJob): PreparedJob {
  const aliases = new Map<string, string>()
  for (const [alias, key] of job.aliases) aliases.set(key, alias)
  return {aliases, job, predicate: compileFilter(job.spec), test: job.mode === 'match' ? rawRecordTest(job.spec) : undefined}
}

function describeError(error: unknown): string {
  if (error instanceof ScanError) return error.message
  const e = error as NodeJS.ErrnoException
  if (e?.code === 'Z_BUF_ERROR' || /unexpected end of file/i.test(e?.message ?? '')) return 'truncated gzip data'
  if (e?.code === 'Z_DATA_ERROR') return `corrupt gzip data (${e.message})`
  if (e?.code === 'ENOENT') return 'no such file'
  if (e?.code === 'EACCES') return 'permission denied'
  if (error instanceof SyntaxError) return `invalid JSON (${error.message})`
  return e?.message ?? String(error)
}

export function scanFile(path: string, index: number, prepared: PreparedJob): FileResult {
  let data: Buffer
  try {
    data = readFileSync(path)
  } catch (error) {
    return {bindings: [], bytes: 0, error: describeError(error), index, matches: [], records: 0}
  }

  return scanBuffer(data, path, index, prepared)
}

/** One log file's bytes (as read from disk or an S3 object body), gzipped or not: its matches. */
export function scanBuffer(data: Buffer, name: string, index: number, prepared: PreparedJob): FileResult {
  const result: FileResult = {bindings: [], bytes: data.length, index, matches: [], records: 0}
  let buf: Buffer
  try {
    buf = name.endsWith('.gz') || (data[0] === 0x1f && data[1] === 0x8b) ? gunzipSync(data, {chunkSize: gunzipChunk(data)}) : data
  } catch (error) {
    result.error = describeError(error)
    return result
  }

  const run = (exact: boolean) => {
    result.matches = []
    result.bindings = []
    const {job, predicate, aliases, test} = prepared
    const stats = scanRecords(
      buf,
      job.needles,
      (start, end) => {
        const text = buf.toString('utf8', start, end)
        const record = JSON.parse(text) as CloudTrailRecord
        if (job.mode === 'learn') {
          result.bindings.push(...aliasBindings(record))
          return
        }

        const event = normalise(record, {aliases})
        if (predicate(event)) result.matches.push(job.raw ? {event, raw: text} : {event})
      },
      {exact, test},
    )
    result.records = stats.records
    return stats
  }

  try {
    try {
      run(false)
    } catch (error) {
      // A record split on the fast path did not parse: read the file again byte by byte.
      if (!(error instanceof SyntaxError)) throw error
      run(true)
    }
  } catch (error) {
    result.matches = []
    result.bindings = []
    result.error = describeError(error)
  }

  return result
}
