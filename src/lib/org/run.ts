// One command over many account-regions, end to end: expand the targets, reach each account, run
// the work in each account-region under the global cap, and sum up each account-region's outcome
// (keys seen, changed, failed, or the error that stopped it).
import type {AwsClients} from '../aws/clients.js'
import type {Pacer} from '../pacing.js'
import {AccountCredentials} from './credentials.js'
import {type TargetContext, type TargetFailure, type TargetOutcome, fanOut, resolveTargets} from './fanout.js'
import type {Targets} from './targets.js'

/** The closing line of one account-region in a report. */
export interface TargetSummary {
  account: string
  /** Keys changed (bulk changes). */
  changed?: number
  error?: TargetFailure
  /** Keys that failed (bulk changes), or 1 for an account-region that failed as a whole. */
  failed: number
  region: string
  role?: string
  /** Keys (or aliases, grants, events) seen. */
  seen: number
}

export interface Counts {
  changed?: number
  failed?: number
  seen: number
}

export interface AcrossOptions<T> {
  /** What each account-region's value counts for the summary. */
  count: (value: T) => Counts
  /** Progress: account-regions done, their total, and the running count of what was seen. */
  onProgress?: (done: number, total: number, seen: number) => void
  pacer?: () => Pacer
}

export interface AcrossResult<T> {
  /** The credentials used (to reach the same accounts again, e.g. for the changes after a plan). */
  credentials: AccountCredentials
  /** Organisation account names by ID (--org). */
  names: Map<string, string>
  outcomes: Array<TargetOutcome<T>>
  summaries: TargetSummary[]
}

/** Summary rows of outcomes. */
export function summarise<T>(outcomes: ReadonlyArray<TargetOutcome<T>>, count: (value: T) => Counts): TargetSummary[] {
  return outcomes.map((o) => {
    const c = o.error || o.value === undefined ? {failed: 1, seen: 0} : count(o.value)
    return {
      account: o.account,
      ...(c.changed === undefined ? {} : {changed: c.changed}),
      ...(o.error ? {error: o.error} : {}),
      failed: c.failed ?? 0,
      region: o.region,
      ...(o.role ? {role: o.role} : {}),
      seen: c.seen,
    }
  })
}

/** Runs `work` in every account-region the targets name. */
export async function acrossTargets<T>(
  base: AwsClients,
  targets: Targets,
  work: (ctx: TargetContext) => Promise<T>,
  options: AcrossOptions<T>,
  credentials: AccountCredentials = new AccountCredentials(base, targets.role),
): Promise<AcrossResult<T>> {
  const {accountRegions, failed, names} = await resolveTargets(credentials, targets)
  let seen = 0
  const outcomes = await fanOut(credentials, accountRegions, work, {
    maxParallel: targets.maxParallel,
    onSettled(outcome, done, total) {
      if (outcome.value !== undefined) seen += options.count(outcome.value as T).seen
      options.onProgress?.(done, total, seen)
    },
    pacer: options.pacer,
  })
  const all: Array<TargetOutcome<T>> = [...failed, ...outcomes]
  return {credentials, names, outcomes: all, summaries: summarise(all, options.count)}
}

/** True when any account-region failed as a whole, or had keys that failed. */
export function anyFailed(summaries: readonly TargetSummary[]): boolean {
  return summaries.some((s) => s.error || s.failed > 0)
}
