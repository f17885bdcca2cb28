// Undo: the reverse of one journalled change, where one exists. Each plan first checks that the
// key is still as the change left it (its `after`); when it is not, undo says so and sends
// nothing unless forced. What cannot be undone (a completed deletion, a created key) is said
// plainly, with what to do instead.
import type {GrantListEntry, KMSClient} from '@aws-sdk/client-kms'

import {kmsSdk} from './aws/sdk.js'
import {type JournalContext, pacedCall} from './bulk.js'
import {KmsctlError, fromAwsError, usageError} from './errors.js'
import {recreateGrantsDetailed} from './grants/recreate.js'
import {type RestoreResult, restoreFromEntry} from './incident/restore.js'
import {grantSignature, getPolicy, listGrantsOf, samePolicy} from './incident/snapshot.js'
import type {Journal, JournalAction, JournalKey, JournalRecord} from './journal.js'
import {listAllAliases} from './key-ref.js'
import {Pacer} from './pacing.js'

export interface UndoCall {
  operation: string
  input: Record<string, unknown>
}

export type UndoKind = 'calls' | 'recreate-grant' | 'restore'

export interface UndoPlan {
  /** The entry to undo. */
  entry: string
  entryAction: string
  possible: boolean
  /** Why it cannot be undone, or why there is nothing to undo. */
  reason?: string
  /** The key is no longer as the change left it: undo would overwrite a later change (needs --force). */
  drift?: string
  /** What undo will do, in words. */
  description: string
  kind: UndoKind
  /** The journal action recorded for the undo. */
  action?: JournalAction
  key?: JournalKey
  /** What the undo overwrites, for its own journal entry (so that it can be undone too). */
  before?: unknown
  calls: UndoCall[]
  /** Texts accepted at the confirmation: key ID, aliases, ARN. */
  accepted: string[]
  grant?: GrantListEntry
  restore?: RestoreResult
}

export interface UndoResult {
  entry: string
  status: 'failed' | 'partial' | 'undone'
  /** The journal entry of the undo. */
  journalId?: string
  calls: Array<UndoCall & {status: 'failed' | 'not-sent' | 'ok'; error?: {code: string; message: string}}>
  /** For a revoked grant: the new grant's ID. */
  grantId?: string
  restore?: RestoreResult
  error?: {code: string; message: string}
}

/** In words, how each action is reversed (or why it cannot be), for `journal show`. */
export function reverseText(action: string): string {
  switch (action) {
    case 'key.disable': {
      return 'enable the key'
    }

    case 'key.enable': {
      return 'disable the key'
    }

    case 'policy.put':
    case 'policy.restore': {
      return 'put back the policy from before'
    }

    case 'grant.revoke':
    case 'grant.retire': {
      return 'recreate the grant with its original parameters (new grant ID)'
    }

    case 'grant.create': {
      return 'revoke the grant'
    }

    case 'key.schedule-deletion': {
      return 'cancel the deletion (and enable the key if it was enabled); impossible once the key is deleted'
    }

    case 'alias.create': {
      return 'delete the alias'
    }

    case 'alias.update': {
      return 'point the alias back at its previous key'
    }

    case 'alias.delete': {
      return 'create the alias again'
    }

    case 'incident.contain': {
      return 'incident restore: policy, state and grants from the snapshot'
    }

    default: {
      return `cannot be undone with kmsctl undo (${CANNOT[action] ?? 'no reverse operation'})`
    }
  }
}

const CANNOT: Record<string, string> = {
  'incident.restore': 'contain the key again with kmsctl incident contain',
  'key.cancel-deletion': 'schedule the deletion again with kmsctl key schedule-deletion',
  'key.create': 'a key cannot be un-created; schedule its deletion with kmsctl key schedule-deletion',
  'key.rotation': 'change rotation with kmsctl key rotation enable/disable',
  undo: 'undo the change itself again',
}

function asObject(v: unknown): Record<string, any> {
  return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, any>) : {}
}

function isGrant(v: unknown): v is GrantListEntry {
  const g = v as GrantListEntry | null
  return Boolean(g && typeof g === 'object' && g.GrantId && g.GranteePrincipal && Array.isArray(g.Operations))
}

/** Alias name and target of an alias entry, whichever shape it was recorded in. */
function aliasFields(r: JournalRecord): {aliasName?: string; targetKeyId?: string; previousKeyId?: string} {
  const before = asObject(r.before)
  const after = asObject(r.outcome?.after)
  const req = Array.isArray(r.request) ? asObject(asObject(r.request[0]).input) : asObject(r.request)
  return {
    aliasName: (before.aliasName ?? after.aliasName ?? req.aliasName ?? req.AliasName) as string | undefined,
    previousKeyId: before.targetKeyId as string | undefined,
    targetKeyId: (req.targetKeyId ?? req.TargetKeyId ?? after.targetKeyId ?? r.key?.keyId) as string | undefined,
  }
}

/** The entry named by an ID or a unique prefix; an ambiguous or unknown one is a usage error. */
export function findEntry(journal: Journal, id: string): JournalRecord {
  const all = journal.readAll()
  const exact = all.find((r) => r.id === id)
  if (exact) return exact
  const matches = all.filter((r) => r.id.startsWith(id))
  if (matches.length === 1) return matches[0]
  if (matches.length > 1) throw usageError(`"${id}" matches ${matches.length} journal entries.`, 'Try this: give more of the entry ID (kmsctl journal list)')
  const batch = all.filter((r) => r.batch === id)
  if (batch.length > 0) {
    throw usageError(`"${id}" is a batch of ${batch.length} entries; undo takes one entry.`, `Try this: kmsctl journal list --batch ${id}, then kmsctl undo ENTRY`)
  }

  throw new KmsctlError('NOT_FOUND', `No journal entry "${id}".`, {exitCode: 2, remedy: 'Try this: kmsctl journal list'})
}

async function currentKey(kms: KMSClient, keyId: string, pacer: Pacer): Promise<{state?: string; gone?: boolean; error?: string}> {
  const {DescribeKeyCommand} = await kmsSdk()
  try {
    const out = await pacedCall(pacer, 'DescribeKey', () => kms.send(new DescribeKeyCommand({KeyId: keyId})))
    return {state: out.KeyMetadata?.KeyState}
  } catch (error) {
    if ((error as Error).name === 'NotFoundException') return {gone: true}
    throw fromAwsError(error, {key: keyId, operation: 'DescribeKey'})
  }
}

/** Works out the reverse of an entry against the key as it is now. Sends nothing that changes anything. */
export async function planUndo(kms: KMSClient, journal: Journal, record: JournalRecord, options: {pacer?: Pacer} = {}): Promise<UndoPlan> {
  const pacer = options.pacer ?? new Pacer()
  const keyId = record.key?.keyId ?? ''
  const accepted = [keyId, ...(record.key?.aliases ?? []), record.key?.arn ?? ''].filter(Boolean)
  const base: UndoPlan = {accepted, calls: [], description: '', entry: record.id, entryAction: record.action, key: record.key, kind: 'calls', possible: false}
  const no = (reason: string): UndoPlan => ({...base, description: reason, reason})

  const status = record.outcome?.status
  if (status === 'failed' && record.action !== 'incident.contain') return no(`The change failed (${record.outcome?.error?.message ?? 'see kmsctl journal show'}), so there is nothing to undo.`)
  if (status === 'skipped') return no('The change was not made (skipped), so there is nothing to undo.')
  const undoneBy = journal.readAll().find((r) => r.reverses === record.id && r.outcome?.status === 'ok')
  if (undoneBy) return no(`Already undone by ${undoneBy.id} (${undoneBy.action}, ${undoneBy.time}).`)

  const gone = (what: string) => no(`The key ${keyId} no longer exists: ${what}`)
  switch (record.action) {
    case 'key.disable':
    case 'key.enable': {
      const disabling = record.action === 'key.disable'
      const now = await currentKey(kms, keyId, pacer)
      if (now.gone) return gone('a deleted key cannot be enabled or disabled.')
      const expected = disabling ? 'Disabled' : 'Enabled'
      const beforeState = asObject(record.before).state as string | undefined
      const plan: UndoPlan = {
        ...base,
        action: disabling ? 'key.enable' : 'key.disable',
        before: {state: now.state},
        calls: [{input: {KeyId: keyId}, operation: disabling ? 'EnableKey' : 'DisableKey'}],
        description: `${disabling ? 'Enable' : 'Disable'} key ${keyId} (it was ${beforeState ?? (disabling ? 'Enabled' : 'Disabled')} before ${record.id}).`,
        possible: true,
      }
      if (now.state === beforeState) return no(`Key ${keyId} is already ${now.state}: nothing to undo.`)
      if (now.state === 'PendingDeletion' || now.state === 'PendingReplicaDeletion') return no(`Key ${keyId} is pending deletion: cancel the deletion first (kmsctl key cancel-deletion ${keyId}).`)
      if (now.state !== expected) plan.drift = `key ${keyId} is ${now.state} now, not ${expected} as ${record.id} left it`
      return plan
    }

    case 'policy.put':
    case 'policy.restore': {
      const previous = asObject(record.before).policy
      if (typeof previous !== 'string') return no('The entry does not hold the previous policy, so it cannot be put back.')
      const now = await currentKey(kms, keyId, pacer)
      if (now.gone) return gone('its policy went with it.')
      const current = await getPolicy(kms, keyId, pacer).catch((error) => {
        throw fromAwsError(error, {key: keyId, operation: 'GetKeyPolicy'})
      })
      if (samePolicy(current, previous)) return no(`The policy of ${keyId} is already the one from before ${record.id}: nothing to undo.`)
      const put = asObject(record.request).Policy ?? asObject(record.request).policy
      const plan: UndoPlan = {
        ...base,
        action: 'policy.put',
        before: {policy: current, policyName: 'default'},
        calls: [{input: {KeyId: keyId, Policy: previous, PolicyName: 'default'}, operation: 'PutKeyPolicy'}],
        description: `Put back the key policy of ${keyId} from before ${record.id}.`,
        possible: true,
      }
      if (typeof put === 'string' && !samePolicy(current, put)) plan.drift = `the policy of ${keyId} was changed again after ${record.id}; undo would overwrite that change too`
      return plan
    }

    case 'grant.revoke':
    case 'grant.retire': {
      const b = record.before
      const grant = isGrant(b) ? b : isGrant(asObject(b).grant) ? (asObject(b).grant as GrantListEntry) : undefined
      if (!grant) return no('The entry does not hold the grant\'s definition, so it cannot be recreated.')
      const gkey = grant.KeyId ?? keyId
      const now = await currentKey(kms, gkey, pacer)
      if (now.gone) return gone('its grants cannot be recreated.')
      const grants = await listGrantsOf(kms, gkey, pacer).catch((error) => {
        throw fromAwsError(error, {key: gkey, operation: 'ListGrants'})
      })
      if (grants.some((g) => g.GrantId === grant.GrantId)) return no(`Grant ${grant.GrantId} still exists: nothing to undo.`)
      if (grants.some((g) => grantSignature(g) === grantSignature(grant))) return no(`An equivalent grant already exists on ${keyId} (same grantee, operations, constraints, retiring principal and name): nothing to undo.`)
      return {
        ...base,
        action: 'grant.create',
        calls: [{input: {GranteePrincipal: grant.GranteePrincipal, KeyId: gkey, Name: grant.Name, Operations: grant.Operations}, operation: 'CreateGrant'}],
        description: `Recreate grant ${grant.GrantId} for ${grant.GranteePrincipal} (${(grant.Operations ?? []).join(', ')}) with its original parameters; KMS gives it a new ID.`,
        grant,
        kind: 'recreate-grant',
        possible: true,
      }
    }

    case 'grant.create': {
      const after = asObject(record.outcome?.after)
      const grantId = after.grantId as string | undefined
      if (!grantId) return no('The entry does not record the new grant\'s ID.')
      const gkey = keyId || String(after.keyArn ?? '')
      const now = await currentKey(kms, gkey, pacer)
      if (now.gone) return gone('its grants went with it.')
      const grants = await listGrantsOf(kms, gkey, pacer)
      const grant = grants.find((g) => g.GrantId === grantId)
      if (!grant) return no(`Grant ${grantId} no longer exists: nothing to undo.`)
      return {
        ...base,
        action: 'grant.revoke',
        before: grant,
        calls: [{input: {GrantId: grantId, KeyId: gkey}, operation: 'RevokeGrant'}],
        description: `Revoke grant ${grantId} (${grant.GranteePrincipal}, ${(grant.Operations ?? []).join(', ')}).`,
        possible: true,
      }
    }

    case 'key.schedule-deletion': {
      const wasEnabled = asObject(record.before).state === 'Enabled' || asObject(record.before).enabled === true
      const now = await currentKey(kms, keyId, pacer)
      if (now.gone) return no(`The key ${keyId} was deleted: a completed deletion cannot be undone. Data encrypted under it can no longer be decrypted.`)
      if (now.state !== 'PendingDeletion' && now.state !== 'PendingReplicaDeletion') return no(`The deletion of ${keyId} was already cancelled (the key is ${now.state}): nothing to undo.`)
      const calls: UndoCall[] = [{input: {KeyId: keyId}, operation: 'CancelKeyDeletion'}]
      if (wasEnabled) calls.push({input: {KeyId: keyId}, operation: 'EnableKey'})
      return {
        ...base,
        action: 'key.cancel-deletion',
        before: {state: now.state},
        calls,
        description: `Cancel the deletion of ${keyId}${wasEnabled ? ' and enable it again (it was Enabled before)' : ' (it stays Disabled, as it was before)'}.`,
        possible: true,
      }
    }

    case 'alias.create':
    case 'alias.update':
    case 'alias.delete': {
      const {aliasName, previousKeyId, targetKeyId} = aliasFields(record)
      if (!aliasName) return no('The entry does not name the alias.')
      const aliases = await listAllAliases(kms).catch((error) => {
        throw fromAwsError(error, {operation: 'ListAliases'})
      })
      const current = aliases.find((a) => a.AliasName === aliasName)
      if (record.action === 'alias.create') {
        if (!current) return no(`${aliasName} no longer exists: nothing to undo.`)
        const plan: UndoPlan = {
          ...base,
          action: 'alias.delete',
          before: {aliasName, targetKeyId: current.TargetKeyId},
          calls: [{input: {AliasName: aliasName}, operation: 'DeleteAlias'}],
          description: `Delete ${aliasName} (created by ${record.id}; it points at ${current.TargetKeyId}).`,
          possible: true,
        }
        if (targetKeyId && current.TargetKeyId !== targetKeyId) plan.drift = `${aliasName} points at ${current.TargetKeyId} now, not ${targetKeyId} as ${record.id} left it`
        return plan
      }

      if (record.action === 'alias.update') {
        if (!previousKeyId) return no('The entry does not record the key the alias pointed at before.')
        if (!current) return no(`${aliasName} no longer exists: create it with kmsctl alias create ${aliasName} ${previousKeyId}.`)
        if (current.TargetKeyId === previousKeyId) return no(`${aliasName} already points at ${previousKeyId}: nothing to undo.`)
        const plan: UndoPlan = {
          ...base,
          action: 'alias.update',
          before: {aliasName, targetKeyId: current.TargetKeyId},
          calls: [{input: {AliasName: aliasName, TargetKeyId: previousKeyId}, operation: 'UpdateAlias'}],
          description: `Point ${aliasName} back at ${previousKeyId} (it points at ${current.TargetKeyId}).`,
          possible: true,
        }
        if (targetKeyId && current.TargetKeyId !== targetKeyId) plan.drift = `${aliasName} points at ${current.TargetKeyId} now, not ${targetKeyId} as ${record.id} left it`
        return plan
      }

      if (current) return no(`${aliasName} exists again (it points at ${current.TargetKeyId}): nothing to undo.`)
      if (!previousKeyId) return no('The entry does not record the key the alias pointed at.')
      const now = await currentKey(kms, previousKeyId, pacer)
      if (now.gone) return no(`The key ${previousKeyId} that ${aliasName} pointed at no longer exists: the alias cannot be created again.`)
      return {
        ...base,
        action: 'alias.create',
        before: {aliasName, exists: false},
        calls: [{input: {AliasName: aliasName, TargetKeyId: previousKeyId}, operation: 'CreateAlias'}],
        description: `Create ${aliasName} again, pointing at ${previousKeyId}.`,
        possible: true,
      }
    }

    case 'incident.contain': {
      const restore = await restoreFromEntry(kms, record, {dryRun: true, pacer})
      if (restore.status !== 'planned') {
        return no(restore.reason ? `Cannot restore: ${restore.reason}.` : `Nothing to restore: ${restore.steps.map((s) => `${s.kind} ${s.detail ?? s.status}`).join('; ') || 'contain changed nothing'}.`)
      }

      return {
        ...base,
        action: 'incident.restore',
        description: `Restore key ${keyId} from the snapshot of ${record.id}: ${restore.steps.filter((s) => s.status === 'planned').map((s) => (s.kind === 'recreate-grant' ? `recreate grant ${s.target}` : s.kind === 'restore-policy' ? 'put back the policy' : 'enable the key')).join(', ')}.`,
        kind: 'restore',
        possible: true,
        restore,
      }
    }

    default: {
      return no(`A ${record.action} cannot be undone with kmsctl undo: ${CANNOT[record.action] ?? 'there is no reverse operation'}.`)
    }
  }
}

/** Carries out a possible plan, journalled (action = the reverse, `reverses` = the entry). */
export async function runUndo(kms: KMSClient, journal: Journal, plan: UndoPlan, ctx: JournalContext, options: {pacer?: Pacer} = {}): Promise<UndoResult> {
  const pacer = options.pacer ?? new Pacer()
  const record = journal.readAll().find((r) => r.id === plan.entry)!
  if (plan.kind === 'restore') {
    const restore = await restoreFromEntry(kms, record, {journal: ctx, pacer})
    return {
      calls: [],
      entry: plan.entry,
      error: restore.status === 'restored' ? undefined : {code: 'FAILED', message: restore.reason ?? restore.steps.find((s) => s.error)?.error?.message ?? 'a step failed'},
      journalId: restore.journalId,
      restore,
      status: restore.status === 'restored' ? 'undone' : restore.status === 'partial' ? 'partial' : 'failed',
    }
  }

  if (plan.kind === 'recreate-grant') {
    const [r] = await recreateGrantsDetailed(kms, [plan.grant!], {
      ctx: {account: ctx.account, caller: ctx.caller, command: ctx.command, journal: ctx.journal, region: ctx.region},
      pacer,
      reverses: [plan.entry],
    })
    return {
      calls: [{...plan.calls[0], error: r.error, status: r.status === 'created' ? 'ok' : 'failed'}],
      entry: plan.entry,
      error: r.error,
      grantId: r.grantId,
      journalId: r.journalId,
      status: r.status === 'created' ? 'undone' : 'failed',
    }
  }

  const entry = ctx.journal.begin({
    account: ctx.account,
    action: plan.action!,
    before: plan.before,
    caller: ctx.caller,
    command: ctx.command,
    key: plan.key,
    region: ctx.region,
    request: aliasRequest(plan) ?? (plan.calls.length === 1 ? plan.calls[0].input : {calls: plan.calls}),
    reverses: plan.entry,
    ...(ctx.role ? {role: ctx.role} : {}),
  })
  const sdk = (await kmsSdk()) as unknown as Record<string, new (input: unknown) => unknown>
  const calls: UndoResult['calls'] = plan.calls.map((c) => ({...c, status: 'not-sent'}))
  let error: {code: string; message: string} | undefined
  for (const call of calls) {
    const Command = sdk[`${call.operation}Command`]
    try {
      // eslint-disable-next-line no-await-in-loop
      await pacedCall(pacer, call.operation, () => kms.send(new Command(call.input) as never))
      call.status = 'ok'
    } catch (error_) {
      const e = fromAwsError(error_, {key: plan.key?.keyId, operation: call.operation})
      call.status = 'failed'
      call.error = {code: e.code, message: e.message}
      error = call.error
      break
    }
  }

  const ok = calls.filter((c) => c.status === 'ok').length
  const status = error ? (ok > 0 ? 'partial' : 'failed') : 'undone'
  ctx.journal.finish(entry.id, {
    after: afterOf(plan, calls),
    error,
    status: status === 'undone' ? 'ok' : status,
  })
  return {calls, entry: plan.entry, error, journalId: entry.id, status}
}

/** Alias undos record their request in the shape alias commands use, so they can be undone in turn. */
function aliasRequest(plan: UndoPlan): unknown {
  if (!plan.action?.startsWith('alias.')) return undefined
  const input = plan.calls[0].input
  return {aliasName: input.AliasName, targetKeyId: input.TargetKeyId}
}

function afterOf(plan: UndoPlan, calls: UndoResult['calls']): unknown {
  const done = (op: string) => calls.some((c) => c.operation === op && c.status === 'ok')
  switch (plan.action) {
    case 'key.enable': {
      return done('EnableKey') ? {state: 'Enabled'} : undefined
    }

    case 'key.disable': {
      return done('DisableKey') ? {state: 'Disabled'} : undefined
    }

    case 'key.cancel-deletion': {
      return {state: done('EnableKey') ? 'Enabled' : done('CancelKeyDeletion') ? 'Disabled' : 'PendingDeletion'}
    }

    case 'alias.create':
    case 'alias.update': {
      return {aliasName: plan.calls[0].input.AliasName, targetKeyId: plan.calls[0].input.TargetKeyId}
    }

    case 'alias.delete': {
      return {aliasName: plan.calls[0].input.AliasName, deleted: true}
    }

    case 'policy.put': {
      return {policy: plan.calls[0].input.Policy}
    }

    default: {
      return undefined
    }
  }
}
