// Paging: the one place where pages are read. KMS List* operations (ListAliases, ListGrants, ListKeys,
// ListResourceTags, ListKeyRotations, ListRetirableGrants) answer with Truncated and NextMarker and
// take the marker back; CloudTrail LookupEvents answers with NextToken.
import type {CloudTrailClient, LookupEventsCommandInput, LookupEventsCommandOutput} from '@aws-sdk/client-cloudtrail'
import type {AliasListEntry, GrantListEntry, KMSClient} from '@aws-sdk/client-kms'

import {KmsctlError, isThrottling} from '../errors.js'
import {abortableSleep} from '../interrupt.js'
import type {Pacer} from '../pacing.js'
import {cloudtrailSdk, kmsSdk} from './sdk.js'

/** The part of a KMS List* response that says whether more pages follow. */
export interface MarkerPage {
  NextMarker?: string
  Truncated?: boolean
}

/** The entries read before a page of a listing failed, carried by that page's error. */
export function partialEntries<T>(error: unknown): T[] | undefined {
  return (error as {partialEntries?: T[]} | undefined)?.partialEntries
}

/**
 * Every entry of a listing, in order: `fetch` reads the page at a marker (undefined for the first
 * page), `entries` picks the page's entries. A listing that hands back the marker it was given
 * would never end: that is an error naming `what` ("ListGrants on KEY"). When a later page fails
 * (after the client's retries), its error carries the entries read so far (partialEntries()).
 */
export async function listAllPages<P extends MarkerPage, T>(
  what: string,
  fetch: (marker: string | undefined) => Promise<P>,
  entries: (page: P) => readonly T[] | undefined,
): Promise<T[]> {
  const out: T[] = []
  let marker: string | undefined
  do {
    let page: P
    try {
      // eslint-disable-next-line no-await-in-loop
      page = await fetch(marker)
    } catch (error) {
      if (out.length > 0 && error && typeof error === 'object') Object.assign(error, {partialEntries: out})
      throw error
    }

    out.push(...(entries(page) ?? []))
    const next = page.Truncated ? page.NextMarker : undefined
    if (next && next === marker) throw new KmsctlError('AWS_ERROR', `${what} returned the same page marker twice.`)
    marker = next
  } while (marker)
  return out
}

// ---------------------------------------------------------------------------------------------
// One paged reader per KMS List* operation. Each page goes through the Pacer when one is given;
// retries are the client's own (one retry strategy, configured in clients.ts).
// ---------------------------------------------------------------------------------------------

/** Sends one page request through the pacer when there is one. */
function paced<T>(pacer: Pacer | undefined, operation: string, call: () => Promise<T>): Promise<T> {
  return pacer ? pacer.run(operation, call) : call()
}

/** Every alias of the region (all pages of ListAliases), or only those of one key. */
export async function listAllAliases(kms: KMSClient, keyId?: string, pacer?: Pacer): Promise<AliasListEntry[]> {
  const {ListAliasesCommand} = await kmsSdk()
  return listAllPages(
    'ListAliases',
    (marker) => paced(pacer, 'ListAliases', () => kms.send(new ListAliasesCommand({KeyId: keyId, Limit: 100, Marker: marker}))),
    (page) => page.Aliases,
  )
}

/** Every key ID and ARN of the region (all pages of ListKeys). */
export async function listAllKeyIds(kms: KMSClient, pacer?: Pacer): Promise<Array<{KeyId: string; KeyArn: string}>> {
  const {ListKeysCommand} = await kmsSdk()
  const keys = await listAllPages(
    'ListKeys',
    (marker) => paced(pacer, 'ListKeys', () => kms.send(new ListKeysCommand({Limit: 1000, Marker: marker}))),
    (page) => page.Keys,
  )
  return keys.filter((k) => k.KeyId).map((k) => ({KeyArn: k.KeyArn ?? '', KeyId: k.KeyId!}))
}

/** A key's tags (all pages of ListResourceTags) as an object. */
export async function listTags(kms: KMSClient, keyId: string, pacer?: Pacer): Promise<Record<string, string>> {
  const {ListResourceTagsCommand} = await kmsSdk()
  const tags = await listAllPages(
    `ListResourceTags on ${keyId}`,
    (marker) => paced(pacer, 'ListResourceTags', () => kms.send(new ListResourceTagsCommand({KeyId: keyId, Limit: 50, Marker: marker}))),
    (page) => page.Tags,
  )
  return Object.fromEntries(tags.map((t) => [t.TagKey ?? '', t.TagValue ?? '']))
}

export interface ListGrantsFilter {
  grantId?: string
  grantee?: string
  /** Page size (1-100, default 100). */
  limit?: number
}

/** Every grant of one key (all pages of ListGrants), as KMS returns them; `keyId` is an ID or ARN. */
export async function listAllGrants(kms: KMSClient, keyId: string, pacer?: Pacer, filter: ListGrantsFilter = {}): Promise<GrantListEntry[]> {
  const {ListGrantsCommand} = await kmsSdk()
  return listAllPages(
    `ListGrants on ${keyId}`,
    (marker) =>
      paced(pacer, 'ListGrants', () =>
        kms.send(new ListGrantsCommand({GrantId: filter.grantId, GranteePrincipal: filter.grantee, KeyId: keyId, Limit: filter.limit ?? 100, Marker: marker})),
      ),
    (page) => page.Grants,
  )
}

/**
 * The pages of one CloudTrail LookupEvents query (NextToken), each through the Pacer when one is
 * given, at most `maxPages` of them. The caller reads `NextToken` of the last page to know whether
 * more were left. `abortSignal` cancels the request in flight.
 */
export async function* lookupEventPages(
  cloudtrail: Pick<CloudTrailClient, 'send'>,
  input: LookupEventsCommandInput,
  options: {abortSignal?: AbortSignal; maxPages?: number; pacer?: Pacer; throttlePausesMs?: number[]} = {},
): AsyncGenerator<LookupEventsCommandOutput> {
  const {LookupEventsCommand} = await cloudtrailSdk()
  let token: string | undefined
  let pages = 0
  do {
    const NextToken = token
    // eslint-disable-next-line no-await-in-loop
    const page = await waitingOutThrottling(
      () => paced(options.pacer, 'LookupEvents', () => cloudtrail.send(new LookupEventsCommand({...input, NextToken}), {abortSignal: options.abortSignal})),
      options.abortSignal,
      options.throttlePausesMs,
    )
    pages++
    yield page
    token = page.NextToken
  } while (token && (options.maxPages === undefined || pages < options.maxPages))
}

/** Pauses before the next try of a page LookupEvents throttled (after the client's own retries): 1, 2, 4 and 8 s (docs/trail.md). */
export const LOOKUP_THROTTLE_PAUSES_MS = [1000, 2000, 4000, 8000]

/**
 * A LookupEvents page, asked again while CloudTrail throttles it: the quota is 2 requests per second per
 * account and region for everyone using it (a console, another script), so a query waits it out
 * rather than fail half-way. An abort ends the wait at once.
 */
async function waitingOutThrottling<T>(call: () => Promise<T>, signal?: AbortSignal, pauses = LOOKUP_THROTTLE_PAUSES_MS): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      // eslint-disable-next-line no-await-in-loop
      return await call()
    } catch (error) {
      if (!isThrottling(error) || attempt >= pauses.length || signal?.aborted) throw error
      // eslint-disable-next-line no-await-in-loop
      await abortableSleep(pauses[attempt], signal)
      if (signal?.aborted) throw error
    }
  }
}

/**
 * Every entry of a listing that pages with NextToken (Organizations ListAccounts, account:ListRegions):
 * the same rules as listAllPages, the token being the marker.
 */
export async function listAllTokenPages<P extends {NextToken?: string}, T>(
  what: string,
  fetch: (token: string | undefined) => Promise<P>,
  entries: (page: P) => readonly T[] | undefined,
): Promise<T[]> {
  const out: T[] = []
  let token: string | undefined
  do {
    // eslint-disable-next-line no-await-in-loop
    const page = await fetch(token)
    out.push(...(entries(page) ?? []))
    const next = page.NextToken || undefined
    if (next && next === token) throw new KmsctlError('AWS_ERROR', `${what} returned the same page token twice.`)
    token = next
  } while (token)
  return out
}
