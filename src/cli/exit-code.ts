// The one place that decides a command's exit code from its result.
//   0 ok, 1 failed, 2 usage (bad input, nothing sent), 3 partial failure of a bulk action,
//   130 interrupted (Ctrl-C). Errors thrown by a command carry their own code (KmsctlError.exitCode).
import {ExitCode} from '../lib/errors.js'

export type Outcome = 'failed' | 'interrupted' | 'ok' | 'partial' | 'usage'

const CODES: Record<Outcome, number> = {
  failed: ExitCode.FAILED,
  interrupted: ExitCode.INTERRUPTED,
  ok: ExitCode.OK,
  partial: ExitCode.PARTIAL,
  usage: ExitCode.USAGE,
}

/** What a command did, counted: enough to decide its outcome. */
export interface Counts {
  /** Items (keys, grants, sources, checks) that failed. */
  failed: number
  /** Items that succeeded or needed nothing. Omitted: every item failed when failed > 0. */
  succeeded?: number
  /** Ctrl-C stopped the run before every item was sent. */
  interrupted?: boolean
  /**
   * When some items failed but others succeeded: "partial" (exit 3, the default) or "failed" (exit 1,
   * for checks such as `key verify`, where any failure fails the whole).
   */
  whenSome?: 'failed' | 'partial'
}

/** The outcome of a run from its counts: interrupted wins, then no failure is ok, all failed is failed, else partial. */
export function outcomeOf(counts: Counts): Outcome {
  if (counts.interrupted) return 'interrupted'
  if (counts.failed === 0) return 'ok'
  if (counts.succeeded === undefined || counts.succeeded === 0) return 'failed'
  return counts.whenSome ?? 'partial'
}

/** The process exit code of an outcome or of counts. */
export function exitCodeOf(result: Counts | Outcome): number {
  return CODES[typeof result === 'string' ? result : outcomeOf(result)]
}
