// The deletion pre-flight: everything an operator should see before a key is scheduled for
// deletion (state, manager, description, aliases, tags, grants and their grantees, multi-Region
// replicas, recent use), and the safety checks that refuse the deletion.
//   - hard refusals, whatever the flags: AWS-managed keys, keys already pending deletion;
//   - refusals --force overrides: a key still Enabled, a key used inside the lookback window,
//     a key whose recent use nobody could check.
import type {CloudTrailClient} from '@aws-sdk/client-cloudtrail'
import type {KMSClient, KeyMetadata} from '@aws-sdk/client-kms'

import {listAllGrants, listTags} from '../aws/paging.js'
import {kmsSdk} from '../aws/sdk.js'
import {KmsctlError, bestEffort, refusal, usageError} from '../errors.js'
import {tryParseDuration} from '../parse.js'
import {type MultiRegionInfo, multiRegionOf} from '../inventory.js'
import {aliasNamesOf, resolveKey} from '../key-ref.js'
import {daysUntil, formatDate} from '../output.js'
import {DAY_MS} from '../time.js'
import {type RecentUse, type RecentUseOptions, recentUse} from './recent-use.js'

export const MIN_DAYS = 7
export const MAX_DAYS = 30
export const DEFAULT_DAYS = 30
export const DEFAULT_LOOKBACK = '30d'
/** CloudTrail's LookupEvents keeps the last 90 days. */
export const MAX_LOOKBACK_MS = 90 * DAY_MS

/** --days: KMS waits 7 to 30 days before it deletes a key. */
export function validateDays(days: number | undefined): number {
  const d = days ?? DEFAULT_DAYS
  if (!Number.isInteger(d) || d < MIN_DAYS || d > MAX_DAYS) {
    throw usageError(
      `--days ${days} is outside ${MIN_DAYS}..${MAX_DAYS}: KMS waits between ${MIN_DAYS} and ${MAX_DAYS} days before it deletes a key.`,
      `Try this: --days ${d < MIN_DAYS ? MIN_DAYS : MAX_DAYS}`,
    )
  }

  return d
}

/** --lookback: a duration of at least one hour and at most the 90 days CloudTrail's event history keeps. */
export function parseLookback(text: string | undefined): number {
  const raw = text ?? DEFAULT_LOOKBACK
  const ms = tryParseDuration(raw)
  if (ms === undefined) throw usageError(`--lookback "${raw}" is not a duration.`, 'Try this: --lookback 30d (units: h, d, w)')
  if (ms < 3_600_000) throw usageError(`--lookback ${raw} is too short to say anything about use.`, 'Try this: --lookback 7d')
  if (ms > MAX_LOOKBACK_MS) throw usageError(`--lookback ${raw} is longer than the 90 days CloudTrail event history keeps.`, 'Try this: --lookback 90d')
  return ms
}

/** "30 days", "36 hours", as a person would say it. */
export function describeDuration(ms: number): string {
  if (ms % DAY_MS === 0) return ms === DAY_MS ? '1 day' : `${ms / DAY_MS} days`
  const hours = Math.round(ms / 3_600_000)
  return hours === 1 ? '1 hour' : `${hours} hours`
}

export interface GrantSummary {
  grantId: string
  name?: string
  grantee: string
  operations: string[]
  retiringPrincipal?: string
  created?: string
}

export interface DeletionPreflight {
  /** The key as the operator gave it. */
  ref: string
  keyId: string
  arn: string
  state: string
  manager: string
  description: string
  keySpec: string
  keyUsage: string
  origin?: string
  creationDate?: string
  aliases: string[]
  tags: Record<string, string>
  /** Undefined when the grants could not be listed (see unavailable). */
  grants?: GrantSummary[]
  multiRegion?: MultiRegionInfo
  /** A primary with replicas goes to PendingReplicaDeletion; its window starts when the last replica is gone. */
  waitsForReplicas: boolean
  /** The waiting period asked for. */
  days: number
  /** When the key would be deleted if scheduled now (absent when it waits for replicas). */
  wouldDeleteOn?: string
  recentUse: RecentUse
  /** Parts of the report that could not be read, by operation, with the reason. */
  unavailable: Record<string, string>
  /** When the pre-flight ran. */
  checkedAt: string
}

export interface PreflightClients {
  kms: KMSClient
  /** Without it, only GetKeyLastUsage speaks to recent use. */
  cloudtrail?: CloudTrailClient
}

export interface PreflightOptions extends Omit<RecentUseOptions, 'lookbackMs' | 'now'> {
  days: number
  lookbackMs: number
  now?: Date
}

/** Refusals no flag overrides, decided from DescribeKey alone (before anything else is read). */
export function hardRefusal(m: KeyMetadata, ref: string, now: Date = new Date()): KmsctlError | undefined {
  const id = m.KeyId ?? ref
  if (m.KeyManager === 'AWS') {
    return refusal(
      `${ref === id ? `Key ${id}` : `${ref} (${id})`} is an AWS managed key: AWS owns its lifecycle, and it cannot be deleted.`,
      'leave it (AWS managed keys have no monthly fee); to find your own keys: kmsctl key list --manager CUSTOMER',
      {keyId: id, manager: 'AWS', reason: 'AWS_MANAGED'},
    )
  }

  if (m.KeyState === 'PendingDeletion') {
    const date = m.DeletionDate
    const left = date ? daysUntil(date, now) : undefined
    return refusal(
      `Key ${id} is already scheduled for deletion${date ? ` on ${formatDate(date)} (${left} ${left === 1 ? 'day' : 'days'} left)` : ''}.`,
      `kmsctl key cancel-deletion ${ref} --enable (to keep the key)`,
      {deletionDate: date?.toISOString(), keyId: id, reason: 'PENDING_DELETION', state: 'PendingDeletion'},
    )
  }

  if (m.KeyState === 'PendingReplicaDeletion') {
    return refusal(
      `Key ${id} is already scheduled for deletion: it waits for its replicas to be deleted, then ${m.PendingDeletionWindowInDays ?? '7-30'} more days.`,
      `kmsctl key cancel-deletion ${ref} --enable (to keep the key)`,
      {keyId: id, pendingWindowInDays: m.PendingDeletionWindowInDays, reason: 'PENDING_DELETION', state: 'PendingReplicaDeletion'},
    )
  }

  return undefined
}

async function allGrants(kms: KMSClient, keyId: string): Promise<GrantSummary[]> {
  const grants = await listAllGrants(kms, keyId)
  return grants.map((g) => {
    const s: GrantSummary = {grantee: g.GranteePrincipal ?? '?', grantId: g.GrantId ?? '', operations: [...(g.Operations ?? [])]}
    if (g.Name) s.name = g.Name
    if (g.RetiringPrincipal) s.retiringPrincipal = g.RetiringPrincipal
    if (g.CreationDate) s.created = g.CreationDate.toISOString()
    return s
  })
}

/**
 * Runs the pre-flight: DescribeKey, then (unless a hard refusal stops it there) aliases, tags,
 * grants and recent use in parallel. Parts that cannot be read are listed in `unavailable`.
 */
export async function runDeletionPreflight(clients: PreflightClients, ref: string, options: PreflightOptions): Promise<DeletionPreflight> {
  const now = options.now ?? new Date()
  const resolved = await resolveKey(clients.kms, ref)
  const m = resolved.metadata
  const stop = hardRefusal(m, ref, now)
  if (stop) throw stop

  const {soft, unavailable} = bestEffort(resolved.keyId)
  const [aliases, tags, grants, use] = await Promise.all([
    soft('ListAliases', () => aliasNamesOf(clients.kms, resolved.keyId), [] as string[]),
    soft('ListResourceTags', () => listTags(clients.kms, resolved.keyId), {} as Record<string, string>),
    soft('ListGrants', () => allGrants(clients.kms, resolved.keyId), undefined as GrantSummary[] | undefined),
    recentUse(clients.kms, clients.cloudtrail, {arn: resolved.arn, keyId: resolved.keyId}, {...options, now}),
  ])
  if (use.lastUsage.status === 'unavailable' && use.lastUsage.reason) unavailable.GetKeyLastUsage = use.lastUsage.reason
  if (use.trail.status === 'unavailable' && use.trail.reason) unavailable.LookupEvents = use.trail.reason

  const multiRegion = multiRegionOf(m)
  const waitsForReplicas = multiRegion?.type === 'PRIMARY' && multiRegion.replicas.length > 0
  return {
    aliases,
    arn: resolved.arn,
    checkedAt: now.toISOString(),
    creationDate: m.CreationDate?.toISOString(),
    days: options.days,
    description: m.Description ?? '',
    grants,
    keyId: resolved.keyId,
    keySpec: m.KeySpec ?? '',
    keyUsage: m.KeyUsage ?? '',
    manager: m.KeyManager ?? '',
    multiRegion,
    origin: m.Origin,
    recentUse: use,
    ref,
    state: m.KeyState ?? '',
    tags,
    unavailable,
    waitsForReplicas,
    wouldDeleteOn: waitsForReplicas ? undefined : new Date(now.getTime() + options.days * DAY_MS).toISOString(),
  }
}

export type BlockerCode = 'ENABLED' | 'RECENTLY_USED' | 'USE_UNKNOWN'

/** A reason to refuse that --force overrides. */
export interface Blocker {
  code: BlockerCode
  message: string
  /** --force was given, so this one is only a warning. */
  forced: boolean
}

/** The refusals --force overrides, each marked forced or not. */
export function deletionBlockers(p: DeletionPreflight, force: boolean): Blocker[] {
  const out: Blocker[] = []
  const window = describeDuration(p.recentUse.lookbackMs)
  if (p.state === 'Enabled') {
    out.push({code: 'ENABLED', forced: force, message: `key ${p.keyId} is Enabled, so anything still using it keeps working until the day it is deleted`})
  }

  const use = p.recentUse
  if (use.used) {
    const parts: string[] = []
    if (use.trail.count > 0) {
      const newest = use.trail.events[0]
      parts.push(
        `${use.trail.count}${use.trail.truncated ? '+' : ''} cryptographic ${use.trail.count === 1 ? 'call' : 'calls'} in CloudTrail in the last ${window}` +
          (newest ? ` (newest: ${newest.event} by ${newest.who} from ${newest.from} at ${formatDate(newest.time)})` : ''),
      )
    }

    if (use.lastUsage.status === 'ok' && use.lastUsage.time && use.lastUsage.time >= use.since) {
      parts.push(`KMS last saw it used for ${use.lastUsage.operation ?? 'a cryptographic operation'} at ${formatDate(use.lastUsage.time)}`)
    }

    out.push({code: 'RECENTLY_USED', forced: force, message: `key ${p.keyId} was used recently: ${parts.join('; ')}`})
  } else if (!use.checked) {
    out.push({
      code: 'USE_UNKNOWN',
      forced: force,
      message: `recent use of key ${p.keyId} could not be checked (GetKeyLastUsage: ${use.lastUsage.reason ?? 'unavailable'}; LookupEvents: ${use.trail.reason ?? 'unavailable'})`,
    })
  }

  return out
}

/** The refusal for blockers that were not forced (exit 2, nothing sent). */
export function blockersError(p: DeletionPreflight, blockers: readonly Blocker[]): KmsctlError {
  const open = blockers.filter((b) => !b.forced)
  const enabled = open.some((b) => b.code === 'ENABLED')
  const used = open.some((b) => b.code === 'RECENTLY_USED')
  const advice = enabled
    ? `disable it first and watch CloudTrail for calls that now fail (kmsctl key disable ${p.ref}, then kmsctl trail query --key ${p.ref} --since 7d); schedule the deletion when nothing has called it for a while, or pass --force.`
    : used
      ? `find out who still uses it (kmsctl trail query --key ${p.ref} --since ${Math.round(p.recentUse.lookbackMs / DAY_MS) || 1}d), wait until the calls stop, or pass --force.`
      : 'grant yourself kms:GetKeyLastUsage or cloudtrail:LookupEvents to check, or pass --force.'
  const sentence = open.map((b) => b.message).join('; and ')
  return refusal(`Refusing to schedule deletion: ${sentence}.`, advice, {blockers: open.map((b) => b.code), preflight: p})
}
