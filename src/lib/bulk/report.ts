// How a bulk key-state run is shown: the plan before confirming, the per-key report, one summary line.
import type {Column} from '../output.js'
import type {Outcome, ReportRow, StateAction} from './plan.js'
import type {Tally} from './tally.js'

const OUTCOME_TEXT: Record<Outcome, string> = {
  changed: 'changed',
  failed: 'FAILED',
  'not-sent': 'not sent',
  planned: 'planned',
  skipped: 'skipped',
  unchanged: 'unchanged',
}

/** The per-key table: alias, key ID, state before and after, outcome, and why. */
export function reportColumns(): Array<Column<ReportRow>> {
  return [
    {get: (r) => r.alias ?? '', header: 'Alias'},
    {get: (r) => r.key, header: 'Key ID', shrink: false},
    {get: (r) => r.before ?? '', header: 'Before', shrink: false},
    {get: (r) => r.after ?? '', header: 'After', shrink: false},
    {get: (r) => OUTCOME_TEXT[r.outcome], header: 'Outcome', shrink: false},
    {get: (r) => r.error?.message ?? r.reason ?? '', header: 'Detail'},
  ]
}

/** The plan shown before confirming: alias, key ID, current state, what will happen. */
export function planColumns(): Array<Column<ReportRow>> {
  return [
    {get: (r) => r.alias ?? '', header: 'Alias'},
    {get: (r) => r.key, header: 'Key ID', shrink: false},
    {get: (r) => r.before ?? '', header: 'State', shrink: false},
    {get: (r) => r.error?.message ?? r.reason ?? '', header: 'Plan'},
  ]
}

/** One line summing up a run, e.g. "Disabled 98 of 100 keys; 2 failed." */
export function summaryLine(action: StateAction, t: Tally, dryRun = false): string {
  const past = action === 'disable' ? 'Disabled' : 'Enabled'
  const parts: string[] = []
  if (dryRun) {
    const n = t.planned
    return `Dry run: would ${action} ${n} key${n === 1 ? '' : 's'}${t.unchanged + t.skipped + t.failed > 0 ? `; ${[t.unchanged && `${t.unchanged} unchanged`, t.skipped && `${t.skipped} skipped`, t.failed && `${t.failed} not found or not allowed`].filter(Boolean).join(', ')}` : ''}. Nothing was sent.`
  }

  if (t.unchanged) parts.push(`${t.unchanged} already ${action === 'disable' ? 'disabled' : 'enabled'}`)
  if (t.skipped) parts.push(`${t.skipped} skipped`)
  if (t.failed) parts.push(`${t.failed} failed`)
  if (t.notSent) parts.push(`${t.notSent} not sent (interrupted)`)
  return `${past} ${t.changed} of ${t.total} key${t.total === 1 ? '' : 's'}${parts.length > 0 ? `; ${parts.join(', ')}` : ''}.`
}
