// Grants: CreateGrant (operations allowed by the key's type, encryption-context constraints, the same
// Name and parameters giving the same grant), ListGrants, ListRetirableGrants, RetireGrant, RevokeGrant.
import type {KeySpec, KeyUsageType} from '@aws-sdk/client-kms'
import {randomBytes} from 'node:crypto'

import {GRANT_OPERATIONS as GRANT_OPERATION_NAMES, OPERATIONS_BY_KEY_TYPE, grantKeyType} from '../../lib/grants/validate.js'

import {SANDBOX_ROOT_ARN} from '../constants.js'
import {err, validationError} from '../errors.js'
import type {GrantRecord, KeyRecord} from '../store/state.js'
import {authorize} from './context.js'
import {context, dryRun, grantTokens, page, str} from './input.js'
import {findKey, keyFrom, requireCustomerManaged, requireNotPendingDeletion, seconds} from './key-record.js'
import {type Operation, type OperationSpec, spec} from './operation.js'

/** The grant operations KMS allows on this key, by its type (the project's one list, src/lib/grants/validate.ts). */
function grantOperationsFor(key: KeyRecord): readonly string[] {
  return OPERATIONS_BY_KEY_TYPE[grantKeyType({KeySpec: key.keySpec as KeySpec, KeyUsage: key.keyUsage as KeyUsageType})]
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
    if (!(GRANT_OPERATION_NAMES as readonly string[]).includes(op)) {
      throw validationError('operations', ops, `Member must satisfy constraint: [Member must satisfy enum value set: [${GRANT_OPERATION_NAMES.join(', ')}]]`)
    }
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
      authorize(ctx, key, input)
    }
  } else {
    if (keyRef === undefined || grantIdIn === undefined) throw err('ValidationException', 'Either GrantToken, or both KeyId and GrantId, must be specified.')
    const key = findKey(ctx, keyRef)
    authorize(ctx, key, input)
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

/** The grant operations, by name. */
export const GRANT_OPERATIONS: Record<string, OperationSpec> = {
  CreateGrant: spec(CreateGrant, true),
  ListGrants: spec(ListGrants, false),
  ListRetirableGrants: spec(ListRetirableGrants, false),
  RetireGrant: spec(RetireGrant, true),
  RevokeGrant: spec(RevokeGrant, true),
}
