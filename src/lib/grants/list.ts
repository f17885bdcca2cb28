// Listing grants: every page of ListGrants for one key; the grants of every customer-managed key of
// the region (bounded, paced concurrency, so that the scan runs as fast as the ListGrants quota
// allows and no faster); and ListRetirableGrants for one retiring principal.
import type {GrantConstraints, GrantListEntry, KMSClient} from '@aws-sdk/client-kms'

import {listAllGrants, listAllPages, partialEntries} from '../aws/paging.js'
import {kmsSdk} from '../aws/sdk.js'
import {fromAwsError} from '../errors.js'
import {listKeysWithAliases} from '../inventory.js'
import {formatPairs} from '../output.js'
import {Pacer} from '../pacing.js'

/** One grant, flattened for tables and JSON. */
export interface GrantInfo {
  /** The key's ID (the last part of its ARN). */
  keyId: string
  keyArn: string
  /** The key's aliases, when the scan knows them. */
  aliases?: string[]
  grantId: string
  name?: string
  granteePrincipal?: string
  retiringPrincipal?: string
  issuingAccount?: string
  operations: string[]
  constraints?: GrantConstraints
  creationDate?: string
}

export interface GrantFilter {
  /** Only grants whose grantee is this principal (sent to KMS as GranteePrincipal). */
  grantee?: string
  /** Only this grant (sent to KMS as GrantId). */
  grantId?: string
}

/** The key ID inside a key ARN (or the value itself when it is not an ARN). */
export function keyIdOf(arnOrId: string): string {
  const i = arnOrId.indexOf(':key/')
  return i === -1 ? arnOrId : arnOrId.slice(i + ':key/'.length)
}

export function toGrantInfo(e: GrantListEntry, fallbackKeyArn = ''): GrantInfo {
  const keyArn = e.KeyId ?? fallbackKeyArn
  const hasConstraints = Boolean(e.Constraints?.EncryptionContextEquals || e.Constraints?.EncryptionContextSubset)
  return {
    constraints: hasConstraints ? e.Constraints : undefined,
    creationDate: e.CreationDate ? new Date(e.CreationDate).toISOString() : undefined,
    grantId: e.GrantId ?? '',
    granteePrincipal: e.GranteePrincipal,
    issuingAccount: e.IssuingAccount,
    keyArn,
    keyId: keyIdOf(keyArn),
    name: e.Name || undefined,
    operations: [...(e.Operations ?? [])],
    retiringPrincipal: e.RetiringPrincipal,
  }
}

/** The grant as KMS lists it (what the journal keeps and what grant recreate reads back). */
export function toGrantListEntry(g: GrantInfo): GrantListEntry {
  const entry: GrantListEntry = {GrantId: g.grantId, KeyId: g.keyArn, Operations: [...g.operations] as GrantListEntry['Operations']}
  if (g.name) entry.Name = g.name
  if (g.creationDate) entry.CreationDate = new Date(g.creationDate)
  if (g.granteePrincipal) entry.GranteePrincipal = g.granteePrincipal
  if (g.retiringPrincipal) entry.RetiringPrincipal = g.retiringPrincipal
  if (g.issuingAccount) entry.IssuingAccount = g.issuingAccount
  if (g.constraints) entry.Constraints = g.constraints
  return entry
}

function matches(g: GrantInfo, filter: GrantFilter): boolean {
  if (filter.grantee && g.granteePrincipal !== filter.grantee) return false
  if (filter.grantId && g.grantId !== filter.grantId) return false
  return true
}

export interface ListKeyGrantsOptions extends GrantFilter {
  pacer?: Pacer
  /** Page size (1-100, default 100). */
  limit?: number
}

/**
 * Every grant of one key (all pages), optionally filtered by grantee or grant ID. `keyArn` is a key
 * ID or ARN (ListGrants does not take aliases); the entries carry the key ARN.
 */
export async function listKeyGrants(kms: KMSClient, keyArn: string, options: ListKeyGrantsOptions = {}): Promise<GrantInfo[]> {
  let entries
  try {
    entries = await listAllGrants(kms, keyArn, options.pacer ?? new Pacer(), {grantId: options.grantId, grantee: options.grantee, limit: options.limit})
  } catch (error) {
    // The grants of the pages read before one failed travel with the error (partialEntries()).
    const partial = partialEntries<GrantListEntry>(error)
    const e = fromAwsError(error, {key: keyArn, operation: 'ListGrants'})
    if (partial) Object.assign(e, {partialEntries: partial.map((g) => toGrantInfo(g, keyArn)).filter((g) => matches(g, options))})
    throw e
  }

  return entries.map((e) => toGrantInfo(e, keyArn)).filter((g) => matches(g, options))
}

export interface KeyFailure {
  /** Empty for a region-wide listing that failed (see operation). */
  keyId: string
  keyArn: string
  code: string
  message: string
  /** The call that failed, when it was not ListGrants on the key (ListKeys, ListAliases). */
  operation?: string
}

export interface ScanResult {
  grants: GrantInfo[]
  /** Customer-managed keys whose grants were listed. */
  keysScanned: number
  /** Keys skipped because AWS manages them (alias/aws/*). */
  awsManagedSkipped: number
  /** Keys whose grants could not be listed (e.g. access denied); the scan goes on without them. */
  failures: KeyFailure[]
}

export interface ScanOptions extends GrantFilter {
  pacer?: Pacer
  /** Most requests in flight at once (default 16); used when no pacer is given. */
  concurrency?: number
  /** Called as each key finishes. */
  onProgress?: (keysDone: number, keysTotal: number, grantsFound: number) => void
}

/**
 * The grants of every customer-managed key of the region. AWS-managed keys (those with an
 * alias/aws/* alias) are skipped without a call. Keys are listed concurrently, bounded and paced
 * by the Pacer so that ListGrants stays under its quota. A key deleted during the scan is left
 * out; a key whose grants cannot be listed is reported in `failures`.
 */
export async function scanAllGrants(kms: KMSClient, options: ScanOptions = {}): Promise<ScanResult> {
  const pacer = options.pacer ?? new Pacer({concurrency: options.concurrency ?? 16})
  const {aliases: aliasesByKey, failures: listing, keys} = await listKeysWithAliases(kms, pacer)
  const isAwsManaged = (keyId: string) => (aliasesByKey.get(keyId) ?? []).some((a) => a.startsWith('alias/aws/'))
  const candidates = keys.filter((k) => !isAwsManaged(k.KeyId))
  const failures: KeyFailure[] = listing.map((f) => ({code: f.code, keyArn: '', keyId: '', message: f.message, operation: f.operation}))
  let done = 0
  let found = 0
  const perKey = await Promise.all(
    candidates.map(async (k) => {
      try {
        const grants = await listKeyGrants(kms, k.KeyArn || k.KeyId, {grantee: options.grantee, grantId: options.grantId, pacer})
        const keyAliases = (aliasesByKey.get(k.KeyId) ?? []).sort()
        for (const g of grants) {
          g.aliases = keyAliases
          g.keyId = k.KeyId
          if (!g.keyArn) g.keyArn = k.KeyArn
        }

        found += grants.length
        return grants
      } catch (error) {
        const e = fromAwsError(error, {key: k.KeyId, operation: 'ListGrants'})
        if (e.code !== 'NOT_FOUND') failures.push({code: e.code, keyArn: k.KeyArn, keyId: k.KeyId, message: e.message})
        return []
      } finally {
        options.onProgress?.(++done, candidates.length, found)
      }
    }),
  )
  return {
    awsManagedSkipped: keys.length - candidates.length,
    failures,
    grants: perKey.flat(),
    keysScanned: candidates.length - failures.filter((f) => f.keyId).length,
  }
}

export interface RetirableOptions extends GrantFilter {
  pacer?: Pacer
  limit?: number
}

/** Every grant that a principal may retire (all pages of ListRetirableGrants, 5 requests/s). */
export async function listRetirableGrants(kms: KMSClient, retiringPrincipal: string, options: RetirableOptions = {}): Promise<GrantInfo[]> {
  const {ListRetirableGrantsCommand} = await kmsSdk()
  const pacer = options.pacer ?? new Pacer()
  const entries = await listAllPages(
    'ListRetirableGrants',
    async (marker) => {
      const input = {Limit: options.limit ?? 100, Marker: marker, RetiringPrincipal: retiringPrincipal}
      try {
        return await pacer.run('ListRetirableGrants', () => kms.send(new ListRetirableGrantsCommand(input)))
      } catch (error) {
        throw fromAwsError(error, {operation: 'ListRetirableGrants'})
      }
    },
    (page) => page.Grants,
  )
  return entries.map((e) => toGrantInfo(e)).filter((g) => matches(g, options))
}

/** "Decrypt, GenerateDataKey" style text of a constraint, for tables. */
export function constraintText(c: GrantConstraints | undefined): string {
  if (!c) return ''
  const parts: string[] = []
  if (c.EncryptionContextEquals) parts.push(`equals ${formatPairs(c.EncryptionContextEquals)}`)
  if (c.EncryptionContextSubset) parts.push(`subset ${formatPairs(c.EncryptionContextSubset)}`)
  return parts.join('\n')
}
