// Key rotation: EnableKeyRotation (90..2560 days, default 365), DisableKeyRotation, GetKeyRotationStatus,
// RotateKeyOnDemand (a limited number per key) and ListKeyRotations. Symmetric encryption keys only;
// a multi-Region key rotates through its primary. Automatic rotations happen in maintenance.ts.
import {DAY_MS} from '../../lib/time.js'
import {err} from '../errors.js'
import type {KeyRecord} from '../store/state.js'
import {int, oneOf, page} from './input.js'
import {currentMaterial, keyFrom, relatedMultiRegionKeys, requireCustomerManaged, requireUsable, seconds} from './key-record.js'
import {rotate} from './maintenance.js'
import {type Operation, type OperationSpec, keyResponse, spec} from './operation.js'

const MAX_ON_DEMAND_ROTATIONS = 10

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

/** The rotation operations, by name. */
export const ROTATION_OPERATIONS: Record<string, OperationSpec> = {
  DisableKeyRotation: spec(DisableKeyRotation, true),
  EnableKeyRotation: spec(EnableKeyRotation, true),
  GetKeyRotationStatus: spec(GetKeyRotationStatus, false),
  ListKeyRotations: spec(ListKeyRotations, false),
  RotateKeyOnDemand: spec(RotateKeyOnDemand, true),
}
