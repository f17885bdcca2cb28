// What the commands acting on a list of keys share: refusing a plan that names a key that does
// not exist (with the closest alias), the plan and report tables, and the one-line result of a
// single key.
import type {KMSClient} from '@aws-sdk/client-kms'

import type {ReportRow} from '../lib/bulk/plan.js'
import {type KeySource, type Selection, selectKeys} from '../lib/bulk/select.js'
import {usageError} from '../lib/errors.js'
import {listAllAliases} from '../lib/aws/paging.js'
import {type Column, type Progress, chalk} from '../lib/output.js'
import type {Pacer} from '../lib/pacing.js'
import {closest} from '../lib/suggest.js'

/**
 * Refuses the plan while a reference names no key (a typo in a list of production keys must not
 * be confirmed with the rest), suggesting the closest alias; with `skipMissing` the plan goes on
 * and those references are reported as failed.
 */
export async function refuseMissing(kms: KMSClient, selection: Selection, skipMissing: boolean | undefined): Promise<void> {
  const missing = selection.unresolved.filter((u) => u.error.code === 'NOT_FOUND')
  if (missing.length === 0 || skipMissing) return
  const aliases = missing.some((m) => m.ref.startsWith('alias/'))
    ? (await listAllAliases(kms).catch(() => [])).map((a) => a.AliasName ?? '').filter((a) => a && !a.startsWith('alias/aws/'))
    : []
  const described = missing.map((m) => {
    const guess = m.ref.startsWith('alias/') ? closest(m.ref, aliases) : undefined
    return `${m.ref}${guess ? ` (did you mean ${guess}?)` : ''}`
  })
  const first = missing[0].ref
  const guess = first.startsWith('alias/') ? closest(first, aliases) : undefined
  throw usageError(
    missing.length === 1 ? `No key ${described[0]}: nothing was sent.` : `${missing.length} references name no key: ${described.join(', ')}. Nothing was sent.`,
    guess ? `Try this: ${guess} instead of ${first}, or --skip-missing to go on without ${missing.length === 1 ? 'it' : 'them'}` : `Try this: kmsctl key list to find the key, or --skip-missing to go on without ${missing.length === 1 ? 'it' : 'them'}`,
  )
}

/**
 * Resolves the keys a command acts on under a progress line, refuses a plan with a missing key (see
 * refuseMissing()), and warns when the aliases could not be read (the keys are then shown by ID).
 */
export async function resolveSelection(
  kms: KMSClient,
  source: KeySource,
  options: {pacer: Pacer; progress: Progress; skipMissing: boolean | undefined; warn: (message: string) => void},
): Promise<Selection> {
  options.progress.update('Resolving keys…', true)
  let selection
  try {
    selection = await selectKeys(kms, source, {pacer: options.pacer})
    await refuseMissing(kms, selection, options.skipMissing)
  } finally {
    options.progress.done()
  }

  if (selection.aliasesUnavailable) options.warn(`Aliases could not be read (${selection.aliasesUnavailable}); keys are shown by ID.`)
  return selection
}

const OUTCOME_TEXT: Record<ReportRow['outcome'], string> = {
  changed: 'changed',
  failed: 'FAILED',
  'not-sent': 'not sent',
  planned: 'planned',
  skipped: 'skipped',
  unchanged: 'unchanged',
}

/** The plan shown before confirming: alias, key ID, current state, what will happen. */
export function planColumns(): Array<Column<ReportRow>> {
  return [
    {get: (r) => r.alias ?? '', header: 'Alias', kind: 'name'},
    {get: (r) => r.key, header: 'Key ID', kind: 'id', minWidth: 9},
    {get: (r) => r.before ?? '', header: 'State', kind: 'fixed'},
    {get: (r) => r.error?.message ?? r.reason ?? '', header: 'Plan', kind: 'text', minWidth: 16},
  ]
}

/** The per-key report: alias, key ID, state before and after, outcome, why, and the journal entry. */
export function reportColumns(): Array<Column<ReportRow>> {
  return [
    {get: (r) => r.alias ?? '', header: 'Alias', kind: 'name'},
    {get: (r) => r.key, header: 'Key ID', kind: 'id', minWidth: 9},
    {get: (r) => r.before ?? '', header: 'Before', kind: 'fixed', priority: 3},
    {get: (r) => r.after ?? '', header: 'After', kind: 'fixed'},
    {get: (r) => (r.outcome === 'failed' ? chalk.red(OUTCOME_TEXT[r.outcome]) : OUTCOME_TEXT[r.outcome]), header: 'Outcome', kind: 'fixed'},
    {get: (r) => r.error?.message ?? r.reason ?? '', header: 'Detail', kind: 'text', minWidth: 16, priority: 2},
    {get: (r) => r.journalId ?? '', header: 'Journal entry', kind: 'id', name: 'entry', priority: 4},
  ]
}

/** How a key is named in one-line messages: its alias and ID, or the reference as given. */
export function keyLabel(r: {alias?: string; key: string}): string {
  return r.alias ? `${r.alias} (${r.key})` : r.key
}
