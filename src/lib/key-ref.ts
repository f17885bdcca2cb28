// Key references: every command that takes a key accepts a key ID, a key ARN, an alias name
// (alias/name) or an alias ARN, and resolves it once with DescribeKey. An unknown alias is an
// error that lists the closest existing aliases.
import type {AliasListEntry, KMSClient, KeyMetadata} from '@aws-sdk/client-kms'

import {listAllAliases} from './aws/paging.js'
import {kmsSdk} from './aws/sdk.js'
import {KmsctlError, fromAwsError, usageError} from './errors.js'
import {closestNames} from './suggest.js'

export type KeyRefKind = 'alias-arn' | 'alias-name' | 'key-arn' | 'key-id'

export interface ParsedKeyRef {
  kind: KeyRefKind
  /** The reference exactly as given. */
  raw: string
  account?: string
  region?: string
}

const KEY_ID = /^(mrk-[0-9a-f]{32}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/
const ALIAS_NAME = /^alias\/[a-zA-Z0-9/_-]{1,250}$/
const ARN = /^arn:(aws[a-z-]*):kms:([a-z0-9-]+):(\d{12}):(key|alias)\/(.+)$/

/** Classifies a key reference; a malformed one is a usage error (exit 2) before anything is sent. */
export function parseKeyRef(raw: string): ParsedKeyRef {
  const ref = raw.trim()
  if (KEY_ID.test(ref)) return {kind: 'key-id', raw: ref}
  if (ALIAS_NAME.test(ref)) return {kind: 'alias-name', raw: ref}
  const arn = ARN.exec(ref)
  if (arn) {
    const [, , region, account, type, rest] = arn
    if (type === 'key' && KEY_ID.test(rest)) return {account, kind: 'key-arn', raw: ref, region}
    if (type === 'alias' && ALIAS_NAME.test(`alias/${rest}`)) return {account, kind: 'alias-arn', raw: ref, region}
  }

  if (/^[a-zA-Z0-9/_-]+$/.test(ref) && !ref.startsWith('alias/') && !ref.includes('/') && ref.length < 64 && !/^[0-9a-f-]{36}$/.test(ref)) {
    throw usageError(`"${raw}" is not a key ID, key ARN, alias name or alias ARN.`, `Try this: alias/${ref} (alias names start with "alias/")`)
  }

  throw usageError(
    `"${raw}" is not a key ID, key ARN, alias name or alias ARN.`,
    'Try this: a key ID (1234abcd-12ab-34cd-56ef-1234567890ab), alias/name, or an ARN (kmsctl key list shows them).',
  )
}

export interface ResolvedKey {
  /** The reference as the user gave it. */
  ref: string
  keyId: string
  arn: string
  metadata: KeyMetadata
}

/**
 * Resolves a reference to the key's metadata with one DescribeKey call. For an unknown alias the
 * error lists the closest existing aliases (ListAliases), unless `suggest` is false: callers that
 * only ask whether an alias exists have no use for them.
 */
export async function resolveKey(kms: KMSClient, ref: string, options: {suggest?: boolean} = {}): Promise<ResolvedKey> {
  const parsed = parseKeyRef(ref)
  const {DescribeKeyCommand} = await kmsSdk()
  try {
    const out = await kms.send(new DescribeKeyCommand({KeyId: parsed.raw}))
    const metadata = out.KeyMetadata
    if (!metadata?.KeyId || !metadata.Arn) throw new KmsctlError('AWS_ERROR', `DescribeKey returned no metadata for ${ref}.`)
    return {arn: metadata.Arn, keyId: metadata.KeyId, metadata, ref}
  } catch (error) {
    const name = (error as Error)?.name
    if (name === 'NotFoundException' && (parsed.kind === 'alias-name' || parsed.kind === 'alias-arn')) {
      const alias = parsed.kind === 'alias-name' ? parsed.raw : `alias/${parsed.raw.split(':alias/')[1]}`
      let suggestions: string[] = []
      if (options.suggest ?? true) {
        try {
          suggestions = closest(alias, (await listAllAliases(kms)).map((a) => a.AliasName ?? ''))
        } catch {
          // Listing aliases may be denied; the error below stands on its own.
        }
      }

      throw new KmsctlError('NOT_FOUND', `Alias ${alias} does not exist${parsed.region ? ` in ${parsed.region}` : ''}.`, {
        awsCode: 'NotFoundException',
        awsMessage: (error as Error).message,
        details: {alias, suggestions},
        remedy: suggestions.length > 0 ? `Did you mean: ${suggestions.join(', ')}?` : 'List the aliases with kmsctl alias list.',
      })
    }

    if (name === 'NotFoundException') {
      throw new KmsctlError('NOT_FOUND', `Key ${ref} does not exist${parsed.region ? ` in ${parsed.region}` : ' in this region'}.`, {
        awsCode: 'NotFoundException',
        awsMessage: (error as Error).message,
        remedy: 'Check the key ID and --region (kmsctl key list).',
      })
    }

    throw fromAwsError(error, {key: ref, operation: 'DescribeKey'})
  }
}

/** The alias names of one key, sorted (ListAliases with KeyId). */
export async function aliasNamesOf(kms: KMSClient, keyId: string): Promise<string[]> {
  return (await listAllAliases(kms, keyId)).map((a) => a.AliasName ?? '').filter(Boolean).sort()
}

/** Alias names by the key they point at, from a full alias listing (each key's names in listing order). */
export function aliasesByKey(aliases: readonly AliasListEntry[]): Map<string, string[]> {
  const byKey = new Map<string, string[]>()
  for (const a of aliases) {
    if (!a.TargetKeyId || !a.AliasName) continue
    byKey.set(a.TargetKeyId, [...(byKey.get(a.TargetKeyId) ?? []), a.AliasName])
  }

  return byKey
}

/** A key as the user named it, with its ID when that was not the ID: "alias/app (1234abcd-...)". */
export function keyLabel(ref: string, keyId: string): string {
  return ref === keyId ? keyId : `${ref} (${keyId})`
}

/** Up to three names closest to the one given (see suggest.ts). */
export const closest = closestNames

/** The key's aliases from a full alias listing. */
export function aliasesOf(keyId: string, aliases: readonly AliasListEntry[]): string[] {
  return aliases.filter((a) => a.TargetKeyId === keyId).map((a) => a.AliasName ?? '').filter(Boolean).sort()
}
