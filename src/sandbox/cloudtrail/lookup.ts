// CloudTrail LookupEvents with AWS's rules: one lookup attribute at most, exact matching, the last 90
// days, newest first, at most 50 events a page with a NextToken bound to the query.
import {createHash} from 'node:crypto'

import {DAY_MS} from '../../lib/time.js'
import {err} from '../errors.js'
import type {TrailRecord} from '../store/store.js'

const ATTRIBUTE_KEYS = ['AccessKeyId', 'EventId', 'EventName', 'EventSource', 'ReadOnly', 'ResourceName', 'ResourceType', 'Username']

function username(r: TrailRecord): string | undefined {
  const u = r.userIdentity ?? {}
  if (u.userName) return u.userName
  if (u.type === 'Root') return 'root'
  if (u.type === 'AssumedRole' && typeof u.arn === 'string') return u.arn.split('/').pop()
  return undefined
}

function matches(r: TrailRecord, key: string, value: string): boolean {
  switch (key) {
    case 'AccessKeyId': {
      return r.userIdentity?.accessKeyId === value
    }

    case 'EventId': {
      return r.eventID === value
    }

    case 'EventName': {
      return r.eventName === value
    }

    case 'EventSource': {
      return r.eventSource === value
    }

    case 'ReadOnly': {
      return String(r.readOnly) === value
    }

    case 'ResourceName': {
      return Array.isArray(r.resources) && r.resources.some((x: {ARN?: string}) => x.ARN === value)
    }

    case 'ResourceType': {
      return Array.isArray(r.resources) && r.resources.some((x: {type?: string}) => x.type === value)
    }

    case 'Username': {
      return username(r) === value
    }

    default: {
      return false
    }
  }
}

function timeArg(v: unknown, name: string): number | undefined {
  if (v === undefined || v === null) return undefined
  if (typeof v === 'number') return v * 1000
  if (typeof v === 'string' && !Number.isNaN(Date.parse(v))) return Date.parse(v)
  throw err('InvalidTimeRangeException', `${name} is not a valid time.`)
}

export function lookupEvents(records: TrailRecord[], input: Record<string, any>, region: string, nowMs: number): Record<string, unknown> {
  const attrs = input.LookupAttributes
  if (attrs !== undefined && attrs !== null && !Array.isArray(attrs)) throw err('InvalidLookupAttributesException', 'LookupAttributes must be a list.')
  const list = (attrs ?? []) as Array<{AttributeKey?: string; AttributeValue?: string}>
  if (list.length > 1) throw err('InvalidLookupAttributesException', 'You cannot specify more than one lookup attribute.')
  const attr = list[0]
  if (attr) {
    if (!attr.AttributeKey || !ATTRIBUTE_KEYS.includes(attr.AttributeKey)) {
      throw err('InvalidLookupAttributesException', `The lookup attribute key ${attr.AttributeKey ?? 'null'} is not valid. Valid keys: ${ATTRIBUTE_KEYS.join(', ')}.`)
    }

    if (typeof attr.AttributeValue !== 'string' || attr.AttributeValue.length === 0 || attr.AttributeValue.length > 2000) {
      throw err('InvalidLookupAttributesException', 'The lookup attribute value must be 1 to 2000 characters long.')
    }
  }

  const max = input.MaxResults ?? 50
  if (typeof max !== 'number' || !Number.isInteger(max) || max < 1 || max > 50) {
    throw err('InvalidMaxResultsException', 'MaxResults must be an integer from 1 to 50.')
  }

  const oldest = nowMs - 90 * DAY_MS
  const start = timeArg(input.StartTime, 'StartTime')
  const end = timeArg(input.EndTime, 'EndTime')
  if (start !== undefined && end !== undefined && start > end) throw err('InvalidTimeRangeException', 'Start time must be earlier than or equal to end time.')
  const from = Math.max(oldest, start ?? oldest)
  const to = end ?? Number.POSITIVE_INFINITY
  const category = input.EventCategory
  if (category !== undefined && category !== null && category !== 'insight') throw err('InvalidEventCategoryException', `Event category ${category} is not valid.`)
  const queryHash = createHash('sha256')
    .update(JSON.stringify([attr?.AttributeKey, attr?.AttributeValue, input.StartTime ?? null, input.EndTime ?? null, category ?? null]))
    .digest('hex')
    .slice(0, 16)
  let cursor: {i: number; t: number} | undefined
  if (input.NextToken !== undefined && input.NextToken !== null) {
    try {
      const parsed = JSON.parse(Buffer.from(String(input.NextToken), 'base64').toString('utf8'))
      if (parsed.q !== queryHash || typeof parsed.t !== 'number' || typeof parsed.i !== 'number') throw new Error('mismatch')
      cursor = {i: parsed.i, t: parsed.t}
    } catch {
      throw err('InvalidNextTokenException', 'The NextToken is not valid for this request.')
    }
  }

  if (category === 'insight') return {Events: []}
  const hits: Array<{i: number; r: TrailRecord; t: number}> = []
  for (let i = records.length - 1; i >= 0; i--) {
    const r = records[i]
    if (r.awsRegion !== region) continue
    const t = Date.parse(r.eventTime)
    if (t < from || t > to) continue
    if (attr && !matches(r, attr.AttributeKey!, attr.AttributeValue!)) continue
    if (cursor && (t > cursor.t || (t === cursor.t && i >= cursor.i))) continue
    hits.push({i, r, t})
  }

  // Newest first; records of the same second in the order they were appended, newest first.
  hits.sort((a, b) => b.t - a.t || b.i - a.i)
  const pageHits = hits.slice(0, max)
  const out: Record<string, unknown> = {Events: pageHits.map(({r}) => lookupEntry(r))}
  if (hits.length > max) {
    const last = pageHits.at(-1)!
    out.NextToken = Buffer.from(JSON.stringify({i: last.i, q: queryHash, t: last.t})).toString('base64')
  }

  return out
}

function lookupEntry(r: TrailRecord): Record<string, unknown> {
  const user = username(r)
  return {
    ...(r.userIdentity?.accessKeyId ? {AccessKeyId: r.userIdentity.accessKeyId} : {}),
    CloudTrailEvent: JSON.stringify(r),
    EventId: r.eventID,
    EventName: r.eventName,
    EventSource: r.eventSource,
    EventTime: Date.parse(r.eventTime) / 1000,
    ReadOnly: String(r.readOnly),
    Resources: Array.isArray(r.resources) ? r.resources.map((x: {ARN: string; type: string}) => ({ResourceName: x.ARN, ResourceType: x.type})) : [],
    ...(user ? {Username: user} : {}),
  }
}
