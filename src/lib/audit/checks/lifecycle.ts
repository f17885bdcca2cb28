// Lifecycle checks: rotation, keys disabled for long, keys pending deletion that are still used,
// unused keys, multi-Region keys.
import {multiRegionOf} from '../../inventory.js'
import {DAY_MS} from '../../time.js'
import {PENDING, type RawFinding} from '../types.js'
import {type CheckFn, missing} from './check.js'

const days = (ms: number) => Math.floor(ms / DAY_MS)
const day = (iso: string) => iso.slice(0, 10)

const rotationOff: CheckFn = (k) => {
  const state = k.metadata.KeyState
  if (state !== 'Enabled' && state !== 'Disabled') return []
  const why = missing(k, 'GetKeyRotationStatus', k.rotation)
  if (why) return why
  if (k.rotation!.status !== 'off') return []
  return [{check: 'rotation-off', message: `Automatic rotation is off (${k.metadata.KeySpec ?? 'SYMMETRIC_DEFAULT'}, material from ${k.metadata.Origin ?? 'AWS_KMS'}).`}]
}

const disabledLong: CheckFn = (k, o) => {
  if (k.metadata.KeyState !== 'Disabled') return []
  const since = k.disabledSince
  if (!since) {
    const trail = k.unavailable.LookupEvents ? `CloudTrail: ${k.unavailable.LookupEvents}` : 'no record in the journal or CloudTrail'
    return `when the key was disabled is not known (${trail})`
  }

  const evidence = {disabledSince: since.time, how: since.detail, source: since.source}
  if (since.time) {
    const d = days(o.now.getTime() - Date.parse(since.time))
    if (d <= o.disabledDays) return []
    return [{check: 'disabled-long', evidence: {...evidence, days: d}, message: `Disabled for ${d} days (since ${day(since.time)}; ${since.detail}), more than ${o.disabledDays}.`}]
  }

  if (since.atLeastDays !== undefined) {
    if (since.atLeastDays < o.disabledDays) return `disabled for at least ${since.atLeastDays} days (${since.detail}); cannot tell whether more than ${o.disabledDays}`
    return [{check: 'disabled-long', evidence: {...evidence, atLeastDays: since.atLeastDays}, message: `Disabled for more than ${since.atLeastDays} days (${since.detail}).`}]
  }

  return []
}

const pendingDeletionInUse: CheckFn = (k, o) => {
  if (!PENDING.has(k.metadata.KeyState ?? '')) return []
  const sinceIso = new Date(o.now.getTime() - o.recentDays * DAY_MS).toISOString()
  const u = k.lastUsage
  const deletion = k.metadata.DeletionDate
    ? ` It will be deleted on ${day(k.metadata.DeletionDate.toISOString())}.`
    : k.metadata.KeyState === 'PendingReplicaDeletion'
      ? ' It will be deleted once its replicas are.'
      : ''
  if (u?.status === 'ok' && u.time && u.time >= sinceIso) {
    return [
      {
        check: 'pending-deletion-in-use',
        evidence: {lastUsed: u.time, operation: u.operation, source: 'GetKeyLastUsage'},
        message: `Used ${days(o.now.getTime() - Date.parse(u.time))} days ago (${u.operation ?? 'a cryptographic operation'} at ${u.time}, from GetKeyLastUsage), within ${o.recentDays} days.${deletion}`,
      },
    ]
  }

  const t = k.trail
  if (t?.status === 'ok' && t.count > 0) {
    const newest = t.events[0]
    return [
      {
        check: 'pending-deletion-in-use',
        evidence: {calls: t.count, newest, source: 'CloudTrail'},
        message: `${t.count}${t.truncated ? '+' : ''} cryptographic call(s) in CloudTrail within ${o.recentDays} days, the newest ${newest.event} by ${newest.who} at ${newest.time} (${newest.outcome}).${deletion}`,
      },
    ]
  }

  const lastOk = u?.status === 'ok'
  const trailOk = t?.status === 'ok'
  if (!lastOk && !trailOk) return `recent use could not be checked (GetKeyLastUsage: ${k.unavailable.GetKeyLastUsage ?? 'not read'}; LookupEvents: ${k.unavailable.LookupEvents ?? 'not read'})`
  return []
}

const unused: CheckFn = (k, o) => {
  if (k.metadata.KeyState !== 'Enabled') return []
  const why = missing(k, 'GetKeyLastUsage', k.lastUsage)
  if (why) return why
  const u = k.lastUsage!
  if (u.status !== 'ok') return `GetKeyLastUsage: ${u.reason ?? 'unavailable'}`
  const now = o.now.getTime()
  if (u.time) {
    const d = days(now - Date.parse(u.time))
    if (d <= o.unusedDays) return []
    return [{check: 'unused', evidence: {lastUsed: u.time, operation: u.operation}, message: `Last used ${d} days ago (${u.operation ?? 'cryptographic operation'} at ${u.time}, from GetKeyLastUsage), more than ${o.unusedDays}.`}]
  }

  const created = k.metadata.CreationDate?.getTime() ?? now
  if (days(now - created) <= o.unusedDays) return []
  const tracking = u.trackingSince ? Date.parse(u.trackingSince) : now
  if (days(now - tracking) <= o.unusedDays) return `never used since KMS began tracking use on ${day(u.trackingSince ?? new Date(now).toISOString())}, less than ${o.unusedDays} days ago`
  return [
    {
      check: 'unused',
      evidence: {trackingSince: u.trackingSince},
      message: `Never used since KMS began tracking use (${day(u.trackingSince!)}), ${days(now - tracking)} days ago (from GetKeyLastUsage).`,
    },
  ]
}

const multiRegion: CheckFn = (k) => {
  const mr = multiRegionOf(k.metadata)
  if (!mr) return []
  const where = mr.type === 'PRIMARY' ? (mr.replicas.length > 0 ? `replicas in ${mr.replicas.map((r) => r.region).join(', ')}` : 'no replicas yet') : `primary in ${mr.primary?.region ?? '?'}`
  return [{check: 'multi-region', evidence: {primary: mr.primary, replicas: mr.replicas, type: mr.type}, message: `Multi-Region ${mr.type.toLowerCase()} key (${where}).`}]
}

export const lifecycleChecks: Record<string, CheckFn> = {
  'disabled-long': disabledLong,
  'multi-region': multiRegion,
  'pending-deletion-in-use': pendingDeletionInUse,
  'rotation-off': rotationOff,
  unused,
}

