// Running a key-state plan: every planned key's DisableKey or EnableKey, paced by the Pacer at the
// operation's quota, journaled before it is sent, one row per key. Retries are the client's (one
// retry strategy); an abort drops the calls not sent yet and lets the ones in flight finish.
import type {KMSClient} from '@aws-sdk/client-kms'

import {kmsSdk} from '../aws/sdk.js'
import {fromAwsError} from '../errors.js'
import type {ChangeContext} from '../journal.js'
import {type Pacer, isNotStarted} from '../pacing.js'
import {type PlanItem, type ReportRow, STATE_ACTIONS, type StateAction} from './plan.js'

export interface BulkCounts {
  total: number
  done: number
  changed: number
  failed: number
}

export interface RunOptions {
  kms: KMSClient
  action: StateAction
  items: readonly PlanItem[]
  pacer: Pacer
  journal?: ChangeContext
  /** Abort: calls not sent yet are dropped (reported "not sent"); the ones in flight finish. */
  signal?: AbortSignal
  /** Most keys being worked on at once (default 10). */
  workers?: number
  onProgress?: (counts: BulkCounts) => void
}

/** Requests the SDK sent for one call (its retries included), from a response or an error. */
export function attemptsOf(outcome: unknown): number | undefined {
  return (outcome as {$metadata?: {attempts?: number}} | undefined)?.$metadata?.attempts
}

/**
 * Sends the action for every planned key, paced by the Pacer, and reports each key. Rows come back
 * in the plan's order. Never throws for a key's failure: it is in its row.
 */
export async function runStateChange(options: RunOptions): Promise<ReportRow[]> {
  const {action, items, kms, pacer, signal} = options
  if (signal) pacer.abortOn(signal)
  const spec = STATE_ACTIONS[action]
  const sdk = await kmsSdk()
  const Command = action === 'disable' ? sdk.DisableKeyCommand : sdk.EnableKeyCommand
  const rows: ReportRow[] = items.map((i) => ({...i.row}))
  const toSend = items.map((item, index) => ({index, item})).filter(({item}) => item.send)
  const counts: BulkCounts = {changed: 0, done: 0, failed: 0, total: toSend.length}

  const sendOne = async (index: number, item: PlanItem): Promise<void> => {
    const row = rows[index]
    const k = item.key
    const j = options.journal
    let entryId: string | undefined
    try {
      const out = await pacer.run(spec.operation, async () => {
        // On disk before the call is sent; entries of keys sent at the same moment (in every
        // account-region of a batch) share one fsync.
        entryId = (await j?.journal.beginDurable({
          account: j.account,
          action: spec.journal,
          batch: j.batch,
          before: {state: k.state},
          caller: j.caller,
          command: j.command,
          key: {aliases: k.aliases, arn: k.arn, keyId: k.keyId, ref: k.ref},
          region: j.region,
          request: {KeyId: k.keyId, operation: spec.operation},
          ...(j.role ? {role: j.role} : {}),
        }))?.id
        return kms.send(new Command({KeyId: k.keyId}))
      })
      Object.assign(row, {after: spec.target, attempts: attemptsOf(out), outcome: 'changed', reason: undefined})
      counts.changed++
    } catch (error) {
      if (isNotStarted(error)) {
        Object.assign(row, {after: k.state, outcome: 'not-sent', reason: 'interrupted before it was sent'})
      } else {
        const e = fromAwsError(error, {key: row.alias ?? row.key, operation: spec.operation})
        const state = (e.details?.state as string | undefined) ?? row.before
        Object.assign(row, {after: state, attempts: attemptsOf(error), error: {code: e.code, message: e.message}, outcome: 'failed', reason: undefined})
        counts.failed++
      }
    }

    if (entryId) {
      row.journalId = entryId
      await j!.journal.finishDurable(entryId, row.outcome === 'changed' ? {after: {state: spec.target}, status: 'ok'} : {error: row.error, status: 'failed'})
    }

    counts.done++
    options.onProgress?.({...counts})
  }

  let next = 0
  const worker = async () => {
    while (next < toSend.length) {
      const {index, item} = toSend[next++]
      // eslint-disable-next-line no-await-in-loop
      await sendOne(index, item)
    }
  }

  const workers = Math.max(1, Math.min(options.workers ?? 10, toSend.length))
  await Promise.all(Array.from({length: workers}, () => worker()))
  return rows
}
