// Flags -> FilterSpec for `kmsctl trail`: every value is checked here, so that a bad one is a
// one-line usage error (exit 2) before any request is sent or any file is read.
import {usageError} from '../errors.js'
import {parseTime, splitList as listValues} from '../parse.js'
import {type FilterSpec, keyFormsFromInput, parseIp} from './filters.js'

export interface FilterInput {
  accessKey?: string[]
  allServices?: boolean
  denied?: boolean
  errors?: boolean
  event?: string[]
  ip?: string[]
  key?: string[]
  now?: Date
  principal?: string[]
  readOnly?: boolean
  since?: string
  until?: string
  userAgent?: string[]
  write?: boolean
}

/** Flags -> FilterSpec, with every value checked. Throws a usage error (exit 2) on the first bad one. */
export function buildFilterSpec(input: FilterInput): FilterSpec {
  const now = input.now ?? new Date()
  const spec: FilterSpec = {}
  const events = listValues(input.event)
  for (const e of events) {
    if (!/^[\w*?]+$/.test(e)) throw usageError(`--event "${e}" is not an event name or glob.`, 'Try this: --event Decrypt,GenerateDataKey or --event "Create*"')
  }

  if (events.length > 0) spec.events = events
  const principals = listValues(input.principal)
  if (principals.length > 0) spec.principals = principals
  const accessKeys = listValues(input.accessKey)
  if (accessKeys.length > 0) spec.accessKeys = accessKeys
  const ips = listValues(input.ip).map((v) => parseIp(v))
  if (ips.length > 0) spec.ips = ips
  const agents = (input.userAgent ?? []).map((v) => v.trim()).filter(Boolean)
  if (agents.length > 0) spec.userAgents = agents
  const keys = listValues(input.key).map((k) => keyFormsFromInput(k))
  if (keys.length > 0) spec.keys = keys
  if (input.since) spec.since = parseTime(input.since, 'since', now).toISOString()
  if (input.until) spec.until = parseTime(input.until, 'until', now).toISOString()
  if (spec.since && spec.until && spec.since > spec.until) {
    throw usageError(`--since (${spec.since}) is after --until (${spec.until}).`, 'Try this: swap the two values, or drop --until.')
  }

  if (input.errors) spec.errors = true
  if (input.denied) spec.denied = true
  if (input.readOnly && input.write) throw usageError('--read-only and --write exclude each other.', 'Try this: pass one of them, or neither for both kinds.')
  if (input.readOnly) spec.readOnly = true
  if (input.write) spec.write = true
  if (input.allServices) spec.allServices = true
  return spec
}

