// Checks on a grant before anything is sent: the operations KMS allows for the key's type, the
// encryption-context constraints (one kind, at most 8 pairs, symmetric encryption keys only), and
// the form of principal ARNs, grant names, grant IDs and grant tokens.
import type {GrantConstraints, KeyMetadata} from '@aws-sdk/client-kms'

import {usageError} from '../errors.js'
import {splitList} from '../parse.js'

/** Every grant operation KMS knows, in the spelling CreateGrant takes. */
export const GRANT_OPERATIONS = [
  'CreateGrant',
  'Decapsulate',
  'Decrypt',
  'DeriveSharedSecret',
  'DescribeKey',
  'Encapsulate',
  'Encrypt',
  'GenerateDataKey',
  'GenerateDataKeyPair',
  'GenerateDataKeyPairWithoutPlaintext',
  'GenerateDataKeyWithoutPlaintext',
  'GenerateMac',
  'GetPublicKey',
  'ReEncryptFrom',
  'ReEncryptTo',
  'RetireGrant',
  'Sign',
  'Verify',
  'VerifyMac',
] as const

export type GrantOperationName = (typeof GRANT_OPERATIONS)[number]

/** Allowed for every key type. */
const COMMON: GrantOperationName[] = ['CreateGrant', 'DescribeKey', 'RetireGrant']

/** The kinds of key that allow different grant operations. */
export type GrantKeyType =
  | 'asymmetric ENCAPSULATE_DECAPSULATE'
  | 'asymmetric ENCRYPT_DECRYPT'
  | 'asymmetric KEY_AGREEMENT'
  | 'asymmetric SIGN_VERIFY'
  | 'HMAC'
  | 'symmetric encryption'

export const OPERATIONS_BY_KEY_TYPE: Readonly<Record<GrantKeyType, readonly GrantOperationName[]>> = {
  'asymmetric ENCAPSULATE_DECAPSULATE': [...COMMON, 'Decapsulate', 'Encapsulate', 'GetPublicKey'],
  'asymmetric ENCRYPT_DECRYPT': [...COMMON, 'Decrypt', 'Encrypt', 'GetPublicKey', 'ReEncryptFrom', 'ReEncryptTo'],
  'asymmetric KEY_AGREEMENT': [...COMMON, 'DeriveSharedSecret', 'GetPublicKey'],
  'asymmetric SIGN_VERIFY': [...COMMON, 'GetPublicKey', 'Sign', 'Verify'],
  HMAC: [...COMMON, 'GenerateMac', 'VerifyMac'],
  'symmetric encryption': [
    ...COMMON,
    'Decrypt',
    'Encrypt',
    'GenerateDataKey',
    'GenerateDataKeyPair',
    'GenerateDataKeyPairWithoutPlaintext',
    'GenerateDataKeyWithoutPlaintext',
    'ReEncryptFrom',
    'ReEncryptTo',
  ],
}

/** The grant-relevant type of a key, from its spec and usage. */
export function grantKeyType(m: Pick<KeyMetadata, 'KeySpec' | 'KeyUsage'> & {CustomerMasterKeySpec?: string}): GrantKeyType {
  const spec = m.KeySpec ?? m.CustomerMasterKeySpec ?? 'SYMMETRIC_DEFAULT'
  if (spec === 'SYMMETRIC_DEFAULT') return 'symmetric encryption'
  if (spec.startsWith('HMAC') || m.KeyUsage === 'GENERATE_VERIFY_MAC') return 'HMAC'
  switch (m.KeyUsage) {
    case 'SIGN_VERIFY': {
      return 'asymmetric SIGN_VERIFY'
    }

    case 'KEY_AGREEMENT': {
      return 'asymmetric KEY_AGREEMENT'
    }

    case 'ENCAPSULATE_DECAPSULATE': {
      return 'asymmetric ENCAPSULATE_DECAPSULATE'
    }

    default: {
      return 'asymmetric ENCRYPT_DECRYPT'
    }
  }
}

/** "a symmetric encryption key", "an HMAC key", "an asymmetric SIGN_VERIFY key". */
function aKey(keyType: GrantKeyType): string {
  return `${/^[aeiouH]/.test(keyType) ? 'an' : 'a'} ${keyType} key`
}

/**
 * Operations from `--operations` values (comma-separated or repeated), matched case-insensitively,
 * checked against the key type. Unknown or disallowed operations are a usage error naming the allowed ones.
 */
export function validateOperations(values: readonly string[] | string | undefined, keyType?: GrantKeyType): GrantOperationName[] {
  const requested = splitList(values)
  if (requested.length === 0) {
    throw usageError('No operations given.', 'Try this: --operations Decrypt,GenerateDataKey')
  }

  const out: GrantOperationName[] = []
  for (const raw of requested) {
    const op = GRANT_OPERATIONS.find((o) => o.toLowerCase() === raw.toLowerCase())
    if (!op) {
      const hint = /^reencrypt$/i.test(raw) ? 'ReEncryptFrom,ReEncryptTo' : keyType ? OPERATIONS_BY_KEY_TYPE[keyType].join(', ') : GRANT_OPERATIONS.join(', ')
      throw usageError(`"${raw}" is not a grant operation.`, `Try this: one of ${hint}`)
    }

    if (!out.includes(op)) out.push(op)
  }

  if (keyType) {
    const allowed = OPERATIONS_BY_KEY_TYPE[keyType]
    const refused = out.filter((op) => !allowed.includes(op))
    if (refused.length > 0) {
      throw usageError(
        `A grant on ${aKey(keyType)} cannot allow ${refused.join(', ')}.`,
        `Try this: operations allowed for this key: ${allowed.join(', ')}`,
        {allowed, keyType, refused},
      )
    }
  }

  return out
}

export const MAX_CONSTRAINT_PAIRS = 8
export const MAX_CONSTRAINT_VALUE_LENGTH = 384

/**
 * The grant constraint from --context-equals / --context-subset pairs. KMS takes one kind per
 * grant, at most 8 pairs, and none at all on asymmetric or HMAC keys. Keys are compared without
 * case in a constraint, so two keys that differ only by case are refused.
 */
export function validateConstraints(
  equals: Record<string, string>,
  subset: Record<string, string>,
  keyType?: GrantKeyType,
): GrantConstraints | undefined {
  const hasEquals = Object.keys(equals).length > 0
  const hasSubset = Object.keys(subset).length > 0
  if (!hasEquals && !hasSubset) return undefined
  if (hasEquals && hasSubset) {
    throw usageError('A grant takes one kind of encryption-context constraint: --context-equals or --context-subset, not both.', 'Try this: keep only one of the two flags')
  }

  const flag = hasEquals ? 'context-equals' : 'context-subset'
  const pairs = hasEquals ? equals : subset
  if (keyType && keyType !== 'symmetric encryption') {
    throw usageError(
      `--${flag} is not allowed on ${aKey(keyType)}: KMS accepts encryption-context constraints only on symmetric encryption keys.`,
      'Try this: drop the constraint, or grant on a symmetric encryption key',
    )
  }

  const keys = Object.keys(pairs)
  if (keys.length > MAX_CONSTRAINT_PAIRS) {
    throw usageError(`--${flag} gives ${keys.length} pairs; KMS allows at most ${MAX_CONSTRAINT_PAIRS}.`, `Try this: keep ${MAX_CONSTRAINT_PAIRS} pairs or fewer`)
  }

  const seen = new Map<string, string>()
  for (const k of keys) {
    const lower = k.toLowerCase()
    if (seen.has(lower)) {
      throw usageError(`--${flag} gives "${seen.get(lower)}" and "${k}": keys in a grant constraint are not case sensitive.`, 'Try this: give each key once')
    }

    seen.set(lower, k)
    if (pairs[k].length > MAX_CONSTRAINT_VALUE_LENGTH) {
      throw usageError(`--${flag} value for "${k}" is ${pairs[k].length} characters; KMS allows at most ${MAX_CONSTRAINT_VALUE_LENGTH}.`, 'Try this: a shorter value')
    }
  }

  return hasEquals ? {EncryptionContextEquals: {...pairs}} : {EncryptionContextSubset: {...pairs}}
}

const IAM_ARN = /^arn:aws(-[a-z]+)*:(iam|sts)::\d{12}:(root|user\/.+|role\/.+|assumed-role\/[^/]+\/.+|federated-user\/.+)$/
const SERVICE_PRINCIPAL = /^[a-z0-9][a-z0-9.-]*\.amazonaws\.com(\.cn)?$/

/**
 * A grantee or retiring principal: an IAM or STS ARN (account root, user, role, assumed role,
 * federated user) or an AWS service principal (dynamodb.amazonaws.com).
 */
export function validatePrincipal(value: string, flag: string): string {
  const v = value.trim()
  if (IAM_ARN.test(v) || SERVICE_PRINCIPAL.test(v)) return v
  if (/^\d{12}$/.test(v)) {
    throw usageError(`--${flag} "${value}" is an account ID; grants take a principal ARN.`, `Try this: --${flag} arn:aws:iam::${v}:root`)
  }

  throw usageError(
    `--${flag} "${value}" is not a principal ARN.`,
    `Try this: --${flag} arn:aws:iam::111122223333:role/app (or :user/NAME, :root, arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION)`,
  )
}

const GRANT_NAME = /^[a-zA-Z0-9:/_-]+$/

export function validateGrantName(name: string): string {
  if (name.length === 0 || name.length > 256 || !GRANT_NAME.test(name)) {
    throw usageError(`--name "${name}" is not a grant name (1-256 characters: letters, digits, ":", "/", "_", "-").`, 'Try this: --name app-decrypt')
  }

  return name
}

export function validateGrantId(id: string, where = 'GRANT_ID'): string {
  const v = id.trim()
  if (v.length === 0 || v.length > 128 || !/^[a-zA-Z0-9]+$/.test(v)) {
    throw usageError(`${where} "${id}" is not a grant ID.`, 'Try this: the 64-character grant ID that kmsctl grant list shows')
  }

  return v
}

export function validateGrantToken(token: string): string {
  const v = token.trim()
  if (v.length === 0 || v.length > 8192 || /\s/.test(v)) {
    throw usageError('--token is not a grant token.', 'Try this: the token printed by kmsctl grant create (or returned by CreateGrant)')
  }

  return v
}
