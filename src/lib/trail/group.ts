// --group-by: counts of matched events per principal, event, key, source address, user agent or
// day, with the first and last time seen and how many of them failed.
import {usageError} from '../errors.js'
import {type TrailEvent, describeFrom} from './normalise.js'

export const GROUP_BY = ['principal', 'event', 'key', 'ip', 'user-agent', 'day'] as const
export type GroupBy = (typeof GROUP_BY)[number]

export interface GroupRow {
  count: number
  /** How many of them failed (any error code). */
  errors: number
  first: string
  last: string
  /** The group's value (for principal: the "who" text). */
  value: string
}

export function parseGroupBy(value: string | undefined): GroupBy | undefined {
  if (value === undefined) return undefined
  if ((GROUP_BY as readonly string[]).includes(value)) return value as GroupBy
  throw usageError(`--group-by "${value}" is not one of ${GROUP_BY.join(', ')}.`, 'Try this: --group-by principal')
}

export function groupValue(event: TrailEvent, by: GroupBy): string {
  switch (by) {
    case 'principal': {
      return event.who
    }

    case 'event': {
      return event.event
    }

    case 'key': {
      return event.key ?? '-'
    }

    case 'ip': {
      return describeFrom(event) || '-'
    }

    case 'user-agent': {
      return event.userAgent ?? '-'
    }

    case 'day': {
      return event.time.slice(0, 10)
    }
  }
}

/** Groups in descending count, then by value. */
export function groupEvents(events: Iterable<TrailEvent>, value: (e: TrailEvent) => string): GroupRow[] {
  const groups = new Map<string, GroupRow>()
  for (const e of events) {
    const v = value(e)
    const g = groups.get(v)
    if (g) {
      g.count++
      if (e.errorCode) g.errors++
      if (e.time < g.first) g.first = e.time
      if (e.time > g.last) g.last = e.time
    } else {
      groups.set(v, {count: 1, errors: e.errorCode ? 1 : 0, first: e.time, last: e.time, value: v})
    }
  }

  return [...groups.values()].sort((a, b) => b.count - a.count || a.value.localeCompare(b.value))
}

export function groupBy(events: Iterable<TrailEvent>, by: GroupBy): GroupRow[] {
  return groupEvents(events, (e) => groupValue(e, by))
}

/** One caller of a key from one place: what `trail who` lists. */
export interface CallerRow {
  count: number
  /** The error codes seen, for failures. */
  errors?: string[]
  /** The operations called, most frequent first. */
  events: string[]
  first: string
  from: string
  last: string
  who: string
}

export interface WhoSummary {
  /** Successful calls by principal and source. */
  callers: CallerRow[]
  /** Failed calls by principal and source, with their error codes. */
  failures: CallerRow[]
}

function callerRows(events: TrailEvent[], withErrors: boolean): CallerRow[] {
  const rows = new Map<string, CallerRow & {names: Map<string, number>}>()
  for (const e of events) {
    const from = describeFrom(e)
    const id = `${e.who}\u0000${from}`
    let row = rows.get(id)
    if (!row) {
      row = {count: 0, events: [], first: e.time, from, last: e.time, names: new Map(), who: e.who}
      if (withErrors) row.errors = []
      rows.set(id, row)
    }

    row.count++
    row.names.set(e.event, (row.names.get(e.event) ?? 0) + 1)
    if (e.time < row.first) row.first = e.time
    if (e.time > row.last) row.last = e.time
    if (withErrors && e.errorCode && !row.errors!.includes(e.errorCode)) row.errors!.push(e.errorCode)
  }

  return [...rows.values()]
    .map(({names, ...row}) => ({...row, events: [...names].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).map(([n]) => n)}))
    .sort((a, b) => b.count - a.count || a.who.localeCompare(b.who) || a.from.localeCompare(b.from))
}

/** Calls on one key by principal and source, the failures apart. */
export function summariseWho(events: TrailEvent[]): WhoSummary {
  return {
    callers: callerRows(events.filter((e) => !e.errorCode), false),
    failures: callerRows(events.filter((e) => e.errorCode), true),
  }
}
