// Rotation of key material: automatic (EnableKeyRotation with a period of 90..2560 days),
// on demand (RotateKeyOnDemand) and its history (ListKeyRotations). Keys that cannot rotate are
// refused with the reason before anything is sent: asymmetric and HMAC keys, keys in a custom key
// store, AWS managed keys (AWS rotates them), imported material (on demand only) and replicas of
// a multi-Region key (rotation is set on the primary).
import type {KMSClient, KeyMetadata, RotationsListEntry} from '@aws-sdk/client-kms'

import {listAllPages} from './aws/paging.js'
import {kmsSdk} from './aws/sdk.js'
import {KmsctlError, fromAwsError, refusal, usageError} from './errors.js'
import {type JournalEntryInput, type Journal, journaled} from './journal.js'
import type {ResolvedKey} from './key-ref.js'
import type {PlannedRequest} from './output.js'

export const ROTATION_PERIOD_MIN = 90
export const ROTATION_PERIOD_MAX = 2560
export const ROTATION_PERIOD_DEFAULT = 365

/** A whole number of days within KMS's range, else a usage error naming the flag. */
export function validateRotationPeriod(days: number, flag = '--period-days'): number {
  if (!Number.isInteger(days) || days < ROTATION_PERIOD_MIN || days > ROTATION_PERIOD_MAX) {
    throw usageError(
      `${flag} ${days} is outside KMS's range of ${ROTATION_PERIOD_MIN}..${ROTATION_PERIOD_MAX} days.`,
      `Try this: ${flag} ${ROTATION_PERIOD_DEFAULT} (the default period)`,
    )
  }

  return days
}

export type RotationAction = 'disable' | 'enable' | 'history' | 'on-demand' | 'status'

/** Why the key cannot do this rotation action, or undefined when it can. */
export function rotationRefusal(m: KeyMetadata, action: RotationAction): string | undefined {
  const spec = m.KeySpec ?? m.CustomerMasterKeySpec ?? 'SYMMETRIC_DEFAULT'
  if (spec.startsWith('HMAC_')) return `it is an HMAC key (${spec}); HMAC keys cannot rotate`
  if (spec !== 'SYMMETRIC_DEFAULT') return `it is an asymmetric key (${spec}); asymmetric keys cannot rotate`
  if (m.Origin === 'AWS_CLOUDHSM' || m.Origin === 'EXTERNAL_KEY_STORE' || m.CustomKeyStoreId) {
    return 'it is in a custom key store; keys in custom key stores cannot rotate'
  }

  if (action === 'status' || action === 'history') return undefined
  if (m.KeyManager === 'AWS') return 'it is an AWS managed key; AWS rotates these every year and they cannot be changed'
  if (m.MultiRegionConfiguration?.MultiRegionKeyType === 'REPLICA') {
    const primary = m.MultiRegionConfiguration.PrimaryKey?.Arn
    return `it is a replica of a multi-Region key; rotation is set on the primary key${primary ? ` (${primary})` : ''} and the replicas follow`
  }

  if (m.Origin === 'EXTERNAL' && (action === 'enable' || action === 'disable')) {
    return 'its key material is imported; imported keys rotate on demand only (import new material, then kmsctl key rotate KEY)'
  }

  return undefined
}

/** Refuses (exit 2) a rotation action the key cannot do. */
export function assertCanRotate(key: ResolvedKey, action: RotationAction): void {
  const reason = rotationRefusal(key.metadata, action)
  if (!reason) return
  const verb = {
    disable: 'disable automatic rotation of',
    enable: 'enable automatic rotation of',
    history: 'list the rotations of',
    'on-demand': 'rotate',
    status: 'show the rotation status of',
  }[action]
  throw refusal(`Cannot ${verb} ${key.ref}: ${reason}.`, 'Try this: kmsctl key list --spec SYMMETRIC_DEFAULT --manager CUSTOMER (the keys that can rotate)', {
    keyId: key.keyId,
    reason,
  })
}

export interface RotationStatus {
  keyId: string
  arn: string
  enabled: boolean
  periodDays?: number
  nextRotationDate?: string
  /** Set while an on-demand rotation is in progress. */
  onDemandRotationStartDate?: string
  manager?: string
  origin?: string
}

/** GetKeyRotationStatus of a resolved key. */
export async function getRotationStatus(kms: KMSClient, key: ResolvedKey): Promise<RotationStatus> {
  const {GetKeyRotationStatusCommand} = await kmsSdk()
  try {
    const out = await kms.send(new GetKeyRotationStatusCommand({KeyId: key.keyId}))
    return {
      arn: key.arn,
      enabled: Boolean(out.KeyRotationEnabled),
      keyId: key.keyId,
      manager: key.metadata.KeyManager,
      nextRotationDate: out.NextRotationDate?.toISOString(),
      onDemandRotationStartDate: out.OnDemandRotationStartDate?.toISOString(),
      origin: key.metadata.Origin,
      periodDays: out.RotationPeriodInDays,
    }
  } catch (error) {
    throw fromAwsError(error, {key: key.ref, operation: 'GetKeyRotationStatus'})
  }
}

export interface RotationChangePlan {
  operation: 'DisableKeyRotation' | 'EnableKeyRotation'
  input: {KeyId: string; RotationPeriodInDays?: number}
  before: RotationStatus
  /** Already in the requested state: nothing to send. */
  unchanged: boolean
}

/** Plans enable (with an optional period) or disable, from the key's current status. */
async function planRotationChange(kms: KMSClient, key: ResolvedKey, enable: boolean, periodDays?: number): Promise<RotationChangePlan> {
  assertCanRotate(key, enable ? 'enable' : 'disable')
  if (periodDays !== undefined) validateRotationPeriod(periodDays)
  const before = await getRotationStatus(kms, key)
  if (!enable) {
    return {before, input: {KeyId: key.keyId}, operation: 'DisableKeyRotation', unchanged: !before.enabled}
  }

  const unchanged = before.enabled && (periodDays === undefined || before.periodDays === periodDays)
  return {
    before,
    input: {KeyId: key.keyId, ...(periodDays === undefined ? {} : {RotationPeriodInDays: periodDays})},
    operation: 'EnableKeyRotation',
    unchanged,
  }
}

/** Sends the planned EnableKeyRotation or DisableKeyRotation, then reads the status back. */
async function applyRotationChange(kms: KMSClient, key: ResolvedKey, plan: RotationChangePlan): Promise<RotationStatus> {
  const sdk = await kmsSdk()
  try {
    await (plan.operation === 'EnableKeyRotation'
      ? kms.send(new sdk.EnableKeyRotationCommand(plan.input))
      : kms.send(new sdk.DisableKeyRotationCommand({KeyId: plan.input.KeyId})))
  } catch (error) {
    throw fromAwsError(error, {key: key.ref, operation: plan.operation})
  }

  return getRotationStatus(kms, key)
}

/** Sends RotateKeyOnDemand. */
export async function rotateOnDemand(kms: KMSClient, key: ResolvedKey): Promise<{keyId: string}> {
  const {RotateKeyOnDemandCommand} = await kmsSdk()
  try {
    const out = await kms.send(new RotateKeyOnDemandCommand({KeyId: key.keyId}))
    return {keyId: out.KeyId ?? key.keyId}
  } catch (error) {
    const name = (error as Error)?.name
    const cause = {awsCode: name, awsMessage: (error as Error)?.message, cause: error}
    if (name === 'ConflictException') {
      throw new KmsctlError('FAILED', `An on-demand rotation of ${key.ref} is already in progress.`, {
        ...cause,
        remedy: `Try this: wait for it to finish (kmsctl key rotation status ${key.ref}), then run the command again`,
      })
    }

    if (name === 'LimitExceededException') {
      throw new KmsctlError('LIMIT_EXCEEDED', `KMS allows only a limited number of on-demand rotations per key, and ${key.ref} has reached it.`, {
        ...cause,
        remedy: `Try this: rely on automatic rotation (kmsctl key rotation enable ${key.ref}); see kmsctl key rotations ${key.ref}`,
      })
    }

    throw fromAwsError(error, {key: key.ref, operation: 'RotateKeyOnDemand'})
  }
}

export interface RotationEntry {
  keyMaterialId?: string
  /** CURRENT, NON_CURRENT, PENDING_ROTATION, ... */
  state?: string
  rotationDate?: string
  /** AUTOMATIC or ON_DEMAND. */
  rotationType?: string
  importState?: string
  validTo?: string
}

function toRotationEntry(r: RotationsListEntry): RotationEntry {
  return {
    importState: r.ImportState,
    keyMaterialId: r.KeyMaterialId,
    rotationDate: r.RotationDate?.toISOString(),
    rotationType: r.RotationType,
    state: r.KeyMaterialState,
    validTo: r.ValidTo?.toISOString(),
  }
}

/** Every page of ListKeyRotations, oldest rotation first as KMS returns them. */
export async function listRotations(kms: KMSClient, key: ResolvedKey): Promise<RotationEntry[]> {
  const {ListKeyRotationsCommand} = await kmsSdk()
  try {
    const rotations = await listAllPages(
      `ListKeyRotations on ${key.ref}`,
      (marker) => kms.send(new ListKeyRotationsCommand({KeyId: key.keyId, Limit: 1000, Marker: marker})),
      (page) => page.Rotations,
    )
    return rotations.map((r) => toRotationEntry(r))
  } catch (error) {
    throw fromAwsError(error, {key: key.ref, operation: 'ListKeyRotations'})
  }
}

export interface RotationChangeResult {
  keyId: string
  arn: string
  before: RotationStatus
  /** The status read back after the change (absent with --dry-run or when nothing changed). */
  after?: RotationStatus
  unchanged: boolean
  dryRun: boolean
  requests: PlannedRequest[]
  journalId?: string
}

export interface RotationChangeOptions {
  enable: boolean
  periodDays?: number
  dryRun?: boolean
  journal: Journal
  /** Region, account, caller and command line for the journal entry (asked only when something is sent). */
  context: () => Promise<Omit<JournalEntryInput, 'action' | 'before' | 'key' | 'request'>>
}

/** enable/disable: plan from the current status; then nothing (unchanged, dry run) or journal + send + read back. */
export async function changeRotation(kms: KMSClient, key: ResolvedKey, options: RotationChangeOptions): Promise<RotationChangeResult> {
  const plan = await planRotationChange(kms, key, options.enable, options.periodDays)
  const requests: PlannedRequest[] = plan.unchanged ? [] : [{input: {...plan.input}, operation: plan.operation}]
  const result: RotationChangeResult = {
    arn: key.arn,
    before: plan.before,
    dryRun: Boolean(options.dryRun),
    keyId: key.keyId,
    requests,
    unchanged: plan.unchanged,
  }
  if (plan.unchanged || options.dryRun) return result
  const {entry, result: after} = await journaled(
    options.journal,
    {
      ...(await options.context()),
      action: 'key.rotation',
      before: {enabled: plan.before.enabled, periodDays: plan.before.periodDays},
      key: {arn: key.arn, keyId: key.keyId, ref: key.ref},
      request: requests,
    },
    () => applyRotationChange(kms, key, plan),
    (status) => ({enabled: status.enabled, nextRotationDate: status.nextRotationDate, periodDays: status.periodDays}),
  )
  return {...result, after, journalId: entry.id}
}

/** "on (every 365 days)" / "off". */
export function rotationSummary(status: Pick<RotationStatus, 'enabled' | 'periodDays'>): string {
  return status.enabled ? `on (every ${status.periodDays ?? ROTATION_PERIOD_DEFAULT} days)` : 'off'
}
