// Creating a key: the spec/usage combinations KMS accepts are checked before anything is sent,
// then CreateKey, and in the same command CreateAlias and EnableKeyRotation. A failure after
// CreateKey leaves the key in place: the result says which steps failed and names the key.
import type {CreateKeyRequest, KMSClient, KeyMetadata, KeySpec, KeyUsageType} from '@aws-sdk/client-kms'

import {readFileSync, statSync} from 'node:fs'

import {findAlias, validateAliasName} from './aliases.js'
import {kmsSdk} from './aws/sdk.js'
import {KmsctlError, fromAwsError, usageError} from './errors.js'
import type {PlannedRequest} from './output.js'
import {ROTATION_PERIOD_MAX, ROTATION_PERIOD_MIN, validateRotationPeriod} from './rotation.js'

/** Every key spec of the KMS API (the SDK's KeySpec enum). */
export const KEY_SPECS = [
  'SYMMETRIC_DEFAULT',
  'RSA_2048',
  'RSA_3072',
  'RSA_4096',
  'ECC_NIST_P256',
  'ECC_NIST_P384',
  'ECC_NIST_P521',
  'ECC_NIST_EDWARDS25519',
  'ECC_SECG_P256K1',
  'HMAC_224',
  'HMAC_256',
  'HMAC_384',
  'HMAC_512',
  'ML_DSA_44',
  'ML_DSA_65',
  'ML_DSA_87',
  'ML_KEM_512',
  'ML_KEM_768',
  'ML_KEM_1024',
  'SM2',
] as const satisfies readonly KeySpec[]

/** Every key usage of the KMS API (the SDK's KeyUsageType enum). */
export const KEY_USAGES = ['ENCRYPT_DECRYPT', 'SIGN_VERIFY', 'GENERATE_VERIFY_MAC', 'KEY_AGREEMENT', 'ENCAPSULATE_DECAPSULATE'] as const satisfies readonly KeyUsageType[]

/** Description: at most 8192 characters (CreateKey). */
export const DESCRIPTION_MAX_LENGTH = 8192
/** Key policy: at most 32,768 bytes. */
export const POLICY_MAX_BYTES = 32_768

/** The key usages KMS accepts for a key spec, the first being the one kmsctl picks when --usage is not given and there is only one. */
export function usagesFor(spec: KeySpec): KeyUsageType[] {
  if (spec === 'SYMMETRIC_DEFAULT') return ['ENCRYPT_DECRYPT']
  if (spec.startsWith('HMAC_')) return ['GENERATE_VERIFY_MAC']
  if (spec.startsWith('RSA_')) return ['ENCRYPT_DECRYPT', 'SIGN_VERIFY']
  if (spec === 'ECC_NIST_P256' || spec === 'ECC_NIST_P384' || spec === 'ECC_NIST_P521') return ['SIGN_VERIFY', 'KEY_AGREEMENT']
  if (spec === 'ECC_NIST_EDWARDS25519' || spec === 'ECC_SECG_P256K1' || spec.startsWith('ML_DSA_')) return ['SIGN_VERIFY']
  if (spec.startsWith('ML_KEM_')) return ['ENCAPSULATE_DECAPSULATE']
  if (spec === 'SM2') return ['ENCRYPT_DECRYPT', 'SIGN_VERIFY', 'KEY_AGREEMENT']
  return []
}

function normaliseEnum<T extends string>(raw: string, values: readonly T[], flag: string): T {
  const up = raw.trim().toUpperCase().replaceAll('-', '_')
  const match = values.find((v) => v === up)
  if (!match) throw usageError(`--${flag} "${raw}" is not a KMS key ${flag}.`, `Try this: one of ${values.join(', ')}`)
  return match
}

/**
 * Checks --spec and --usage together and returns the pair to send. Without --usage, the only
 * valid usage is chosen (HMAC, ECC_SECG_P256K1, ...), RSA and SM2 get KMS's default
 * ENCRYPT_DECRYPT, and a spec with two usages and no such default (ECC_NIST_*) is an error.
 */
export function resolveSpecUsage(rawSpec: string | undefined, rawUsage: string | undefined): {spec: KeySpec; usage: KeyUsageType} {
  const spec = rawSpec === undefined ? 'SYMMETRIC_DEFAULT' : normaliseEnum<KeySpec>(rawSpec, KEY_SPECS, 'spec')
  const valid = usagesFor(spec)
  if (rawUsage === undefined) {
    if (valid.length === 1) return {spec, usage: valid[0]}
    if (valid.includes('ENCRYPT_DECRYPT')) return {spec, usage: 'ENCRYPT_DECRYPT'}
    throw usageError(`--spec ${spec} needs --usage: ${valid.join(' or ')}.`, `Try this: --spec ${spec} --usage ${valid[0]}`)
  }

  const usage = normaliseEnum<KeyUsageType>(rawUsage, KEY_USAGES, 'usage')
  if (!valid.includes(usage)) {
    throw usageError(
      `--usage ${usage} is not valid for --spec ${spec}: KMS accepts ${valid.join(' or ')}.`,
      `Try this: --spec ${spec} --usage ${valid[0]}${usage === 'GENERATE_VERIFY_MAC' ? ' (or --spec HMAC_256 for a MAC key)' : ''}`,
    )
  }

  return {spec, usage}
}

export interface CreateKeyInput {
  description?: string
  spec?: string
  usage?: string
  alias?: string
  /** Tags as k=v pairs already parsed. */
  tags?: Record<string, string>
  /** Path of a key policy document. */
  policyFile?: string
  multiRegion?: boolean
  /** Enable automatic rotation with this period (90..2560 days). */
  rotationDays?: number
}

export interface CreateKeyPlan {
  createKey: CreateKeyRequest
  alias?: string
  rotationDays?: number
  /** The requests in order; later ones use <new key ID> until CreateKey answers. */
  requests: PlannedRequest[]
}

export const NEW_KEY_ID = '<new key ID>'

/** Reads and checks a key policy file: size, characters KMS accepts, and JSON syntax. */
export function readPolicyFile(path: string): string {
  let bytes: Buffer
  try {
    if (!statSync(path).isFile()) throw new Error('not a regular file')
    bytes = readFileSync(path)
  } catch (error) {
    throw usageError(`--policy-file ${path} cannot be read: ${(error as Error).message}`, 'Try this: --policy-file policy.json (check the path)')
  }

  if (bytes.length > POLICY_MAX_BYTES) {
    throw usageError(`--policy-file ${path} is ${bytes.length} bytes; KMS allows at most ${POLICY_MAX_BYTES}.`, 'Try this: remove statements or whitespace (kmsctl policy lint FILE)')
  }

  const text = bytes.toString('utf8')
  // Printable ASCII and Latin-1 (U+0020..U+00FF), plus tab, line feed and carriage return.
  const bad = /[^\t\n\r\u0020-\u007E\u00A0-\u00FF]/u.exec(text)
  if (bad) {
    throw usageError(
      `--policy-file ${path} has a character KMS does not accept in key policies (U+${bad[0].codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}).`,
      'Try this: printable ASCII or Latin-1 characters only',
    )
  }

  try {
    const doc = JSON.parse(text) as unknown
    if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw new Error('not a JSON object')
  } catch (error) {
    throw usageError(`--policy-file ${path} is not a JSON policy document: ${(error as Error).message}`, 'Try this: kmsctl policy lint FILE')
  }

  return text
}

/** Checks every flag and builds the exact requests; throws a usage error (exit 2) before anything is sent. */
export function planCreateKey(input: CreateKeyInput): CreateKeyPlan {
  const {spec, usage} = resolveSpecUsage(input.spec, input.usage)
  const alias = input.alias === undefined ? undefined : validateAliasName(input.alias, '--alias')
  if (input.description !== undefined && input.description.length > DESCRIPTION_MAX_LENGTH) {
    throw usageError(`--description is ${input.description.length} characters; KMS allows at most ${DESCRIPTION_MAX_LENGTH}.`, 'Try this: a shorter description')
  }

  if (input.rotationDays !== undefined) {
    validateRotationPeriod(input.rotationDays, '--rotation-days')
    if (spec !== 'SYMMETRIC_DEFAULT') {
      throw usageError(
        `--rotation-days applies to symmetric encryption keys only; ${spec} keys cannot rotate automatically.`,
        `Try this: leave out --rotation-days, or use --spec SYMMETRIC_DEFAULT (period ${ROTATION_PERIOD_MIN}..${ROTATION_PERIOD_MAX} days)`,
      )
    }
  }

  const tags = Object.entries(input.tags ?? {})
  for (const [k, v] of tags) {
    if (k.length > 128) throw usageError(`--tag key "${k.slice(0, 20)}..." is longer than 128 characters.`, 'Try this: a shorter tag key')
    if (v.length > 256) throw usageError(`--tag ${k} has a value longer than 256 characters.`, 'Try this: a shorter tag value')
    if (k.toLowerCase().startsWith('aws:')) throw usageError(`--tag ${k}: tag keys starting with "aws:" are reserved for AWS.`, 'Try this: another tag key')
  }

  const policy = input.policyFile === undefined ? undefined : readPolicyFile(input.policyFile)
  const createKey: CreateKeyRequest = {
    ...(input.description === undefined ? {} : {Description: input.description}),
    KeySpec: spec,
    KeyUsage: usage,
    ...(input.multiRegion ? {MultiRegion: true} : {}),
    ...(policy === undefined ? {} : {Policy: policy}),
    ...(tags.length > 0 ? {Tags: tags.map(([TagKey, TagValue]) => ({TagKey, TagValue}))} : {}),
  }
  const requests: PlannedRequest[] = [
    {input: {...createKey, ...(policy === undefined ? {} : {Policy: JSON.parse(policy) as unknown})}, operation: 'CreateKey'},
  ]
  if (alias) requests.push({input: {AliasName: alias, TargetKeyId: NEW_KEY_ID}, operation: 'CreateAlias'})
  if (input.rotationDays !== undefined) {
    requests.push({input: {KeyId: NEW_KEY_ID, RotationPeriodInDays: input.rotationDays}, operation: 'EnableKeyRotation'})
  }

  return {alias, createKey, requests, rotationDays: input.rotationDays}
}

/** Fails early, before a key is created, when the alias is already taken. */
export async function assertAliasFree(kms: KMSClient, alias: string): Promise<void> {
  const existing = await findAlias(kms, alias, {note: '; no key was created', remedy: 'Try this: choose another --alias'})
  if (!existing) return
  throw new KmsctlError('ALREADY_EXISTS', `${alias} already exists (it points at ${existing.keyId}); no key was created.`, {
    details: {aliasName: alias, targetKeyId: existing.keyId},
    exitCode: 2,
    remedy: 'Try this: choose another --alias, or create the key without it and move the alias with kmsctl alias update',
  })
}

export interface CreateStep {
  operation: string
  ok: boolean
  error?: {code: string; message: string}
}

export interface CreateKeyOutcome {
  keyId: string
  arn: string
  metadata: KeyMetadata
  alias?: string
  rotation?: {enabled: boolean; periodDays?: number}
  steps: CreateStep[]
  /** The steps after CreateKey that failed (the key exists regardless). */
  failed: CreateStep[]
}

/** Sends CreateKey, then CreateAlias and EnableKeyRotation; a failure of the later steps does not undo the key. */
export async function executeCreateKey(kms: KMSClient, plan: CreateKeyPlan): Promise<CreateKeyOutcome> {
  const sdk = await kmsSdk()
  let metadata: KeyMetadata | undefined
  try {
    metadata = (await kms.send(new sdk.CreateKeyCommand(plan.createKey))).KeyMetadata
  } catch (error) {
    throw fromAwsError(error, {operation: 'CreateKey'})
  }

  if (!metadata?.KeyId || !metadata.Arn) throw new KmsctlError('AWS_ERROR', 'CreateKey returned no key metadata.')
  const keyId = metadata.KeyId
  const steps: CreateStep[] = [{ok: true, operation: 'CreateKey'}]
  const outcome: CreateKeyOutcome = {arn: metadata.Arn, failed: [], keyId, metadata, steps}
  const attempt = async (operation: string, fn: () => Promise<unknown>): Promise<boolean> => {
    try {
      await fn()
      steps.push({ok: true, operation})
      return true
    } catch (error) {
      const e = fromAwsError(error, {key: keyId, lookedUp: operation === 'CreateAlias' ? `alias ${plan.alias}` : undefined, operation})
      const step = {error: {code: e.code, message: e.message}, ok: false, operation}
      steps.push(step)
      outcome.failed.push(step)
      return false
    }
  }

  if (plan.alias) {
    const alias = plan.alias
    if (await attempt('CreateAlias', () => kms.send(new sdk.CreateAliasCommand({AliasName: alias, TargetKeyId: keyId})))) outcome.alias = alias
  }

  if (plan.rotationDays !== undefined) {
    const days = plan.rotationDays
    const ok = await attempt('EnableKeyRotation', () => kms.send(new sdk.EnableKeyRotationCommand({KeyId: keyId, RotationPeriodInDays: days})))
    outcome.rotation = ok ? {enabled: true, periodDays: days} : {enabled: false}
  }

  return outcome
}
