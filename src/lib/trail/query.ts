// `kmsctl trail query` and `trail who` without oclif: resolve the keys where a source needs it,
// run the source, hand back matches as they come (for streaming outputs) and the summary.
import {KmsctlError} from '../errors.js'
import type {Targets} from '../org/targets.js'
import type {TableName} from './athena-sql.js'
import type {FilterSpec, KeyForms} from './filters.js'
import type {GroupBy, GroupRow} from './group.js'
import type {TrailEvent} from './normalise.js'
import type {ApiQueryResult, LookupClient, RegionFailure} from './sources/api.js'
import type {FileMatch} from './sources/file-scan.js'
import type {CorruptFile} from './sources/files.js'
import type {AthenaClientLike} from './sources/athena.js'
import type {LakeClient} from './sources/lake.js'
import type {S3ClientLike, S3Failure, S3QueryOptions} from './sources/s3.js'
import type {S3Location} from './sources/s3-layout.js'

export type TrailSource = 'api' | 'athena' | 'files' | 'lake' | 's3'
export const TRAIL_SOURCES: readonly TrailSource[] = ['api', 'files', 's3', 'athena', 'lake']

/** What a source could learn about a key from KMS (key-ref.ts): its ID, ARN and aliases. */
export interface ResolvedKeyForms {
  aliases: string[]
  arn: string
  id: string
}

export interface TrailQueryOptions {
  /** api: LookupEvents in every account-region of these targets, through the role (see org/trail.ts). */
  targets?: Targets
  /** s3, athena: accounts to read (partition pruning). */
  accounts?: string[]
  athena?: () => Promise<AthenaClientLike>
  /** athena: --group-by, counted by Athena when the filters allow it. */
  group?: GroupBy
  /** athena: s3:// location for query results. */
  outputLocation?: string
  s3?: () => Promise<S3ClientLike>
  s3Location?: S3Location
  /** s3: settings for the scanning threads' own S3 clients (undefined: they cannot have one). */
  s3Threads?: S3QueryOptions['threads']
  table?: TableName
  workgroup?: string
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
  /** s3: the accounts and regions read. */
  accounts?: string[]
  /** athena: USD at Athena's price for the data scanned. */
  costUsd?: number
  /** athena: the groups, when Athena counted them. */
  groups?: GroupRow[]
  /** s3: log objects read. */
  objects?: number
  /** athena: the statement's execution parameters. */
  parameters?: string[]
  /** s3: prefixes listed after pruning. */
  prefixes?: number
  regionsRead?: string[]
  /** s3: prefixes or objects that could not be read (access denied, KMS, unreadable). */
  s3Failures?: S3Failure[]
  /** athena: bytes scanned. */
  scannedBytes?: number
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

/**
 * The --max-events limit of a scanning source: passes matches on until the limit, then aborts the
 * scan (the caller's own Ctrl-C aborts it too). dispose() detaches from the caller's signal.
 */
function matchLimit(options: Pick<TrailQueryOptions, 'maxEvents' | 'onMatches' | 'signal'>) {
  const inner = new AbortController()
  const onAbort = () => inner.abort()
  options.signal?.addEventListener('abort', onAbort, {once: true})
  const limit = {
    dispose: () => options.signal?.removeEventListener('abort', onAbort),
    matched: 0,
    onMatches(m: Parameters<NonNullable<TrailQueryOptions['onMatches']>>[0]) {
      if (limit.stopped) return
      let take = m
      if (options.maxEvents !== undefined && limit.matched + m.length >= options.maxEvents) {
        take = m.slice(0, options.maxEvents - limit.matched)
        limit.stopped = true
        inner.abort()
      }

      limit.matched += take.length
      if (take.length > 0) options.onMatches?.(take)
    },
    signal: inner.signal,
    stopped: false,
  }
  return limit
}

export async function runTrailQuery(options: TrailQueryOptions): Promise<TrailQuerySummary> {
  const progress = options.onProgress ?? (() => {})
  if (options.source === 'files') {
    const {queryFiles} = await import('./sources/files.js')
    const limit = matchLimit(options)
    const r = await queryFiles({
      onMatches: limit.onMatches,
      onProgress: (p) => progress(`files ${p.filesDone}/${p.filesTotal}, ${mb(p.bytes)} read, ${limit.matched} matched`),
      paths: options.paths ?? [],
      raw: options.raw,
      signal: limit.signal,
      spec: options.spec,
      workers: options.workers,
    })
    limit.dispose()
    const unresolved = options.spec.keys?.filter((k) => !k.id && k.aliases.length > 0 && !r.learned.some(([a]) => k.aliases.includes(a))) ?? []
    if (unresolved.length > 0 && limit.matched === 0 && !r.interrupted && r.files > 0) {
      throw new KmsctlError('NOT_FOUND', `Key ${unresolved[0].input} could not be resolved: no record in ${r.files === 1 ? 'this log file' : `these ${r.files} log files`} ties that alias to a key.`, {
        remedy: 'pass the key ID or ARN instead (kmsctl key describe ALIAS shows them).',
      })
    }

    return {
      bytes: r.bytes,
      corrupt: r.corrupt,
      duplicates: r.duplicates,
      files: r.files,
      interrupted: r.interrupted && !limit.stopped,
      matched: limit.matched,
      reachedMaxEvents: limit.stopped,
      skippedByDate: r.skippedByDate,
      source: 'files',
    }
  }

  if (options.source === 's3') return runS3(options, progress)
  if (options.source === 'athena') return runAthena(options, progress)
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
      onProgress: (p) => progress(`lake query ${p.status.toLowerCase()}, ${p.pages} page${p.pages === 1 ? '' : 's'}, ${p.matched} matched`),
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
        `LookupEvents: ${p.pages} page${p.pages === 1 ? '' : 's'}, ${p.matched} matched${p.reached ? `, reached ${p.reached.replace('T', ' ')}` : ''}${regions.length > 1 ? ` (${regions.length} regions)` : ''}${p.throttled ? `, ${p.throttled} throttled` : ''}`,
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

async function runS3(options: TrailQueryOptions, progress: (line: string) => void): Promise<TrailQuerySummary> {
  if (!options.s3 || !options.s3Location) throw new KmsctlError('FAILED', 'No S3 client or location for --source s3.')
  const {queryS3} = await import('./sources/s3.js')
  const limit = matchLimit(options)
  const r = await queryS3({
    accounts: options.accounts,
    client: options.s3,
    location: options.s3Location,
    onMatches: limit.onMatches,
    onProgress: (p) => progress(`s3 objects ${p.objectsDone}/${p.listed}, ${mb(p.bytes)} read, ${limit.matched} matched`),
    raw: options.raw,
    regions: options.regions,
    signal: limit.signal,
    spec: options.spec,
    threads: options.s3Threads,
    workers: options.workers,
  })
  limit.dispose()
  const unresolved = options.spec.keys?.filter((k) => !k.id && k.aliases.length > 0 && !r.learned.some(([a]) => k.aliases.includes(a))) ?? []
  if (unresolved.length > 0 && limit.matched === 0 && !r.interrupted && r.objects > 0) {
    throw new KmsctlError('NOT_FOUND', `Key ${unresolved[0].input} could not be resolved: no record in these ${r.objects} log objects ties that alias to a key.`, {
      remedy: 'pass the key ID or ARN instead (kmsctl key describe ALIAS shows them).',
    })
  }

  return {
    accounts: r.accounts,
    bytes: r.bytes,
    duplicates: r.duplicates,
    interrupted: r.interrupted && !limit.stopped,
    matched: limit.matched,
    objects: r.objects,
    prefixes: r.prefixes,
    reachedMaxEvents: limit.stopped,
    regionsRead: r.regions,
    s3Failures: r.failures,
    skippedByDate: r.skippedByDate,
    source: 's3',
  }
}

async function runAthena(options: TrailQueryOptions, progress: (line: string) => void): Promise<TrailQuerySummary> {
  if (!options.athena || !options.table) throw new KmsctlError('FAILED', 'No Athena client or table for --source athena.')
  // Keys given by ID or ARN are matched as given (they may live in any account of the organisation);
  // an alias is resolved with KMS in the current account.
  const resolve = options.resolveKey
  const spec: FilterSpec = {...options.spec}
  if (spec.keys && resolve) {
    const keys: KeyForms[] = []
    for (const k of spec.keys) {
      if (k.id) {
        keys.push(k)
        continue
      }

      try {
        // eslint-disable-next-line no-await-in-loop
        const r = await resolve(k.input)
        keys.push({...k, aliases: [...new Set([...k.aliases, ...r.aliases])], arn: r.arn, id: r.id})
      } catch (error) {
        throw new KmsctlError('NOT_FOUND', `Key ${k.input} could not be resolved in this account (${(error as Error).message}).`, {
          cause: error,
          remedy: 'pass the key ID or ARN instead: the Athena table holds every account of the trail.',
        })
      }
    }

    spec.keys = keys
  }

  const {queryAthena} = await import('./sources/athena.js')
  const aliasPairs: Array<[string, string]> = spec.keys?.flatMap((k) => k.aliases.map((a): [string, string] => [a, k.arn ?? k.id ?? a])) ?? []
  const r = await queryAthena({
    aliases: aliasPairs,
    client: await options.athena(),
    group: options.group,
    maxEvents: options.maxEvents,
    onMatches: options.onMatches,
    onProgress: (p) => progress(`athena query ${p.state.toLowerCase()}, ${mb(p.scannedBytes)} scanned, ${p.rows} rows, ${p.matched} matched`),
    outputLocation: options.outputLocation,
    partitions: {accounts: options.accounts, regions: options.regions},
    signal: options.signal,
    spec,
    table: options.table,
    workgroup: options.workgroup,
  })
  return {
    costUsd: r.costUsd,
    groups: r.groups,
    interrupted: r.interrupted,
    keys: spec.keys,
    matched: r.matched,
    pages: r.pages,
    parameters: r.parameters,
    queryId: r.queryId,
    reachedMaxEvents: r.reachedMaxEvents,
    scannedBytes: r.scannedBytes,
    source: 'athena',
    sql: r.sql,
  }
}

/**
 * The order in which a source hands its events over. LookupEvents answers newest first (and a Lake
 * query asks for ORDER BY eventTime DESC); log files, local or in S3, hold their records in the order
 * they were written; the Athena query asks for oldest first (ties by event ID). CloudTrail times have
 * whole seconds, so inside one second this order is the only clue to which call came first.
 */
export const SOURCE_ORDER: Readonly<Record<TrailSource, 'newest-first' | 'oldest-first'>> = {
  api: 'newest-first',
  athena: 'oldest-first',
  files: 'oldest-first',
  lake: 'newest-first',
  s3: 'oldest-first',
}

/**
 * Oldest first, for the table and --json. Events of the same time keep the order the source gave
 * them (record order for files), turned around for a source that reads newest first, so that the
 * screen reads in the order things happened.
 */
export function byTime(events: TrailEvent[], source: TrailSource = 'files'): TrailEvent[] {
  const tie = SOURCE_ORDER[source] === 'newest-first' ? -1 : 1
  return events
    .map((e, i) => ({e, i, t: Date.parse(e.time)}))
    .sort((a, b) => {
      // Compare instants (a time may be written with or without milliseconds); text if one does not parse.
      const d = Number.isNaN(a.t) || Number.isNaN(b.t) ? (a.e.time < b.e.time ? -1 : a.e.time > b.e.time ? 1 : 0) : a.t - b.t
      return d === 0 ? tie * (a.i - b.i) : d
    })
    .map(({e}) => e)
}

/**
 * The error of a query that could not read every source (exit 3), for --json: the success document
 * stays a bare array, so a partial result is an error document whose `details` carry what was found
 * (`events`: the array --json prints on success), the log files skipped (`skipped`: file and reason,
 * a file without a Records array among them), the regions that could not be read (`failures`) and
 * the S3 prefixes or objects that could not be read (`s3Failures`). Undefined when everything was
 * read, or when the query was interrupted (exit 130, what was found is printed as it is).
 */
export function partialQuery(found: readonly unknown[], summary: TrailQuerySummary): KmsctlError | undefined {
  const skipped = summary.corrupt ?? []
  const failures = summary.failures ?? []
  const s3Failures = summary.s3Failures ?? []
  if (summary.interrupted || skipped.length + failures.length + s3Failures.length === 0) return undefined
  const what = [
    ...skipped.map((c) => `${c.file}: ${c.reason}`),
    ...failures.map((f) => `${f.region}: ${f.message}`),
    ...s3Failures.map((x) => `${x.location}: ${x.reason}`),
  ]
  const count = (n: number, one: string, many: string) => (n === 0 ? '' : `${n} ${n === 1 ? one : many}`)
  const unread = [
    count(skipped.length, 'log file skipped', 'log files skipped'),
    count(failures.length, 'region not read', 'regions not read'),
    count(s3Failures.length, 'S3 location not read', 'S3 locations not read'),
  ].filter(Boolean)
  return new KmsctlError(
    'PARTIAL_FAILURE',
    `Found ${summary.matched} matching event${summary.matched === 1 ? '' : 's'}, but ${unread.join(' and ')}: ${what.slice(0, 3).join('; ')}${what.length > 3 ? `; and ${what.length - 3} more` : ''}.`,
    {
      details: {events: found, failures, s3Failures, skipped},
      remedy:
        skipped.length > 0
          ? 'Try this: leave out or replace the files named (CloudTrail log files hold a Records array)'
          : s3Failures.length > 0
            ? "Try this: check the caller's s3:ListBucket and s3:GetObject permissions (and kms:Decrypt for SSE-KMS objects)"
            : 'Try this: run it again for the regions named',
    },
  )
}
