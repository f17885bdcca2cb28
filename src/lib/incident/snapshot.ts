// Everything needed to put a key back as it was: state, key policy, grants, aliases, tags and
// rotation. Taken before `incident contain` changes anything, and stored in its journal entry.
import type {GrantListEntry, KMSClient, KeyMetadata} from '@aws-sdk/client-kms'

import {listAllAliases, listAllGrants, listTags} from '../aws/paging.js'
import {kmsSdk} from '../aws/sdk.js'
import {fromAwsError} from '../errors.js'
import {rotationNotApplicable} from '../inventory.js'
import {Pacer} from '../pacing.js'

export interface RotationSnapshot {
  enabled?: boolean
  periodDays?: number
  /** Why rotation does not apply, when it does not. */
  notApplicable?: string
}

export interface KeySnapshot {
  keyId: string
  arn: string
  state: string
  manager: string
  keySpec?: string
  description?: string
  /** The `default` key policy, verbatim. */
  policy?: string
  grants?: GrantListEntry[]
  aliases?: string[]
  tags?: Record<string, string>
  rotation?: RotationSnapshot
  /** Parts that could not be read, by operation, with the reason. */
  unavailable: Record<string, string>
  time: string
}

export async function getPolicy(kms: KMSClient, keyId: string, pacer: Pacer): Promise<string | undefined> {
  const {GetKeyPolicyCommand} = await kmsSdk()
  const out = await pacer.run('GetKeyPolicy', () => kms.send(new GetKeyPolicyCommand({KeyId: keyId, PolicyName: 'default'})))
  return out.Policy
}

async function getRotation(kms: KMSClient, m: KeyMetadata, pacer: Pacer): Promise<RotationSnapshot> {
  const reason = rotationNotApplicable(m)
  if (reason) return {notApplicable: reason}
  const {GetKeyRotationStatusCommand} = await kmsSdk()
  const out = await pacer.run('GetKeyRotationStatus', () => kms.send(new GetKeyRotationStatusCommand({KeyId: m.KeyId})))
  return {enabled: Boolean(out.KeyRotationEnabled), periodDays: out.RotationPeriodInDays}
}

/**
 * Reads everything restore needs. A part that cannot be read (not allowed, wrong state) is left
 * out and named in `unavailable`; the caller decides whether that part was needed.
 */
export async function snapshotKey(kms: KMSClient, metadata: KeyMetadata, options: {pacer?: Pacer; now?: Date} = {}): Promise<KeySnapshot> {
  const pacer = options.pacer ?? new Pacer()
  const keyId = metadata.KeyId ?? ''
  const unavailable: Record<string, string> = {}
  const soft = async <T>(op: string, fn: () => Promise<T>): Promise<T | undefined> => {
    try {
      return await fn()
    } catch (error) {
      unavailable[op] = fromAwsError(error, {key: keyId, operation: op}).message
      return undefined
    }
  }

  const [policy, grants, aliases, tags, rotation] = await Promise.all([
    soft('GetKeyPolicy', () => getPolicy(kms, keyId, pacer)),
    soft('ListGrants', () => listAllGrants(kms, keyId, pacer)),
    soft('ListAliases', async () => (await listAllAliases(kms, keyId, pacer)).map((a) => a.AliasName ?? '').filter(Boolean).sort()),
    soft('ListResourceTags', () => listTags(kms, keyId, pacer)),
    soft('GetKeyRotationStatus', () => getRotation(kms, metadata, pacer)),
  ])
  return {
    aliases,
    arn: metadata.Arn ?? '',
    description: metadata.Description,
    grants,
    keyId,
    keySpec: metadata.KeySpec,
    manager: metadata.KeyManager ?? '',
    policy,
    rotation,
    state: metadata.KeyState ?? '',
    tags,
    time: (options.now ?? new Date()).toISOString(),
    unavailable,
  }
}

/** Key policies compared by content: same JSON value whatever the whitespace. */
export function samePolicy(a: string | undefined, b: string | undefined): boolean {
  if (a === b) return true
  if (a === undefined || b === undefined) return false
  try {
    return JSON.stringify(sortDeep(JSON.parse(a))) === JSON.stringify(sortDeep(JSON.parse(b)))
  } catch {
    return false
  }
}

function sortDeep(v: unknown): unknown {
  if (Array.isArray(v)) return v.map((x) => sortDeep(x))
  if (v && typeof v === 'object') {
    return Object.fromEntries(Object.keys(v as object).sort().map((k) => [k, sortDeep((v as Record<string, unknown>)[k])]))
  }

  return v
}

/** A grant's parameters, for comparing grants by what they allow rather than by ID. */
export function grantSignature(g: GrantListEntry): string {
  const c = g.Constraints
  return JSON.stringify({
    constraints: c ? sortDeep({equals: c.EncryptionContextEquals ?? null, subset: c.EncryptionContextSubset ?? null}) : null,
    grantee: g.GranteePrincipal ?? '',
    name: g.Name ?? '',
    operations: [...(g.Operations ?? [])].sort(),
    retiring: g.RetiringPrincipal ?? '',
  })
}
