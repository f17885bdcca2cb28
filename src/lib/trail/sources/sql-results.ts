// What the SQL sources (athena, lake) share: waiting for an asynchronous query to end (polling with
// a growing wait, stopped by Ctrl-C), and reading its result pages into matches (rows rebuilt as
// CloudTrail records, normalised, filtered locally, duplicate eventIDs left out where the store has
// them, up to --max-events).
import {type FilterSpec, compileFilter} from '../filters.js'
import {type CloudTrailRecord, normalise} from '../normalise.js'
import {abortableSleep} from '../../interrupt.js'
import type {FileMatch} from './file-scan.js'

export interface PollOptions {
  /** First wait between polls. */
  firstMs: number
  /** Each wait is the last times this, at most maxMs. */
  growth: number
  maxMs: number
  signal?: AbortSignal
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>
}

/**
 * Calls check() until it answers something (the query ended), waiting between calls; undefined when
 * the signal stopped the wait.
 */
export async function pollUntil<T>(check: () => Promise<T | undefined>, options: PollOptions): Promise<T | undefined> {
  const sleep = options.sleep ?? abortableSleep
  let wait = options.firstMs
  for (;;) {
    if (options.signal?.aborted) return undefined
    // eslint-disable-next-line no-await-in-loop
    const done = await check()
    if (done !== undefined) return done
    // eslint-disable-next-line no-await-in-loop
    await sleep(wait, options.signal)
    wait = Math.min(options.maxMs, Math.round(wait * options.growth))
  }
}

export interface PagesOptions<Page> {
  aliases?: Array<[string, string]>
  /** Leave out rows whose eventID was seen already (duplicate deliveries in S3: Athena's tables have them). */
  dedupe: boolean
  /** The first page when it was read already (a poll that returns results), else undefined. */
  first?: Page
  maxEvents?: number
  /** The next page after `token` (undefined: the first). */
  next: (token: string | undefined) => Promise<Page>
  onMatches?: (matches: FileMatch[]) => void
  /** After each page. */
  onPage?: (matched: number) => void
  /** The page's records (rows that are not events, such as a header or group counts, left out), and its next token. */
  read: (page: Page, index: number) => {records: CloudTrailRecord[]; token?: string}
  signal?: AbortSignal
  spec: FilterSpec
}

export interface PagesResult {
  interrupted: boolean
  matched: number
  pages: number
  reachedMaxEvents: boolean
}

/** Reads every result page, delivering each page's new matches. */
export async function readResultPages<Page>(options: PagesOptions<Page>): Promise<PagesResult> {
  const predicate = compileFilter(options.spec)
  const aliases = new Map<string, string>()
  for (const [alias, key] of options.aliases ?? []) aliases.set(key, alias)
  const seen = new Set<string>()
  const result: PagesResult = {interrupted: false, matched: 0, pages: 0, reachedMaxEvents: false}
  let page = options.first
  let token: string | undefined
  for (;;) {
    if (options.signal?.aborted) {
      result.interrupted = true
      return result
    }

    // eslint-disable-next-line no-await-in-loop
    page ??= await options.next(token)
    const read = options.read(page, result.pages++)
    page = undefined
    const fresh: FileMatch[] = []
    for (const record of read.records) {
      const event = normalise(record, {aliases})
      if (!predicate(event)) continue
      if (options.dedupe && event.eventId) {
        if (seen.has(event.eventId)) continue
        seen.add(event.eventId)
      }

      if (options.maxEvents !== undefined && result.matched >= options.maxEvents) break
      fresh.push({event, raw: JSON.stringify(record)})
      result.matched++
    }

    if (fresh.length > 0) options.onMatches?.(fresh)
    options.onPage?.(result.matched)
    if (options.maxEvents !== undefined && result.matched >= options.maxEvents) {
      result.reachedMaxEvents = true
      return result
    }

    token = read.token
    if (!token) return result
  }
}
