// What the audit reads about each key: only reads, each paced at its operation's KMS quota, and
// only the reads the selected checks need. Every per-key read starts at once (DescribeKey,
// GetKeyPolicy, ListGrants, ListResourceTags), so the run lasts about as long as the slowest
// operation's queue (GetKeyPolicy at 30/s) and no longer. A read that fails on one key is recorded
// for that key (its checks are reported as not checked); errors that concern the whole run
// (credentials, network, region) stop it.
import type {CloudTrailClient} from '@aws-sdk/client-cloudtrail'
import type {KMSClient, KeyMetadata} from '@aws-sdk/client-kms'

import {kmsSdk} from '../aws/sdk.js'
import {type KeySource, selectKeys} from '../bulk/select.js'
import {lastUsage, trailUsage} from '../deletion/recent-use.js'
import {KmsctlError, fromAwsError} from '../errors.js'
import {listKeyGrants} from '../grants/list.js'
import {listTags, lookupEventPages} from '../aws/paging.js'
import {listKeysWithAliases, rotationNotApplicable} from '../inventory.js'
import type {JournalRecord} from '../journal.js'
import {DAY_MS} from '../time.js'
import {LOOKUP_EVENTS_RATE, Pacer} from '../pacing.js'
import {fetchKeyPolicy} from '../policy/source.js'
import type {Need} from './registry.js'
import {type DisabledSince, type KeyFacts, PENDING, type RotationFact} from './types.js'

/** Errors about the whole run rather than one key. */
const GLOBAL_CODES = new Set(['NO_CREDENTIALS', 'EXPIRED_TOKEN', 'NETWORK', 'NO_REGION'])

/** CloudTrail keeps 90 days of management events for LookupEvents. */
export const TRAIL_WINDOW_DAYS = 90

export interface CollectDeps {
  kms: KMSClient
  /** CloudTrail, asked for only when a check needs it. */
  cloudtrail?: () => Promise<CloudTrailClient>
  /** kmsctl's own journal, for when a key was disabled. */
  journal?: {readAll(): JournalRecord[]}
  region: string
}

export interface CollectOptions {
  needs: ReadonlySet<Need>
  now: Date
  disabledDays: number
  recentDays: number
  pacer?: Pacer
  onProgress?: (done: number, total: number) => void
}

export interface SkippedKey {
  ref: string
  keyId?: string
  reason: string
}

export interface Collected {
  keys: KeyFacts[]
  /** Keys named or found that were not audited (AWS managed, not found, not allowed), with why. */
  skipped: SkippedKey[]
  /** Keys whose every read failed. */
  failed: SkippedKey[]
}

interface Target {
  ref: string
  keyId: string
  aliases: string[]
  metadata?: KeyMetadata
}

/** The keys to audit: those named (arguments, --tag, --file), else every customer-managed key of the region. */
async function targets(kms: KMSClient, source: KeySource | undefined, pacer: Pacer): Promise<{targets: Target[]; skipped: SkippedKey[]}> {
  const skipped: SkippedKey[] = []
  const hasSource = source && ((source.refs?.length ?? 0) > 0 || Object.keys(source.tags ?? {}).length > 0 || source.listText !== undefined)
  if (hasSource) {
    const selection = await selectKeys(kms, source!, {pacer})
    for (const u of selection.unresolved) skipped.push({reason: u.error.message, ref: u.ref})
    const out: Target[] = []
    for (const k of selection.keys) {
      if (k.manager !== 'CUSTOMER') skipped.push({keyId: k.keyId, reason: 'AWS manages this key: nothing about it can be changed', ref: k.ref})
      else out.push({aliases: k.aliases, keyId: k.keyId, metadata: k.metadata, ref: k.ref})
    }

    return {skipped, targets: out}
  }

  const {aliases, failures, keys} = await listKeysWithAliases(kms, pacer)
  // A listing that could not be read whole (a later ListKeys page, ListAliases) is said, not dropped.
  for (const f of failures) skipped.push({reason: `${f.operation} failed: ${f.message}`, ref: f.operation})
  const out: Target[] = []
  for (const k of keys) {
    const names = (aliases.get(k.KeyId) ?? []).sort()
    // AWS-managed keys carry an alias/aws/* alias: left out without a call.
    if (names.some((a) => a.startsWith('alias/aws/'))) continue
    out.push({aliases: names, keyId: k.KeyId, ref: names[0] ?? k.KeyId})
  }

  return {skipped, targets: out}
}

function accountOf(arn: string): string {
  return arn.split(':')[4] ?? ''
}

async function rotationOf(kms: KMSClient, m: KeyMetadata, pacer: Pacer): Promise<RotationFact> {
  const reason = rotationNotApplicable(m)
  if (reason) return {reason, status: 'n/a'}
  const {GetKeyRotationStatusCommand} = await kmsSdk()
  const out = await pacer.run('GetKeyRotationStatus', () => kms.send(new GetKeyRotationStatusCommand({KeyId: m.KeyId})))
  return out.KeyRotationEnabled ? {periodDays: out.RotationPeriodInDays, status: 'on'} : {status: 'off'}
}

/** Reads every fact the selected checks need about the keys of the source (or of the region). */
export async function collectFacts(deps: CollectDeps, source: KeySource | undefined, options: CollectOptions): Promise<Collected> {
  const {kms} = deps
  const {needs} = options
  const pacer = options.pacer ?? new Pacer({concurrency: 32})
  const trailPacer = new Pacer({rates: {LookupEvents: LOOKUP_EVENTS_RATE}})
  const {skipped, targets: list} = await targets(kms, source, pacer)
  const failed: SkippedKey[] = []
  const {DescribeKeyCommand} = await kmsSdk()
  let cloudtrail: Promise<CloudTrailClient> | undefined
  const trailClient = () => {
    if (!deps.cloudtrail) return undefined
    cloudtrail ??= deps.cloudtrail()
    return cloudtrail
  }

  const recentSince = new Date(options.now.getTime() - options.recentDays * DAY_MS)
  let done = 0
  const facts = await Promise.all(
    list.map(async (t): Promise<KeyFacts | undefined> => {
      const unavailable: Record<string, string> = {}
      const soft = async <T>(operation: string, read: () => Promise<T>): Promise<T | undefined> => {
        try {
          return await read()
        } catch (error) {
          const e = error instanceof KmsctlError ? error : fromAwsError(error, {key: t.keyId, operation})
          if (GLOBAL_CODES.has(e.code)) throw e
          unavailable[operation] = e.code === 'ACCESS_DENIED' ? `not allowed: kms:${operation}` : e.message
          return undefined
        }
      }

      try {
        const metadataP = t.metadata
          ? Promise.resolve(t.metadata)
          : pacer.run('DescribeKey', () => kms.send(new DescribeKeyCommand({KeyId: t.keyId}))).then((o) => o.KeyMetadata)
        const policyP = needs.has('policy') ? soft('GetKeyPolicy', () => pacer.run('GetKeyPolicy', () => fetchKeyPolicy(kms, t.keyId))) : undefined
        const grantsP = needs.has('grants') ? soft('ListGrants', () => listKeyGrants(kms, t.keyId, {pacer})) : undefined
        const tagsP = needs.has('tags') ? soft('ListResourceTags', () => listTags(kms, t.keyId, pacer)) : undefined
        let metadata: KeyMetadata | undefined
        try {
          metadata = await metadataP
        } catch (error) {
          const e = fromAwsError(error, {key: t.keyId, operation: 'DescribeKey'})
          if (GLOBAL_CODES.has(e.code)) throw e
          // Settle the other reads before giving up on the key.
          await Promise.allSettled([policyP, grantsP, tagsP])
          if (e.code === 'NOT_FOUND') skipped.push({keyId: t.keyId, reason: 'deleted during the audit', ref: t.ref})
          else failed.push({keyId: t.keyId, reason: e.message, ref: t.ref})
          return undefined
        }

        if (!metadata?.Arn) {
          failed.push({keyId: t.keyId, reason: 'DescribeKey returned no metadata', ref: t.ref})
          return undefined
        }

        if (metadata.KeyManager !== 'CUSTOMER') {
          await Promise.allSettled([policyP, grantsP, tagsP])
          skipped.push({keyId: t.keyId, reason: 'AWS manages this key: nothing about it can be changed', ref: t.ref})
          return undefined
        }

        const state = metadata.KeyState ?? ''
        const rotationP =
          needs.has('rotation') && (state === 'Enabled' || state === 'Disabled') ? soft('GetKeyRotationStatus', () => rotationOf(kms, metadata, pacer)) : undefined
        const usageP =
          needs.has('lastUsage') && (state === 'Enabled' || PENDING.has(state))
            ? pacer.run('GetKeyLastUsage', () => lastUsage(kms, t.keyId))
            : undefined
        const [policyText, grants, tags, rotation, usage] = await Promise.all([policyP, grantsP, tagsP, rotationP, usageP])
        if (usage?.status === 'unavailable') unavailable.GetKeyLastUsage = usage.reason ?? 'unavailable'
        const out: KeyFacts = {
          account: accountOf(metadata.Arn),
          aliases: t.aliases,
          arn: metadata.Arn,
          grants,
          keyId: t.keyId,
          lastUsage: usage,
          metadata,
          policyText,
          region: metadata.Arn.split(':')[3] ?? deps.region,
          rotation,
          tags,
          unavailable,
        }
        // A key pending deletion: its failed calls (refused because of the state) are in CloudTrail only.
        const usedRecently = usage?.status === 'ok' && usage.time !== undefined && usage.time >= recentSince.toISOString()
        if (needs.has('trail') && PENDING.has(state) && !usedRecently) {
          const client = trailClient()
          if (client) {
            out.trail = await trailUsage(await client, metadata.Arn, recentSince, {maxPages: 2, pacer: trailPacer, show: 3})
            if (out.trail.status === 'unavailable') unavailable.LookupEvents = out.trail.reason ?? 'unavailable'
          }
        }

        return out
      } finally {
        options.onProgress?.(++done, list.length)
      }
    }),
  )

  const keys = facts.filter((f): f is KeyFacts => f !== undefined)
  if (needs.has('trail')) await disabledSince(deps, keys, options, trailClient, trailPacer)
  return {failed, keys, skipped}
}

/** Journal actions that leave a key Disabled, and those that leave it Enabled. */
const DISABLING = new Set(['key.disable', 'key.cancel-deletion'])
const ENABLING = new Set(['key.enable', 'incident.restore'])

/**
 * When each Disabled key was disabled: kmsctl's journal first, then CloudTrail (the newest
 * successful DisableKey or CancelKeyDeletion on it, which both leave a key Disabled), then the
 * key's creation date (a key created N days ago cannot have been disabled for longer).
 */
async function disabledSince(
  deps: CollectDeps,
  keys: KeyFacts[],
  options: CollectOptions,
  trailClient: () => Promise<CloudTrailClient> | undefined,
  pacer: Pacer,
): Promise<void> {
  const disabled = keys.filter((k) => k.metadata.KeyState === 'Disabled')
  if (disabled.length === 0) return
  const fromJournal = new Map<string, {time: string; action: string}>()
  try {
    for (const r of deps.journal?.readAll() ?? []) {
      if (!r.key?.keyId || (r.outcome && r.outcome.status !== 'ok')) continue
      if (DISABLING.has(r.action) || ENABLING.has(r.action)) fromJournal.set(r.key.keyId, {action: r.action, time: r.time})
    }
  } catch {
    // An unreadable journal only means it cannot tell.
  }

  const unknown: KeyFacts[] = []
  for (const k of disabled) {
    const j = fromJournal.get(k.keyId)
    if (j && DISABLING.has(j.action)) k.disabledSince = {detail: `kmsctl journal: ${j.action} at ${j.time}`, source: 'journal', time: j.time}
    else unknown.push(k)
  }

  if (unknown.length > 0) {
    const client = trailClient()
    if (client) {
      const scan = await disableEvents(await client, options.now, pacer)
      for (const k of unknown) {
        if (scan.status !== 'ok') {
          k.unavailable.LookupEvents = scan.reason ?? 'unavailable'
          continue
        }

        const e = scan.byKey.get(k.arn) ?? scan.byKey.get(k.keyId)
        if (e) {
          k.disabledSince = {detail: `CloudTrail: ${e.event} at ${e.time}`, source: 'cloudtrail', time: e.time}
        } else if (!scan.truncated && k.metadata.CreationDate && options.now.getTime() - k.metadata.CreationDate.getTime() > TRAIL_WINDOW_DAYS * DAY_MS) {
          k.disabledSince = {
            atLeastDays: TRAIL_WINDOW_DAYS,
            detail: `CloudTrail: no DisableKey or CancelKeyDeletion in its ${TRAIL_WINDOW_DAYS} days`,
            source: 'cloudtrail',
          }
        }
      }
    }
  }

  for (const k of disabled) {
    if (k.disabledSince || !k.metadata.CreationDate) continue
    const days = (options.now.getTime() - k.metadata.CreationDate.getTime()) / DAY_MS
    if (days <= options.disabledDays) {
      k.disabledSince = {detail: `key metadata: created ${k.metadata.CreationDate.toISOString()}, so disabled for at most ${Math.floor(days)} days`, source: 'key metadata'}
    }
  }
}

interface DisableScan {
  status: 'ok' | 'unavailable'
  reason?: string
  truncated: boolean
  /** Newest disabling event by key ARN (and key ID, as the caller sent it). */
  byKey: Map<string, {event: string; time: string}>
}

/** One scan of CloudTrail's DisableKey and CancelKeyDeletion events (LookupEvents by event name, 2/s). */
async function disableEvents(cloudtrail: CloudTrailClient, now: Date, pacer: Pacer, maxPages = 20): Promise<DisableScan> {
  const byKey = new Map<string, {event: string; time: string}>()
  let truncated = false
  try {
    for (const event of ['DisableKey', 'CancelKeyDeletion']) {
      const input = {LookupAttributes: [{AttributeKey: 'EventName' as const, AttributeValue: event}], MaxResults: 50, StartTime: new Date(now.getTime() - TRAIL_WINDOW_DAYS * DAY_MS)}
      let more = false
      for await (const page of lookupEventPages(cloudtrail, input, {maxPages, pacer})) {
        for (const e of page.Events ?? []) {
          let record: {errorCode?: string; eventTime?: string; requestParameters?: {keyId?: string}; resources?: Array<{ARN?: string}>} = {}
          try {
            record = JSON.parse(e.CloudTrailEvent ?? '{}')
          } catch {
            record = {}
          }

          if (record.errorCode) continue
          const time = e.EventTime?.toISOString() ?? record.eventTime ?? ''
          const names = [...(e.Resources ?? []).map((r) => r.ResourceName), ...(record.resources ?? []).map((r) => r.ARN), record.requestParameters?.keyId]
          for (const name of names) {
            if (!name) continue
            const seen = byKey.get(name)
            if (!seen || seen.time < time) byKey.set(name, {event, time})
          }
        }

        more = Boolean(page.NextToken)
      }

      if (more) truncated = true
    }
  } catch (error) {
    const e = fromAwsError(error, {operation: 'LookupEvents'})
    return {byKey, reason: e.code === 'ACCESS_DENIED' ? 'not allowed: cloudtrail:LookupEvents' : e.message, status: 'unavailable', truncated}
  }

  return {byKey, status: 'ok', truncated}
}
