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
