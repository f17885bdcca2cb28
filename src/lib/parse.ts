// Parsing of the values several commands take: k=v pairs, durations, points in time, lists.
// Every parser throws a usage error (exit 2) naming the flag and the expected form.
import {usageError} from './errors.js'
import {DAY_MS, parseIsoTime} from './time.js'

/** Parses repeated `k=v` values (tags, encryption context). Duplicate keys are an error. */
export function parsePairs(values: readonly string[] | undefined, flag: string): Record<string, string> {
  const out: Record<string, string> = {}
  for (const raw of values ?? []) {
    const i = raw.indexOf('=')
    if (i <= 0) throw usageError(`--${flag} "${raw}" is not of the form key=value.`, `Try this: --${flag} team=payments`)
    const k = raw.slice(0, i)
    const v = raw.slice(i + 1)
    if (k in out) throw usageError(`--${flag} gives "${k}" twice.`, `Give each key once.`)
    out[k] = v
  }

  return out
}

/** Tags as KMS takes them. */
export function parseTags(values: readonly string[] | undefined, flag = 'tag'): Array<{TagKey: string; TagValue: string}> {
  return Object.entries(parsePairs(values, flag)).map(([TagKey, TagValue]) => ({TagKey, TagValue}))
}

const UNITS: Record<string, number> = {
  d: DAY_MS,
  day: DAY_MS,
  days: DAY_MS,
  h: 3_600_000,
  hour: 3_600_000,
  hours: 3_600_000,
  m: 60_000,
  min: 60_000,
  minute: 60_000,
  minutes: 60_000,
  ms: 1,
  s: 1000,
  sec: 1000,
  second: 1000,
  seconds: 1000,
  w: 604_800_000,
  week: 604_800_000,
  weeks: 604_800_000,
}

/** `30ms`, `5s`, `2h`, `7d`, `1w` -> milliseconds. Undefined when the text is not a duration. */
export function tryParseDuration(text: string): number | undefined {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-z]+)\s*$/i.exec(text)
  if (!m) return undefined
  const unit = UNITS[m[2].toLowerCase()]
  if (unit === undefined) return undefined
  return Math.round(Number(m[1]) * unit)
}

export function parseDuration(text: string, flag: string): number {
  const ms = tryParseDuration(text)
  if (ms === undefined) throw usageError(`--${flag} "${text}" is not a duration.`, `Try this: --${flag} 2h (units: ms, s, m, h, d, w)`)
  return ms
}

/**
 * A point in time: a duration back from now (`2h`, `7d`) or an ISO 8601 date/time
 * (`2026-11-01`, `2026-11-01T10:00:00Z`). Dates without a zone are UTC.
 */
export function parseTime(text: string, flag: string, now: Date = new Date()): Date {
  const ms = tryParseDuration(text)
  if (ms !== undefined) return new Date(now.getTime() - ms)
  const d = parseIsoTime(text)
  if (d) return d

  throw usageError(`--${flag} "${text}" is not a time.`, `Try this: --${flag} 2h, --${flag} 7d, or --${flag} 2026-11-01T10:00:00Z`)
}

/** Splits comma-separated, possibly repeated flag values: `--x a,b --x c` -> [a, b, c]. */
export function splitList(values: readonly string[] | string | undefined): string[] {
  if (values === undefined) return []
  const list = typeof values === 'string' ? [values] : values
  return list.flatMap((v) => v.split(',')).map((v) => v.trim()).filter(Boolean)
}
