// The undo of grant changes: a revoked or retired grant is recreated with its original parameters
// (KMS gives it a new ID); a created grant is revoked.
import type {GrantListEntry} from '@aws-sdk/client-kms'

import {listAllGrants} from '../aws/paging.js'
import {fromAwsError} from '../errors.js'
import {grantSignature} from '../incident/snapshot.js'
import {type Reverser, asObject, currentKey} from '../undo/reverser.js'
import {recreateGrantsDetailed} from './recreate.js'

function isGrant(v: unknown): v is GrantListEntry {
  const g = v as GrantListEntry | null
  return Boolean(g && typeof g === 'object' && g.GrantId && g.GranteePrincipal && Array.isArray(g.Operations))
}

const recreateReverser: Reverser = {
  async plan({base, kms, no, pacer, record}) {
    const keyId = record.key?.keyId ?? ''
    const b = record.before
    const grant = isGrant(b) ? b : isGrant(asObject(b).grant) ? (asObject(b).grant as GrantListEntry) : undefined
    if (!grant) return no('The entry does not hold the grant\'s definition, so it cannot be recreated.')
    const gkey = grant.KeyId ?? keyId
    const now = await currentKey(kms, gkey, pacer)
    if (now.gone) return no(`The key ${keyId} no longer exists: its grants cannot be recreated.`)
    const grants = await listAllGrants(kms, gkey, pacer).catch((error) => {
      throw fromAwsError(error, {key: gkey, operation: 'ListGrants'})
    })
    if (grants.some((g) => g.GrantId === grant.GrantId)) return {...no(`Grant ${grant.GrantId} still exists: nothing to undo.`), alreadyReversed: true}
    if (grants.some((g) => grantSignature(g) === grantSignature(grant))) {
      return {...no(`An equivalent grant already exists on ${keyId} (same grantee, operations, constraints, retiring principal and name): nothing to undo.`), alreadyReversed: true}
    }

    return {
      ...base,
      action: 'grant.create',
      calls: [{input: {GranteePrincipal: grant.GranteePrincipal, KeyId: gkey, Name: grant.Name, Operations: grant.Operations}, operation: 'CreateGrant'}],
      description: `Recreate grant ${grant.GrantId} for ${grant.GranteePrincipal} (${(grant.Operations ?? []).join(', ')}) with its original parameters; KMS gives it a new ID.`,
      grant,
      kind: 'recreate-grant',
      possible: true,
    }
  },
  async run({ctx, kms, pacer, plan}) {
    const [r] = await recreateGrantsDetailed(kms, [plan.grant!], {batch: ctx.batch, ctx, pacer, reverses: [plan.entry]})
    return {
      calls: [{...plan.calls[0], error: r.error, status: r.status === 'created' ? 'ok' : 'failed'}],
      entry: plan.entry,
      error: r.error,
      grantId: r.grantId,
      journalId: r.journalId,
      status: r.status === 'created' ? 'undone' : 'failed',
    }
  },
  text: 'recreate the grant with its original parameters (new grant ID)',
}

const revokeCreatedReverser: Reverser = {
  async plan({base, kms, no, pacer, record}) {
    const after = asObject(record.outcome?.after)
    const grantId = after.grantId as string | undefined
    if (!grantId) return no('The entry does not record the new grant\'s ID.')
    const gkey = record.key?.keyId || String(after.keyArn ?? '')
    const now = await currentKey(kms, gkey, pacer)
    if (now.gone) return no(`The key ${gkey} no longer exists: its grants went with it.`)
    const grants = await listAllGrants(kms, gkey, pacer).catch((error) => {
      throw fromAwsError(error, {key: gkey, operation: 'ListGrants'})
    })
    const grant = grants.find((g) => g.GrantId === grantId)
    if (!grant) return {...no(`Grant ${grantId} no longer exists: nothing to undo.`), alreadyReversed: true}
    return {
      ...base,
      action: 'grant.revoke',
      before: grant,
      calls: [{input: {GrantId: grantId, KeyId: gkey}, operation: 'RevokeGrant'}],
      description: `Revoke grant ${grantId} (${grant.GranteePrincipal}, ${(grant.Operations ?? []).join(', ')}).`,
      possible: true,
    }
  },
  text: 'revoke the grant',
}

export const grantUndo: Record<'grant.create' | 'grant.retire' | 'grant.revoke', Reverser> = {
  'grant.create': revokeCreatedReverser,
  'grant.retire': recreateReverser,
  'grant.revoke': recreateReverser,
}
