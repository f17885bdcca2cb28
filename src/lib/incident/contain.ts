// Containing a key: snapshot everything restore needs into the journal, then disable the key,
// optionally revoke its grants and replace its policy with one that only the incident's
// administrators pass. One journal entry per key, written before the first change.
import type {KMSClient} from '@aws-sdk/client-kms'

import {kmsSdk} from '../aws/sdk.js'
import type {SelectedKey} from '../bulk/select.js'
import {fromAwsError} from '../errors.js'
import type {ChangeContext, JournalStatus} from '../journal.js'
import {Pacer} from '../pacing.js'
import {type KeySnapshot, snapshotKey} from './snapshot.js'

export type StepKind = 'disable' | 'enable' | 'lock-policy' | 'recreate-grant' | 'restore-policy' | 'revoke-grant'
export type StepStatus = 'failed' | 'not-sent' | 'ok' | 'planned' | 'skipped'

export interface Step {
  kind: StepKind
  /** The grant ID, for grant steps. */
  target?: string
  status: StepStatus
  detail?: string
  error?: {code: string; message: string}
}

export type ContainStatus = 'contained' | 'failed' | 'not-sent' | 'partial' | 'planned' | 'skipped'

export interface ContainResult {
  key: string
  ref: string
  alias?: string
  arn: string
  before: string
  after: string
  status: ContainStatus
  /** The journal entry holding the snapshot: give it to `incident restore`. */
  journalId?: string
  steps: Step[]
  grantsRevoked: number
  policyReplaced: boolean
  reason?: string
}

/** What `incident.contain` records as its request. */
export interface ContainRequest {
  disable: boolean
  /** IDs of the grants about to be revoked. */
  revokeGrants: string[]
  /** The lock policy about to be put, if any. */
  policy?: string
  admins?: string[]
}

/** What `incident.contain` records as its outcome. */
export interface ContainAfter {
  state: string
  revokedGrants: string[]
  policyReplaced: boolean
  steps: Step[]
}

export interface ContainOptions {
  pacer?: Pacer
  revokeGrants?: boolean
  /** --lock-policy: the policy text and the administrators it names. */
  lock?: {admins: string[]; policy: string}
  dryRun?: boolean
  journal?: ChangeContext
  signal?: AbortSignal
  now?: Date
}

function errorOf(error: unknown, key: string, operation: string): {code: string; message: string} {
  const e = fromAwsError(error, {key, operation})
  return {code: e.code, message: e.message}
}

/** The status of a run of steps: all fine, some failed, or all that were tried failed. */
export function statusOf(steps: readonly Step[]): 'failed' | 'ok' | 'partial' {
  const failed = steps.filter((s) => s.status === 'failed').length
  if (failed === 0) return 'ok'
  return steps.some((s) => s.status === 'ok') ? 'partial' : 'failed'
}

export async function containKey(kms: KMSClient, key: SelectedKey, options: ContainOptions = {}): Promise<ContainResult> {
  const pacer = options.pacer ?? new Pacer()
  const label = key.aliases[0] ?? key.keyId
  const base: ContainResult = {
    after: key.state,
    alias: key.aliases[0],
    arn: key.arn,
    before: key.state,
    grantsRevoked: 0,
    key: key.keyId,
    policyReplaced: false,
    ref: key.ref,
    status: 'planned',
    steps: [],
  }
  if (key.manager === 'AWS') return {...base, reason: 'AWS-managed keys cannot be disabled or have their policy or grants changed', status: 'skipped'}
  if (options.signal?.aborted) return {...base, reason: 'interrupted before it was started', status: 'not-sent'}

  const snapshot: KeySnapshot = await snapshotKey(kms, key.metadata, {now: options.now, pacer})
  const steps: Step[] = []
  const state = snapshot.state
  const willDisable = state !== 'Disabled' && state !== 'PendingDeletion' && state !== 'PendingReplicaDeletion'
  steps.push(
    willDisable
      ? {kind: 'disable', status: 'planned'}
      : {detail: state === 'Disabled' ? 'already Disabled' : 'pending deletion: the key cannot be used', kind: 'disable', status: 'skipped'},
  )
  const grants = options.revokeGrants ? snapshot.grants : undefined
  if (options.revokeGrants) {
    if (grants) {
      for (const g of grants) steps.push({detail: `${g.GranteePrincipal ?? ''} ${(g.Operations ?? []).join(',')}`, kind: 'revoke-grant', status: 'planned', target: g.GrantId})
    } else {
      steps.push({detail: `the grants could not be listed, so they could not be recreated: ${snapshot.unavailable.ListGrants}`, kind: 'revoke-grant', status: 'failed'})
    }
  }

  const lock = options.lock
  if (lock) {
    if (snapshot.policy === undefined) {
      steps.push({detail: `the current policy could not be read, so it could not be restored: ${snapshot.unavailable.GetKeyPolicy}`, kind: 'lock-policy', status: 'failed'})
    } else {
      steps.push({detail: `only ${lock.admins.join(', ')}`, kind: 'lock-policy', status: 'planned'})
    }
  }

  if (options.dryRun) return {...base, after: willDisable ? 'Disabled' : state, status: 'planned', steps}

  const request: ContainRequest = {
    admins: lock?.admins,
    disable: willDisable,
    policy: lock && snapshot.policy !== undefined ? lock.policy : undefined,
    revokeGrants: steps.filter((s) => s.kind === 'revoke-grant' && s.status === 'planned').map((s) => s.target ?? ''),
  }
  const j = options.journal
  const entry = j?.journal.begin({
    account: j.account,
    action: 'incident.contain',
    batch: j.batch,
    before: snapshot,
    caller: j.caller,
    command: j.command,
    key: {aliases: snapshot.aliases ?? key.aliases, arn: key.arn, keyId: key.keyId, ref: key.ref},
    region: j.region,
    request,
  })

  const sdk = await kmsSdk()
  let after = state
  for (const step of steps) {
    if (step.status !== 'planned') continue
    try {
      switch (step.kind) {
        case 'disable': {
          // eslint-disable-next-line no-await-in-loop
          await pacer.run('DisableKey', () => kms.send(new sdk.DisableKeyCommand({KeyId: key.keyId})))
          after = 'Disabled'
          break
        }

        case 'revoke-grant': {
          try {
            // eslint-disable-next-line no-await-in-loop
            await pacer.run('RevokeGrant', () => kms.send(new sdk.RevokeGrantCommand({GrantId: step.target!, KeyId: key.keyId})))
          } catch (error) {
            if ((error as Error).name !== 'NotFoundException') throw error
            step.status = 'skipped'
            step.detail = 'already gone'
            continue
          }

          break
        }

        case 'lock-policy': {
          // eslint-disable-next-line no-await-in-loop
          await pacer.run('PutKeyPolicy', () => kms.send(new sdk.PutKeyPolicyCommand({KeyId: key.keyId, Policy: lock!.policy, PolicyName: 'default'})))
          break
        }

        default: {
          break
        }
      }

      step.status = 'ok'
    } catch (error) {
      const op = step.kind === 'disable' ? 'DisableKey' : step.kind === 'revoke-grant' ? 'RevokeGrant' : 'PutKeyPolicy'
      step.status = 'failed'
      step.error = errorOf(error, label, op)
    }
  }

  const revokedGrants = steps.filter((s) => s.kind === 'revoke-grant' && s.status === 'ok').map((s) => s.target ?? '')
  const policyReplaced = steps.some((s) => s.kind === 'lock-policy' && s.status === 'ok')
  const overall = statusOf(steps)
  if (entry) {
    const status: JournalStatus = overall
    const outcome: ContainAfter = {policyReplaced, revokedGrants, state: after, steps}
    j!.journal.finish(entry.id, {
      after: outcome,
      error: overall === 'ok' ? undefined : steps.find((s) => s.error)?.error ?? {code: 'FAILED', message: steps.find((s) => s.status === 'failed')?.detail ?? 'a step failed'},
      status,
    })
  }

  return {
    ...base,
    after,
    grantsRevoked: revokedGrants.length,
    journalId: entry?.id,
    policyReplaced,
    status: overall === 'ok' ? 'contained' : overall,
    steps,
  }
}

/** Contains several keys, a few at a time (each key's calls are paced by the shared Pacer). */
export async function containKeys(kms: KMSClient, keys: readonly SelectedKey[], options: ContainOptions & {workers?: number} = {}): Promise<ContainResult[]> {
  const pacer = options.pacer ?? new Pacer()
  const results: ContainResult[] = Array.from({length: keys.length})
  let next = 0
  const worker = async () => {
    while (next < keys.length) {
      const i = next++
      // eslint-disable-next-line no-await-in-loop
      results[i] = await containKey(kms, keys[i], {...options, pacer})
    }
  }

  await Promise.all(Array.from({length: Math.max(1, Math.min(options.workers ?? 4, keys.length))}, () => worker()))
  return results
}
