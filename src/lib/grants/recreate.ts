// Making revoked grants again from their journalled definitions. KMS cannot restore a revoked
// grant: a recreated grant is a new grant with the same key, grantee, operations, constraints,
// retiring principal and name, and a NEW grant ID and token.
import type {CreateGrantRequest, GrantListEntry, KMSClient} from '@aws-sdk/client-kms'

import {kmsSdk} from '../aws/sdk.js'
import {KmsctlError, fromAwsError} from '../errors.js'
import type {ChangeContext, Journal, JournalRecord} from '../journal.js'
import {Pacer} from '../pacing.js'
import {keyIdOf} from './list.js'

/** The CreateGrant request that makes a grant equivalent to a listed (or journalled) one. */
export function createRequestFor(entry: GrantListEntry): CreateGrantRequest {
  if (!entry.KeyId || !entry.GranteePrincipal || !entry.Operations || entry.Operations.length === 0) {
    throw new KmsctlError('USAGE', `The definition of grant ${entry.GrantId ?? '(unknown)'} is incomplete (key, grantee and operations are needed).`, {
      remedy: 'Create the grant by hand with kmsctl grant create.',
    })
  }

  const request: CreateGrantRequest = {
    GranteePrincipal: entry.GranteePrincipal,
    KeyId: entry.KeyId,
    Operations: [...entry.Operations],
  }
  if (entry.RetiringPrincipal) request.RetiringPrincipal = entry.RetiringPrincipal
  if (entry.Name) request.Name = entry.Name
  const c = entry.Constraints
  if (c?.EncryptionContextEquals && Object.keys(c.EncryptionContextEquals).length > 0) {
    request.Constraints = {EncryptionContextEquals: {...c.EncryptionContextEquals}}
  } else if (c?.EncryptionContextSubset && Object.keys(c.EncryptionContextSubset).length > 0) {
    request.Constraints = {EncryptionContextSubset: {...c.EncryptionContextSubset}}
  }

  return request
}

export interface RecreateResult {
  /** The grant as it was before it was revoked. */
  source: GrantListEntry
  request: CreateGrantRequest
  status: 'created' | 'failed'
  /** The new grant's ID (never the old one, unless the old grant still exists with the same name). */
  grantId?: string
  grantToken?: string
  error?: {code: string; message: string}
  /** The journal entry of the new grant, when a journal context was given. */
  journalId?: string
}

export interface RecreateOptions {
  pacer?: Pacer
  /** Journal the new grants (action grant.create) when given. */
  ctx?: ChangeContext
  /** For each grant, the journal entry that removed it (recorded as `reverses`). */
  reverses?: ReadonlyArray<string | undefined>
  batch?: string
  onResult?: (result: RecreateResult, done: number, total: number) => void
}

/** Recreates grants, paced below the CreateGrant quota (50/s); one result per grant, in order. */
export async function recreateGrantsDetailed(kms: KMSClient, grants: readonly GrantListEntry[], options: RecreateOptions = {}): Promise<RecreateResult[]> {
  const {CreateGrantCommand} = await kmsSdk()
  const pacer = options.pacer ?? new Pacer({concurrency: 8})
  const requests = grants.map((g) => createRequestFor(g))
  let done = 0
  return Promise.all(
    grants.map((source, i) =>
      pacer.run('CreateGrant', async (): Promise<RecreateResult> => {
        const request = requests[i]
        const {ctx} = options
        const entry = ctx?.journal.begin({
          account: ctx.account,
          action: 'grant.create',
          batch: options.batch,
          before: null,
          caller: ctx.caller,
          command: ctx.command,
          key: {arn: request.KeyId, keyId: keyIdOf(request.KeyId ?? '')},
          region: ctx.region,
          request,
          reverses: options.reverses?.[i],
          ...(ctx?.role ? {role: ctx.role} : {}),
        })
        let result: RecreateResult
        try {
          const out = await kms.send(new CreateGrantCommand(request))
          if (entry) ctx!.journal.finish(entry.id, {after: {grantId: out.GrantId, keyArn: request.KeyId, replaces: source.GrantId}, status: 'ok'})
          result = {grantId: out.GrantId, grantToken: out.GrantToken, journalId: entry?.id, request, source, status: 'created'}
        } catch (error) {
          const e = fromAwsError(error, {key: keyIdOf(request.KeyId ?? ''), operation: 'CreateGrant'})
          if (entry) ctx!.journal.finish(entry.id, {error: {code: e.code, message: e.message}, status: 'failed'})
          result = {error: {code: e.code, message: e.message}, journalId: entry?.id, request, source, status: 'failed'}
        }

        options.onResult?.(result, ++done, grants.length)
        return result
      }),
    ),
  )
}

/**
 * Recreates grants and returns their new grant IDs, in the order given. When any grant cannot be
 * made, throws a PARTIAL_FAILURE error whose details list the IDs made and the failures.
 */
export async function recreateGrants(kms: KMSClient, grants: readonly GrantListEntry[], options: RecreateOptions = {}): Promise<string[]> {
  const results = await recreateGrantsDetailed(kms, grants, options)
  const failed = results.filter((r) => r.status === 'failed')
  if (failed.length > 0) {
    const created = results.filter((r) => r.status === 'created')
    throw new KmsctlError(
      created.length > 0 ? 'PARTIAL_FAILURE' : 'FAILED',
      `Recreated ${created.length} of ${results.length} grants; ${failed.length} failed: ${failed[0].error?.message ?? ''}`,
      {
        details: {
          created: created.map((r) => ({grantId: r.grantId, replaces: r.source.GrantId})),
          failed: failed.map((r) => ({error: r.error, grantId: r.source.GrantId, keyId: r.source.KeyId})),
        },
      },
    )
  }

  return results.map((r) => r.grantId ?? '')
}

/** One journalled grant removal, and whether grant recreate should make it again. */
export interface JournalledGrant {
  record: JournalRecord
  grant?: GrantListEntry
  /** Why it is not recreated, when it is not. */
  skip?: string
  /** The outcome of the removal was never recorded (the process stopped mid-call). */
  unfinished?: boolean
}

const REMOVALS = new Set(['grant.retire', 'grant.revoke'])

function isGrantEntry(value: unknown): value is GrantListEntry {
  const v = value as GrantListEntry | null
  return Boolean(v && typeof v === 'object' && v.GrantId && v.KeyId && v.GranteePrincipal && Array.isArray(v.Operations))
}

/**
 * The grants held by a journal entry ID (or a unique prefix of one) or a batch ID, each with the
 * reason it will not be recreated, if any: the removal failed or found the grant already gone,
 * the definition was not recorded, or the grant was already recreated.
 */
export function grantsFromJournal(journal: Journal, id: string): JournalledGrant[] {
  const all = journal.readAll()
  const single = all.find((r) => r.id === id) ?? (() => {
    const m = all.filter((r) => r.id.startsWith(id))
    return m.length === 1 ? m[0] : undefined
  })()
  let records: JournalRecord[]
  if (single) {
    if (!REMOVALS.has(single.action)) {
      throw new KmsctlError('USAGE', `Journal entry ${single.id} is a ${single.action}, not a grant revoke or retire.`, {
        remedy: 'Try this: kmsctl journal list --action grant.revoke (or give the batch ID that grant revoke printed)',
      })
    }

    records = [single]
  } else {
    records = all.filter((r) => r.batch === id && REMOVALS.has(r.action))
    if (records.length === 0) {
      throw new KmsctlError('NOT_FOUND', `No grant revoke in the journal has the ID or batch ID "${id}".`, {
        remedy: 'Try this: the journal ID or batch ID that kmsctl grant revoke printed (kmsctl journal list)',
      })
    }
  }

  const recreatedFrom = new Map<string, string>()
  for (const r of all) {
    if (r.reverses && r.action === 'grant.create' && r.outcome?.status === 'ok') {
      recreatedFrom.set(r.reverses, String((r.outcome.after as {grantId?: string} | undefined)?.grantId ?? r.id))
    }
  }

  return records.map((record): JournalledGrant => {
    const grant = isGrantEntry(record.before) ? record.before : undefined
    if (!grant) return {record, skip: 'its definition was not recorded (the grant could not be read before it was removed)'}
    if (recreatedFrom.has(record.id)) return {grant, record, skip: `already recreated as ${recreatedFrom.get(record.id)}`}
    const status = record.outcome?.status
    if (status === 'failed') return {grant, record, skip: 'the revoke failed, so the grant was not removed'}
    if (status === 'skipped') return {grant, record, skip: 'the grant was already gone when it was revoked'}
    return {grant, record, unfinished: status === undefined}
  })
}
