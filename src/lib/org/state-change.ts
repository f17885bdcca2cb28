// key disable / key enable across accounts and regions: the plan is read in every account-region
// first (which keys carry the tags, in which state), shown, confirmed once for the whole batch, then
// sent in every account-region in parallel, each at its own account-region's quota. Every journal
// entry names the account, region and role of its key, so that undo goes back to the same place.
import {type PlanItem, type ReportRow, type StateAction, planStateChange} from '../bulk/plan.js'
import {runStateChange} from '../bulk/run.js'
import {type KeySource, selectKeys} from '../bulk/select.js'
import {type Tally, tally} from '../bulk/tally.js'
import type {ChangeContext} from '../journal.js'
import type {AwsClients} from '../aws/clients.js'
import {Pacer} from '../pacing.js'
import {AccountCredentials} from './credentials.js'
import {type AccountRegion, type TargetOutcome, fanOut, failureOf} from './fanout.js'
import {type TargetSummary, acrossTargets, summarise} from './run.js'
import {type RoleSpec, type Targets, accountOfArn, regionOfArn} from './targets.js'

/** A report row of a key in an account-region. */
export type OrgReportRow = ReportRow & {account: string; region: string}

export interface TargetPlan {
  items: PlanItem[]
  unresolved: ReportRow[]
}

export interface OrgPlan {
  credentials: AccountCredentials
  outcomes: Array<TargetOutcome<TargetPlan>>
  /** Keys the batch will send the call for, in every account-region. */
  toSend: number
}

/** Reads every account-region's keys and plans the change (nothing is changed). */
export async function planAcross(
  base: AwsClients,
  targets: Targets,
  action: StateAction,
  source: KeySource,
  onProgress?: (done: number, total: number, seen: number) => void,
): Promise<OrgPlan> {
  const {credentials, outcomes} = await acrossTargets(
    base,
    targets,
    async ({clients, pacer}) => planStateChange(action, await selectKeys(await clients.kms(), source, {pacer})),
    {count: (p) => ({seen: p.items.length}), onProgress},
  )
  const toSend = outcomes.reduce((n, o) => n + (o.value?.items.filter((i) => i.send).length ?? 0), 0)
  return {credentials, outcomes, toSend}
}

/** The references of one account-region: the key ARNs naming it, and (for the caller's home) every other reference. */
export interface PlacedRefs extends AccountRegion {
  refs: string[]
}

/**
 * Groups key references by the account and region their ARN names (key ARNs and alias ARNs);
 * references without an account (key IDs, alias names) belong to `home`, the caller's account and
 * region. The groups come in the order their first reference was given.
 */
export function placeRefs(refs: readonly string[], home: AccountRegion): PlacedRefs[] {
  const groups = new Map<string, PlacedRefs>()
  for (const ref of refs) {
    const account = accountOfArn(ref) ?? home.account
    const region = regionOfArn(ref) ?? home.region
    const id = `${account}/${region}`
    let group = groups.get(id)
    if (!group) {
      group = {account, refs: [], region}
      groups.set(id, group)
    }

    if (!group.refs.includes(ref)) group.refs.push(ref)
  }

  return [...groups.values()]
}

/**
 * Plans a change of keys named by reference in several accounts and regions (a --file of key
 * ARNs): each account-region resolves its own references through its own clients (the caller's
 * account with the base credentials, any other through the role), in parallel under maxParallel.
 * Nothing is changed.
 */
export async function planByPlace(
  base: AwsClients,
  role: RoleSpec | undefined,
  groups: readonly PlacedRefs[],
  action: StateAction,
  options: {maxParallel: number; onProgress?: (done: number, total: number, seen: number) => void},
  credentials: AccountCredentials = new AccountCredentials(base, role),
): Promise<OrgPlan> {
  const refsOf = new Map(groups.map((g) => [`${g.account}/${g.region}`, g.refs]))
  let seen = 0
  const outcomes = await fanOut(
    credentials,
    groups.map((g) => ({account: g.account, region: g.region})),
    async ({account, clients, pacer, region}) => planStateChange(action, await selectKeys(await clients.kms(), {refs: refsOf.get(`${account}/${region}`)!}, {pacer})),
    {
      maxParallel: options.maxParallel,
      onSettled(outcome, done, total) {
        seen += (outcome.value as TargetPlan | undefined)?.items.length ?? 0
        options.onProgress?.(done, total, seen)
      },
    },
  )
  const toSend = outcomes.reduce((n, o) => n + (o.value?.items.filter((i) => i.send).length ?? 0), 0)
  return {credentials, outcomes, toSend}
}

/** References that name no key in their account-region (NotFound), as "REF (ACCOUNT/REGION)". */
export function missingRefs(plan: OrgPlan): string[] {
  return plan.outcomes.flatMap((o) => (o.value?.unresolved ?? []).filter((u) => u.error?.code === 'NOT_FOUND').map((u) => `${u.ref} (${o.account}/${o.region})`))
}

/** The rows of a plan (or of a run), each with its account and region; failed account-regions as one row each. */
export function rowsOf(outcomes: ReadonlyArray<TargetOutcome<TargetPlan | ReportRow[]>>): OrgReportRow[] {
  const rows: OrgReportRow[] = []
  for (const o of outcomes) {
    const where = {account: o.account, region: o.region}
    if (o.error) {
      rows.push({...where, error: {code: o.error.code, message: o.error.message}, key: '-', outcome: 'failed', ref: `${o.account}/${o.region}`})
      continue
    }

    const v = o.value!
    const list = Array.isArray(v) ? v : [...v.items.map((i) => i.row), ...v.unresolved]
    for (const r of list) rows.push({...where, ...r})
  }

  return rows
}

/** The closing summary per account-region: keys seen, changed, failed (the whole account-region when it failed). */
export function stateSummaries(outcomes: ReadonlyArray<TargetOutcome<ReportRow[]>>): TargetSummary[] {
  return summarise(outcomes, (rows) => {
    const t: Tally = tally(rows)
    return {changed: t.changed, failed: t.failed + t.notSent, seen: t.total}
  })
}

export interface RunAcrossOptions {
  action: StateAction
  /** Batch, caller and command line for the journal (account, region and role are set per account-region). */
  journal?: Omit<ChangeContext, 'account' | 'region'>
  maxParallel: number
  onProgress?: (done: number, total: number, changed: number, failed: number) => void
  /** Calls per second in each account-region. */
  rate: number
  signal?: AbortSignal
}

/**
 * Sends the planned calls in every account-region, in parallel (at most maxParallel at once), each
 * with its own Pacer at `rate`. An account-region that failed while planning keeps its failure; one
 * that fails now (the role's credentials can no longer be had) fails as a whole, the others go on.
 */
export async function runAcross(plan: OrgPlan, options: RunAcrossOptions): Promise<Array<TargetOutcome<ReportRow[]>>> {
  const total = plan.toSend
  let done = 0
  let changed = 0
  let failed = 0
  const active = plan.outcomes.filter((o) => o.value && o.value.items.some((i) => i.send))
  const byTarget = new Map<string, TargetOutcome<TargetPlan>>(active.map((o) => [`${o.account}/${o.region}`, o]))
  const list: AccountRegion[] = active.map((o) => ({account: o.account, region: o.region}))
  const ran = await fanOut(
    plan.credentials,
    list,
    async ({access, clients, region, account}) => {
      const p = byTarget.get(`${account}/${region}`)!.value!
      let last = {changed: 0, done: 0, failed: 0}
      const rows = await runStateChange({
        action: options.action,
        items: p.items,
        journal: options.journal ? {...options.journal, account, region, ...(access.roleArn ? {role: access.roleArn} : {})} : undefined,
        kms: await clients.kms(),
        onProgress(c) {
          done += c.done - last.done
          changed += c.changed - last.changed
          failed += c.failed - last.failed
          last = {changed: c.changed, done: c.done, failed: c.failed}
          options.onProgress?.(done, total, changed, failed)
        },
        pacer: new Pacer({concurrency: 100, rates: {[options.action === 'disable' ? 'DisableKey' : 'EnableKey']: options.rate}, smooth: true}),
        signal: options.signal,
        workers: Math.min(200, Math.max(10, Math.ceil(options.rate * 2))),
      })
      return [...rows, ...p.unresolved]
    },
    {maxParallel: options.maxParallel},
  )
  const ranBy = new Map(ran.map((o) => [`${o.account}/${o.region}`, o]))
  // Every account-region of the plan, in the plan's order: run, failed while planning, or nothing to send.
  return plan.outcomes.map((o): TargetOutcome<ReportRow[]> => {
    const r = ranBy.get(`${o.account}/${o.region}`)
    if (r) {
      if (r.error) {
        // The account-region failed before its calls: its keys were not sent.
        const rows = (o.value?.items ?? []).map((i): ReportRow => (i.send ? {...i.row, after: i.row.before, error: failureOf(new Error(r.error!.message)), outcome: 'failed'} : i.row))
        return {...r, error: undefined, value: [...rows, ...(o.value?.unresolved ?? [])]}
      }

      return r
    }

    if (o.error) return {account: o.account, error: o.error, region: o.region, ...(o.role ? {role: o.role} : {})}
    return {account: o.account, region: o.region, ...(o.role ? {role: o.role} : {}), value: [...(o.value?.items.map((i) => i.row) ?? []), ...(o.value?.unresolved ?? [])]}
  })
}
