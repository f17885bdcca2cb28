// How a bulk key-state run is summed up: one summary line (the tables are drawn by the command).
import type {StateAction} from './plan.js'
import type {Tally} from './tally.js'

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
