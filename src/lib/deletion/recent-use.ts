// Evidence that a key is still in use, for the deletion pre-flight: KMS's own record of the last
// successful cryptographic operation (GetKeyLastUsage), and the newest cryptographic calls on the
// key in CloudTrail (LookupEvents by the key's ARN, paced at CloudTrail's 2 requests/s).
// Failed calls count as use too: a Decrypt refused because the key is disabled is exactly the
// signal that someone still depends on it.
import type {CloudTrailClient, Event as LookupEvent} from '@aws-sdk/client-cloudtrail'
import type {KMSClient} from '@aws-sdk/client-kms'

import {lookupEventPages} from '../aws/paging.js'
import {kmsSdk} from '../aws/sdk.js'
import {fromAwsError} from '../errors.js'
import {LOOKUP_EVENTS_RATE, Pacer} from '../pacing.js'
import {KEY_USE_OPERATIONS} from '../policy/actions.js'
import {type CloudTrailRecord, describeFrom, normalise} from '../trail/normalise.js'

/** CloudTrail event names of KMS cryptographic operations: the calls that mean data depends on the key. */
export const CRYPTO_EVENTS: ReadonlySet<string> = new Set(KEY_USE_OPERATIONS)

const KMS_SOURCE = 'kms.amazonaws.com'

export interface LastUsage {
  /** 'ok': KMS answered; 'unavailable': the API is missing, not allowed or failed (see reason). */
  status: 'ok' | 'unavailable'
  operation?: string
  /** ISO time of the last successful cryptographic operation; absent when never used since tracking began. */
  time?: string
  cloudTrailEventId?: string
  /** ISO date from which KMS tracks usage for this key. */
  trackingSince?: string
  reason?: string
}

export interface UsageEvent {
  time: string
  event: string
  who: string
  from: string
  /** "ok" or the error code (a refused call is still someone trying to use the key). */
  outcome: string
  userAgent?: string
  eventId: string
}

export interface UsageCaller {
  who: string
  from: string
  calls: number
  /** ISO time of this caller's newest call. */
  last: string
  events: string[]
}

export interface TrailUsage {
  status: 'ok' | 'unavailable'
  reason?: string
  /** Cryptographic calls found in the window (a lower bound when truncated). */
  count: number
  /** Newest first, at most `show` of them. */
  events: UsageEvent[]
  /** Distinct callers (who + from), most calls first. */
  callers: UsageCaller[]
  /** More events were in the window than the pages read. */
  truncated: boolean
  /** LookupEvents pages read. */
  pages: number
}

export interface RecentUse {
  /** Start of the window, ISO. */
  since: string
  lookbackMs: number
  lastUsage: LastUsage
  trail: TrailUsage
  /** Any evidence of use inside the window. */
  used: boolean
  /** At least one source answered, so "not used" means something. */
  checked: boolean
}

export interface RecentUseOptions {
  lookbackMs: number
  now?: Date
  /** LookupEvents pages to read at most (50 events each). Default 6. */
  maxPages?: number
  /** Events to keep for the report. Default 5. */
  show?: number
  pacer?: Pacer
}

/** GetKeyLastUsage, where this SDK and the endpoint have it; never throws. */
export async function lastUsage(kms: KMSClient, keyId: string): Promise<LastUsage> {
  const sdk = await kmsSdk()
  const Command = (sdk as Partial<typeof sdk>).GetKeyLastUsageCommand
  if (!Command) return {reason: 'this version of the KMS SDK has no GetKeyLastUsage', status: 'unavailable'}
  try {
    const out = await kms.send(new Command({KeyId: keyId}))
    const u = out.KeyLastUsage ?? {}
    return {
      cloudTrailEventId: u.CloudTrailEventId,
      operation: u.Operation,
      status: 'ok',
      time: u.Timestamp?.toISOString(),
      trackingSince: out.TrackingStartDate?.toISOString(),
    }
  } catch (error) {
    return {reason: unavailableReason(error, 'GetKeyLastUsage'), status: 'unavailable'}
  }
}

function unavailableReason(error: unknown, operation: string): string {
  const name = (error as Error)?.name ?? ''
  if (name === 'AccessDeniedException' || name === 'AccessDenied') return `not allowed: ${operation === 'LookupEvents' ? 'cloudtrail' : 'kms'}:${operation}`
  if (/UnknownOperation|UnsupportedOperation|InvalidAction|NotImplemented/i.test(name)) return `${operation} is not supported by this endpoint`
  return fromAwsError(error, {operation}).message
}

/** The newest cryptographic calls on one key in CloudTrail since a point in time; never throws. */
export async function trailUsage(
  cloudtrail: CloudTrailClient,
  keyArn: string,
  since: Date,
  options: {maxPages?: number; pacer?: Pacer; show?: number} = {},
): Promise<TrailUsage> {
  const maxPages = options.maxPages ?? 6
  const show = options.show ?? 5
  const pacer = options.pacer ?? new Pacer({rates: {LookupEvents: LOOKUP_EVENTS_RATE}})
  const all: UsageEvent[] = []
  let pages = 0
  let more = false
  try {
    // No EndTime: CloudTrail's own "now" ends the window, whatever the local clock says.
    const input = {LookupAttributes: [{AttributeKey: 'ResourceName' as const, AttributeValue: keyArn}], MaxResults: 50, StartTime: since}
    for await (const page of lookupEventPages(cloudtrail, input, {maxPages, pacer})) {
      pages++
      for (const e of page.Events ?? []) {
        const usage = toUsageEvent(e)
        if (usage) all.push(usage)
      }

      more = Boolean(page.NextToken)
    }
  } catch (error) {
    return {callers: [], count: all.length, events: [], pages, reason: unavailableReason(error, 'LookupEvents'), status: 'unavailable', truncated: false}
  }

  // Newest first, whatever order the pages came in.
  all.sort((a, b) => b.time.localeCompare(a.time))
  return {callers: groupCallers(all), count: all.length, events: all.slice(0, show), pages, status: 'ok', truncated: more}
}

/** One LookupEvents result -> a usage event, or undefined when it is not a KMS cryptographic call. */
export function toUsageEvent(e: LookupEvent): UsageEvent | undefined {
  let record: CloudTrailRecord = {}
  if (e.CloudTrailEvent) {
    try {
      record = JSON.parse(e.CloudTrailEvent) as CloudTrailRecord
    } catch {
      record = {}
    }
  }

  record.eventName ??= e.EventName
  record.eventSource ??= e.EventSource
  record.eventTime ??= e.EventTime?.toISOString()
  record.eventID ??= e.EventId
  if (record.eventSource !== KMS_SOURCE || !record.eventName || !CRYPTO_EVENTS.has(record.eventName)) return undefined
  const n = normalise(record)
  const time = toIso(n.time) ?? e.EventTime?.toISOString() ?? ''
  const out: UsageEvent = {event: n.event, eventId: n.eventId, from: describeFrom(n) || '?', outcome: n.outcome, time, who: n.who || e.Username || '?'}
  if (n.userAgent) out.userAgent = n.userAgent
  return out
}

function toIso(text: string | undefined): string | undefined {
  if (!text) return undefined
  const d = new Date(text)
  return Number.isNaN(d.getTime()) ? undefined : d.toISOString()
}

function groupCallers(events: readonly UsageEvent[]): UsageCaller[] {
  const byCaller = new Map<string, UsageCaller>()
  for (const e of events) {
    const id = `${e.who}\u0000${e.from}`
    const c = byCaller.get(id)
    if (c) {
      c.calls++
      if (e.time > c.last) c.last = e.time
      if (!c.events.includes(e.event)) c.events.push(e.event)
    } else {
      byCaller.set(id, {calls: 1, events: [e.event], from: e.from, last: e.time, who: e.who})
    }
  }

  return [...byCaller.values()].sort((a, b) => b.calls - a.calls || b.last.localeCompare(a.last))
}

/** Both sources, side by side, and the verdict: used inside the window or not, and whether anyone could tell. */
export async function recentUse(kms: KMSClient, cloudtrail: CloudTrailClient | undefined, key: {keyId: string; arn: string}, options: RecentUseOptions): Promise<RecentUse> {
  const now = options.now ?? new Date()
  const since = new Date(now.getTime() - options.lookbackMs)
  const [last, trail] = await Promise.all([
    lastUsage(kms, key.keyId),
    cloudtrail
      ? trailUsage(cloudtrail, key.arn, since, {maxPages: options.maxPages, pacer: options.pacer, show: options.show})
      : Promise.resolve<TrailUsage>({callers: [], count: 0, events: [], pages: 0, reason: 'CloudTrail not consulted', status: 'unavailable', truncated: false}),
  ])
  const lastInWindow = last.status === 'ok' && last.time !== undefined && last.time >= since.toISOString()
  return {
    checked: last.status === 'ok' || trail.status === 'ok',
    lastUsage: last,
    lookbackMs: options.lookbackMs,
    since: since.toISOString(),
    trail,
    used: lastInWindow || trail.count > 0,
  }
}
