// The KMS operations of the sandbox, with AWS's validation, key-state rules, errors and response shapes.
// Each operation takes the request's JSON input and an OpContext and returns the JSON output.
import {randomBytes} from 'node:crypto'

import {SANDBOX_ACCOUNT, SANDBOX_ROOT_ARN} from '../constants.js'
import {DAY_MS} from '../clock.js'
import {err, validationError} from '../errors.js'
import type {GrantRecord, KeyRecord, SandboxState, Tag} from '../state.js'
import type {OpContext} from './context.js'
import {
  ALL_SPECS,
  decryptSymmetric,
  digestLength,
  encryptSymmetric,
  encryptionAlgorithms,
  generateMaterial,
  hmac,
  isAsymmetric,
  isHmac,
  keyAgreementAlgorithms,
  macAlgorithms,
  macEquals,
  parseBlobHeader,
  publicKeyDer,
  rsaDecrypt,
  rsaEncrypt,
  rsaMaxPlaintext,
  signMessage,
  signingAlgorithms,
  usagesFor,
  verifyMessage,
} from './crypto.js'
import {
  REGION,
  aliasArn,
  blob,
  bool,
  context,
  dryRun,
  findKey,
  grantTokens,
  int,
  keyArn,
  keyFrom,
  keyMetadata,
  newKeyId,
  oneOf,
  page,
  relatedMultiRegionKeys,
  requireCustomerManaged,
  requireNotPendingDeletion,
  requireUsable,
  requireUsage,
  seconds,
  str,
} from './keys.js'
import {checkLockout, defaultKeyPolicy, validatePolicyDocument} from './policy.js'

export type Operation = (input: Record<string, any>, ctx: OpContext) => Record<string, unknown>

export interface OperationSpec {
  /** Changes state: always runs inside a store mutation. */
  mutates: boolean
  readOnly: boolean
  run: Operation
}

const b64 = (b: Buffer): string => b.toString('base64')
const ALIAS_NAME = /^alias\/[a-zA-Z0-9/_-]+$/
const MAX_ALIASES_PER_KEY = 50
const MAX_TAGS_PER_KEY = 50
const MAX_ON_DEMAND_ROTATIONS = 10
const GRANT_OPERATIONS = [
  'Decrypt', 'Encrypt', 'GenerateDataKey', 'GenerateDataKeyWithoutPlaintext', 'ReEncryptFrom', 'ReEncryptTo', 'Sign', 'Verify',
  'GetPublicKey', 'CreateGrant', 'RetireGrant', 'DescribeKey', 'GenerateDataKeyPair', 'GenerateDataKeyPairWithoutPlaintext',
  'GenerateMac', 'VerifyMac', 'DeriveSharedSecret',
]
const COMMON_GRANT_OPS = ['CreateGrant', 'RetireGrant', 'DescribeKey']

function grantOperationsFor(key: KeyRecord): string[] {
  if (key.keySpec === 'SYMMETRIC_DEFAULT') {
    return [...COMMON_GRANT_OPS, 'Decrypt', 'Encrypt', 'GenerateDataKey', 'GenerateDataKeyWithoutPlaintext', 'ReEncryptFrom', 'ReEncryptTo', 'GenerateDataKeyPair', 'GenerateDataKeyPairWithoutPlaintext']
  }

  if (isHmac(key.keySpec)) return [...COMMON_GRANT_OPS, 'GenerateMac', 'VerifyMac']
  if (key.keyUsage === 'SIGN_VERIFY') return [...COMMON_GRANT_OPS, 'Sign', 'Verify', 'GetPublicKey']
  if (key.keyUsage === 'KEY_AGREEMENT') return [...COMMON_GRANT_OPS, 'DeriveSharedSecret', 'GetPublicKey']
  return [...COMMON_GRANT_OPS, 'Encrypt', 'Decrypt', 'ReEncryptFrom', 'ReEncryptTo', 'GetPublicKey']
}

// ---- Shared pieces ---------------------------------------------------------------------------------
function validateTags(tags: unknown): Tag[] {
  if (tags === undefined || tags === null) return []
  if (!Array.isArray(tags)) throw err('SerializationException', "Expected a list at 'Tags'.")
  const seen = new Set<string>()
  for (const t of tags as Tag[]) {
    if (!t || typeof t.TagKey !== 'string') throw validationError('tags.member.tagKey', null, 'Member must not be null')
    if (typeof t.TagValue !== 'string') throw validationError('tags.member.tagValue', null, 'Member must not be null')
    if (t.TagKey.length === 0 || t.TagKey.length > 128) throw validationError('tags.member.tagKey', t.TagKey, 'Member must have length less than or equal to 128')
    if (t.TagValue.length > 256) throw validationError('tags.member.tagValue', t.TagValue, 'Member must have length less than or equal to 256')
    if (t.TagKey.toLowerCase().startsWith('aws:')) throw err('TagException', `Tag keys cannot begin with the reserved prefix "aws:": ${t.TagKey}`)
    if (seen.has(t.TagKey)) throw err('TagException', `Duplicate tag key: ${t.TagKey}`)
    seen.add(t.TagKey)
  }

  return (tags as Tag[]).map((t) => ({TagKey: t.TagKey, TagValue: t.TagValue}))
}

function checkPolicy(ctx: OpContext, policy: string, bypass: boolean | undefined, keyArn?: string): void {
  const statements = validatePolicyDocument(policy)
  if (bypass) return
  if (ctx.hooks.checkLockout) ctx.hooks.checkLockout(ctx, policy, keyArn, SANDBOX_ACCOUNT)
  else checkLockout(statements, ctx.principal.arn, SANDBOX_ACCOUNT)
}

function aliasNameFrom(input: Record<string, any>, forWrite: boolean): string {
  const name = str(input, 'AliasName', {max: 256, pattern: /^[a-zA-Z0-9:/_-]+$/, required: true})!
  if (!name.startsWith('alias/')) throw err('ValidationException', `Alias must start with the prefix "alias/". Please see https://docs.aws.amazon.com/kms/latest/developerguide/kms-alias.html`)
  if (!ALIAS_NAME.test(name)) throw validationError('aliasName', name, `Member must satisfy regular expression pattern: ${ALIAS_NAME.source}`)
  if (forWrite && name.startsWith('alias/aws/')) {
    throw err('NotAuthorizedException', `Cannot create, update or delete the alias ${name}: the alias/aws/ prefix is reserved for AWS managed keys.`)
  }

  return name
}

function targetKey(ctx: OpContext, input: Record<string, any>): KeyRecord {
  const ref = str(input, 'TargetKeyId', {max: 2048, required: true})!
  if (ref.startsWith('alias/') || /:alias\//.test(ref)) throw err('ValidationException', `TargetKeyId must be a key ID or key ARN, not an alias: ${ref}`)
  const key = findKey(ctx, ref)
  ctx.hooks.authorize(ctx, key, ctx.state, input)
  return key
}

function aliasesOf(state: SandboxState, key: KeyRecord) {
  return Object.values(state.aliases).filter((a) => a.targetKeyArn === key.arn)
}

function currentMaterial(key: KeyRecord) {
  return key.materials.at(-1)!
}

function encryptionAlgorithmFor(key: KeyRecord, requested: string | undefined): string {
  const allowed = encryptionAlgorithms(key) ?? []
  const algorithm = requested ?? 'SYMMETRIC_DEFAULT'
  if (!allowed.includes(algorithm)) {
    throw err('InvalidKeyUsageException', `${key.arn} does not support the encryption algorithm ${algorithm}. Supported: ${allowed.join(', ')}.`)
  }

  return algorithm
}

const ENCRYPTION_ALGORITHMS = ['SYMMETRIC_DEFAULT', 'RSAES_OAEP_SHA_1', 'RSAES_OAEP_SHA_256', 'SM2PKE']
const SIGNING_ALGORITHMS = [
  'RSASSA_PSS_SHA_256', 'RSASSA_PSS_SHA_384', 'RSASSA_PSS_SHA_512', 'RSASSA_PKCS1_V1_5_SHA_256', 'RSASSA_PKCS1_V1_5_SHA_384',
  'RSASSA_PKCS1_V1_5_SHA_512', 'ECDSA_SHA_256', 'ECDSA_SHA_384', 'ECDSA_SHA_512', 'SM2DSA', 'ML_DSA_SHAKE_256',
]
const MAC_ALGORITHMS = ['HMAC_SHA_224', 'HMAC_SHA_256', 'HMAC_SHA_384', 'HMAC_SHA_512']

function encryptWith(key: KeyRecord, algorithm: string, plaintext: Buffer, ctxMap: Record<string, string> | undefined): Buffer {
  if (algorithm === 'SYMMETRIC_DEFAULT') return encryptSymmetric(key.keyId, currentMaterial(key), plaintext, ctxMap)
  if (ctxMap && Object.keys(ctxMap).length > 0) throw err('ValidationException', 'EncryptionContext is not supported with asymmetric KMS keys.')
  const max = rsaMaxPlaintext(key.keySpec, algorithm)
  if (plaintext.length > max) throw err('ValidationException', `Plaintext is too long for ${key.keySpec} with ${algorithm}: at most ${max} bytes.`)
  return rsaEncrypt(currentMaterial(key), algorithm, plaintext)
}

/** Decrypts a blob for Decrypt and ReEncrypt; returns the key and plaintext. */
function decryptBlob(
  ctx: OpContext,
  input: Record<string, any>,
  blobMember: string,
  keyMember: string,
  ctxMember: string,
  algMember: string,
): {algorithm: string; key: KeyRecord; materialId?: string; plaintext: Buffer} {
  const ciphertext = blob(input, blobMember, {max: 6144, required: true})!
  const ctxMap = context(input, ctxMember)
  const algorithm = oneOf(input, algMember, ENCRYPTION_ALGORITHMS) ?? 'SYMMETRIC_DEFAULT'
  const keyRef = str(input, keyMember, {max: 2048})
  const header = parseBlobHeader(ciphertext)
  const requested = keyRef === undefined ? undefined : findKey(ctx, keyRef, {aliases: true})
  if (algorithm === 'SYMMETRIC_DEFAULT') {
    if (!header) throw err('InvalidCiphertextException', '')
    let key: KeyRecord
    try {
      key = findKey(ctx, header.keyId)
    } catch {
      throw err('InvalidCiphertextException', '')
    }

    if (requested && requested.arn !== key.arn) throw err('IncorrectKeyException', 'The key ID in the request does not identify a KMS key that can perform this operation.')
    ctx.hooks.authorize(ctx, key, ctx.state, input)
    requireUsable(key)
    const material = key.materials.find((m) => m.id === header.materialId)
    const plaintext = material ? decryptSymmetric(ciphertext, material, ctxMap) : undefined
    if (!plaintext) throw err('InvalidCiphertextException', '')
    return {algorithm, key, materialId: material!.id, plaintext}
  }

  if (!requested) throw err('ValidationException', 'KeyId is required when decrypting with an asymmetric KMS key (EncryptionAlgorithm is not SYMMETRIC_DEFAULT).')
  ctx.hooks.authorize(ctx, requested, ctx.state, input)
  requireUsable(requested)
  requireUsage(requested, 'ENCRYPT_DECRYPT', 'Decrypt')
  encryptionAlgorithmFor(requested, algorithm)
  const plaintext = rsaDecrypt(currentMaterial(requested), algorithm, ciphertext)
  if (!plaintext) throw err('InvalidCiphertextException', '')
  return {algorithm, key: requested, plaintext}
}

function dataKeyLength(input: Record<string, any>): number {
  const spec = oneOf(input, 'KeySpec', ['AES_256', 'AES_128'])
  const bytes = int(input, 'NumberOfBytes', 1, 1024)
  if (spec !== undefined && bytes !== undefined) throw err('ValidationException', 'KeySpec and NumberOfBytes cannot both be specified.')
  if (spec === undefined && bytes === undefined) throw err('ValidationException', 'Please specify either number of bytes or key spec.')
  return bytes ?? (spec === 'AES_128' ? 16 : 32)
}

function symmetricKeyFor(ctx: OpContext, input: Record<string, any>, operation: string): KeyRecord {
  const key = keyFrom(ctx, input, {aliases: true})
  requireUsable(key)
  if (key.keySpec !== 'SYMMETRIC_DEFAULT') throw err('InvalidKeyUsageException', `${key.arn} is not a symmetric encryption KMS key: ${operation} needs one.`)
  return key
}

function grantEntry(g: GrantRecord): Record<string, unknown> {
  return {
    ...(g.constraints ? {Constraints: g.constraints} : {}),
    CreationDate: seconds(g.createdAt),
    GrantId: g.grantId,
    GranteePrincipal: g.granteePrincipal,
    IssuingAccount: g.issuingAccount,
    KeyId: g.keyArn,
    ...(g.name ? {Name: g.name} : {}),
    Operations: g.operations,
    ...(g.retiringPrincipal ? {RetiringPrincipal: g.retiringPrincipal} : {}),
  }
}

function grantToken(grantId: string): string {
  return 'AQpAM2' + Buffer.from(`${grantId}:${randomBytes(24).toString('hex')}`).toString('base64url')
}

function grantIdFromToken(token: string): string | undefined {
  if (!token.startsWith('AQpAM2')) return undefined
  const m = /^([0-9a-f]{64}):[0-9a-f]+$/.exec(Buffer.from(token.slice(6), 'base64url').toString('utf8'))
  return m?.[1]
}

const PRINCIPAL = /^(arn:aws[a-z-]*:(iam|sts)::\d{12}:[\w+=,.@/-]+|\d{12}|[a-z0-9.-]+\.amazonaws\.com)$/

function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(a ?? null) === JSON.stringify(b ?? null)
}

function keyResponse(ctx: OpContext, key: KeyRecord, extra: Record<string, unknown> = {}): Record<string, unknown> {
  ctx.responseElements = {keyId: key.arn, ...extra}
  return {}
}

/** Deleting a key: its grants and aliases go with it. */
function deleteKey(state: SandboxState, key: KeyRecord): void {
  delete state.keys[key.arn]
  for (const [id, g] of Object.entries(state.grants)) if (g.keyArn === key.arn) delete state.grants[id]
  for (const [arn, a] of Object.entries(state.aliases)) if (a.targetKeyArn === key.arn) delete state.aliases[arn]
}

/** Time-driven changes (deletions whose window passed, automatic rotations): due now? */
export function maintenanceDue(state: SandboxState, nowMs: number): boolean {
  return nextMaintenance(state) <= nowMs
}

/** When the next time-driven change is due (-Infinity: now; Infinity: never). */
export function nextMaintenance(state: SandboxState): number {
  let next = Number.POSITIVE_INFINITY
  for (const key of Object.values(state.keys)) {
    if (key.state === 'PendingDeletion' && key.deletionDate !== undefined) next = Math.min(next, key.deletionDate)
    if (key.state === 'PendingReplicaDeletion' && relatedMultiRegionKeys(state, key).length <= 1) return Number.NEGATIVE_INFINITY
    if (key.rotation.enabled && key.state === 'Enabled' && key.rotation.nextRotation !== undefined) next = Math.min(next, key.rotation.nextRotation)
  }

  return next
}

export function maintain(state: SandboxState, nowMs: number): void {
  for (const key of Object.values(state.keys)) {
    if (key.state === 'PendingDeletion' && key.deletionDate !== undefined && key.deletionDate <= nowMs) deleteKey(state, key)
  }

  for (const key of Object.values(state.keys)) {
    if (key.state === 'PendingReplicaDeletion' && relatedMultiRegionKeys(state, key).length <= 1) {
      key.state = 'PendingDeletion'
      key.deletionDate = nowMs + (key.pendingWindowInDays ?? 30) * DAY_MS
    }

    const r = key.rotation
    while (r.enabled && key.state === 'Enabled' && r.nextRotation !== undefined && r.periodDays && r.nextRotation <= nowMs) {
      if (key.multiRegionType !== 'REPLICA') rotate(state, key, r.nextRotation, 'AUTOMATIC')
      r.nextRotation += r.periodDays * DAY_MS
    }
  }
}

function rotate(state: SandboxState, key: KeyRecord, at: number, origin: 'AUTOMATIC' | 'ON_DEMAND'): void {
  const material = generateMaterial(key.keySpec, at, origin)
  for (const k of key.multiRegion ? relatedMultiRegionKeys(state, key) : [key]) k.materials.push({...material})
}

// ---- The operations ----------------------------------------------------------------------------------
const CreateKey: Operation = (input, ctx) => {
  const description = str(input, 'Description', {max: 8192}) ?? ''
  const keySpecIn = oneOf(input, 'KeySpec', ALL_SPECS.concat(['SM2', 'ML_DSA_44', 'ML_DSA_65', 'ML_DSA_87']))
  const cmkSpec = oneOf(input, 'CustomerMasterKeySpec', ALL_SPECS.concat(['SM2']))
  if (keySpecIn && cmkSpec) throw err('ValidationException', 'You cannot specify KeySpec and CustomerMasterKeySpec in the same request. CustomerMasterKeySpec is deprecated.')
  const keySpec = keySpecIn ?? cmkSpec ?? 'SYMMETRIC_DEFAULT'
  if (!ALL_SPECS.includes(keySpec)) throw err('UnsupportedOperationException', `KeySpec ${keySpec} is not supported by the kmsctl sandbox.`)
  const usageIn = oneOf(input, 'KeyUsage', ['SIGN_VERIFY', 'ENCRYPT_DECRYPT', 'GENERATE_VERIFY_MAC', 'KEY_AGREEMENT'])
  const usages = usagesFor(keySpec)
  const keyUsage = usageIn ?? 'ENCRYPT_DECRYPT'
  if (!usages.includes(keyUsage)) {
    throw err('ValidationException', `KeyUsage ${keyUsage} is not compatible with KeySpec ${keySpec}. Valid KeyUsage values for ${keySpec}: ${usages.join(', ')}.`)
  }

  const origin = oneOf(input, 'Origin', ['AWS_KMS', 'EXTERNAL', 'AWS_CLOUDHSM', 'EXTERNAL_KEY_STORE']) ?? 'AWS_KMS'
  if (origin !== 'AWS_KMS') throw err('UnsupportedOperationException', `Origin ${origin} is not supported by the kmsctl sandbox.`)
  if (input.CustomKeyStoreId !== undefined) throw err('UnsupportedOperationException', 'Custom key stores are not supported by the kmsctl sandbox.')
  const multiRegion = bool(input, 'MultiRegion') ?? false
  const bypass = bool(input, 'BypassPolicyLockoutSafetyCheck')
  const policyIn = str(input, 'Policy', {max: 131_072, min: 1})
  const tags = validateTags(input.Tags)
  if (tags.length > MAX_TAGS_PER_KEY) throw err('TagException', `A KMS key can have at most ${MAX_TAGS_PER_KEY} tags.`)
  if (policyIn !== undefined) checkPolicy(ctx, policyIn, bypass)
  const now = ctx.clock.nowMs()
  const keyId = newKeyId(multiRegion)
  const key: KeyRecord = {
    account: SANDBOX_ACCOUNT,
    arn: keyArn(ctx.region, keyId),
    createdAt: now,
    description,
    keyId,
    keyManager: 'CUSTOMER',
    keySpec,
    keyUsage,
    materials: [generateMaterial(keySpec, now, 'CREATION')],
    multiRegion,
    ...(multiRegion ? {multiRegionType: 'PRIMARY' as const} : {}),
    onDemandRotations: 0,
    origin: 'AWS_KMS',
    policy: policyIn ?? defaultKeyPolicy(SANDBOX_ACCOUNT),
    region: ctx.region,
    rotation: {enabled: false},
    state: 'Enabled',
    tags,
  }
  ctx.hooks.authorize(ctx, undefined, ctx.state, input)
  ctx.state.keys[key.arn] = key
  ctx.resources.push(key.arn)
  const KeyMetadata = keyMetadata(ctx.state, key)
  ctx.responseElements = {keyMetadata: trailShape(KeyMetadata)}
  return {KeyMetadata}
}

const DescribeKey: Operation = (input, ctx) => {
  grantTokens(input)
  const key = keyFrom(ctx, input, {aliases: true})
  return {KeyMetadata: keyMetadata(ctx.state, key)}
}

const ListKeys: Operation = (input, ctx) => {
  const keys = Object.values(ctx.state.keys)
    .filter((k) => k.region === ctx.region)
    .sort((a, b) => a.createdAt - b.createdAt || a.keyId.localeCompare(b.keyId))
  const p = page(keys, input, 1000, 100)
  return {Keys: p.items.map((k) => ({KeyArn: k.arn, KeyId: k.keyId})), ...(p.NextMarker ? {NextMarker: p.NextMarker} : {}), Truncated: p.Truncated}
}

const UpdateKeyDescription: Operation = (input, ctx) => {
  const key = keyFrom(ctx, input)
  const description = str(input, 'Description', {max: 8192, min: 0, required: true})!
  requireCustomerManaged(ctx, key)
  requireNotPendingDeletion(key)
  key.description = description
  return keyResponse(ctx, key)
}

/** EnableKey and DisableKey: customer managed keys only, not while pending deletion. */
const setKeyState =
  (state: 'Disabled' | 'Enabled'): Operation =>
  (input, ctx) => {
    const key = keyFrom(ctx, input)
    requireCustomerManaged(ctx, key)
    requireNotPendingDeletion(key)
    key.state = state
    return keyResponse(ctx, key)
  }

const EnableKey = setKeyState('Enabled')
const DisableKey = setKeyState('Disabled')

const ScheduleKeyDeletion: Operation = (input, ctx) => {
  // KMS checks the request's constraints before it looks the key up.
  const window = int(input, 'PendingWindowInDays', 7, 30) ?? 30
  const key = keyFrom(ctx, input)
  requireCustomerManaged(ctx, key)
  requireNotPendingDeletion(key)
  const now = ctx.clock.nowMs()
  const replicas = key.multiRegionType === 'PRIMARY' ? relatedMultiRegionKeys(ctx.state, key).filter((k) => k.multiRegionType === 'REPLICA') : []
  key.pendingWindowInDays = window
  if (replicas.length > 0) {
    key.state = 'PendingReplicaDeletion'
    delete key.deletionDate
  } else {
    key.state = 'PendingDeletion'
    key.deletionDate = now + window * DAY_MS
  }

  const out: Record<string, unknown> = {KeyId: key.arn}
  if (key.deletionDate !== undefined) out.DeletionDate = seconds(key.deletionDate)
  out.KeyState = key.state
  out.PendingWindowInDays = window
  ctx.responseElements = {
    keyId: key.arn,
    ...(key.deletionDate === undefined ? {} : {deletionDate: new Date(key.deletionDate).toISOString()}),
    keyState: key.state,
    pendingWindowInDays: window,
  }
  return out
}

const CancelKeyDeletion: Operation = (input, ctx) => {
  const key = keyFrom(ctx, input)
  requireCustomerManaged(ctx, key)
  if (key.state !== 'PendingDeletion' && key.state !== 'PendingReplicaDeletion') {
    throw err('KMSInvalidStateException', `${key.arn} is not pending deletion.`)
  }

  key.state = 'Disabled'
  delete key.deletionDate
  delete key.pendingWindowInDays
  keyResponse(ctx, key)
  return {KeyId: key.arn}
}

const GetKeyPolicy: Operation = (input, ctx) => {
  const key = keyFrom(ctx, input)
  const name = str(input, 'PolicyName', {max: 128, pattern: /^[\w]+$/}) ?? 'default'
  if (name !== 'default') throw err('NotFoundException', `No such policy exists: ${name}`)
  return {Policy: key.policy, PolicyName: 'default'}
}

const PutKeyPolicy: Operation = (input, ctx) => {
  const key = keyFrom(ctx, input)
  const name = str(input, 'PolicyName', {max: 128, pattern: /^[\w]+$/}) ?? 'default'
  const policy = str(input, 'Policy', {max: 131_072, required: true})!
  const bypass = bool(input, 'BypassPolicyLockoutSafetyCheck')
  if (name !== 'default') throw err('NotFoundException', `No such policy exists: ${name}`)
  requireCustomerManaged(ctx, key)
  checkPolicy(ctx, policy, bypass, key.arn)
  key.policy = policy
  return keyResponse(ctx, key)
}

const ListKeyPolicies: Operation = (input, ctx) => {
  keyFrom(ctx, input)
  const p = page(['default'], input, 1000, 100)
  return {PolicyNames: p.items, ...(p.NextMarker ? {NextMarker: p.NextMarker} : {}), Truncated: p.Truncated}
}

const CreateAlias: Operation = (input, ctx) => {
  const name = aliasNameFrom(input, true)
  const key = targetKey(ctx, input)
  requireCustomerManaged(ctx, key)
  requireNotPendingDeletion(key)
  const arn = aliasArn(ctx.region, name)
  if (ctx.state.aliases[arn]) throw err('AlreadyExistsException', `An alias with the name ${arn} already exists`)
  if (aliasesOf(ctx.state, key).length >= MAX_ALIASES_PER_KEY) {
    throw err('LimitExceededException', `The KMS key ${key.arn} already has ${MAX_ALIASES_PER_KEY} aliases, the most allowed.`)
  }

  const now = ctx.clock.nowMs()
  ctx.state.aliases[arn] = {arn, createdAt: now, name, region: ctx.region, targetKeyArn: key.arn, updatedAt: now}
  return {}
}

const UpdateAlias: Operation = (input, ctx) => {
  const name = aliasNameFrom(input, true)
  const arn = aliasArn(ctx.region, name)
  const alias = ctx.state.aliases[arn]
  if (!alias) throw err('NotFoundException', `Alias ${arn} is not found.`)
  const key = targetKey(ctx, input)
  requireCustomerManaged(ctx, key)
  requireNotPendingDeletion(key)
  const current = ctx.state.keys[alias.targetKeyArn]
  if (current && (current.keySpec !== key.keySpec || current.keyUsage !== key.keyUsage)) {
    throw err(
      'ValidationException',
      `Alias ${name} must point to a KMS key with the same key spec and key usage (${current.keySpec}, ${current.keyUsage}); ${key.arn} is ${key.keySpec}, ${key.keyUsage}.`,
    )
  }

  if (aliasesOf(ctx.state, key).length >= MAX_ALIASES_PER_KEY) {
    throw err('LimitExceededException', `The KMS key ${key.arn} already has ${MAX_ALIASES_PER_KEY} aliases, the most allowed.`)
  }

  alias.targetKeyArn = key.arn
  alias.updatedAt = ctx.clock.nowMs()
  return {}
}

const DeleteAlias: Operation = (input, ctx) => {
  const name = aliasNameFrom(input, true)
  const arn = aliasArn(ctx.region, name)
  const alias = ctx.state.aliases[arn]
  if (!alias) throw err('NotFoundException', `Alias ${arn} is not found.`)
  if (ctx.state.keys[alias.targetKeyArn]) ctx.resources.push(alias.targetKeyArn)
  delete ctx.state.aliases[arn]
  return {}
}

const ListAliases: Operation = (input, ctx) => {
  const ref = str(input, 'KeyId', {max: 2048})
  let aliases = Object.values(ctx.state.aliases).filter((a) => a.region === ctx.region)
  if (ref !== undefined) {
    if (ref.startsWith('alias/') || /:alias\//.test(ref)) throw err('InvalidArnException', `Invalid keyId ${ref}: ListAliases takes a key ID or key ARN.`)
    const key = findKey(ctx, ref)
    aliases = aliases.filter((a) => a.targetKeyArn === key.arn)
  }

  aliases.sort((a, b) => a.name.localeCompare(b.name))
  const p = page(aliases, input, 100, 50)
  return {
    Aliases: p.items.map((a) => ({
      AliasArn: a.arn,
      AliasName: a.name,
      CreationDate: seconds(a.createdAt),
      LastUpdatedDate: seconds(a.updatedAt),
      TargetKeyId: ctx.state.keys[a.targetKeyArn]?.keyId,
    })),
    ...(p.NextMarker ? {NextMarker: p.NextMarker} : {}),
    Truncated: p.Truncated,
  }
}

function constraintsFrom(input: Record<string, any>, key: KeyRecord): GrantRecord['constraints'] {
  const c = input.Constraints
  if (c === undefined || c === null) return undefined
  if (typeof c !== 'object' || Array.isArray(c)) throw err('SerializationException', "Expected a structure at 'Constraints'.")
  if (key.keySpec !== 'SYMMETRIC_DEFAULT') {
    throw err('ValidationException', 'Grant constraints (EncryptionContextEquals, EncryptionContextSubset) are not allowed on asymmetric or HMAC KMS keys.')
  }

  const out: NonNullable<GrantRecord['constraints']> = {}
  for (const member of ['EncryptionContextEquals', 'EncryptionContextSubset'] as const) {
    const m = context(c, member)
    if (m === undefined) continue
    if (Object.keys(m).length > 8) throw err('ValidationException', `Grant constraint ${member} can have at most 8 encryption context pairs.`)
    out[member] = m
  }

  return Object.keys(out).length > 0 ? out : undefined
}

const CreateGrant: Operation = (input, ctx) => {
  const key = keyFrom(ctx, input)
  const grantee = str(input, 'GranteePrincipal', {max: 256, min: 1})
  const retiring = str(input, 'RetiringPrincipal', {max: 256, min: 1})
  if (grantee === undefined) throw validationError('granteePrincipal', null, 'Member must not be null')
  if (!PRINCIPAL.test(grantee)) throw err('ValidationException', `Invalid principal: ${grantee}`)
  if (retiring !== undefined && !PRINCIPAL.test(retiring)) throw err('ValidationException', `Invalid principal: ${retiring}`)
  const ops = input.Operations
  if (!Array.isArray(ops)) throw validationError('operations', null, 'Member must not be null')
  if (ops.length === 0) throw validationError('operations', ops, 'Member must have length greater than or equal to 1')
  for (const op of ops) {
    if (!GRANT_OPERATIONS.includes(op)) throw validationError('operations', ops, `Member must satisfy constraint: [Member must satisfy enum value set: [${GRANT_OPERATIONS.join(', ')}]]`)
  }

  const name = str(input, 'Name', {max: 256, min: 1, pattern: /^[a-zA-Z0-9:/_-]+$/})
  grantTokens(input)
  const valid = grantOperationsFor(key)
  const invalid = ops.filter((o: string) => !valid.includes(o))
  if (invalid.length > 0) {
    throw err('ValidationException', `Grant operations ${invalid.join(', ')} are not valid for ${key.arn} (${key.keySpec}, ${key.keyUsage}). Valid operations: ${valid.join(', ')}.`)
  }

  const constraints = constraintsFrom(input, key)
  requireCustomerManaged(ctx, key)
  requireNotPendingDeletion(key)
  dryRun(input)
  const operations = [...new Set(ops as string[])]
  if (name) {
    const same = Object.values(ctx.state.grants).find(
      (g) =>
        g.keyArn === key.arn &&
        g.name === name &&
        g.granteePrincipal === grantee &&
        g.retiringPrincipal === retiring &&
        sameJson([...g.operations].sort(), [...operations].sort()) &&
        sameJson(g.constraints, constraints),
    )
    if (same) {
      ctx.responseElements = {grantId: same.grantId, keyId: key.arn}
      return {GrantId: same.grantId, GrantToken: grantToken(same.grantId)}
    }
  }

  const grantId = randomBytes(32).toString('hex')
  ctx.state.grants[grantId] = {
    ...(constraints ? {constraints} : {}),
    createdAt: ctx.clock.nowMs(),
    grantId,
    granteePrincipal: grantee,
    issuingAccount: SANDBOX_ROOT_ARN,
    keyArn: key.arn,
    ...(name ? {name} : {}),
    operations,
    ...(retiring ? {retiringPrincipal: retiring} : {}),
  }
  ctx.responseElements = {grantId, keyId: key.arn}
  return {GrantId: grantId, GrantToken: grantToken(grantId)}
}

const ListGrants: Operation = (input, ctx) => {
  const key = keyFrom(ctx, input)
  const grantId = str(input, 'GrantId', {max: 128, min: 1})
  const grantee = str(input, 'GranteePrincipal', {max: 256, min: 1})
  grantTokens(input)
  const grants = Object.values(ctx.state.grants)
    .filter((g) => g.keyArn === key.arn && (grantId === undefined || g.grantId === grantId) && (grantee === undefined || g.granteePrincipal === grantee))
    .sort((a, b) => a.createdAt - b.createdAt || a.grantId.localeCompare(b.grantId))
  const p = page(grants, input, 100, 50)
  return {Grants: p.items.map((g) => grantEntry(g)), ...(p.NextMarker ? {NextMarker: p.NextMarker} : {}), Truncated: p.Truncated}
}

const ListRetirableGrants: Operation = (input, ctx) => {
  const retiring = str(input, 'RetiringPrincipal', {max: 256, min: 1, required: true})!
  const grants = Object.values(ctx.state.grants)
    .filter((g) => g.retiringPrincipal === retiring && ctx.state.keys[g.keyArn]?.region === ctx.region)
    .sort((a, b) => a.createdAt - b.createdAt || a.grantId.localeCompare(b.grantId))
  const p = page(grants, input, 100, 50)
  return {Grants: p.items.map((g) => grantEntry(g)), ...(p.NextMarker ? {NextMarker: p.NextMarker} : {}), Truncated: p.Truncated}
}

const RetireGrant: Operation = (input, ctx) => {
  const token = str(input, 'GrantToken', {max: 8192, min: 1})
  const keyRef = str(input, 'KeyId', {max: 2048, min: 1})
  const grantIdIn = str(input, 'GrantId', {max: 128, min: 1})
  let grant: GrantRecord | undefined
  if (token !== undefined) {
    const id = grantIdFromToken(token)
    if (!id) throw err('InvalidGrantTokenException', 'The grant token is not valid.')
    grant = ctx.state.grants[id]
    if (!grant) throw err('NotFoundException', `Grant ID ${id} not found`)
    if (grantIdIn !== undefined && grantIdIn !== id) throw err('InvalidGrantIdException', `Grant ID ${grantIdIn} does not match the grant token.`)
    const key = ctx.state.keys[grant.keyArn]
    if (key) {
      ctx.resources.push(key.arn)
      ctx.hooks.authorize(ctx, key, ctx.state, input)
    }
  } else {
    if (keyRef === undefined || grantIdIn === undefined) throw err('ValidationException', 'Either GrantToken, or both KeyId and GrantId, must be specified.')
    const key = findKey(ctx, keyRef)
    ctx.hooks.authorize(ctx, key, ctx.state, input)
    if (!/^[0-9a-f]{64}$/.test(grantIdIn)) throw err('InvalidGrantIdException', `Invalid grant ID: ${grantIdIn}`)
    grant = ctx.state.grants[grantIdIn]
    if (!grant || grant.keyArn !== key.arn) throw err('NotFoundException', `Grant ID ${grantIdIn} not found`)
  }

  dryRun(input)
  delete ctx.state.grants[grant.grantId]
  ctx.responseElements = {grantId: grant.grantId, keyId: grant.keyArn}
  return {}
}

const RevokeGrant: Operation = (input, ctx) => {
  const key = keyFrom(ctx, input)
  const grantId = str(input, 'GrantId', {max: 128, required: true})!
  if (!/^[0-9a-f]{64}$/.test(grantId)) throw err('InvalidGrantIdException', `Invalid grant ID: ${grantId}`)
  const grant = ctx.state.grants[grantId]
  if (!grant || grant.keyArn !== key.arn) throw err('NotFoundException', `Grant ID ${grantId} not found`)
  dryRun(input)
  delete ctx.state.grants[grantId]
  ctx.responseElements = {grantId, keyId: key.arn}
  return {}
}

function requireRotatable(key: KeyRecord): void {
  if (key.keySpec !== 'SYMMETRIC_DEFAULT') throw err('UnsupportedOperationException', `${key.arn} key rotation is not supported for asymmetric or HMAC KMS keys (${key.keySpec}).`)
}

const EnableKeyRotation: Operation = (input, ctx) => {
  const period = int(input, 'RotationPeriodInDays', 90, 2560) ?? 365
  const key = keyFrom(ctx, input)
  requireCustomerManaged(ctx, key)
  requireRotatable(key)
  requireUsable(key)
  if (key.multiRegionType === 'REPLICA') throw err('UnsupportedOperationException', `${key.arn} is a multi-Region replica key: manage rotation on its primary key.`)
  const now = ctx.clock.nowMs()
  const keys = key.multiRegion ? relatedMultiRegionKeys(ctx.state, key) : [key]
  for (const k of keys) k.rotation = {enabled: true, nextRotation: now + period * DAY_MS, periodDays: period}
  return keyResponse(ctx, key)
}

const DisableKeyRotation: Operation = (input, ctx) => {
  const key = keyFrom(ctx, input)
  requireCustomerManaged(ctx, key)
  requireRotatable(key)
  requireUsable(key)
  if (key.multiRegionType === 'REPLICA') throw err('UnsupportedOperationException', `${key.arn} is a multi-Region replica key: manage rotation on its primary key.`)
  const keys = key.multiRegion ? relatedMultiRegionKeys(ctx.state, key) : [key]
  for (const k of keys) k.rotation = {enabled: false}
  return keyResponse(ctx, key)
}

const GetKeyRotationStatus: Operation = (input, ctx) => {
  const key = keyFrom(ctx, input)
  requireRotatable(key)
  const r = key.rotation
  return {
    KeyId: key.arn,
    KeyRotationEnabled: r.enabled,
    ...(r.enabled && r.nextRotation !== undefined ? {NextRotationDate: seconds(r.nextRotation)} : {}),
    ...(r.enabled && r.periodDays ? {RotationPeriodInDays: r.periodDays} : {}),
  }
}

const RotateKeyOnDemand: Operation = (input, ctx) => {
  const key = keyFrom(ctx, input)
  requireCustomerManaged(ctx, key)
  requireRotatable(key)
  requireUsable(key)
  if (key.multiRegionType === 'REPLICA') throw err('UnsupportedOperationException', `${key.arn} is a multi-Region replica key: rotate its primary key.`)
  if (key.onDemandRotations >= MAX_ON_DEMAND_ROTATIONS) {
    throw err('LimitExceededException', `${key.arn} has reached the limit of ${MAX_ON_DEMAND_ROTATIONS} on-demand rotations.`)
  }

  key.onDemandRotations++
  rotate(ctx.state, key, ctx.clock.nowMs(), 'ON_DEMAND')
  keyResponse(ctx, key)
  return {KeyId: key.arn}
}

const ListKeyRotations: Operation = (input, ctx) => {
  const key = keyFrom(ctx, input)
  const include = oneOf(input, 'IncludeKeyMaterial', ['ALL_KEY_MATERIAL', 'ROTATIONS_ONLY']) ?? 'ROTATIONS_ONLY'
  requireRotatable(key)
  const current = currentMaterial(key).id
  const materials = include === 'ALL_KEY_MATERIAL' ? key.materials : key.materials.filter((m) => m.origin !== 'CREATION')
  const p = page(materials, input, 1000, 100)
  return {
    ...(p.NextMarker ? {NextMarker: p.NextMarker} : {}),
    Rotations: p.items.map((m) => ({
      KeyId: key.keyId,
      KeyMaterialId: m.id,
      KeyMaterialState: m.id === current ? 'CURRENT' : 'NON_CURRENT',
      ...(m.origin === 'CREATION' ? {} : {RotationDate: seconds(m.createdAt), RotationType: m.origin}),
    })),
    Truncated: p.Truncated,
  }
}

const TagResource: Operation = (input, ctx) => {
  const key = keyFrom(ctx, input)
  if (input.Tags === undefined || input.Tags === null) throw validationError('tags', null, 'Member must not be null')
  const tags = validateTags(input.Tags)
  requireCustomerManaged(ctx, key)
  requireNotPendingDeletion(key)
  const merged = [...key.tags]
  for (const t of tags) {
    const existing = merged.find((m) => m.TagKey === t.TagKey)
    if (existing) existing.TagValue = t.TagValue
    else merged.push(t)
  }

  if (merged.length > MAX_TAGS_PER_KEY) throw err('LimitExceededException', `A KMS key can have at most ${MAX_TAGS_PER_KEY} tags.`)
  key.tags = merged
  return keyResponse(ctx, key)
}

const UntagResource: Operation = (input, ctx) => {
  const key = keyFrom(ctx, input)
  const keys = input.TagKeys
  if (!Array.isArray(keys)) throw validationError('tagKeys', null, 'Member must not be null')
  requireCustomerManaged(ctx, key)
  requireNotPendingDeletion(key)
  key.tags = key.tags.filter((t) => !keys.includes(t.TagKey))
  return keyResponse(ctx, key)
}

const ListResourceTags: Operation = (input, ctx) => {
  const key = keyFrom(ctx, input)
  const p = page(key.tags, input, 50, 50)
  return {...(p.NextMarker ? {NextMarker: p.NextMarker} : {}), Tags: p.items, Truncated: p.Truncated}
}

const Encrypt: Operation = (input, ctx) => {
  const key = keyFrom(ctx, input, {aliases: true})
  const plaintext = blob(input, 'Plaintext', {max: 4096, required: true})!
  const ctxMap = context(input, 'EncryptionContext')
  const algIn = oneOf(input, 'EncryptionAlgorithm', ENCRYPTION_ALGORITHMS)
  grantTokens(input)
  requireUsable(key)
  requireUsage(key, 'ENCRYPT_DECRYPT', 'Encrypt')
  const algorithm = encryptionAlgorithmFor(key, algIn)
  dryRun(input)
  const ciphertext = encryptWith(key, algorithm, plaintext, ctxMap)
  return {CiphertextBlob: b64(ciphertext), EncryptionAlgorithm: algorithm, KeyId: key.arn}
}

const Decrypt: Operation = (input, ctx) => {
  grantTokens(input)
  const {algorithm, key, materialId, plaintext} = decryptBlob(ctx, input, 'CiphertextBlob', 'KeyId', 'EncryptionContext', 'EncryptionAlgorithm')
  if (input.Recipient !== undefined) throw err('UnsupportedOperationException', 'Recipient (Nitro Enclaves attestation) is not supported by the kmsctl sandbox.')
  dryRun(input)
  return {EncryptionAlgorithm: algorithm, KeyId: key.arn, ...(materialId ? {KeyMaterialId: materialId} : {}), Plaintext: b64(plaintext)}
}

const ReEncrypt: Operation = (input, ctx) => {
  grantTokens(input)
  const source = decryptBlob(ctx, input, 'CiphertextBlob', 'SourceKeyId', 'SourceEncryptionContext', 'SourceEncryptionAlgorithm')
  const dest = keyFrom(ctx, input, {aliases: true, member: 'DestinationKeyId'})
  const destCtx = context(input, 'DestinationEncryptionContext')
  const destAlgIn = oneOf(input, 'DestinationEncryptionAlgorithm', ENCRYPTION_ALGORITHMS)
  requireUsable(dest)
  requireUsage(dest, 'ENCRYPT_DECRYPT', 'ReEncrypt')
  const destAlg = encryptionAlgorithmFor(dest, destAlgIn)
  dryRun(input)
  const ciphertext = encryptWith(dest, destAlg, source.plaintext, destCtx)
  return {
    CiphertextBlob: b64(ciphertext),
    DestinationEncryptionAlgorithm: destAlg,
    ...(destAlg === 'SYMMETRIC_DEFAULT' ? {DestinationKeyMaterialId: currentMaterial(dest).id} : {}),
    KeyId: dest.arn,
    SourceEncryptionAlgorithm: source.algorithm,
    SourceKeyId: source.key.arn,
    ...(source.materialId ? {SourceKeyMaterialId: source.materialId} : {}),
  }
}

const GenerateDataKey: Operation = (input, ctx) => {
  const key = symmetricKeyFor(ctx, input, 'GenerateDataKey')
  const length = dataKeyLength(input)
  const ctxMap = context(input, 'EncryptionContext')
  grantTokens(input)
  if (input.Recipient !== undefined) throw err('UnsupportedOperationException', 'Recipient (Nitro Enclaves attestation) is not supported by the kmsctl sandbox.')
  dryRun(input)
  const plaintext = randomBytes(length)
  return {
    CiphertextBlob: b64(encryptSymmetric(key.keyId, currentMaterial(key), plaintext, ctxMap)),
    KeyId: key.arn,
    KeyMaterialId: currentMaterial(key).id,
    Plaintext: b64(plaintext),
  }
}

const GenerateDataKeyWithoutPlaintext: Operation = (input, ctx) => {
  const key = symmetricKeyFor(ctx, input, 'GenerateDataKeyWithoutPlaintext')
  const length = dataKeyLength(input)
  const ctxMap = context(input, 'EncryptionContext')
  grantTokens(input)
  dryRun(input)
  return {
    CiphertextBlob: b64(encryptSymmetric(key.keyId, currentMaterial(key), randomBytes(length), ctxMap)),
    KeyId: key.arn,
    KeyMaterialId: currentMaterial(key).id,
  }
}

function signingInput(input: Record<string, any>, ctx: OpContext, operation: string) {
  const key = keyFrom(ctx, input, {aliases: true})
  const message = blob(input, 'Message', {max: 4096, required: true})!
  const messageType = oneOf(input, 'MessageType', ['RAW', 'DIGEST', 'EXTERNAL_MU']) ?? 'RAW'
  const algorithm = oneOf(input, 'SigningAlgorithm', SIGNING_ALGORITHMS, true)!
  grantTokens(input)
  requireUsable(key)
  requireUsage(key, 'SIGN_VERIFY', operation)
  const allowed = signingAlgorithms(key) ?? []
  if (!allowed.includes(algorithm)) throw err('InvalidKeyUsageException', `${key.arn} does not support the signing algorithm ${algorithm}. Supported: ${allowed.join(', ')}.`)
  if (messageType === 'EXTERNAL_MU') throw err('UnsupportedOperationException', 'MessageType EXTERNAL_MU is only for ML-DSA keys.')
  if (messageType === 'DIGEST' && message.length !== digestLength(algorithm)) {
    throw err('ValidationException', `Digest is invalid length for algorithm ${algorithm}: expected ${digestLength(algorithm)} bytes.`)
  }

  return {algorithm, key, message, messageType}
}

const Sign: Operation = (input, ctx) => {
  const {algorithm, key, message, messageType} = signingInput(input, ctx, 'Sign')
  dryRun(input)
  return {KeyId: key.arn, Signature: b64(signMessage(currentMaterial(key), algorithm, message, messageType)), SigningAlgorithm: algorithm}
}

const Verify: Operation = (input, ctx) => {
  const {algorithm, key, message, messageType} = signingInput(input, ctx, 'Verify')
  const signature = blob(input, 'Signature', {max: 6144, required: true})!
  dryRun(input)
  if (!verifyMessage(currentMaterial(key), algorithm, message, messageType, signature)) throw err('KMSInvalidSignatureException', '')
  return {KeyId: key.arn, SignatureValid: true, SigningAlgorithm: algorithm}
}

function macInput(input: Record<string, any>, ctx: OpContext, operation: string) {
  const key = keyFrom(ctx, input, {aliases: true})
  const message = blob(input, 'Message', {max: 4096, required: true})!
  const algorithm = oneOf(input, 'MacAlgorithm', MAC_ALGORITHMS, true)!
  grantTokens(input)
  requireUsable(key)
  requireUsage(key, 'GENERATE_VERIFY_MAC', operation)
  const allowed = macAlgorithms(key) ?? []
  if (!allowed.includes(algorithm)) throw err('InvalidKeyUsageException', `${key.arn} does not support the MAC algorithm ${algorithm}. Supported: ${allowed.join(', ')}.`)
  return {algorithm, key, message}
}

const GenerateMac: Operation = (input, ctx) => {
  const {algorithm, key, message} = macInput(input, ctx, 'GenerateMac')
  dryRun(input)
  return {KeyId: key.arn, Mac: b64(hmac(currentMaterial(key), algorithm, message)), MacAlgorithm: algorithm}
}

const VerifyMac: Operation = (input, ctx) => {
  const {algorithm, key, message} = macInput(input, ctx, 'VerifyMac')
  const mac = blob(input, 'Mac', {max: 6144, required: true})!
  dryRun(input)
  if (!macEquals(hmac(currentMaterial(key), algorithm, message), mac)) throw err('KMSInvalidMacException', '')
  return {KeyId: key.arn, MacAlgorithm: algorithm, MacValid: true}
}

const GetPublicKey: Operation = (input, ctx) => {
  const key = keyFrom(ctx, input, {aliases: true})
  grantTokens(input)
  requireUsable(key)
  if (!isAsymmetric(key.keySpec)) throw err('UnsupportedOperationException', `${key.arn} is not an asymmetric KMS key: it has no public key.`)
  const enc = encryptionAlgorithms(key)
  const sign = signingAlgorithms(key)
  const agree = keyAgreementAlgorithms(key)
  return {
    CustomerMasterKeySpec: key.keySpec,
    ...(enc ? {EncryptionAlgorithms: enc} : {}),
    ...(agree ? {KeyAgreementAlgorithms: agree} : {}),
    KeyId: key.arn,
    KeySpec: key.keySpec,
    KeyUsage: key.keyUsage,
    PublicKey: b64(publicKeyDer(currentMaterial(key))),
    ...(sign ? {SigningAlgorithms: sign} : {}),
  }
}

const ReplicateKey: Operation = (input, ctx) => {
  const key = keyFrom(ctx, input)
  const replicaRegion = str(input, 'ReplicaRegion', {max: 32, pattern: /^([a-z]+-){2,3}\d+$/, required: true})!
  const policyIn = str(input, 'Policy', {max: 131_072, min: 1})
  const bypass = bool(input, 'BypassPolicyLockoutSafetyCheck')
  const description = str(input, 'Description', {max: 8192})
  const tags = validateTags(input.Tags)
  if (!key.multiRegion) throw err('UnsupportedOperationException', `${key.arn} is not a multi-Region key.`)
  if (key.multiRegionType !== 'PRIMARY') throw err('UnsupportedOperationException', `${key.arn} is not a multi-Region primary key.`)
  requireCustomerManaged(ctx, key)
  requireNotPendingDeletion(key)
  if (!REGION.test(replicaRegion)) throw err('ValidationException', `${replicaRegion} is not a valid AWS region.`)
  if (replicaRegion === key.region) throw err('ValidationException', `The replica region ${replicaRegion} is the region of the primary key.`)
  const arn = keyArn(replicaRegion, key.keyId)
  if (ctx.state.keys[arn]) throw err('AlreadyExistsException', `A replica of ${key.keyId} already exists in ${replicaRegion}: ${arn}`)
  if (policyIn !== undefined) checkPolicy(ctx, policyIn, bypass)
  const now = ctx.clock.nowMs()
  const replica: KeyRecord = {
    ...structuredClone(key),
    arn,
    createdAt: now,
    description: description ?? key.description,
    multiRegionType: 'REPLICA',
    onDemandRotations: 0,
    policy: policyIn ?? defaultKeyPolicy(SANDBOX_ACCOUNT),
    region: replicaRegion,
    state: key.state === 'Enabled' ? 'Enabled' : 'Disabled',
    tags,
  }
  delete replica.deletionDate
  delete replica.pendingWindowInDays
  ctx.state.keys[arn] = replica
  ctx.resources.push(arn)
  const meta = keyMetadata(ctx.state, replica)
  ctx.responseElements = {keyId: key.arn, replicaKeyMetadata: trailShape(meta)}
  return {ReplicaKeyMetadata: meta, ReplicaPolicy: replica.policy, ReplicaTags: tags}
}

const GenerateRandom: Operation = (input) => {
  const bytes = int(input, 'NumberOfBytes', 1, 1024)
  if (input.CustomKeyStoreId !== undefined) throw err('UnsupportedOperationException', 'Custom key stores are not supported by the kmsctl sandbox.')
  if (input.Recipient !== undefined) throw err('UnsupportedOperationException', 'Recipient (Nitro Enclaves attestation) is not supported by the kmsctl sandbox.')
  if (bytes === undefined) throw err('ValidationException', 'NumberOfBytes is required.')
  return {Plaintext: b64(randomBytes(bytes))}
}

const KEY_LAST_USAGE_OPERATIONS = new Set([
  'Decrypt', 'Encrypt', 'GenerateDataKey', 'GenerateDataKeyPair', 'GenerateDataKeyPairWithoutPlaintext', 'GenerateDataKeyWithoutPlaintext',
  'GenerateMac', 'ReEncrypt', 'Sign', 'Verify', 'VerifyMac', 'DeriveSharedSecret', 'Encapsulate', 'Decapsulate',
])

const GetKeyLastUsage: Operation = (input, ctx) => {
  const key = keyFrom(ctx, input)
  const events = ctx.events()
  let last: Record<string, any> | undefined
  for (let i = events.length - 1; i >= 0; i--) {
    const e = events[i]
    if (e.errorCode || !KEY_LAST_USAGE_OPERATIONS.has(e.eventName)) continue
    if (Array.isArray(e.resources) && e.resources.some((r: {ARN?: string}) => r.ARN === key.arn)) {
      last = e
      break
    }
  }

  return {
    KeyCreationDate: seconds(key.createdAt),
    KeyId: key.arn,
    ...(last
      ? {KeyLastUsage: {CloudTrailEventId: last.eventID, KmsRequestId: last.requestID, Operation: last.eventName, Timestamp: Date.parse(last.eventTime) / 1000}}
      : {}),
    TrackingStartDate: seconds(Math.max(ctx.state.createdAt, key.createdAt)),
  }
}

/** CloudTrail shows structures with lowerCamelCase member names and dates as strings. */
export function trailShape(value: unknown, parentKey = ''): unknown {
  if (Array.isArray(value)) return value.map((v) => trailShape(v, parentKey))
  if (value && typeof value === 'object') {
    if (/EncryptionContext/i.test(parentKey)) return value
    const out: Record<string, unknown> = {}
    for (const [k, v] of Object.entries(value)) {
      const name = k === 'AWSAccountId' ? 'aWSAccountId' : k.charAt(0).toLowerCase() + k.slice(1)
      out[name] = /Date$/.test(k) && typeof v === 'number' ? new Date(v * 1000).toISOString() : trailShape(v, k)
    }

    return out
  }

  return value
}

const spec = (run: Operation, mutates: boolean, readOnly = !mutates): OperationSpec => ({mutates, readOnly, run})

/** Every KMS operation the sandbox implements, by name (the X-Amz-Target after "TrentService."). */
export const KMS_OPERATIONS: Record<string, OperationSpec> = {
  CancelKeyDeletion: spec(CancelKeyDeletion, true),
  CreateAlias: spec(CreateAlias, true),
  CreateGrant: spec(CreateGrant, true),
  CreateKey: spec(CreateKey, true),
  Decrypt: spec(Decrypt, false),
  DeleteAlias: spec(DeleteAlias, true),
  DescribeKey: spec(DescribeKey, false),
  DisableKey: spec(DisableKey, true),
  DisableKeyRotation: spec(DisableKeyRotation, true),
  EnableKey: spec(EnableKey, true),
  EnableKeyRotation: spec(EnableKeyRotation, true),
  Encrypt: spec(Encrypt, false),
  GenerateDataKey: spec(GenerateDataKey, false),
  GenerateDataKeyWithoutPlaintext: spec(GenerateDataKeyWithoutPlaintext, false),
  GenerateMac: spec(GenerateMac, false),
  GenerateRandom: spec(GenerateRandom, false),
  GetKeyLastUsage: spec(GetKeyLastUsage, false),
  GetKeyPolicy: spec(GetKeyPolicy, false),
  GetKeyRotationStatus: spec(GetKeyRotationStatus, false),
  GetPublicKey: spec(GetPublicKey, false),
  ListAliases: spec(ListAliases, false),
  ListGrants: spec(ListGrants, false),
  ListKeyPolicies: spec(ListKeyPolicies, false),
  ListKeyRotations: spec(ListKeyRotations, false),
  ListKeys: spec(ListKeys, false),
  ListResourceTags: spec(ListResourceTags, false),
  ListRetirableGrants: spec(ListRetirableGrants, false),
  PutKeyPolicy: spec(PutKeyPolicy, true),
  ReEncrypt: spec(ReEncrypt, false),
  ReplicateKey: spec(ReplicateKey, true),
  RetireGrant: spec(RetireGrant, true),
  RevokeGrant: spec(RevokeGrant, true),
  RotateKeyOnDemand: spec(RotateKeyOnDemand, true),
  ScheduleKeyDeletion: spec(ScheduleKeyDeletion, true),
  Sign: spec(Sign, false),
  TagResource: spec(TagResource, true),
  UntagResource: spec(UntagResource, true),
  UpdateAlias: spec(UpdateAlias, true),
  UpdateKeyDescription: spec(UpdateKeyDescription, true),
  Verify: spec(Verify, false),
  VerifyMac: spec(VerifyMac, false),
}

