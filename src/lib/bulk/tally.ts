// Counting the outcomes of a bulk run, and the exit code they make.
import type {Outcome, ReportRow} from './plan.js'

export interface Tally {
  total: number
  changed: number
  unchanged: number
  skipped: number
  failed: number
  notSent: number
  planned: number
}

export function tally(rows: readonly ReportRow[]): Tally {
  const count = (o: Outcome) => rows.filter((r) => r.outcome === o).length
  return {
    changed: count('changed'),
    failed: count('failed'),
    notSent: count('not-sent'),
    planned: count('planned'),
    skipped: count('skipped'),
    total: rows.length,
    unchanged: count('unchanged'),
  }
}

/**
 * The exit code of a bulk run: 130 when interrupted; 0 when nothing failed; 1 when every key
 * failed; 3 when some failed and others did not.
 */
export function bulkExitCode(rows: readonly ReportRow[], interrupted: boolean): number {
  if (interrupted) return 130
  const t = tally(rows)
  if (t.failed === 0) return 0
  return t.failed === t.total ? 1 : 3
}
