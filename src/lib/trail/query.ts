// `kmsctl trail query` and `trail who` without oclif: resolve the keys where a source needs it,
// run the source, hand back matches as they come (for streaming outputs) and the summary.
import {KmsctlError} from '../errors.js'
import type {FilterSpec, KeyForms} from './filters.js'
import type {TrailEvent} from './normalise.js'
import type {ApiQueryResult, LookupClient, RegionFailure} from './sources/api.js'
import type {FileMatch} from './sources/file-scan.js'
import type {CorruptFile} from './sources/files.js'
import type {LakeClient} from './sources/lake.js'

export type TrailSource = 'api' | 'files' | 'lake'
export const TRAIL_SOURCES: readonly TrailSource[] = ['api', 'files', 'lake']

/** What a source could learn about a key from KMS (key-ref.ts): its ID, ARN and aliases. */
export interface ResolvedKeyForms {
  aliases: string[]
  arn: string
  id: string
}

export interface TrailQueryOptions {
  /** CloudTrail client per region (api) or for the current region (lake). */
  cloudtrailFor?: (region: string) => Promise<LakeClient & LookupClient>
  eventDataStore?: string
  /** Known alias -> key bindings for the key column (api: from ListAliases). */
  knownAliases?: () => Promise<Array<[string, string]>>
  maxEvents?: number
  onMatches?: (matches: FileMatch[]) => void
  /** One progress line, for a Progress on stderr. */
  onProgress?: (line: string) => void
  paths?: string[]
  rate?: number
  raw?: boolean
  regions?: string[]
  /** Resolves a key reference with KMS (api, lake). */
  resolveKey?: (ref: string) => Promise<ResolvedKeyForms>
  signal?: AbortSignal
  source: TrailSource
  spec: FilterSpec
  workers?: number
}

export interface TrailQuerySummary {
  /** LookupEvents attribute used (api). */
  attribute?: {AttributeKey: string; AttributeValue: string}
  /** Bytes read (files). */
  bytes?: number
  corrupt?: CorruptFile[]
  duplicates?: number
  failures?: RegionFailure[]
  files?: number
  interrupted: boolean
  keys?: KeyForms[]
  matched: number
  pages?: number
  queryId?: string
  reachedMaxEvents: boolean
  skippedByDate?: number
  source: TrailSource
  sql?: string
  throttled?: number
}

const mb = (bytes: number) => `${(bytes / 1_048_576).toFixed(1)} MB`

async function resolveKeys(spec: FilterSpec, resolve: ((ref: string) => Promise<ResolvedKeyForms>) | undefined): Promise<FilterSpec> {
  if (!spec.keys || !resolve) return spec
  const keys: KeyForms[] = []
  for (const k of spec.keys) {
    // eslint-disable-next-line no-await-in-loop
    const r = await resolve(k.input)
    keys.push({...k, aliases: [...new Set([...k.aliases, ...r.aliases])], arn: k.arn ?? r.arn, id: r.id})
  }

  return {...spec, keys}
}

export async function runTrailQuery(options: TrailQueryOptions): Promise<TrailQuerySummary> {
  const progress = options.onProgress ?? (() => {})
  if (options.source === 'files') {
    const {queryFiles} = await import('./sources/files.js')
    let stopped = false
    const inner = new AbortController()
    const onAbort = () => inner.abort()
    options.signal?.addEventListener('abort', onAbort, {once: true})
    let matched = 0
    const r = await queryFiles({
      onMatches(m) {
        if (stopped) return
        let take = m
        if (options.maxEvents !== undefined && matched + m.length >= options.maxEvents) {
          take = m.slice(0, options.maxEvents - matched)
          stopped = true
          inner.abort()
        }

        matched += take.length
        if (take.length > 0) options.onMatches?.(take)
      },
      onProgress: (p) => progress(`files ${p.filesDone}/${p.filesTotal}, ${mb(p.bytes)} read, ${matched} matched`),
      paths: options.paths ?? [],
      raw: options.raw,
      signal: inner.signal,
      spec: options.spec,
      workers: options.workers,
    })
    options.signal?.removeEventListener('abort', onAbort)
    const unresolved = options.spec.keys?.filter((k) => !k.id && k.aliases.length > 0 && !r.learned.some(([a]) => k.aliases.includes(a))) ?? []
    if (unresolved.length > 0 && matched === 0 && !r.interrupted && r.files > 0) {
      throw new KmsctlError('NOT_FOUND', `Key ${unresolved[0].input} could not be resolved: no record in ${r.files === 1 ? 'this log file' : `these ${r.files} log files`} ties that alias to a key.`, {
        remedy: 'pass the key ID or ARN instead (kmsctl key describe ALIAS shows them).',
      })
    }

    return {
      bytes: r.bytes,
      corrupt: r.corrupt,
      duplicates: r.duplicates,
      files: r.files,
      interrupted: r.interrupted && !stopped,
      matched,
      reachedMaxEvents: stopped,
      skippedByDate: r.skippedByDate,
      source: 'files',
    }
  }

  if (!options.cloudtrailFor) throw new KmsctlError('FAILED', 'No CloudTrail client for this source.')
  const spec = await resolveKeys(options.spec, options.resolveKey)
  const aliasPairs: Array<[string, string]> = spec.keys?.flatMap((k) => k.aliases.map((a): [string, string] => [a, k.arn ?? k.id ?? a])) ?? []
  if (options.knownAliases) {
    try {
      aliasPairs.push(...(await options.knownAliases()))
    } catch {
      // The key column falls back to key IDs.
    }
  }

  if (options.source === 'lake') {
    if (!options.eventDataStore) throw new KmsctlError('USAGE', '--source lake needs --event-data-store.', {remedy: 'Try this: --event-data-store arn:aws:cloudtrail:REGION:ACCOUNT:eventdatastore/ID'})
    const {queryLake} = await import('./sources/lake.js')
    const region = options.regions?.[0] ?? ''
    const r = await queryLake({
      aliases: aliasPairs,
      client: await options.cloudtrailFor(region),
      eventDataStore: options.eventDataStore,
      maxEvents: options.maxEvents,
      onMatches: options.onMatches,
      onProgress: (p) => progress(`lake query ${p.status.toLowerCase()}, ${p.pages} pages, ${p.matched} matched`),
      signal: options.signal,
      spec,
    })
    return {interrupted: r.interrupted, keys: spec.keys, matched: r.matched, pages: r.pages, queryId: r.queryId, reachedMaxEvents: r.reachedMaxEvents, source: 'lake', sql: r.sql}
  }

  const {queryApi} = await import('./sources/api.js')
  const regions = options.regions ?? []
  const r: ApiQueryResult = await queryApi({
    aliases: aliasPairs,
    clientFor: options.cloudtrailFor,
    maxEvents: options.maxEvents,
    onMatches: options.onMatches,
    onProgress: (p) =>
      progress(
        `LookupEvents: ${p.pages} pages, ${p.matched} matched${p.reached ? `, reached ${p.reached.replace('T', ' ')}` : ''}${regions.length > 1 ? ` (${regions.length} regions)` : ''}${p.throttled ? `, ${p.throttled} throttled` : ''}`,
      ),
    rate: options.rate,
    regions,
    signal: options.signal,
    spec,
  })
  return {
    attribute: r.attribute,
    failures: r.failures,
    interrupted: r.interrupted && !r.reachedMaxEvents,
    keys: spec.keys,
    matched: r.matched,
    pages: r.pages,
    reachedMaxEvents: r.reachedMaxEvents,
    source: 'api',
    throttled: r.throttled,
  }
}

/** Oldest first (stable), for the table and --json. */
export function byTime(events: TrailEvent[]): TrailEvent[] {
  return events
    .map((e, i) => ({e, i}))
    .sort((a, b) => (a.e.time < b.e.time ? -1 : a.e.time > b.e.time ? 1 : a.i - b.i))
    .map(({e}) => e)
}

/**
 * The error of a query that could not read every source (exit 3), for --json: the success document
 * stays a bare array, so a partial result is an error document whose `details` carry what was found
 * (`events`: the array --json prints on success), the log files skipped (`skipped`: file and reason,
 * a file without a Records array among them) and the regions that could not be read (`failures`).
 * Undefined when everything was read, or when the query was interrupted (exit 130, what was found
 * is printed as it is).
 */
export function partialQuery(found: readonly unknown[], summary: TrailQuerySummary): KmsctlError | undefined {
  const skipped = summary.corrupt ?? []
  const failures = summary.failures ?? []
  if (summary.interrupted || (skipped.length === 0 && failures.length === 0)) return undefined
  const what = [
    ...skipped.map((c) => `${c.file}: ${c.reason}`),
    ...failures.map((f) => `${f.region}: ${f.message}`),
  ]
  const unread = [
    skipped.length > 0 ? `${skipped.length} log file${skipped.length === 1 ? '' : 's'} skipped` : '',
    failures.length > 0 ? `${failures.length} region${failures.length === 1 ? '' : 's'} not read` : '',
  ].filter(Boolean)
  return new KmsctlError(
    'PARTIAL_FAILURE',
    `Found ${summary.matched} matching event${summary.matched === 1 ? '' : 's'}, but ${unread.join(' and ')}: ${what.slice(0, 3).join('; ')}${what.length > 3 ? `; and ${what.length - 3} more` : ''}.`,
    {
      details: {events: found, failures, skipped},
      remedy: skipped.length > 0 ? 'Try this: leave out or replace the files named (CloudTrail log files hold a Records array)' : 'Try this: run it again for the regions named',
    },
  )
}
