// The undo registry: each journal action kind mapped to its Reverser, which lives next to the
// action itself. A new mutating command brings its own Reverser and adds one line here.
import type {KMSClient} from '@aws-sdk/client-kms'

import {aliasUndo} from '../aliases.js'
import {keyStateUndo} from '../bulk/undo.js'
import {deletionUndo} from '../deletion/undo.js'
import {grantUndo} from '../grants/undo.js'
import {incidentUndo} from '../incident/undo.js'
import type {ChangeContext, Journal, JournalRecord} from '../journal.js'
import {Pacer} from '../pacing.js'
import {policyUndo} from './policy-put.js'
import {type Reverser, type UndoPlan, type UndoResult, sendUndoCalls} from './reverser.js'

const REVERSERS: Readonly<Record<string, Reverser>> = {
  ...aliasUndo,
  ...deletionUndo,
  ...grantUndo,
  ...incidentUndo,
  ...keyStateUndo,
  ...policyUndo,
}

/** Actions without a reverse, and what to do instead. */
const CANNOT: Readonly<Record<string, string>> = {
  'incident.restore': 'contain the key again with kmsctl incident contain',
  'key.cancel-deletion': 'schedule the deletion again with kmsctl key schedule-deletion',
  'key.create': 'a key cannot be un-created; schedule its deletion with kmsctl key schedule-deletion',
  'key.rotation': 'change rotation with kmsctl key rotation enable/disable',
  undo: 'undo the change itself again',
}

/** The reverser of an action kind, if it has one. */
export function reverserOf(action: string): Reverser | undefined {
  return Object.hasOwn(REVERSERS, action) ? REVERSERS[action] : undefined
}

/** In words, how each action is reversed (or why it cannot be), for `journal show`. */
export function reverseText(action: string): string {
  return reverserOf(action)?.text ?? `cannot be undone with kmsctl undo (${CANNOT[action] ?? 'no reverse operation'})`
}

/** The undo that already reversed an entry, if any. */
export function reversedBy(journal: Journal, record: JournalRecord, all: readonly JournalRecord[] = journal.readAll()): JournalRecord | undefined {
  return all.find((r) => r.reverses === record.id && r.outcome?.status === 'ok')
}

/** Works out the reverse of an entry against the key as it is now. Sends nothing that changes anything. */
export async function planUndo(kms: KMSClient, journal: Journal, record: JournalRecord, options: {pacer?: Pacer; all?: readonly JournalRecord[]} = {}): Promise<UndoPlan> {
  const pacer = options.pacer ?? new Pacer()
  const keyId = record.key?.keyId ?? ''
  const accepted = [keyId, ...(record.key?.aliases ?? []), record.key?.arn ?? ''].filter(Boolean)
  const base: UndoPlan = {accepted, calls: [], description: '', entry: record.id, entryAction: record.action, key: record.key, kind: 'calls', possible: false}
  const no = (reason: string): UndoPlan => ({...base, description: reason, reason})

  const status = record.outcome?.status
  if (status === 'failed' && record.action !== 'incident.contain') return no(`The change failed (${record.outcome?.error?.message ?? 'see kmsctl journal show'}), so there is nothing to undo.`)
  if (status === 'skipped') return no('The change was not made (skipped), so there is nothing to undo.')
  const undoneBy = reversedBy(journal, record, options.all)
  if (undoneBy) return {...no(`Already undone by ${undoneBy.id} (${undoneBy.action}, ${undoneBy.time}).`), alreadyReversed: true}

  const reverser = reverserOf(record.action)
  if (!reverser) return no(`A ${record.action} cannot be undone with kmsctl undo: ${CANNOT[record.action] ?? 'there is no reverse operation'}.`)
  const plan = await reverser.plan({base, journal, kms, no, pacer, record})
  if (plan.possible && !plan.drift) {
    const later = laterChange(record, options.all ?? journal.readAll())
    if (later) plan.drift = `key ${keyId} was changed again after ${record.id} (${later.action}, ${later.id})`
  }

  return plan
}

/** A change kmsctl made to the same key after an entry (outside the entry's own batch), if any. */
function laterChange(record: JournalRecord, all: readonly JournalRecord[]): JournalRecord | undefined {
  const keyId = record.key?.keyId
  if (!keyId) return undefined
  const at = all.findIndex((r) => r.id === record.id)
  return all
    .slice(at + 1)
    .find((r) => r.key?.keyId === keyId && r.outcome?.status === 'ok' && r.reverses !== record.id && (!record.batch || r.batch !== record.batch))
}

/** Carries out a possible plan, journaled (action = the reverse, `reverses` = the entry, `batch` = ctx.batch). */
export async function runUndo(kms: KMSClient, journal: Journal, plan: UndoPlan, ctx: ChangeContext, options: {pacer?: Pacer; record?: JournalRecord} = {}): Promise<UndoResult> {
  const pacer = options.pacer ?? new Pacer()
  const record = options.record ?? journal.readAll().find((r) => r.id === plan.entry)!
  const reverser = reverserOf(record.action)!
  const input = {ctx, journal, kms, pacer, plan, record}
  return reverser.run ? reverser.run(input) : sendUndoCalls(input, reverser)
}
