// Output of `kmsctl trail`: the event table, CSV, NDJSON lines and the group tables.
import {type Column, formatDate, renderTable} from '../output.js'
import type {GroupRow} from './group.js'
import {type TrailEvent, describeFrom} from './normalise.js'

export const EVENT_COLUMNS: ReadonlyArray<Column<TrailEvent>> = [
  {get: (e) => formatDate(e.time), header: 'Time', shrink: false},
  {get: (e) => e.event, header: 'Event', minWidth: 8},
  {get: (e) => e.who, header: 'Who', minWidth: 16},
  {get: (e) => describeFrom(e), header: 'From', minWidth: 12},
  {get: (e) => e.key ?? '', header: 'Key', minWidth: 12},
  {get: (e) => e.outcome, header: 'Outcome', minWidth: 6},
]

export function renderEvents(events: readonly TrailEvent[], width?: number): string {
  return renderTable(events, EVENT_COLUMNS, width)
}

export function renderGroups(rows: readonly GroupRow[], label: string, width?: number): string {
  return renderTable(
    rows,
    [
      {get: (r) => r.value, header: label, minWidth: 16},
      {get: (r) => String(r.count), header: 'Calls', shrink: false},
      {get: (r) => (r.errors ? String(r.errors) : ''), header: 'Failed', shrink: false},
      {get: (r) => formatDate(r.first), header: 'First seen', shrink: false},
      {get: (r) => formatDate(r.last), header: 'Last seen', shrink: false},
    ],
    width,
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

export function csvHeader(): string {
  return CSV_FIELDS.map(([name]) => name).join(',')
}

export function csvLine(event: TrailEvent): string {
  return CSV_FIELDS.map(([, get]) => csvCell(get(event))).join(',')
}
