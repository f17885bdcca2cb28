// Paging through KMS List* operations (ListAliases, ListGrants, ListKeys, ListResourceTags,
// ListKeyRotations, ListRetirableGrants): they all answer with Truncated and NextMarker, and take
// the marker back to read the next page.
import {KmsctlError} from '../errors.js'

/** The part of a KMS List* response that says whether more pages follow. */
export interface MarkerPage {
  NextMarker?: string
  Truncated?: boolean
}

/**
 * Every entry of a listing, in order: `fetch` reads the page at a marker (undefined for the first
 * page), `entries` picks the page's entries. A listing that hands back the marker it was given
 * would never end: that is an error naming `what` ("ListGrants on KEY").
 */
export async function listAllPages<P extends MarkerPage | {NextToken?: string}, T>(
  what: string,
  fetch: (marker: string | undefined) => Promise<P>,
  entries: (page: P) => readonly T[] | undefined,
  nextOf: (page: P) => string | undefined = (page) => ((page as MarkerPage).Truncated ? (page as MarkerPage).NextMarker : undefined),
): Promise<T[]> {
  const out: T[] = []
  let marker: string | undefined
  do {
    // eslint-disable-next-line no-await-in-loop
    const page = await fetch(marker)
    out.push(...(entries(page) ?? []))
    const next = nextOf(page)
    if (next && next === marker) throw new KmsctlError('AWS_ERROR', `${what} returned the same page marker twice.`)
    marker = next
  } while (marker)
  return out
}

/**
 * Every entry of a listing that pages with NextToken (Organizations ListAccounts, account:ListRegions,
 * CloudTrail): the same loop as listAllPages, the token being the marker.
 */
export async function listAllTokenPages<P extends {NextToken?: string}, T>(
  what: string,
  fetch: (token: string | undefined) => Promise<P>,
  entries: (page: P) => readonly T[] | undefined,
): Promise<T[]> {
  return listAllPages(what, fetch, entries, (page) => page.NextToken)
}
