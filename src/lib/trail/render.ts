// Output of `kmsctl trail`: the event table, CSV, NDJSON lines and the group tables.
import {type Column, type TableOptions, formatDate, renderTable} from '../output.js'
import type {GroupRow} from './group.js'
import {type TrailEvent, describeFrom} from './normalise.js'

export const EVENT_COLUMNS: ReadonlyArray<Column<TrailEvent>> = [
  {get: (e) => formatDate(e.time), header: 'Time', kind: 'fixed'},
  {get: (e) => e.event, header: 'Event', kind: 'name', minWidth: 12},
  {cut: 'start', get: (e) => e.who, header: 'Who', kind: 'name', minWidth: 14},
  {get: (e) => describeFrom(e), header: 'From', kind: 'text', minWidth: 9, priority: 3},
  {get: (e) => e.key ?? '', header: 'Key', kind: 'name', minWidth: 12, priority: 2},
  {get: (e) => e.outcome, header: 'Outcome', kind: 'text', minWidth: 6},
]

export function renderEvents(events: readonly TrailEvent[], options?: TableOptions | number): string {
  return renderTable(events, EVENT_COLUMNS, options)
}

export function renderGroups(rows: readonly GroupRow[], label: string, options?: TableOptions | number): string {
  return renderTable(
    rows,
    [
      {get: (r) => r.value, header: label, kind: 'name', minWidth: 16},
      {get: (r) => String(r.count), header: 'Calls', kind: 'fixed'},
      {get: (r) => (r.errors ? String(r.errors) : ''), header: 'Failed', kind: 'fixed'},
      {get: (r) => formatDate(r.first), header: 'First seen', kind: 'fixed', priority: 3},
      {get: (r) => formatDate(r.last), header: 'Last seen', kind: 'fixed', priority: 2},
    ],
    options,
  )
}

export const CSV_FIELDS: ReadonlyArray<[string, (e: TrailEvent) => string | undefined]> = [
  ['time', (e) => e.time],
  ['event', (e) => e.event],
  ['who', (e) => e.who],
  ['principalType', (e) => e.principal.type],
  ['principalArn', (e) => e.principal.arn],
  ['account', (e) => e.principal.account],
  ['accessKeyId', (e) => e.principal.accessKeyId],
  ['from', (e) => e.from],
  ['vpcEndpoint', (e) => e.vpcEndpoint],
  ['key', (e) => e.key],
  ['keyArn', (e) => e.keyArn],
  ['outcome', (e) => e.outcome],
  ['errorMessage', (e) => e.errorMessage],
  ['region', (e) => e.region],
  ['userAgent', (e) => e.userAgent],
  ['eventId', (e) => e.eventId],
]

function csvCell(value: string | undefined): string {
  if (value === undefined) return ''
  return /[",\n\r]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value
}

/**
 * Across accounts, each line leads with the account the event was read in and its region; the
 * caller's account is then `principalAccount`, so that no two columns share a name.
 */
const WHERE_CSV_FIELDS: ReadonlyArray<[string, (e: TrailEvent & {account?: string}) => string | undefined]> = [
  ['account', (e) => e.account],
  ['region', (e) => e.region],
  ...CSV_FIELDS.filter(([name]) => name !== 'region').map(([name, get]): [string, (e: TrailEvent) => string | undefined] => [name === 'account' ? 'principalAccount' : name, get]),
]

export function csvHeader(where = false): string {
  return (where ? WHERE_CSV_FIELDS : CSV_FIELDS).map(([name]) => name).join(',')
}

export function csvLine(event: TrailEvent & {account?: string}, where = false): string {
  return (where ? WHERE_CSV_FIELDS : CSV_FIELDS).map(([, get]) => csvCell(get(event))).join(',')
}
