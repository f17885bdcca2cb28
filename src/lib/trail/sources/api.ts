// The api source: CloudTrail LookupEvents, one region per loop and the regions in parallel. One lookup
// attribute narrows what is read (chooseLookupAttribute), every filter is applied locally, pages are
// paced under the 2 requests/s quota per region (throttling is retried by the client's one retry
// strategy, and counted; a page still throttled is asked again after 1, 2, 4 and 8 s, in
// lookupEventPages), and an abort (Ctrl-C) or --max-events ends the reading with what was found so far.
import type {CloudTrailClient, LookupEventsCommandInput, LookupEventsCommandOutput} from '@aws-sdk/client-cloudtrail'

import {lookupEventPages} from '../../aws/paging.js'
import {KmsctlError, fromAwsError, isThrottling} from '../../errors.js'
import {LOOKUP_EVENTS_RATE, Pacer} from '../../pacing.js'
import {chooseLookupAttribute} from '../attribute.js'
import {type FilterSpec, compileFilter} from '../filters.js'
import {type CloudTrailRecord, normalise} from '../normalise.js'
import type {FileMatch} from './file-scan.js'

/** Regions enabled in every account (opt-in regions answer only where they are enabled). */
export const DEFAULT_REGIONS = [
  'us-east-1',
  'us-east-2',
  'us-west-1',
  'us-west-2',
  'ca-central-1',
  'eu-west-1',
  'eu-west-2',
  'eu-west-3',
  'eu-central-1',
  'eu-north-1',
  'ap-south-1',
  'ap-northeast-1',
  'ap-northeast-2',
  'ap-northeast-3',
  'ap-southeast-1',
  'ap-southeast-2',
  'sa-east-1',
] as const

/** The one method of the CloudTrail client this needs (a seam for tests). */
export type LookupClient = Pick<CloudTrailClient, 'send'>

export interface ApiProgress {
  matched: number
  pages: number
  /** The oldest event time read so far (LookupEvents reads newest first). */
  reached?: string
  throttled: number
}

export interface ApiQueryOptions {
  aliases?: Array<[string, string]>
  clientFor: (region: string) => Promise<LookupClient>
  /** Pauses before a throttled page is asked again (default LOOKUP_THROTTLE_PAUSES_MS). */
  throttlePausesMs?: number[]
  maxEvents?: number
  onMatches?: (matches: FileMatch[]) => void
  onProgress?: (progress: ApiProgress) => void
  /** LookupEvents requests per second per region (default 2, CloudTrail's quota). */
  rate?: number
  regions: string[]
  signal?: AbortSignal
  spec: FilterSpec
}

export interface RegionFailure {
  code: string
  message: string
  region: string
}

export interface ApiQueryResult {
  attribute?: {AttributeKey: string; AttributeValue: string}
  failures: RegionFailure[]
  interrupted: boolean
  matched: number
  pages: number
  reachedMaxEvents: boolean
  throttled: number
}

/** CloudTrail's errors in CloudTrail's words (fromAwsError speaks of KMS operations). */
export function cloudtrailError(error: unknown, operation: string): KmsctlError {
  if (error instanceof KmsctlError) return error
  const e = error as {message?: string; name?: string}
  const base = {awsCode: e?.name, awsMessage: e?.message, cause: error}
  if (e?.name === 'AccessDeniedException' || e?.name === 'AccessDenied') {
    return new KmsctlError('ACCESS_DENIED', `Access denied: you are not allowed to call cloudtrail:${operation}.`, {
      ...base,
      remedy: `Ask for cloudtrail:${operation} in your IAM policy, or read the log files instead (--source files).`,
    })
  }

  if (isThrottling(error)) {
    return new KmsctlError('THROTTLED', `CloudTrail throttled ${operation} and retries did not get through.`, {
      ...base,
      remedy: 'Retry later, or lower --rate.',
    })
  }

  return fromAwsError(error)
}

export async function queryApi(options: ApiQueryOptions): Promise<ApiQueryResult> {
  const choice = chooseLookupAttribute(options.spec)
  const predicate = compileFilter(options.spec)
  const aliases = new Map<string, string>()
  for (const [alias, key] of options.aliases ?? []) aliases.set(key, alias)
  const rate = options.rate ?? LOOKUP_EVENTS_RATE
  const result: ApiQueryResult = {attribute: choice.attribute, failures: [], interrupted: false, matched: 0, pages: 0, reachedMaxEvents: false, throttled: 0}
  const seen = new Set<string>()
  const stop = new AbortController()
  const onAbort = () => {
    result.interrupted = true
    stop.abort()
  }

  if (options.signal?.aborted) onAbort()
  options.signal?.addEventListener('abort', onAbort, {once: true})
  let reached: string | undefined
  const progress = () => options.onProgress?.({matched: result.matched, pages: result.pages, reached, throttled: result.throttled})

  const readRegion = async (region: string): Promise<void> => {
    const client = await options.clientFor(region)
    const pacer = new Pacer({concurrency: 1, rates: {LookupEvents: rate}})
    const input: LookupEventsCommandInput = {MaxResults: 50}
    if (choice.attribute) input.LookupAttributes = [choice.attribute]
    if (options.spec.since) input.StartTime = new Date(options.spec.since)
    if (options.spec.until) input.EndTime = new Date(options.spec.until)
    if (stop.signal.aborted) return
    const pages = lookupEventPages(client, input, {abortSignal: stop.signal, pacer, throttlePausesMs: options.throttlePausesMs})
    for (;;) {
      let next: IteratorResult<LookupEventsCommandOutput>
      try {
        // eslint-disable-next-line no-await-in-loop
        next = await pages.next()
      } catch (error) {
        if (stop.signal.aborted) return
        throw error
      }

      if (next.done) return
      const page = next.value
      // Retries are the client's (one retry strategy): count the extra requests it needed.
      result.throttled += Math.max(0, (page.$metadata?.attempts ?? 1) - 1)
      result.pages++
      const fresh: FileMatch[] = []
      for (const e of page.Events ?? []) {
        if (!e.CloudTrailEvent) continue
        let record: CloudTrailRecord
        try {
          record = JSON.parse(e.CloudTrailEvent) as CloudTrailRecord
        } catch {
          continue
        }

        const event = normalise(record, {aliases})
        if (!reached || event.time < reached) reached = event.time
        if (!predicate(event)) continue
        if (event.eventId) {
          if (seen.has(event.eventId)) continue
          seen.add(event.eventId)
        }

        if (options.maxEvents !== undefined && result.matched >= options.maxEvents) break
        fresh.push({event, raw: e.CloudTrailEvent})
        result.matched++
      }

      if (fresh.length > 0) options.onMatches?.(fresh)
      progress()
      if (options.maxEvents !== undefined && result.matched >= options.maxEvents) {
        result.reachedMaxEvents = true
        stop.abort()
        return
      }

      if (stop.signal.aborted) return
    }
  }

  try {
    await Promise.all(
      options.regions.map(async (region) => {
        try {
          await readRegion(region)
        } catch (error) {
          if (options.regions.length === 1) throw cloudtrailError(error, 'LookupEvents')
          const err = cloudtrailError(error, 'LookupEvents')
          result.failures.push({code: err.awsCode ?? err.code, message: err.message, region})
        }
      }),
    )
  } finally {
    options.signal?.removeEventListener('abort', onAbort)
  }

  return result
}
