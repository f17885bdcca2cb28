// What `undo` is asked to reverse: one journal entry (ID or unique prefix), a whole batch (its ID),
// or the caller's most recent change (--last: that entry, or its whole batch).
import {KmsctlError, usageError} from '../errors.js'
import type {Journal, JournalRecord} from '../journal.js'

export type UndoTarget = {kind: 'batch'; batch: string; records: JournalRecord[]} | {kind: 'entry'; record: JournalRecord}

function notFound(id: string): KmsctlError {
  return new KmsctlError('NOT_FOUND', `No journal entry or batch "${id}".`, {exitCode: 2, remedy: 'Try this: kmsctl journal list'})
}

/** The entry or batch named by an ID: an entry ID, a unique prefix of one, or a batch ID. */
export function findUndoTarget(journal: Journal, id: string, all: readonly JournalRecord[] = journal.readAll()): UndoTarget {
  const exact = all.find((r) => r.id === id)
  if (exact) return {kind: 'entry', record: exact}
  const batch = all.filter((r) => r.batch === id)
  if (batch.length > 0) return {batch: id, kind: 'batch', records: batch}
  const matches = all.filter((r) => r.id.startsWith(id))
  if (matches.length === 1) return {kind: 'entry', record: matches[0]}
  if (matches.length > 1) throw usageError(`"${id}" matches ${matches.length} journal entries.`, 'Try this: give more of the entry ID (kmsctl journal list)')
  throw notFound(id)
}

/** One entry by ID or unique prefix (a batch ID is a usage error naming the batch). */
export function findEntry(journal: Journal, id: string): JournalRecord {
  const target = findUndoTarget(journal, id)
  if (target.kind === 'entry') return target.record
  throw usageError(`"${id}" is a batch of ${target.records.length} entries; this takes one entry.`, `Try this: kmsctl journal list --batch ${id}, then give one entry ID`)
}

/**
 * The caller's most recent change: the newest entry recorded with this caller's ARN (any caller
 * when it is not known), with its whole batch when it belongs to one.
 */
export function lastChange(journal: Journal, caller: string | undefined, all: readonly JournalRecord[] = journal.readAll()): UndoTarget {
  const mine = all.filter((r) => !caller || r.caller === caller)
  const last = mine.at(-1)
  if (!last) {
    throw new KmsctlError('NOT_FOUND', caller ? `The journal holds no change made by ${caller}.` : 'The journal holds no change.', {
      exitCode: 2,
      remedy: 'Try this: kmsctl journal list, then kmsctl undo ENTRY',
    })
  }

  return last.batch ? {batch: last.batch, kind: 'batch', records: all.filter((r) => r.batch === last.batch)} : {kind: 'entry', record: last}
}
