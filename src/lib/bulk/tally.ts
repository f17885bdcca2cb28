// Counting the outcomes of a bulk run (the exit code they make is decided in src/cli/exit-code.ts).
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
