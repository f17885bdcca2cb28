// grant revoke --grantee across accounts and regions: every account-region is searched for the
// grantee's grants (ListKeys, ListGrants under its own pacing), the plan is shown and confirmed once,
// then each account-region revokes its grants in parallel, each entry journaled with its account,
// region and role so that grant recreate makes the grants again in the same place.
import type {AwsClients} from '../aws/clients.js'
import type {GrantInfo} from '../grants/list.js'
import {type RevokeResult, type SelectedGrants, revokeGrants, selectGrants} from '../grants/revoke.js'
import type {ChangeContext} from '../journal.js'
import {Pacer} from '../pacing.js'
import type {AccountCredentials} from './credentials.js'
import {type TargetOutcome, fanOut} from './fanout.js'
import {type TargetSummary, acrossTargets, summarise} from './run.js'
import type {Targets} from './targets.js'

/** A grant found in an account-region: where, then the grant. */
export type PlacedGrant = GrantInfo & {account: string; region: string}

export interface GrantRevokePlan {
  credentials: AccountCredentials
  outcomes: Array<TargetOutcome<SelectedGrants>>
  summaries: TargetSummary[]
  grants: PlacedGrant[]
}

/** Searches every account-region for the grantee's grants; nothing is changed. */
export async function planGrantRevokeAcross(
  base: AwsClients,
  targets: Targets,
  grantee: string,
  onProgress?: (done: number, total: number, seen: number) => void,
  credentials?: AccountCredentials,
): Promise<GrantRevokePlan> {
  const run = await acrossTargets(
    base,
    targets,
    async ({clients, pacer}) => selectGrants(await clients.kms(), {grantee}, {pacer}),
    {count: (s) => ({failed: s.failures.length, seen: s.grants.length}), onProgress},
    credentials,
  )
  const grants = run.outcomes.flatMap((o) => (o.value?.grants ?? []).map((g) => ({account: o.account, region: o.region, ...g})))
  return {credentials: run.credentials, grants, outcomes: run.outcomes, summaries: run.summaries}
}

export type PlacedRevokeResult = RevokeResult & {account: string; region: string}

/**
 * Revokes the planned grants in every account-region, in parallel under maxParallel, each at its own
 * RevokeGrant quota. An account-region whose credentials can no longer be had fails as a whole (its
 * grants are reported failed, not sent); the others go on.
 */
export async function runGrantRevokeAcross(
  plan: GrantRevokePlan,
  options: {batch: string; ctx: Omit<ChangeContext, 'account' | 'region' | 'role'>; maxParallel: number; onResult?: (done: number, total: number) => void},
): Promise<{results: PlacedRevokeResult[]; summaries: TargetSummary[]}> {
  const total = plan.grants.length
  let done = 0
  const active = plan.outcomes.filter((o) => (o.value?.grants.length ?? 0) > 0)
  const ran = await fanOut(
    plan.credentials,
    active.map((o) => ({account: o.account, region: o.region})),
    async ({access, account, clients, region}) => {
      const grants = active.find((o) => o.account === account && o.region === region)!.value!.grants
      return revokeGrants(await clients.kms(), grants, {
        batch: options.batch,
        ctx: {...options.ctx, account, region, ...(access.roleArn ? {role: access.roleArn} : {})},
        onResult: () => options.onResult?.(++done, total),
        pacer: new Pacer({concurrency: 8}),
      })
    },
    {maxParallel: options.maxParallel},
  )
  const results: PlacedRevokeResult[] = []
  for (const o of ran) {
    const planned = active.find((a) => a.account === o.account && a.region === o.region)!.value!.grants
    const list: RevokeResult[] = o.error ? planned.map((grant) => ({error: {code: o.error!.code, message: o.error!.message}, grant, journalId: '', status: 'failed'})) : o.value!
    for (const r of list) results.push({...r, account: o.account, region: o.region})
  }

  // Per account-region: grants seen, revoked, failed; account-regions that failed while searching keep their failure.
  const summaries = summarise(
    plan.outcomes.map((o): TargetOutcome<PlacedRevokeResult[]> => (o.error ? {...o, value: undefined} : {...o, error: undefined, value: results.filter((r) => r.account === o.account && r.region === o.region)})),
    (rs) => ({changed: rs.filter((r) => r.status === 'revoked').length, failed: rs.filter((r) => r.status === 'failed').length, seen: rs.length}),
  )
  return {results, summaries}
}
