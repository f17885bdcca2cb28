// What KMS does on its own as time passes: keys whose deletion waiting period ended are deleted (with
// their grants and aliases), a multi-Region primary whose last replica went starts its own waiting
// period, automatic rotations that came due are made. CloudTrail records these as AwsServiceEvents
// invoked by kms.amazonaws.com, at the time they happened.
import {randomUUID} from 'node:crypto'

import {DAY_MS} from '../../lib/time.js'
import {SANDBOX_ACCOUNT} from '../constants.js'
import type {KeyRecord, SandboxState} from '../store/state.js'
import type {TrailRecord} from '../store/store.js'
import {relatedMultiRegionKeys} from './key-record.js'
import {generateMaterial} from './material.js'

/** Deleting a key: its grants and aliases go with it. */
export function deleteKey(state: SandboxState, key: KeyRecord): void {
  delete state.keys[key.arn]
  for (const [id, g] of Object.entries(state.grants)) if (g.keyArn === key.arn) delete state.grants[id]
  for (const [arn, a] of Object.entries(state.aliases)) if (a.targetKeyArn === key.arn) delete state.aliases[arn]
}

/** New key material for a key (and every related multi-Region key). */
export function rotate(state: SandboxState, key: KeyRecord, at: number, origin: 'AUTOMATIC' | 'ON_DEMAND'): void {
  const material = generateMaterial(key.keySpec, at, origin)
  for (const k of key.multiRegion ? relatedMultiRegionKeys(state, key) : [key]) k.materials.push({...material})
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

/** Applies every time-driven change due at `nowMs`. */
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

/**
 * A change KMS makes on its own (a deletion at the end of the waiting period, an automatic rotation),
 * as CloudTrail records it: an AwsServiceEvent invoked by kms.amazonaws.com, at the time it happened.
 */
export function serviceEvent(eventName: 'DeleteKey' | 'RotateKey', keyArn: string, region: string, atMs: number): TrailRecord {
  return {
    eventVersion: '1.11',
    userIdentity: {accountId: SANDBOX_ACCOUNT, invokedBy: 'kms.amazonaws.com'},
    eventTime: new Date(atMs).toISOString().replace(/\.\d{3}Z$/, 'Z'),
    eventSource: 'kms.amazonaws.com',
    eventName,
    awsRegion: region,
    sourceIPAddress: 'kms.amazonaws.com',
    userAgent: 'kms.amazonaws.com',
    requestParameters: null,
    responseElements: null,
    eventID: randomUUID(),
    readOnly: false,
    resources: [{accountId: SANDBOX_ACCOUNT, type: 'AWS::KMS::Key', ARN: keyArn}],
    eventType: 'AwsServiceEvent',
    managementEvent: true,
    recipientAccountId: SANDBOX_ACCOUNT,
    serviceEventDetails: {keyId: keyArn.split('/').pop()},
    eventCategory: 'Management',
  }
}

export interface MaintenanceReport {
  /** Keys deleted because their waiting period ended (ARNs). */
  deletedKeys: string[]
  /** The CloudTrail service events of the changes, oldest first. */
  events: TrailRecord[]
  /** Keys given new key material by automatic rotation, with the number of rotations. */
  rotatedKeys: Array<{keyArn: string; rotations: number}>
}

/** Applies what falls due at `nowMs` and says what changed, with the CloudTrail events of the changes. */
export function maintainAndReport(state: SandboxState, nowMs: number): MaintenanceReport {
  const before = new Map(Object.values(state.keys).map((k) => [k.arn, {count: k.materials.length, deletionDate: k.deletionDate, region: k.region}]))
  maintain(state, nowMs)
  const events: TrailRecord[] = []
  const deletedKeys = [...before.keys()].filter((arn) => !state.keys[arn])
  for (const arn of deletedKeys) events.push(serviceEvent('DeleteKey', arn, before.get(arn)!.region, before.get(arn)!.deletionDate ?? nowMs))
  const rotatedKeys: MaintenanceReport['rotatedKeys'] = []
  for (const k of Object.values(state.keys)) {
    const was = before.get(k.arn)
    if (!was || k.materials.length <= was.count) continue
    rotatedKeys.push({keyArn: k.arn, rotations: k.materials.length - was.count})
    for (const m of k.materials.slice(was.count)) events.push(serviceEvent('RotateKey', k.arn, k.region, m.createdAt))
  }

  events.sort((a, b) => Date.parse(a.eventTime) - Date.parse(b.eventTime))
  return {deletedKeys, events, rotatedKeys}
}
