// Key inventory: every key of the region in one view (state, aliases, manager, rotation), and
// one key in full. Calls are paced below KMS's per-operation quotas with bounded concurrency.
import type {KMSClient, KeyMetadata} from '@aws-sdk/client-kms'

import {listAllAliases, listAllGrants, listAllKeyIds, listTags, partialEntries} from './aws/paging.js'
import {kmsSdk} from './aws/sdk.js'
import {KmsctlError, bestEffort, fromAwsError, isRunWide} from './errors.js'
import {globMatcher, isGlob} from './glob.js'
import {aliasNamesOf, aliasesByKey, resolveKey} from './key-ref.js'
import {daysUntil} from './output.js'
import {Pacer} from './pacing.js'

export interface RotationInfo {
  /** 'on' | 'off' | 'n/a' (cannot rotate) | 'unknown' (not allowed to ask). */
  status: 'n/a' | 'off' | 'on' | 'unknown'
  periodDays?: number
  nextRotationDate?: string
  reason?: string
}

export interface KeySummary {
  keyId: string
  arn: string
  aliases: string[]
  state: string
  keySpec: string
  keyUsage: string
  manager: string
  rotation: RotationInfo
  multiRegion: boolean
  creationDate?: string
  description: string
  deletionDate?: string
  /** Whole days until deletion, for keys pending deletion. */
  daysLeft?: number
  tags?: Record<string, string>
  metadata: KeyMetadata
}

export interface ListFilters {
  state?: string[]
  manager?: string[]
  spec?: string[]
  /** Alias prefix or glob (alias/app-*). */
  alias?: string
  tags?: Record<string, string>
}

export interface ListOptions extends ListFilters {
  pacer?: Pacer
  concurrency?: number
  onProgress?: (done: number, total: number) => void
  now?: Date
}

export interface MultiRegionInfo {
  type: 'PRIMARY' | 'REPLICA'
  primary?: {arn: string; region: string}
  replicas: Array<{arn: string; region: string}>
}

/** A multi-Region key's type, primary and replicas; undefined for a single-Region key. */
export function multiRegionOf(m: KeyMetadata): MultiRegionInfo | undefined {
  if (!m.MultiRegion) return undefined
  const c = m.MultiRegionConfiguration
  return {
    primary: c?.PrimaryKey?.Arn ? {arn: c.PrimaryKey.Arn, region: c.PrimaryKey.Region ?? ''} : undefined,
    replicas: (c?.ReplicaKeys ?? []).map((r) => ({arn: r.Arn ?? '', region: r.Region ?? ''})),
    type: c?.MultiRegionKeyType === 'REPLICA' ? 'REPLICA' : 'PRIMARY',
  }
}

/** Why a key cannot have automatic rotation, or undefined when it can. */
export function rotationNotApplicable(m: KeyMetadata): string | undefined {
  if (m.KeySpec && m.KeySpec !== 'SYMMETRIC_DEFAULT') {
    return m.KeySpec.startsWith('HMAC') ? 'HMAC keys cannot rotate' : 'asymmetric keys cannot rotate'
  }

  if (m.Origin === 'EXTERNAL') return 'keys with imported material rotate on demand only'
  if (m.Origin === 'AWS_CLOUDHSM' || m.Origin === 'EXTERNAL_KEY_STORE' || m.CustomKeyStoreId) return 'keys in a custom key store cannot rotate'
  return undefined
}

function aliasMatcher(pattern: string): (alias: string) => boolean {
  const full = pattern.startsWith('alias/') ? pattern : `alias/${pattern}`
  if (isGlob(full)) return globMatcher(full)
  return (alias) => alias.startsWith(full)
}

function summarise(m: KeyMetadata, aliases: string[], rotation: RotationInfo, now: Date, tags?: Record<string, string>): KeySummary {
  return {
    aliases,
    arn: m.Arn ?? '',
    creationDate: m.CreationDate?.toISOString(),
    daysLeft: m.KeyState === 'PendingDeletion' && m.DeletionDate ? daysUntil(m.DeletionDate, now) : undefined,
    deletionDate: m.DeletionDate?.toISOString(),
    description: m.Description ?? '',
    keyId: m.KeyId ?? '',
    keySpec: m.KeySpec ?? m.CustomerMasterKeySpec ?? '',
    keyUsage: m.KeyUsage ?? '',
    manager: m.KeyManager ?? '',
    metadata: m,
    multiRegion: Boolean(m.MultiRegion),
    rotation,
    state: m.KeyState ?? '',
    tags,
  }
}

async function rotationOf(kms: KMSClient, m: KeyMetadata, pacer: Pacer): Promise<RotationInfo> {
  const reason = rotationNotApplicable(m)
  if (reason) return {reason, status: 'n/a'}
  const {GetKeyRotationStatusCommand} = await kmsSdk()
  try {
    const out = await pacer.run('GetKeyRotationStatus', () => kms.send(new GetKeyRotationStatusCommand({KeyId: m.KeyId})))
    return out.KeyRotationEnabled
      ? {nextRotationDate: out.NextRotationDate?.toISOString(), periodDays: out.RotationPeriodInDays, status: 'on'}
      : {status: 'off'}
  } catch (error) {
    const name = (error as Error).name
    if (name === 'AccessDeniedException') return {reason: 'not allowed: kms:GetKeyRotationStatus', status: 'unknown'}
    if (name === 'KMSInvalidStateException') return {reason: `key is ${m.KeyState}`, status: 'unknown'}
    if (name === 'UnsupportedOperationException') return {reason: 'not supported for this key', status: 'n/a'}
    throw fromAwsError(error, {key: m.KeyId, operation: 'GetKeyRotationStatus'})
  }
}

/** A part of a listing that could not be read (after the client's retries): the rest is still reported. */
export interface ListingFailure {
  /** The key concerned; absent for a region-wide listing (ListKeys, ListAliases). */
  keyId?: string
  operation: string
  code: string
  message: string
}

/** A read-only listing: what was read, and what could not be. */
export interface KeyListing {
  keys: KeySummary[]
  failures: ListingFailure[]
}

function failureOf(error: unknown, operation: string, keyId?: string): ListingFailure {
  const e = fromAwsError(error, {key: keyId, operation})
  if (isRunWide(e)) throw e
  return {code: e.code, keyId, message: e.message, operation}
}

/**
 * Every key of the region and every alias, by key: ListKeys and ListAliases, all pages, side by
 * side. A ListKeys page that fails after pages were read, or a failing ListAliases, is a failure
 * in the result, not an error: the listing goes on with what was read.
 */
export async function listKeysWithAliases(
  kms: KMSClient,
  pacer: Pacer,
): Promise<{keys: Array<{KeyId: string; KeyArn: string}>; aliases: Map<string, string[]>; failures: ListingFailure[]}> {
  const failures: ListingFailure[] = []
  const [keys, aliases] = await Promise.all([
    listAllKeyIds(kms, pacer).catch((error) => {
      const partial = partialEntries<{KeyId: string; KeyArn: string}>(error)
      if (!partial) throw fromAwsError(error, {operation: 'ListKeys'})
      failures.push(failureOf(error, 'ListKeys'))
      return partial
    }),
    listAllAliases(kms, undefined, pacer).catch((error) => {
      failures.push(failureOf(error, 'ListAliases'))
      return []
    }),
  ])
  return {aliases: aliasesByKey(aliases), failures, keys}
}

function matchesFilters(m: KeyMetadata, f: ListFilters): boolean {
  const eq = (list: string[] | undefined, v: string | undefined) => !list || list.length === 0 || list.some((x) => x.toLowerCase() === (v ?? '').toLowerCase())
  return eq(f.state, m.KeyState) && eq(f.manager, m.KeyManager) && eq(f.spec, m.KeySpec)
}

/**
 * The inventory: every key that passes the filters, in ListKeys order. A key that cannot be read
 * (after the client's retries) is a failure in the result; the other keys are still listed.
 */
export async function listKeys(kms: KMSClient, options: ListOptions = {}): Promise<KeyListing> {
  const pacer = options.pacer ?? new Pacer({concurrency: options.concurrency ?? 32})
  const now = options.now ?? new Date()
  const {aliases: byKey, failures, keys} = await listKeysWithAliases(kms, pacer)
  let candidates = keys
  if (options.alias) {
    const match = aliasMatcher(options.alias)
    candidates = keys.filter((k) => (byKey.get(k.KeyId) ?? []).some((a) => match(a)))
  }

  const {DescribeKeyCommand} = await kmsSdk()
  const wantTags = options.tags && Object.keys(options.tags).length > 0
  let done = 0
  const results = await Promise.all(
    candidates.map(async (k): Promise<KeySummary | undefined> => {
      let operation = 'DescribeKey'
      try {
        let m: KeyMetadata | undefined
        try {
          m = (await pacer.run('DescribeKey', () => kms.send(new DescribeKeyCommand({KeyId: k.KeyId})))).KeyMetadata
        } finally {
          options.onProgress?.(++done, candidates.length)
        }

        if (!m || !matchesFilters(m, options)) return undefined
        let tags: Record<string, string> | undefined
        if (wantTags) {
          if (m.KeyManager !== 'CUSTOMER') return undefined
          operation = 'ListResourceTags'
          tags = await listTags(kms, k.KeyId, pacer)
          for (const [tk, tv] of Object.entries(options.tags ?? {})) if (tags[tk] !== tv) return undefined
        }

        operation = 'GetKeyRotationStatus'
        const rotation = await rotationOf(kms, m, pacer)
        return summarise(m, (byKey.get(k.KeyId) ?? []).sort(), rotation, now, tags)
      } catch (error) {
        const f = failureOf(error, operation, k.KeyId)
        // A key deleted since ListKeys is simply gone.
        if (f.code !== 'NOT_FOUND') failures.push(f)
        return undefined
      }
    }),
  )
  return {failures, keys: results.filter((r): r is KeySummary => r !== undefined)}
}

/**
 * The error of a listing that could not read everything (exit 3): names what failed and carries
 * what was read (`details.keys`) and the failures, so that --json still holds the partial listing.
 */
export function partialListing(keys: KeySummary[], failures: readonly ListingFailure[]): KmsctlError {
  const what = failures.map((f) => `${f.keyId ? `${f.keyId}: ` : ''}${f.operation}: ${f.message}`)
  return new KmsctlError('PARTIAL_FAILURE', `Listed ${keys.length} key${keys.length === 1 ? '' : 's'}, but ${failures.length} read${failures.length === 1 ? '' : 's'} failed: ${what.slice(0, 3).join('; ')}${what.length > 3 ? `; and ${what.length - 3} more` : ''}.`, {
    details: {failures, keys},
    remedy: 'Try this: run it again (the failed reads are retried up to --max-attempts times each; raise it for a flaky network)',
  })
}

export interface KeyDetails extends KeySummary {
  tags: Record<string, string>
  policyNames: string[]
  grantCount?: number
  /** Sub-calls that failed (e.g. not allowed), by operation. */
  unavailable: Record<string, string>
  replicas: Array<{arn: string; region: string}>
  primary?: {arn: string; region: string}
  pendingWindowInDays?: number
}

/** One key in full: metadata, aliases, tags, rotation, policy names, grants, deletion, replicas. */
export async function describeKey(kms: KMSClient, ref: string, now: Date = new Date()): Promise<KeyDetails> {
  const resolved = await resolveKey(kms, ref)
  const m = resolved.metadata
  const sdk = await kmsSdk()
  const pacer = new Pacer()
  const {soft, unavailable} = bestEffort(resolved.keyId)
  const keyId = resolved.keyId
  const [aliases, tags, rotation, policyNames, grantCount] = await Promise.all([
    soft('ListAliases', () => aliasNamesOf(kms, keyId), [] as string[]),
    m.KeyManager === 'CUSTOMER' ? soft('ListResourceTags', () => listTags(kms, keyId, pacer), {} as Record<string, string>) : Promise.resolve({}),
    soft('GetKeyRotationStatus', () => rotationOf(kms, m, pacer), {status: 'unknown'} as RotationInfo),
    soft('ListKeyPolicies', async () => (await kms.send(new sdk.ListKeyPoliciesCommand({KeyId: keyId}))).PolicyNames ?? [], [] as string[]),
    soft(
      'ListGrants',
      async (): Promise<number | undefined> => (await listAllGrants(kms, keyId, pacer)).length,
      undefined,
    ),
  ])
  const mr = multiRegionOf(m)
  return {
    ...summarise(m, aliases, rotation, now, tags),
    grantCount,
    pendingWindowInDays: m.PendingDeletionWindowInDays,
    policyNames,
    primary: mr?.primary,
    replicas: mr?.replicas ?? [],
    tags,
    unavailable,
  }
}

/** "on (365 d)", "off", "n/a" for tables. */
export function rotationText(r: RotationInfo): string {
  if (r.status === 'on') return r.periodDays ? `on (${r.periodDays} d)` : 'on'
  return r.status
}
