// Scheduling and cancelling a key's deletion, each recorded in the journal: the key's state
// before the change first, then the outcome. The request always names the key by its ID, so the
// key that was checked is the key that is scheduled, even if an alias moves in between.
import type {KMSClient, KeyMetadata} from '@aws-sdk/client-kms'

import {kmsSdk} from '../aws/sdk.js'
import {KmsctlError, fromAwsError, refusal} from '../errors.js'
import {type ChangeContext, journaled} from '../journal.js'
import {aliasNamesOf, resolveKey} from '../key-ref.js'
import type {DeletionPreflight} from './preflight.js'

/** What the journal keeps about the key before deletion is scheduled: enough to put it back. */
export interface ScheduleBefore {
  state: string
  enabled: boolean
  description: string
  aliases: string[]
  tags: Record<string, string>
  grantCount?: number
  multiRegionType?: string
  replicaRegions?: string[]
  lastUsed?: string
  recentCryptoCalls: number
}

export interface ScheduleRequest {
  KeyId: string
  PendingWindowInDays: number
}

export interface ScheduleOutcome {
  journalId: string
  keyId: string
  keyState: string
  /** ISO date; absent for a primary that waits for its replicas. */
  deletionDate?: string
  pendingWindowInDays: number
  request: ScheduleRequest
}

export function scheduleRequest(p: DeletionPreflight): ScheduleRequest {
  return {KeyId: p.keyId, PendingWindowInDays: p.days}
}

function beforeSnapshot(p: DeletionPreflight): ScheduleBefore {
  const b: ScheduleBefore = {
    aliases: p.aliases,
    description: p.description,
    enabled: p.state === 'Enabled',
    recentCryptoCalls: p.recentUse.trail.count,
    state: p.state,
    tags: p.tags,
  }
  if (p.grants) b.grantCount = p.grants.length
  if (p.multiRegion) {
    b.multiRegionType = p.multiRegion.type
    b.replicaRegions = p.multiRegion.replicas.map((r) => r.region)
  }

  if (p.recentUse.lastUsage.time) b.lastUsed = p.recentUse.lastUsage.time
  return b
}

/** Sends ScheduleKeyDeletion for a key that passed the pre-flight, journalled before and after. */
export async function scheduleKeyDeletion(kms: KMSClient, p: DeletionPreflight, ctx: ChangeContext): Promise<ScheduleOutcome> {
  const request = scheduleRequest(p)
  const {ScheduleKeyDeletionCommand} = await kmsSdk()
  const {entry, result} = await journaled(
    ctx.journal,
    {
      account: ctx.account,
      action: 'key.schedule-deletion',
      before: beforeSnapshot(p),
      caller: ctx.caller,
      command: ctx.command,
      key: {aliases: p.aliases, arn: p.arn, keyId: p.keyId, ref: p.ref},
      region: ctx.region,
      request,
    },
    async (): Promise<Omit<ScheduleOutcome, 'journalId'>> => {
      let out
      try {
        out = await kms.send(new ScheduleKeyDeletionCommand(request))
      } catch (error) {
        throw fromAwsError(error, {key: p.ref, operation: 'ScheduleKeyDeletion'})
      }

      return {
        deletionDate: out.DeletionDate?.toISOString(),
        keyId: out.KeyId ? (out.KeyId.split('/').pop() ?? p.keyId) : p.keyId,
        keyState: out.KeyState ?? (p.waitsForReplicas ? 'PendingReplicaDeletion' : 'PendingDeletion'),
        pendingWindowInDays: out.PendingWindowInDays ?? p.days,
        request,
      }
    },
    (o) => ({deletionDate: o.deletionDate, pendingWindowInDays: o.pendingWindowInDays, state: o.keyState}),
  )
  return {...result, journalId: entry.id}
}

export interface CancelPlan {
  ref: string
  keyId: string
  arn: string
  aliases: string[]
  state: string
  deletionDate?: string
  pendingWindowInDays?: number
  enable: boolean
  /** The requests, in order. */
  requests: Array<{operation: 'CancelKeyDeletion' | 'EnableKey'; input: {KeyId: string}}>
}

/** Resolves the key and checks that there is a deletion to cancel; a key not pending deletion is refused (exit 2). */
export async function planCancelDeletion(kms: KMSClient, ref: string, enable: boolean): Promise<CancelPlan> {
  const resolved = await resolveKey(kms, ref)
  const m: KeyMetadata = resolved.metadata
  if (m.KeyState !== 'PendingDeletion' && m.KeyState !== 'PendingReplicaDeletion') {
    throw refusal(
      `Key ${resolved.keyId} is not scheduled for deletion (state ${m.KeyState ?? 'unknown'}): there is nothing to cancel.`,
      m.KeyState === 'Disabled' && enable ? `kmsctl key enable ${ref} (to use it again)` : `kmsctl key describe ${ref}`,
      {keyId: resolved.keyId, reason: 'NOT_PENDING_DELETION', state: m.KeyState},
    )
  }

  let aliases: string[] = []
  try {
    aliases = await aliasNamesOf(kms, resolved.keyId)
  } catch {
    // Aliases only label the journal entry; a denied ListAliases does not stop a cancellation.
  }

  const requests: CancelPlan['requests'] = [{input: {KeyId: resolved.keyId}, operation: 'CancelKeyDeletion'}]
  if (enable) requests.push({input: {KeyId: resolved.keyId}, operation: 'EnableKey'})
  return {
    aliases,
    arn: resolved.arn,
    deletionDate: m.DeletionDate?.toISOString(),
    enable,
    keyId: resolved.keyId,
    pendingWindowInDays: m.PendingDeletionWindowInDays,
    ref,
    requests,
    state: m.KeyState ?? '',
  }
}

export interface CancelOutcome {
  journalId: string
  keyId: string
  /** Disabled (KMS leaves a cancelled key Disabled) or Enabled with --enable. */
  keyState: 'Disabled' | 'Enabled'
  enabled: boolean
}

/** Sends CancelKeyDeletion and, with enable, EnableKey; journalled before and after. */
export async function cancelKeyDeletion(kms: KMSClient, plan: CancelPlan, ctx: ChangeContext): Promise<CancelOutcome> {
  const {journal} = ctx
  const entry = journal.begin({
    account: ctx.account,
    action: 'key.cancel-deletion',
    before: {deletionDate: plan.deletionDate, pendingWindowInDays: plan.pendingWindowInDays, state: plan.state},
    caller: ctx.caller,
    command: ctx.command,
    key: {aliases: plan.aliases, arn: plan.arn, keyId: plan.keyId, ref: plan.ref},
    region: ctx.region,
    request: plan.requests,
  })
  const {CancelKeyDeletionCommand, EnableKeyCommand} = await kmsSdk()
  try {
    await kms.send(new CancelKeyDeletionCommand({KeyId: plan.keyId}))
  } catch (error) {
    const e = fromAwsError(error, {key: plan.ref, operation: 'CancelKeyDeletion'})
    journal.finish(entry.id, {error: {code: e.code, message: e.message}, status: 'failed'})
    throw e
  }

  if (!plan.enable) {
    journal.finish(entry.id, {after: {state: 'Disabled'}, status: 'ok'})
    return {enabled: false, journalId: entry.id, keyId: plan.keyId, keyState: 'Disabled'}
  }

  try {
    await kms.send(new EnableKeyCommand({KeyId: plan.keyId}))
  } catch (error) {
    const e = fromAwsError(error, {key: plan.ref, operation: 'EnableKey'})
    journal.finish(entry.id, {after: {state: 'Disabled'}, error: {code: e.code, message: e.message}, status: 'partial'})
    throw new KmsctlError('FAILED', `The deletion of key ${plan.keyId} was cancelled, but enabling it failed: ${e.message}`, {
      awsCode: e.awsCode,
      awsMessage: e.awsMessage,
      cause: error,
      details: {cancelled: true, enabled: false, journalId: entry.id, keyId: plan.keyId},
      remedy: `kmsctl key enable ${plan.ref} once the cause is fixed (the key is safe from deletion, and Disabled)`,
    })
  }

  journal.finish(entry.id, {after: {state: 'Enabled'}, status: 'ok'})
  return {enabled: true, journalId: entry.id, keyId: plan.keyId, keyState: 'Enabled'}
}
