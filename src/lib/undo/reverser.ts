// What every action's undo is made of: a plan worked out against the key as it is now (nothing
// changing is sent), and a run that sends the reverse, journaled with `reverses` so that it can be
// undone in turn. Each mutating action keeps its Reverser next to it; registry.ts maps actions to them.
import type {GrantListEntry, KMSClient} from '@aws-sdk/client-kms'

import {kmsSdk} from '../aws/sdk.js'
import {fromAwsError} from '../errors.js'
import type {RestoreResult} from '../incident/restore.js'
import type {ChangeContext, Journal, JournalAction, JournalKey, JournalRecord} from '../journal.js'
import type {Pacer} from '../pacing.js'

export interface UndoCall {
  operation: string
  input: Record<string, unknown>
}

export type UndoKind = 'calls' | 'recreate-grant' | 'restore'

export interface UndoPlan {
  /** The entry to undo. */
  entry: string
  entryAction: string
  possible: boolean
  /** Why it cannot be undone, or why there is nothing to undo. */
  reason?: string
  /** The entry was already reversed (by an undo), or the key is already as it was: nothing to do. */
  alreadyReversed?: boolean
  /** The key is no longer as the change left it: undo would overwrite a later change (needs --force). */
  drift?: string
  /** What undo will do, in words. */
  description: string
  kind: UndoKind
  /** The journal action recorded for the undo. */
  action?: JournalAction
  key?: JournalKey
  /** What the undo overwrites, for its own journal entry (so that it can be undone too). */
  before?: unknown
  calls: UndoCall[]
  /** Texts accepted at the confirmation: key ID, aliases, ARN. */
  accepted: string[]
  grant?: GrantListEntry
  restore?: RestoreResult
}

export type UndoCallResult = UndoCall & {status: 'failed' | 'not-sent' | 'ok'; error?: {code: string; message: string}}

export interface UndoResult {
  entry: string
  status: 'failed' | 'partial' | 'undone'
  /** The journal entry of the undo. */
  journalId?: string
  calls: UndoCallResult[]
  /** For a revoked grant: the new grant's ID. */
  grantId?: string
  restore?: RestoreResult
  error?: {code: string; message: string}
}

/** What a reverser is given to work out its plan. */
export interface PlanInput {
  kms: KMSClient
  journal: Journal
  record: JournalRecord
  pacer: Pacer
  /** The plan's common fields (entry, key, accepted texts), not possible yet. */
  base: UndoPlan
  /** A plan that cannot be carried out, with the reason. */
  no: (reason: string) => UndoPlan
}

/** What a reverser is given to carry out its plan. */
export interface RunInput {
  kms: KMSClient
  journal: Journal
  plan: UndoPlan
  record: JournalRecord
  ctx: ChangeContext
  pacer: Pacer
}

/** The undo of one kind of action: how it reads in words, its plan and (when not plain calls) its run. */
export interface Reverser {
  /** In words, how the action is reversed, for `journal show`. */
  text: string
  plan: (input: PlanInput) => Promise<UndoPlan>
  /** Carries out a possible plan; default: the plan's calls, in order, in one journal entry (sendUndoCalls). */
  run?: (input: RunInput) => Promise<UndoResult>
  /** The state recorded as the undo's outcome, from the calls that went through. */
  after?: (plan: UndoPlan, done: (operation: string) => boolean) => unknown
  /** The undo's journal request, when not the calls' input. */
  request?: (plan: UndoPlan) => unknown
}

export function asObject(v: unknown): Record<string, any> {
  return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, any>) : {}
}

/** The key's state now, or gone when it no longer exists. */
export async function currentKey(kms: KMSClient, keyId: string, pacer: Pacer): Promise<{state?: string; gone?: boolean}> {
  const {DescribeKeyCommand} = await kmsSdk()
  try {
    const out = await pacer.run('DescribeKey', () => kms.send(new DescribeKeyCommand({KeyId: keyId})))
    return {state: out.KeyMetadata?.KeyState}
  } catch (error) {
    if ((error as Error).name === 'NotFoundException') return {gone: true}
    throw fromAwsError(error, {key: keyId, operation: 'DescribeKey'})
  }
}

/**
 * Sends a plan's calls in order, paced, in one journal entry (action = the reverse, `reverses` =
 * the entry, `batch` = the undo's batch); stops at the first failure.
 */
export async function sendUndoCalls(input: RunInput, reverser: Reverser): Promise<UndoResult> {
  const {ctx, kms, pacer, plan} = input
  const entry = ctx.journal.begin({
    account: ctx.account,
    action: plan.action!,
    batch: ctx.batch,
    before: plan.before,
    caller: ctx.caller,
    command: ctx.command,
    key: plan.key,
    region: ctx.region,
    request: reverser.request?.(plan) ?? (plan.calls.length === 1 ? plan.calls[0].input : {calls: plan.calls}),
    reverses: plan.entry,
  })
  const sdk = (await kmsSdk()) as unknown as Record<string, new (input: unknown) => unknown>
  const calls: UndoCallResult[] = plan.calls.map((c) => ({...c, status: 'not-sent'}))
  let error: {code: string; message: string} | undefined
  for (const call of calls) {
    const Command = sdk[`${call.operation}Command`]
    try {
      // eslint-disable-next-line no-await-in-loop
      await pacer.run(call.operation, () => kms.send(new Command(call.input) as never))
      call.status = 'ok'
    } catch (error_) {
      const e = fromAwsError(error_, {key: plan.key?.keyId, operation: call.operation})
      call.status = 'failed'
      call.error = {code: e.code, message: e.message}
      error = call.error
      break
    }
  }

  const ok = calls.filter((c) => c.status === 'ok').length
  const status = error ? (ok > 0 ? 'partial' : 'failed') : 'undone'
  const done = (op: string) => calls.some((c) => c.operation === op && c.status === 'ok')
  ctx.journal.finish(entry.id, {after: reverser.after?.(plan, done), error, status: status === 'undone' ? 'ok' : status})
  return {calls, entry: plan.entry, error, journalId: entry.id, status}
}
