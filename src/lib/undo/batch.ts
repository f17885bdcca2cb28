// Undoing a whole batch (a bulk disable or enable, a bulk revoke, a containment of several keys,
// an undo of a batch): every entry is planned through the undo registry, the plan is shown and
// confirmed once, and the entries are reversed paced, each reported. Entries already reversed are
// skipped; entries whose key changed since are refused unless forced. The undo is itself a batch.
import type {KMSClient} from '@aws-sdk/client-kms'

import {fromAwsError, isRunWide} from '../errors.js'
import type {ChangeContext, Journal, JournalRecord} from '../journal.js'
import {type Pacer, mapConcurrent} from '../pacing.js'
import {planUndo, runUndo} from './registry.js'
import type {UndoPlan} from './reverser.js'

export type BatchUndoStatus = 'failed' | 'not-sent' | 'partial' | 'planned' | 'refused' | 'skipped' | 'undone'

export interface BatchUndoRow {
  /** The entry to reverse. */
  entry: string
  action: string
  key?: string
  alias?: string
  status: BatchUndoStatus
  /** What undo does (planned, undone), or why not (skipped, refused). */
  detail: string
  /** For refused entries: what changed since. */
  drift?: string
  /** The journal entry of this entry's undo. */
  journalId?: string
  /** A revoked grant recreated: its new ID. */
  grantId?: string
  error?: {code: string; message: string}
}

export interface BatchUndoPlan {
  batch: string
  rows: BatchUndoRow[]
  /** The plans of the rows to carry out, by entry. */
  plans: Map<string, UndoPlan>
  records: Map<string, JournalRecord>
}

/**
 * Plans the undo of every entry of a batch against the keys as they are now; sends nothing that
 * changes anything. `force` turns refusals (key changed since) into planned rows.
 */
export async function planBatchUndo(
  kms: KMSClient,
  journal: Journal,
  batch: string,
  records: readonly JournalRecord[],
  options: {force?: boolean; pacer: Pacer},
): Promise<BatchUndoPlan> {
  const all = journal.readAll()
  const plans = new Map<string, UndoPlan>()
  const rows = await mapConcurrent(records, 16, async (record): Promise<BatchUndoRow> => {
    const row: BatchUndoRow = {action: record.action, alias: record.key?.aliases?.[0], detail: '', entry: record.id, key: record.key?.keyId, status: 'planned'}
    let plan: UndoPlan
    try {
      plan = await planUndo(kms, journal, record, {all, pacer: options.pacer})
    } catch (error) {
      const e = fromAwsError(error, {key: record.key?.keyId})
      if (isRunWide(e)) throw e
      return {...row, detail: e.message, error: {code: e.code, message: e.message}, status: 'failed'}
    }

    if (!plan.possible) return {...row, detail: plan.reason ?? 'nothing to undo', status: 'skipped'}
    if (plan.drift && !options.force) return {...row, detail: `changed since: ${plan.drift} (--force overwrites)`, drift: plan.drift, status: 'refused'}
    plans.set(record.id, plan)
    return {...row, detail: plan.drift ? `${plan.description} (overwrites: ${plan.drift})` : plan.description, drift: plan.drift}
  })
  return {batch, plans, records: new Map(records.map((r) => [r.id, r])), rows}
}

/**
 * Reverses the planned rows, paced by the Pacer, journaled in ctx.batch. After an abort, entries
 * not started are "not-sent". Never throws for one entry's failure: it is in its row.
 */
export async function runBatchUndo(
  kms: KMSClient,
  journal: Journal,
  plan: BatchUndoPlan,
  ctx: ChangeContext,
  options: {pacer: Pacer; signal?: AbortSignal; workers?: number; onProgress?: (done: number, total: number) => void},
): Promise<BatchUndoRow[]> {
  if (options.signal) options.pacer.abortOn(options.signal)
  const rows = plan.rows.map((r) => ({...r}))
  const todo = rows.filter((r) => r.status === 'planned')
  let done = 0
  await mapConcurrent(todo, options.workers ?? 10, async (row) => {
    if (options.signal?.aborted) {
      Object.assign(row, {detail: 'interrupted before it was sent', status: 'not-sent'})
      return
    }

    try {
      const result = await runUndo(kms, journal, plan.plans.get(row.entry)!, ctx, {pacer: options.pacer, record: plan.records.get(row.entry)})
      const interrupted = result.error?.code === 'INTERRUPTED' && !result.calls.some((c) => c.status === 'ok')
      Object.assign(row, {
        error: interrupted ? undefined : result.error,
        grantId: result.grantId,
        journalId: result.journalId,
        status: interrupted ? 'not-sent' : result.status,
        ...(interrupted ? {detail: 'interrupted before it was sent'} : {}),
      })
    } catch (error) {
      const e = fromAwsError(error, {key: row.key})
      Object.assign(row, {error: {code: e.code, message: e.message}, status: 'failed'})
    }

    options.onProgress?.(++done, todo.length)
  })
  return rows
}

export interface BatchUndoTally {
  total: number
  planned: number
  undone: number
  skipped: number
  refused: number
  failed: number
  notSent: number
}

export function tallyBatchUndo(rows: readonly BatchUndoRow[]): BatchUndoTally {
  const count = (...s: BatchUndoStatus[]) => rows.filter((r) => s.includes(r.status)).length
  return {
    failed: count('failed', 'partial'),
    notSent: count('not-sent'),
    planned: count('planned'),
    refused: count('refused'),
    skipped: count('skipped'),
    total: rows.length,
    undone: count('undone'),
  }
}

/** The --rate the batch's command was run with, if any: its undo is paced the same. */
export function originalRate(records: readonly JournalRecord[]): number | undefined {
  const command = records.find((r) => r.command)?.command ?? []
  for (const [i, arg] of command.entries()) {
    const text = arg === '--rate' ? command[i + 1] : arg.startsWith('--rate=') ? arg.slice('--rate='.length) : undefined
    const rate = text === undefined ? Number.NaN : Number(text)
    if (Number.isFinite(rate) && rate > 0) return rate
  }

  return undefined
}

/** The pacer options of a batch undo: the original command's rate for every reverse operation, when it had one. */
export function batchPacerRates(plan: BatchUndoPlan, rate: number | undefined): Record<string, number> | undefined {
  if (rate === undefined) return undefined
  const ops = new Set<string>()
  for (const p of plan.plans.values()) {
    for (const c of p.calls) ops.add(c.operation)
    if (p.kind === 'restore') for (const op of ['PutKeyPolicy', 'EnableKey', 'CreateGrant']) ops.add(op)
  }

  return Object.fromEntries([...ops].map((op) => [op, rate]))
}
