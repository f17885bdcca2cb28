// KMS keys: CreateKey, DescribeKey, ListKeys, UpdateKeyDescription, EnableKey, DisableKey,
// ScheduleKeyDeletion, CancelKeyDeletion, ReplicateKey and GetKeyLastUsage.
import {KEY_USE_OPERATIONS} from '../../lib/policy/actions.js'
import {DAY_MS} from '../../lib/time.js'
import {trailShape} from '../cloudtrail/records.js'
import {err} from '../errors.js'
import type {KeyRecord} from '../store/state.js'
import {authorize} from './context.js'
import {bool, grantTokens, int, oneOf, page, str} from './input.js'
import {REGION, callerAccount, keyArn, keyFrom, keyMetadata, newKeyId, relatedMultiRegionKeys, requireCustomerManaged, requireNotPendingDeletion, seconds} from './key-record.js'
import {ALL_SPECS, generateMaterial, usagesFor} from './material.js'
import {type Operation, type OperationSpec, keyResponse, spec} from './operation.js'
import {checkPolicy, defaultKeyPolicy} from './policy.js'
import {MAX_TAGS_PER_KEY, validateTags} from './tags.js'

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
    account: callerAccount(ctx),
    arn: keyArn(ctx.region, keyId, callerAccount(ctx)),
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
    policy: policyIn ?? defaultKeyPolicy(callerAccount(ctx)),
    region: ctx.region,
    rotation: {enabled: false},
    state: 'Enabled',
    tags,
  }
  authorize(ctx, undefined, input)
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
    .filter((k) => k.region === ctx.region && k.account === callerAccount(ctx))
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
  const arn = keyArn(replicaRegion, key.keyId, key.account)
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
    policy: policyIn ?? defaultKeyPolicy(key.account),
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

const KEY_LAST_USAGE_OPERATIONS: ReadonlySet<string> = new Set(KEY_USE_OPERATIONS)

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


/** The key operations, by name. */
export const KEY_OPERATIONS: Record<string, OperationSpec> = {
  CancelKeyDeletion: spec(CancelKeyDeletion, true),
  CreateKey: spec(CreateKey, true),
  DescribeKey: spec(DescribeKey, false),
  DisableKey: spec(DisableKey, true),
  EnableKey: spec(EnableKey, true),
  GetKeyLastUsage: spec(GetKeyLastUsage, false),
  ListKeys: spec(ListKeys, false),
  ReplicateKey: spec(ReplicateKey, true),
  ScheduleKeyDeletion: spec(ScheduleKeyDeletion, true),
  UpdateKeyDescription: spec(UpdateKeyDescription, true),
}
