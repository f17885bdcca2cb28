// Revoking and retiring grants. Each grant's full definition goes to the journal BEFORE the call
// that removes it, so that `kmsctl grant recreate` can make an equivalent grant again.
import type {KMSClient} from '@aws-sdk/client-kms'

import {kmsSdk} from '../aws/sdk.js'
import {KmsctlError, fromAwsError} from '../errors.js'
import {type ChangeContext, journaled, newBatchId, newJournalId} from '../journal.js'
import {parseKeyRef, resolveKey} from '../key-ref.js'
import {Pacer} from '../pacing.js'
import {type GrantInfo, type KeyFailure, keyIdOf, listKeyGrants, scanAllGrants, toGrantListEntry} from './list.js'


export type RevokeStatus = 'already-gone' | 'failed' | 'revoked'

export interface RevokeResult {
  grant: GrantInfo
  status: RevokeStatus
  /** The journal entry holding the grant's definition. */
  journalId: string
  error?: {code: string; message: string; remedy?: string}
}

export interface RevokeOptions {
  ctx: ChangeContext
  /** Groups the journal entries; one is made when absent and there is more than one grant. */
  batch?: string
  pacer?: Pacer
  /** Called as each grant finishes. */
  onResult?: (result: RevokeResult, done: number, total: number) => void
  /** 'revoke' (RevokeGrant, default) or 'retire' (RetireGrant by key ARN and grant ID). */
  mode?: 'retire' | 'revoke'
}

/**
 * Revokes (or retires) grants, paced below the RevokeGrant/RetireGrant quota (15/s). For each grant:
 * journal entry with the full grant definition, then the call, then the outcome. A grant that is
 * already gone (NotFoundException) is reported as such, not as a failure.
 */
export async function revokeGrants(kms: KMSClient, grants: readonly GrantInfo[], options: RevokeOptions): Promise<RevokeResult[]> {
  const sdk = await kmsSdk()
  const mode = options.mode ?? 'revoke'
  const operation = mode === 'retire' ? 'RetireGrant' : 'RevokeGrant'
  const pacer = options.pacer ?? new Pacer({concurrency: 8})
  const {ctx} = options
  const batch = options.batch ?? (grants.length > 1 ? newBatchId() : undefined)
  let done = 0
  return Promise.all(
    grants.map((g) =>
      pacer.run(operation, async (): Promise<RevokeResult> => {
        const request = {GrantId: g.grantId, KeyId: g.keyArn || g.keyId}
        const entry = ctx.journal.begin({
          account: ctx.account,
          action: mode === 'retire' ? 'grant.retire' : 'grant.revoke',
          batch,
          before: toGrantListEntry(g),
          caller: ctx.caller,
          command: ctx.command,
          key: {aliases: g.aliases, arn: g.keyArn || undefined, keyId: g.keyId},
          region: ctx.region,
          request,
          ...(ctx.role ? {role: ctx.role} : {}),
        })
        let result: RevokeResult
        try {
          await (mode === 'retire' ? kms.send(new sdk.RetireGrantCommand(request)) : kms.send(new sdk.RevokeGrantCommand(request)))
          ctx.journal.finish(entry.id, {status: 'ok'})
          result = {grant: g, journalId: entry.id, status: 'revoked'}
        } catch (error) {
          const e = fromAwsError(error, {key: g.keyId, lookedUp: `grant ${g.grantId}`, operation})
          if (e.code === 'NOT_FOUND') {
            ctx.journal.finish(entry.id, {error: {code: e.code, message: e.message}, status: 'skipped'})
            result = {error: {code: e.code, message: 'The grant no longer exists.'}, grant: g, journalId: entry.id, status: 'already-gone'}
          } else {
            ctx.journal.finish(entry.id, {error: {code: e.code, message: e.message}, status: 'failed'})
            result = {error: {code: e.code, message: e.message, remedy: e.remedy}, grant: g, journalId: entry.id, status: 'failed'}
          }
        }

        options.onResult?.(result, ++done, grants.length)
        return result
      }),
    ),
  )
}

export interface RevokeSelection {
  /** One key (key ID or ARN): its grants only. Absent: every customer-managed key. */
  keyArn?: string
  keyId?: string
  aliases?: string[]
  /** Every grant of the key. */
  all?: boolean
  grantee?: string
  grantId?: string
}

export interface SelectedGrants {
  grants: GrantInfo[]
  /** Keys looked at (1 for one key). */
  keysScanned: number
  /** Keys whose grants could not be listed during a scan. */
  failures: KeyFailure[]
}

/** The grants a bulk revoke would remove. Sends only ListKeys, ListAliases and ListGrants. */
export async function selectGrants(kms: KMSClient, sel: RevokeSelection, options: {pacer?: Pacer; onProgress?: (done: number, total: number, found: number) => void} = {}): Promise<SelectedGrants> {
  const pacer = options.pacer ?? new Pacer({concurrency: 16})
  if (sel.keyArn) {
    const grants = await listKeyGrants(kms, sel.keyArn, {grantee: sel.grantee, grantId: sel.grantId, pacer})
    for (const g of grants) {
      g.aliases = sel.aliases
      if (sel.keyId) g.keyId = sel.keyId
    }

    return {failures: [], grants, keysScanned: 1}
  }

  if (!sel.grantee && !sel.grantId) {
    throw new KmsctlError('USAGE', 'Revoking across keys needs --grantee.', {remedy: 'Try this: kmsctl grant revoke --grantee arn:aws:iam::111122223333:role/app'})
  }

  const scan = await scanAllGrants(kms, {grantId: sel.grantId, grantee: sel.grantee, onProgress: options.onProgress, pacer})
  return {failures: scan.failures, grants: scan.grants, keysScanned: scan.keysScanned}
}

export interface RetireByTokenResult {
  journalId: string
}

/**
 * Retires a grant by its grant token (the grantee or retiring principal often has no rights to
 * list the key's grants). The token itself is not written to the journal.
 */
export async function retireByToken(kms: KMSClient, token: string, ctx: ChangeContext): Promise<RetireByTokenResult> {
  const {RetireGrantCommand} = await kmsSdk()
  const {entry} = await journaled(
    ctx.journal,
    {
      account: ctx.account,
      action: 'grant.retire',
      before: null,
      caller: ctx.caller,
      command: ctx.command?.map((a, i, all) => (all[i - 1] === '--token' ? '(grant token)' : a.startsWith('--token=') ? '--token=(grant token)' : a)),
      region: ctx.region,
      request: {GrantToken: '(grant token)'},
    },
    async () => {
      try {
        await kms.send(new RetireGrantCommand({GrantToken: token}))
      } catch (error) {
        throw fromAwsError(error, {lookedUp: 'the grant of this token', operation: 'RetireGrant'})
      }
    },
  )
  return {journalId: entry.id}
}

export interface LookedUpGrant {
  grant: GrantInfo
  /** false when the grant could not be read (kms:ListGrants denied): only its ID is known. */
  readable: boolean
  /** Why it could not be read. */
  reason?: string
}

/**
 * One grant of a key, read before it is removed so that the journal holds its definition. When the
 * caller may not list the key's grants (a retiring principal often may not), the grant is still
 * returned, with only its ID, and `readable: false`. A grant that does not exist is NOT_FOUND.
 */
export async function lookupGrant(kms: KMSClient, key: {keyArn: string; keyId: string; aliases?: string[]}, grantId: string): Promise<LookedUpGrant> {
  try {
    const [grant] = await listKeyGrants(kms, key.keyArn, {grantId})
    if (!grant) {
      throw new KmsctlError('NOT_FOUND', `Grant ${grantId} does not exist on key ${key.keyId}.`, {
        remedy: `List the key's grants: kmsctl grant list ${key.keyId}`,
      })
    }

    grant.keyId = key.keyId
    grant.aliases = key.aliases
    return {grant, readable: true}
  } catch (error) {
    const e = fromAwsError(error, {key: key.keyId, operation: 'ListGrants'})
    if (e.code !== 'ACCESS_DENIED') throw e
    return {
      grant: {aliases: key.aliases, grantId, keyArn: key.keyArn, keyId: key.keyId, operations: []},
      readable: false,
      reason: e.message,
    }
  }
}

export interface GrantKey {
  keyArn: string
  keyId: string
  /** The reference as given (an alias when one was used). */
  ref: string
}

/**
 * The key of a grant to remove. A key ARN is used as given (the retiring principal or grantee may
 * not be allowed to describe the key); anything else is resolved with DescribeKey.
 */
export async function keyForGrant(kms: KMSClient, ref: string): Promise<GrantKey> {
  const parsed = parseKeyRef(ref)
  if (parsed.kind === 'key-arn') return {keyArn: parsed.raw, keyId: keyIdOf(parsed.raw), ref}
  const key = await resolveKey(kms, ref)
  return {keyArn: key.arn, keyId: key.keyId, ref}
}

/** The error of a failed single-grant result, to throw. */
export function resultError(result: RevokeResult): KmsctlError {
  return new KmsctlError((result.error?.code ?? 'FAILED') as KmsctlError['code'], result.error?.message ?? 'The request failed.', {
    details: {journalId: result.journalId},
    remedy: result.error?.remedy,
  })
}
