// The plan of a key-state change (disable or enable) over a selection: which keys get the call,
// and for the others why not (AWS-managed, already so, pending deletion, no material yet).
import type {SelectedKey, Selection} from './select.js'

export type StateAction = 'disable' | 'enable'

export const STATE_ACTIONS: Record<StateAction, {operation: 'DisableKey' | 'EnableKey'; target: 'Disabled' | 'Enabled'; verb: string; journal: 'key.disable' | 'key.enable'}> = {
  disable: {journal: 'key.disable', operation: 'DisableKey', target: 'Disabled', verb: 'disable'},
  enable: {journal: 'key.enable', operation: 'EnableKey', target: 'Enabled', verb: 'enable'},
}

/** What happened to one key: planned (dry run), changed, unchanged (already so), skipped (cannot), failed, not-sent (interrupted). */
export type Outcome = 'changed' | 'failed' | 'not-sent' | 'planned' | 'skipped' | 'unchanged'

export interface ReportRow {
  /** Key ID (or the reference as given when it could not be resolved). */
  key: string
  ref: string
  alias?: string
  arn?: string
  before?: string
  after?: string
  outcome: Outcome
  /** Why it was skipped, unchanged or not sent. */
  reason?: string
  error?: {code: string; message: string}
  /** The journal entry of this key's change. */
  journalId?: string
  /** Requests sent for this key's change (the client's retries included). */
  attempts?: number
}

export interface PlanItem {
  key: SelectedKey
  send: boolean
  /** For items not sent: the row to report. */
  row: ReportRow
}

function baseRow(k: SelectedKey): ReportRow {
  return {alias: k.aliases[0], arn: k.arn, before: k.state, key: k.keyId, outcome: 'planned', ref: k.ref}
}

/** Why a key in this state cannot take the action, or undefined when the call should be sent. */
export function whyNot(action: StateAction, k: Pick<SelectedKey, 'manager' | 'state'>): {outcome: 'skipped' | 'unchanged'; reason: string} | undefined {
  const {target, verb} = STATE_ACTIONS[action]
  if (k.manager === 'AWS') return {outcome: 'skipped', reason: `AWS-managed keys cannot be ${verb}d`}
  if (k.state === target) return {outcome: 'unchanged', reason: `already ${target}`}
  if (k.state === 'PendingDeletion' || k.state === 'PendingReplicaDeletion') {
    return {outcome: 'skipped', reason: `pending deletion: cancel it first (kmsctl key cancel-deletion KEY${action === 'enable' ? ' --enable' : ''})`}
  }

  if (k.state === 'PendingImport') return {outcome: 'skipped', reason: 'no key material yet (PendingImport)'}
  return undefined
}

/** The rows of keys that could not be read: failed, with the reason. */
export function unresolvedRows(selection: Pick<Selection, 'unresolved'>): ReportRow[] {
  return selection.unresolved.map((u): ReportRow => ({error: {code: u.error.code, message: u.error.message}, key: u.ref, outcome: 'failed', ref: u.ref}))
}

/** The plan for a selection: which keys get the call, and why the others do not. */
export function planStateChange(action: StateAction, selection: Selection): {items: PlanItem[]; unresolved: ReportRow[]} {
  const items = selection.keys.map((k): PlanItem => {
    const row = baseRow(k)
    const no = whyNot(action, k)
    if (no) return {key: k, row: {...row, after: k.state, outcome: no.outcome, reason: no.reason}, send: false}
    return {key: k, row: {...row, after: STATE_ACTIONS[action].target, reason: `will ${STATE_ACTIONS[action].verb}`}, send: true}
  })
  return {items, unresolved: unresolvedRows(selection)}
}
