// Key records as KMS sees them: finding a key the way KMS does (key ID, key ARN, alias name, alias ARN),
// the AWS-managed keys created on first use, key-state rules and the KeyMetadata shape.
import {randomUUID, randomBytes} from 'node:crypto'

import {DAY_MS} from '../../lib/time.js'
import {SANDBOX_ACCOUNT} from '../constants.js'
import {SandboxError, err} from '../errors.js'
import type {KeyRecord, SandboxState} from '../store/state.js'
import {type OpContext, authorize, needWrite} from './context.js'
import {str} from './input.js'
import {encryptionAlgorithms, generateMaterial, keyAgreementAlgorithms, macAlgorithms, signingAlgorithms} from './material.js'
import {awsManagedKeyPolicy} from './policy.js'

export const KEY_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/
export const MRK_ID = /^mrk-[0-9a-f]{32}$/
const KEY_ARN = /^arn:aws:kms:([a-z0-9-]+):(\d{12}):key\/(.+)$/
const ALIAS_ARN = /^arn:aws:kms:([a-z0-9-]+):(\d{12}):(alias\/.+)$/
export const REGION = /^[a-z]{2}(-[a-z]+)+-\d+$/

/** Services whose AWS-managed key KMS creates on first use of alias/aws/<service>. */
export const AWS_MANAGED_SERVICES = new Set([
  'acm', 'backup', 'codeartifact', 'codecommit', 'connect', 'dms', 'dynamodb', 'ebs', 'elasticfilesystem', 'es', 'fsx', 'glue',
  'kafka', 'kinesis', 'kinesisvideo', 'lambda', 'lightsail', 'rds', 'redshift', 's3', 'secretsmanager', 'sns', 'sqs', 'ssm', 'xray',
])

export const keyArn = (region: string, keyId: string, account = SANDBOX_ACCOUNT) => `arn:aws:kms:${region}:${account}:key/${keyId}`
export const aliasArn = (region: string, name: string, account = SANDBOX_ACCOUNT) => `arn:aws:kms:${region}:${account}:${name}`
export const seconds = (ms: number): number => ms / 1000

export function newKeyId(multiRegion: boolean): string {
  return multiRegion ? `mrk-${randomBytes(16).toString('hex')}` : randomUUID()
}

/** The account a request works in: the caller's (its keys, aliases and listings). */
export function callerAccount(ctx: Pick<OpContext, 'principal'>): string {
  return ctx.principal?.accountId ?? SANDBOX_ACCOUNT
}

// ---- Finding keys --------------------------------------------------------------------------------
export interface FindOptions {
  /** Accept alias names and alias ARNs (crypto operations and DescribeKey). */
  aliases?: boolean
  /** The member name, for messages. */
  member?: string
}

const notFoundKey = (arn: string) => err('NotFoundException', `Key '${arn}' does not exist`)

/** Resolves a KeyId as KMS does; creates the AWS-managed key on first use of alias/aws/<service>. */
export function findKey(ctx: OpContext, ref: string, opts: FindOptions = {}): KeyRecord {
  const {state, region} = ctx
  // Key IDs and alias names are the caller's account's; an ARN may name a key of another account.
  const own = callerAccount(ctx)
  let arn: string | undefined
  if (KEY_ID.test(ref) || MRK_ID.test(ref)) {
    arn = keyArn(region, ref, own)
  } else if (KEY_ARN.test(ref)) {
    const [, r] = KEY_ARN.exec(ref)!
    if (r !== region) throw notFoundKey(ref)
    arn = ref
  } else if (opts.aliases && (ref.startsWith('alias/') || ALIAS_ARN.test(ref))) {
    let name = ref
    if (!ref.startsWith('alias/')) {
      const [, r, account, n] = ALIAS_ARN.exec(ref)!
      if (r !== region || (account !== own && !state.aliases[ref])) throw err('NotFoundException', `Alias ${ref} is not found.`)
      name = n
    }

    const aliasAccount = ref.startsWith('alias/') ? own : ALIAS_ARN.exec(ref)![2]
    const alias = state.aliases[aliasArn(region, name, aliasAccount)]
    if (alias) {
      arn = alias.targetKeyArn
    } else {
      const service = /^alias\/aws\/([a-z0-9-]+)$/.exec(name)?.[1]
      if (!service || !AWS_MANAGED_SERVICES.has(service) || aliasAccount !== own) throw err('NotFoundException', `Alias ${aliasArn(region, name, aliasAccount)} is not found.`)
      needWrite(ctx)
      arn = createAwsManagedKey(ctx, service).arn
    }
  } else {
    throw err('NotFoundException', `Invalid keyId '${ref}'`)
  }

  const key = state.keys[arn]
  if (!key) throw notFoundKey(arn)
  if (!ctx.resources.includes(key.arn)) ctx.resources.push(key.arn)
  return key
}

/** Reads the required KeyId member, finds the key and authorizes the caller on it. */
export function keyFrom(ctx: OpContext, input: Record<string, any>, opts: FindOptions = {}): KeyRecord {
  const member = opts.member ?? 'KeyId'
  const ref = str(input, member, {max: 2048, required: true})!
  const key = findKey(ctx, ref, opts)
  authorize(ctx, key, input)
  return key
}

export function createAwsManagedKey(ctx: OpContext, service: string): KeyRecord {
  const now = ctx.clock.nowMs()
  const keyId = newKeyId(false)
  const account = callerAccount(ctx)
  const arn = keyArn(ctx.region, keyId, account)
  const key: KeyRecord = {
    account,
    arn,
    createdAt: now,
    description: `Default key that protects my ${service.toUpperCase()} resources when no other key is defined`,
    keyId,
    keyManager: 'AWS',
    keySpec: 'SYMMETRIC_DEFAULT',
    keyUsage: 'ENCRYPT_DECRYPT',
    materials: [generateMaterial('SYMMETRIC_DEFAULT', now, 'CREATION')],
    multiRegion: false,
    onDemandRotations: 0,
    origin: 'AWS_KMS',
    policy: awsManagedKeyPolicy(account, ctx.region, service),
    region: ctx.region,
    rotation: {enabled: true, nextRotation: now + 365 * DAY_MS, periodDays: 365},
    state: 'Enabled',
    tags: [],
  }
  ctx.state.keys[arn] = key
  const name = `alias/aws/${service}`
  ctx.state.aliases[aliasArn(ctx.region, name, account)] = {arn: aliasArn(ctx.region, name, account), createdAt: now, name, region: ctx.region, targetKeyArn: arn, updatedAt: now}
  return key
}

/** The key's current material (the last one). */
export function currentMaterial(key: KeyRecord) {
  return key.materials.at(-1)!
}

// ---- Key states ----------------------------------------------------------------------------------
function stateWords(key: KeyRecord): string {
  switch (key.state) {
    case 'PendingDeletion': {
      return 'is pending deletion.'
    }

    case 'PendingReplicaDeletion': {
      return 'is pending replica deletion.'
    }

    case 'PendingImport': {
      return 'is pending import.'
    }

    case 'Disabled': {
      return 'is disabled.'
    }

    default: {
      return `is ${key.state}.`
    }
  }
}

export const invalidState = (key: KeyRecord): SandboxError => err('KMSInvalidStateException', `${key.arn} ${stateWords(key)}`)

/** Cryptographic operations: Disabled -> DisabledException, any other state but Enabled -> KMSInvalidStateException. */
export function requireUsable(key: KeyRecord): void {
  if (key.state === 'Enabled') return
  if (key.state === 'Disabled') throw err('DisabledException', `${key.arn} is disabled.`)
  throw invalidState(key)
}

/** Management operations that a key pending deletion refuses. */
export function requireNotPendingDeletion(key: KeyRecord): void {
  if (key.state === 'PendingDeletion' || key.state === 'PendingReplicaDeletion') throw invalidState(key)
}

/** AWS-managed keys: their policy gives the account no management permissions. */
export function requireCustomerManaged(ctx: OpContext, key: KeyRecord): void {
  if (key.keyManager !== 'AWS') return
  throw err(
    'AccessDeniedException',
    `User: ${ctx.principal.arn} is not authorized to perform: ${ctx.action} on resource: ${key.arn} because no resource-based policy allows the ${ctx.action} action`,
  )
}

export function requireUsage(key: KeyRecord, usage: string, operation: string): void {
  if (key.keyUsage === usage) return
  throw err('InvalidKeyUsageException', `${key.arn} key usage is ${key.keyUsage} which is not valid for ${operation}.`)
}

// ---- KeyMetadata ---------------------------------------------------------------------------------
export function relatedMultiRegionKeys(state: SandboxState, key: KeyRecord): KeyRecord[] {
  if (!key.multiRegion) return []
  return Object.values(state.keys).filter((k) => k.keyId === key.keyId)
}

export function keyMetadata(state: SandboxState, key: KeyRecord): Record<string, unknown> {
  const m: Record<string, unknown> = {
    AWSAccountId: key.account,
    Arn: key.arn,
    CreationDate: seconds(key.createdAt),
  }
  if (key.keySpec === 'SYMMETRIC_DEFAULT') m.CurrentKeyMaterialId = key.materials.at(-1)!.id
  m.CustomerMasterKeySpec = key.keySpec
  if (key.state === 'PendingDeletion' && key.deletionDate !== undefined) m.DeletionDate = seconds(key.deletionDate)
  m.Description = key.description
  m.Enabled = key.state === 'Enabled'
  const enc = encryptionAlgorithms(key)
  if (enc) m.EncryptionAlgorithms = enc
  const agree = keyAgreementAlgorithms(key)
  if (agree) m.KeyAgreementAlgorithms = agree
  m.KeyId = key.keyId
  m.KeyManager = key.keyManager
  m.KeySpec = key.keySpec
  m.KeyState = key.state
  m.KeyUsage = key.keyUsage
  const mac = macAlgorithms(key)
  if (mac) m.MacAlgorithms = mac
  m.MultiRegion = key.multiRegion
  if (key.multiRegion) {
    const related = relatedMultiRegionKeys(state, key)
    const primary = related.find((k) => k.multiRegionType === 'PRIMARY')
    m.MultiRegionConfiguration = {
      MultiRegionKeyType: key.multiRegionType,
      ...(primary ? {PrimaryKey: {Arn: primary.arn, Region: primary.region}} : {}),
      ReplicaKeys: related.filter((k) => k.multiRegionType === 'REPLICA').map((k) => ({Arn: k.arn, Region: k.region})),
    }
  }

  m.Origin = key.origin
  if ((key.state === 'PendingDeletion' || key.state === 'PendingReplicaDeletion') && key.pendingWindowInDays !== undefined) {
    m.PendingDeletionWindowInDays = key.pendingWindowInDays
  }

  const sign = signingAlgorithms(key)
  if (sign) m.SigningAlgorithms = sign
  return m
}
