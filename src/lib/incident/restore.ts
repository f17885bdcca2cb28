// Restoring a contained key from its `incident.contain` journal entry: put back the policy that
// contain replaced, enable the key if it was enabled, and recreate the grants contain revoked
// with their original parameters (new grant IDs). Anything else that differs from the snapshot
// (aliases, tags, rotation) is reported, not changed: contain did not change it.
import type {GrantListEntry, KMSClient} from '@aws-sdk/client-kms'

import {kmsSdk} from '../aws/sdk.js'
import {KmsctlError, fromAwsError, usageError} from '../errors.js'
import {recreateGrantsDetailed} from '../grants/recreate.js'
import type {ChangeContext, Journal, JournalRecord} from '../journal.js'
import {Pacer} from '../pacing.js'
import {type ContainAfter, type ContainRequest, type Step, statusOf} from './contain.js'
import {type KeySnapshot, grantSignature, samePolicy, snapshotKey} from './snapshot.js'

export interface NewGrant {
  /** The revoked grant this one replaces. */
  replaces: string
  grantId?: string
  name?: string
  grantee?: string
}

export type RestoreStatus = 'failed' | 'nothing-to-do' | 'partial' | 'planned' | 'restored'

export interface RestoreResult {
  /** The contain entry restored from. */
  entry: string
  key: string
  alias?: string
  arn: string
  before: string
  after: string
  status: RestoreStatus
  steps: Step[]
  newGrants: NewGrant[]
  /** Differences from the snapshot that restore does not change (aliases, tags, rotation, policy edited since). */
  drift: string[]
  journalId?: string
  reason?: string
}

/** The contain entries named by IDs: each an entry ID (or unique prefix) or a batch ID. */
export function containEntries(journal: Journal, ids: readonly string[]): JournalRecord[] {
  const all = journal.readAll()
  const out: JournalRecord[] = []
  for (const id of ids) {
    const exact = all.find((r) => r.id === id)
    const prefixed = exact ? [exact] : all.filter((r) => r.id.startsWith(id))
    if (prefixed.length > 1) {
      throw usageError(`"${id}" matches ${prefixed.length} journal entries.`, 'Try this: give more of the entry ID (kmsctl journal list --action incident.contain)')
    }

    const records = prefixed.length === 1 ? prefixed : all.filter((r) => r.batch === id && r.action === 'incident.contain')
    if (records.length === 0) {
      throw new KmsctlError('NOT_FOUND', `No journal entry or batch "${id}".`, {
        exitCode: 2,
        remedy: 'Try this: the entry ID incident contain printed (kmsctl journal list --action incident.contain)',
      })
    }

    for (const r of records) {
      if (r.action !== 'incident.contain') {
        throw usageError(`Journal entry ${r.id} is a ${r.action}, not an incident contain.`, `Try this: kmsctl undo ${r.id}`)
      }

      if (!out.some((o) => o.id === r.id)) out.push(r)
    }
  }

  return out
}

export interface RestoreOptions {
  pacer?: Pacer
  dryRun?: boolean
  journal?: ChangeContext
}

function diffList(label: string, before: readonly string[] | undefined, now: readonly string[] | undefined): string[] {
  if (!before || !now) return []
  const gone = before.filter((x) => !now.includes(x))
  const added = now.filter((x) => !before.includes(x))
  const out: string[] = []
  if (gone.length > 0) out.push(`${label} missing since contain: ${gone.join(', ')}`)
  if (added.length > 0) out.push(`${label} added since contain: ${added.join(', ')}`)
  return out
}

function driftOf(snap: KeySnapshot, now: KeySnapshot): string[] {
  const drift = diffList('alias', snap.aliases, now.aliases)
  if (snap.tags && now.tags) {
    const fmt = (t: Record<string, string>) => Object.entries(t).map(([k, v]) => `${k}=${v}`)
    drift.push(...diffList('tag', fmt(snap.tags), fmt(now.tags)))
  }

  const r0 = snap.rotation
  const r1 = now.rotation
  if (r0 && r1 && !r0.notApplicable && (r0.enabled !== r1.enabled || (r0.enabled && r0.periodDays !== r1.periodDays))) {
    drift.push(`rotation was ${r0.enabled ? `on (${r0.periodDays ?? '?'} d)` : 'off'}, is ${r1.enabled ? `on (${r1.periodDays ?? '?'} d)` : 'off'}`)
  }

  return drift
}

/** Restores one key from its contain entry (or plans it, with dryRun). */
export async function restoreFromEntry(kms: KMSClient, record: JournalRecord, options: RestoreOptions = {}): Promise<RestoreResult> {
  const pacer = options.pacer ?? new Pacer()
  const snap = record.before as KeySnapshot | undefined
  const request = (record.request ?? {}) as Partial<ContainRequest>
  const outcome = record.outcome?.after as ContainAfter | undefined
  const keyId = snap?.keyId ?? record.key?.keyId ?? ''
  const label = record.key?.aliases?.[0] ?? keyId
  const base: RestoreResult = {
    after: '',
    alias: record.key?.aliases?.[0],
    arn: snap?.arn ?? record.key?.arn ?? '',
    before: '',
    drift: [],
    entry: record.id,
    key: keyId,
    newGrants: [],
    status: 'planned',
    steps: [],
  }
  if (!snap || !snap.keyId) return {...base, reason: 'the entry holds no snapshot of the key', status: 'failed'}

  const {DescribeKeyCommand} = await kmsSdk()
  let current: KeySnapshot
  try {
    const out = await pacer.run('DescribeKey', () => kms.send(new DescribeKeyCommand({KeyId: keyId})))
    current = await snapshotKey(kms, out.KeyMetadata!, {pacer})
  } catch (error) {
    const e = fromAwsError(error, {key: label, operation: 'DescribeKey'})
    return {...base, reason: e.code === 'NOT_FOUND' ? 'the key no longer exists: a deleted key cannot be restored' : e.message, status: 'failed'}
  }

  base.before = current.state
  base.after = current.state
  if (current.state === 'PendingDeletion' || current.state === 'PendingReplicaDeletion') {
    return {...base, reason: 'the key is pending deletion: cancel the deletion first (kmsctl key cancel-deletion KEY), then restore', status: 'failed'}
  }

  const steps: Step[] = []
  const drift = driftOf(snap, current)

  // 1. The policy, first: the lock policy may keep the caller from the other steps.
  const lockPolicy = request.policy
  if (lockPolicy !== undefined && snap.policy !== undefined) {
    if (current.policy === undefined) {
      steps.push({detail: `the current policy cannot be read: ${current.unavailable.GetKeyPolicy}`, kind: 'restore-policy', status: 'failed'})
    } else if (samePolicy(current.policy, snap.policy)) {
      steps.push({detail: 'already the policy from before contain', kind: 'restore-policy', status: 'skipped'})
    } else if (samePolicy(current.policy, lockPolicy)) {
      steps.push({detail: 'the policy from before contain', kind: 'restore-policy', status: 'planned'})
    } else {
      steps.push({detail: 'left as is: the policy was changed after contain', kind: 'restore-policy', status: 'skipped'})
      drift.push('the key policy was changed after contain; restore left it as is (the snapshot is in the journal entry)')
    }
  }

  // 2. The state.
  if (snap.state === 'Enabled') {
    steps.push(current.state === 'Enabled' ? {detail: 'already Enabled', kind: 'enable', status: 'skipped'} : {kind: 'enable', status: 'planned'})
  }

  // 3. The grants contain revoked (all it meant to revoke, when its outcome was never recorded).
  const revoked = outcome?.revokedGrants ?? request.revokeGrants ?? []
  const toRecreate: GrantListEntry[] = []
  const existing = new Set((current.grants ?? []).map((g) => grantSignature(g)))
  for (const id of revoked) {
    const g = snap.grants?.find((x) => x.GrantId === id)
    if (!g) {
      steps.push({detail: 'its definition is not in the snapshot', kind: 'recreate-grant', status: 'failed', target: id})
    } else if ((current.grants ?? []).some((x) => x.GrantId === id)) {
      steps.push({detail: 'still exists', kind: 'recreate-grant', status: 'skipped', target: id})
    } else if (existing.has(grantSignature(g))) {
      steps.push({detail: 'an equivalent grant exists', kind: 'recreate-grant', status: 'skipped', target: id})
    } else {
      steps.push({detail: `${g.GranteePrincipal ?? ''} ${(g.Operations ?? []).join(',')}`, kind: 'recreate-grant', status: 'planned', target: id})
      toRecreate.push(g)
    }
  }

  const planned = steps.filter((s) => s.status === 'planned')
  if (options.dryRun) {
    return {...base, after: steps.some((s) => s.kind === 'enable' && s.status === 'planned') ? 'Enabled' : current.state, drift, status: planned.length > 0 ? 'planned' : 'nothing-to-do', steps}
  }

  if (planned.length === 0) {
    const failed = steps.some((s) => s.status === 'failed')
    return {...base, drift, status: failed ? 'failed' : 'nothing-to-do', steps}
  }

  const j = options.journal
  const entry = j?.journal.begin({
    account: j.account,
    action: 'incident.restore',
    batch: j.batch,
    before: {
      grants: current.grants,
      policy: planned.some((s) => s.kind === 'restore-policy') ? current.policy : undefined,
      state: current.state,
    },
    caller: j.caller,
    command: j.command,
    key: {aliases: current.aliases, arn: current.arn, keyId, ref: label},
    region: j.region,
    request: {enable: planned.some((s) => s.kind === 'enable'), grants: toRecreate.map((g) => g.GrantId), policy: planned.some((s) => s.kind === 'restore-policy')},
    reverses: record.id,
  })

  const sdk = await kmsSdk()
  let after = current.state
  const newGrants: NewGrant[] = []
  for (const step of steps) {
    if (step.status !== 'planned' || step.kind === 'recreate-grant') continue
    try {
      if (step.kind === 'restore-policy') {
        // eslint-disable-next-line no-await-in-loop
        await pacer.run('PutKeyPolicy', () => kms.send(new sdk.PutKeyPolicyCommand({KeyId: keyId, Policy: snap.policy!, PolicyName: 'default'})))
      } else if (step.kind === 'enable') {
        // eslint-disable-next-line no-await-in-loop
        await pacer.run('EnableKey', () => kms.send(new sdk.EnableKeyCommand({KeyId: keyId})))
        after = 'Enabled'
      }

      step.status = 'ok'
    } catch (error) {
      const e = fromAwsError(error, {key: label, operation: step.kind === 'enable' ? 'EnableKey' : 'PutKeyPolicy'})
      step.status = 'failed'
      step.error = {code: e.code, message: e.message}
    }
  }

  if (toRecreate.length > 0) {
    const results = await recreateGrantsDetailed(kms, toRecreate, {
      batch: j?.batch,
      ctx: j ? {account: j.account, caller: j.caller, command: j.command, journal: j.journal, region: j.region} : undefined,
      pacer,
      reverses: toRecreate.map(() => record.id),
    })
    for (const r of results) {
      const step = steps.find((s) => s.kind === 'recreate-grant' && s.target === r.source.GrantId)!
      if (r.status === 'created') {
        step.status = 'ok'
        step.detail = `new grant ${r.grantId}`
        newGrants.push({grantId: r.grantId, grantee: r.source.GranteePrincipal, name: r.source.Name, replaces: r.source.GrantId ?? ''})
      } else {
        step.status = 'failed'
        step.error = r.error
      }
    }
  }

  const overall = statusOf(steps)
  if (entry) {
    j!.journal.finish(entry.id, {
      after: {newGrants, policyRestored: steps.some((s) => s.kind === 'restore-policy' && s.status === 'ok'), state: after, steps},
      error: overall === 'ok' ? undefined : steps.find((s) => s.error)?.error ?? {code: 'FAILED', message: steps.find((s) => s.status === 'failed')?.detail ?? 'a step failed'},
      status: overall,
    })
  }

  return {...base, after, drift, journalId: entry?.id, newGrants, status: overall === 'ok' ? 'restored' : overall, steps}
}

/** Restores several contained keys, one after the other (their calls share the Pacer). */
export async function restoreEntries(kms: KMSClient, records: readonly JournalRecord[], options: RestoreOptions & {signal?: AbortSignal} = {}): Promise<RestoreResult[]> {
  const pacer = options.pacer ?? new Pacer()
  const out: RestoreResult[] = []
  for (const r of records) {
    if (options.signal?.aborted) {
      out.push({after: '', arn: r.key?.arn ?? '', before: '', drift: [], entry: r.id, key: r.key?.keyId ?? '', newGrants: [], reason: 'interrupted before it was started', status: 'failed', steps: []})
      continue
    }

    // eslint-disable-next-line no-await-in-loop
    out.push(await restoreFromEntry(kms, r, {...options, pacer}))
  }

  return out
}
