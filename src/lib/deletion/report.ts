// The pre-flight as a short report a person will actually read: one field per line, the
// evidence of use in red, then the newest cryptographic calls from CloudTrail as a table.
import {keyLabel} from '../key-ref.js'
import {chalk, daysUntil, formatDate, formatDay, formatPairs, renderFields, renderTable} from '../output.js'
import {type DeletionPreflight, describeDuration} from './preflight.js'
import type {UsageEvent} from './recent-use.js'

function grantsText(p: DeletionPreflight): string | undefined {
  if (!p.grants) return p.unavailable.ListGrants ? `unknown (${p.unavailable.ListGrants})` : undefined
  if (p.grants.length === 0) return 'none'
  const shown = p.grants.slice(0, 5).map((g) => `${g.grantee} (${g.operations.join(', ') || 'no operations'})`)
  const more = p.grants.length > shown.length ? [`... and ${p.grants.length - shown.length} more (kmsctl grant list ${p.ref})`] : []
  return [`${p.grants.length}, to:`, ...shown, ...more].join('\n')
}

function multiRegionText(p: DeletionPreflight): string {
  const mr = p.multiRegion
  if (!mr) return 'no'
  if (mr.type === 'REPLICA') {
    return `replica of ${mr.primary?.arn ?? 'a primary key'}${mr.primary?.region ? ` (${mr.primary.region})` : ''}; deleting it leaves the primary and the other replicas`
  }

  if (mr.replicas.length === 0) return 'primary, no replicas'
  return [
    `primary with ${mr.replicas.length} ${mr.replicas.length === 1 ? 'replica' : 'replicas'}:`,
    ...mr.replicas.map((r) => `${r.region}  ${r.arn}`),
    chalk.yellow(`The primary goes to PendingReplicaDeletion and its ${p.days}-day window starts only after the last replica is deleted.`),
    'Use of the replicas in their own Regions is not checked here.',
  ].join('\n')
}

function lastUsedText(p: DeletionPreflight): string {
  const u = p.recentUse.lastUsage
  if (u.status !== 'ok') return `unknown (GetKeyLastUsage: ${u.reason ?? 'unavailable'})`
  const since = u.trackingSince ? `tracking since ${formatDay(u.trackingSince)}` : undefined
  if (!u.time) return `never${since ? `, ${since}` : ''}`
  const text = `${formatDate(u.time)} ${u.operation ?? ''}`.trim() + (since ? ` (${since})` : '')
  return u.time >= p.recentUse.since ? chalk.red(text) : text
}

function trailText(p: DeletionPreflight): string {
  const t = p.recentUse.trail
  const window = `in the last ${describeDuration(p.recentUse.lookbackMs)}`
  if (t.status !== 'ok') return `unknown (LookupEvents: ${t.reason ?? 'unavailable'})`
  if (t.count === 0) return `no cryptographic calls ${window}`
  const callers = t.callers.slice(0, 3).map((c) => `${c.who} from ${c.from}: ${c.calls} (${c.events.join(', ')})`)
  const more = t.callers.length > 3 ? [`... and ${t.callers.length - 3} more callers`] : []
  return chalk.red([`${t.count}${t.truncated ? '+' : ''} cryptographic ${t.count === 1 ? 'call' : 'calls'} ${window}, by:`, ...callers, ...more].join('\n'))
}

function deletionText(p: DeletionPreflight): string {
  if (p.waitsForReplicas) return `after the last replica is deleted, then ${p.days} days (state PendingReplicaDeletion until then)`
  return `${formatDate(p.wouldDeleteOn)} if scheduled now (${p.days} days); cancel any time before then`
}

function stateText(state: string): string {
  if (state === 'Enabled') return chalk.red(`${state} (still usable: disable it first)`)
  if (state === 'Disabled') return chalk.green(state)
  return state
}

/** The pre-flight report as text for stdout. */
export function renderPreflight(p: DeletionPreflight, width?: number): string {
  const title = chalk.bold(`Deletion pre-flight for ${keyLabel(p.ref, p.keyId)}`)
  const fields = renderFields([
    ['Key ID', p.keyId],
    ['ARN', p.arn],
    ['State', stateText(p.state)],
    ['Manager', p.manager],
    ['Description', p.description || '(none)'],
    ['Spec', p.keySpec ? `${p.keySpec} ${p.keyUsage}`.trim() : undefined],
    ['Created', formatDate(p.creationDate)],
    ['Aliases', p.aliases.join(', ') || (p.unavailable.ListAliases ? `unknown (${p.unavailable.ListAliases})` : '(none)')],
    ['Tags', Object.keys(p.tags).length > 0 ? formatPairs(p.tags) : p.unavailable.ListResourceTags ? `unknown (${p.unavailable.ListResourceTags})` : '(none)'],
    ['Grants', grantsText(p)],
    ['Multi-Region', multiRegionText(p)],
    ['Last used', lastUsedText(p)],
    ['CloudTrail', trailText(p)],
    ['Deletion', deletionText(p)],
  ])
  const parts = [title, fields]
  const events = p.recentUse.trail.events
  if (events.length > 0) {
    parts.push('', chalk.red(`Newest cryptographic calls on this key (CloudTrail, last ${describeDuration(p.recentUse.lookbackMs)}):`), renderUsage(events, width))
  }

  return parts.join('\n')
}

function renderUsage(events: readonly UsageEvent[], width?: number): string {
  return renderTable(
    events,
    [
      {get: (e) => formatDate(e.time), header: 'Time', kind: 'fixed'},
      {get: (e) => e.event, header: 'Event', kind: 'name'},
      {cut: 'start', get: (e) => e.who, header: 'Who', kind: 'name', minWidth: 14},
      {get: (e) => e.from, header: 'From', kind: 'text', minWidth: 9, priority: 3},
      {get: (e) => (e.outcome === 'ok' ? 'ok' : chalk.yellow(e.outcome)), header: 'Outcome', kind: 'text', minWidth: 6},
    ],
    width,
  )
}

/** "in 30 days", "in 1 day", "today". */
export function daysFromNow(date: string | Date, now: Date = new Date()): string {
  const days = daysUntil(date, now)
  if (days === 0) return 'today'
  return days === 1 ? 'in 1 day' : `in ${days} days`
}
