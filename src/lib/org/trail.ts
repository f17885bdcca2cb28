// trail query --source api across accounts and regions: LookupEvents in every account-region, each
// read through its own account's credentials and paced at CloudTrail's 2 requests/s per account
// and region (the quota is per account-region, so they all read in parallel under --max-parallel).
// Each event gains the account it was read in; an account-region that cannot be read (role refused,
// AccessDenied, throttled past the retries) is that account-region's failure, the others go on.
import type {AwsClients} from '../aws/clients.js'
import {listAllAliases} from '../aws/paging.js'
import {resolveKey} from '../key-ref.js'
import type {FilterSpec, KeyForms} from '../trail/filters.js'
import type {TrailEvent} from '../trail/normalise.js'
import {type ApiQueryResult, queryApi} from '../trail/sources/api.js'
import type {FileMatch} from '../trail/sources/file-scan.js'
import type {AccountCredentials} from './credentials.js'
import type {TargetOutcome} from './fanout.js'
import {type TargetSummary, acrossTargets} from './run.js'
import type {Targets} from './targets.js'

/** An event read across accounts: the account whose trail it was read from, then the event (which has its region). */
export type OrgTrailEvent = TrailEvent & {account: string}

export interface OrgTrailOptions {
  /** How the accounts are reached (default: the base credentials and the targets' role). */
  credentials?: AccountCredentials
  maxEvents?: number
  /** Matching events as they are found, each with its account. */
  onMatches?: (matches: Array<FileMatch & {event: OrgTrailEvent}>) => void
  /** Account-regions done of their total, and the events matched so far. */
  onProgress?: (done: number, total: number, matched: number) => void
  /** LookupEvents requests per second in each account-region (default 2, CloudTrail's quota). */
  rate?: number
  signal?: AbortSignal
  spec: FilterSpec
}

export interface OrgTrailResult {
  attribute?: ApiQueryResult['attribute']
  /** Stopped by the caller's signal (Ctrl-C), not by --max-events. */
  interrupted: boolean
  matched: number
  outcomes: Array<TargetOutcome<ApiQueryResult>>
  pages: number
  reachedMaxEvents: boolean
  /** One row per account-region: events matched, or the failure. */
  summaries: TargetSummary[]
  throttled: number
}

/**
 * The key filters as one account knows them: an alias or key ID given on the command line names a
 * different key in each account, so each account-region resolves it with its own KMS. A reference
 * that names no key there keeps the forms it was given with (events that used them still match).
 */
async function keysIn(kms: Awaited<ReturnType<AwsClients['kms']>>, keys: readonly KeyForms[]): Promise<KeyForms[]> {
  const out: KeyForms[] = []
  for (const k of keys) {
    try {
      // eslint-disable-next-line no-await-in-loop
      const r = await resolveKey(kms, k.input, {suggest: false})
      out.push({...k, arn: k.arn ?? r.arn, id: r.keyId})
    } catch {
      out.push(k)
    }
  }

  return out
}

/** LookupEvents in every account-region the targets name, in parallel, each at its own 2 requests/s. */
export async function queryApiAcross(base: AwsClients, targets: Targets, options: OrgTrailOptions): Promise<OrgTrailResult> {
  const stop = new AbortController()
  let interrupted = false
  const onAbort = () => {
    interrupted = true
    stop.abort()
  }

  if (options.signal?.aborted) onAbort()
  options.signal?.addEventListener('abort', onAbort, {once: true})
  let matched = 0
  let reachedMaxEvents = false
  let done = 0
  let total = 0
  const forward = (account: string, matches: FileMatch[]) => {
    if (reachedMaxEvents) return
    let take = matches
    if (options.maxEvents !== undefined && matched + take.length >= options.maxEvents) {
      take = take.slice(0, options.maxEvents - matched)
      reachedMaxEvents = true
      stop.abort()
    }

    matched += take.length
    if (take.length > 0) options.onMatches?.(take.map((m) => ({...m, event: {account, ...m.event}})))
    options.onProgress?.(done, total, matched)
  }

  try {
    const run = await acrossTargets(
      base,
      targets,
      async ({account, clients, region}) => {
        const kms = await clients.kms()
        const spec = options.spec.keys ? {...options.spec, keys: await keysIn(kms, options.spec.keys)} : options.spec
        let aliases: Array<[string, string]> = []
        try {
          aliases = (await listAllAliases(kms)).filter((a) => a.AliasName && a.TargetKeyId).map((a): [string, string] => [a.AliasName!, a.TargetKeyId!])
        } catch {
          // The key column falls back to key IDs.
        }

        for (const k of spec.keys ?? []) for (const a of k.aliases) aliases.push([a, k.arn ?? k.id ?? a])
        const trail = await clients.cloudtrail()
        return queryApi({
          aliases,
          clientFor: async () => trail,
          onMatches: (m) => forward(account, m),
          rate: options.rate,
          regions: [region],
          signal: stop.signal,
          spec,
        })
      },
      {
        count: (r) => ({seen: r.matched}),
        onProgress(d, t) {
          done = d
          total = t
          options.onProgress?.(d, t, matched)
        },
      },
      options.credentials,
    )
    const ok = run.outcomes.filter((o) => o.value)
    return {
      attribute: ok[0]?.value?.attribute,
      interrupted,
      matched,
      outcomes: run.outcomes,
      pages: ok.reduce((n, o) => n + o.value!.pages, 0),
      reachedMaxEvents,
      summaries: run.summaries,
      throttled: ok.reduce((n, o) => n + o.value!.throttled, 0),
    }
  } finally {
    options.signal?.removeEventListener('abort', onAbort)
  }
}
