// The local filters of `kmsctl trail query`: parsed and checked once (bad values are usage errors
// before anything is sent or read), kept as plain data so that worker threads can receive them, and
// compiled into one predicate over a normalised event. Every source applies all of them locally, so
// a combination of filters is exact whatever the source could narrow on its side.
import {ipInRange, isIpOrRange} from '../cidr.js'
import {usageError} from '../errors.js'
import {globMatcher, isGlob} from '../glob.js'
import {type CloudTrailRecord, type TrailEvent, aliasOf, keyIdOf} from './normalise.js'

export const KMS_SOURCE = 'kms.amazonaws.com'

/** One key, in every form a record may name it. */
export interface KeyForms {
  /** Alias names (alias/x) that point at the key, as given or as resolved. */
  aliases: string[]
  /** The key ARN, when known. */
  arn?: string
  /** The key ID, when known. */
  id?: string
  /** What the user typed. */
  input: string
  /** Region of the key, when given as an ARN (multi-Region keys share their ID across regions). */
  region?: string
}

/** The filters, as plain data (structured-clone safe). */
export interface FilterSpec {
  accessKeys?: string[]
  /** Accounts whose logs are read: the event's recipientAccountId (the account folder of the log files). */
  accounts?: string[]
  allServices?: boolean
  /** Only AccessDenied* failures. */
  denied?: boolean
  /** Only failed calls. */
  errors?: boolean
  /** Event name globs (case-sensitive, as CloudTrail writes them). */
  events?: string[]
  /** IP addresses and CIDR ranges. */
  ips?: string[]
  keys?: KeyForms[]
  /** Principal substrings or globs (case-insensitive). */
  principals?: string[]
  readOnly?: boolean
  /** Regions whose events are read: the event's awsRegion (the region folder of the log files). */
  regions?: string[]
  /** ISO 8601 bounds, inclusive. */
  since?: string
  until?: string
  userAgents?: string[]
  write?: boolean
}

/** Checks an --ip value: an IPv4/IPv6 address or CIDR range. */
export function parseIp(value: string): string {
  const v = value.trim()
  if (!isIpOrRange(v)) throw usageError(`--ip "${value}" is not an IP address or CIDR range.`, 'Try this: --ip 203.0.113.7 or --ip 10.0.0.0/8')
  return v
}

/** KeyForms for a key as typed, before (or without) resolving it. */
export function keyFormsFromInput(input: string): KeyForms {
  const alias = aliasOf(input)
  if (alias) return {aliases: [alias], input}
  if (input.startsWith('arn:')) {
    const id = keyIdOf(input)
    if (!id) throw usageError(`--key "${input}" is not a KMS key or alias ARN.`, 'Try this: --key 1234abcd-12ab-34cd-56ef-1234567890ab, --key alias/NAME or a key ARN.')
    return {aliases: [], arn: input, id, input, region: input.split(':')[3] || undefined}
  }

  if (!/^(mrk-)?[\da-f]{8}-?[\da-f]{4}-?[\da-f]{4}-?[\da-f]{4}-?[\da-f]{12}$|^mrk-[\da-f]{32}$/i.test(input)) {
    throw usageError(`--key "${input}" is not a key ID, key ARN or alias.`, 'Try this: --key 1234abcd-12ab-34cd-56ef-1234567890ab, --key alias/NAME or a key ARN.')
  }

  return {aliases: [], id: input.toLowerCase().startsWith('mrk-') ? input : input.toLowerCase(), input}
}

export type EventPredicate = (event: TrailEvent) => boolean

/** Does one key reference from a record name one of the keys? */
export function keyRefMatches(ref: string, key: KeyForms, eventRegion?: string): boolean {
  const alias = aliasOf(ref)
  if (alias) return key.aliases.includes(alias) && (!key.region || !ref.startsWith('arn:') || ref.split(':')[3] === key.region)
  if (key.arn && ref === key.arn) return true
  const id = keyIdOf(ref)
  if (!id || !key.id || id.toLowerCase() !== key.id.toLowerCase()) return false
  if (!key.region) return true
  // A key ARN given: an ARN must be that ARN's region; a bare ID, the event's region.
  return ref.startsWith('arn:') ? ref.split(':')[3] === key.region : !eventRegion || eventRegion === key.region
}

function textMatcher(patterns: string[]): (candidates: Array<string | undefined>) => boolean {
  const tests = patterns.map((p) => {
    if (isGlob(p)) return globMatcher(p, true)

    const needle = p.toLowerCase()
    return (c: string) => c.toLowerCase().includes(needle)
  })
  return (candidates) => candidates.some((c) => c !== undefined && c !== '' && tests.some((t) => t(c)))
}

/** Names a principal filter is matched against: ARNs, names, the role or user behind a session, the account. */
export function principalCandidates(event: TrailEvent): Array<string | undefined> {
  const p = event.principal
  return [p.arn, p.name, p.issuerArn, p.issuerName, p.invokedBy, p.account, event.who]
}

/** Compiles a FilterSpec into one predicate. */
export function compileFilter(spec: FilterSpec): EventPredicate {
  const checks: EventPredicate[] = []
  if (!spec.allServices) checks.push((e) => e.source === KMS_SOURCE)
  if (spec.since) {
    const since = Date.parse(spec.since)
    checks.push((e) => Date.parse(e.time) >= since)
  }

  if (spec.until) {
    const until = Date.parse(spec.until)
    checks.push((e) => Date.parse(e.time) <= until)
  }

  if (spec.events) {
    const exact = new Set(spec.events.filter((e) => !isGlob(e)))
    const globs = spec.events.filter((e) => isGlob(e)).map((e) => globMatcher(e))
    checks.push((e) => exact.has(e.event) || globs.some((g) => g(e.event)))
  }

  if (spec.keys) {
    const keys = spec.keys
    checks.push((e) => e.keyRefs.some((ref) => keys.some((k) => keyRefMatches(ref, k, e.region))))
  }

  if (spec.principals) {
    const match = textMatcher(spec.principals)
    checks.push((e) => match(principalCandidates(e)))
  }

  if (spec.accessKeys) {
    const set = new Set(spec.accessKeys)
    checks.push((e) => e.principal.accessKeyId !== undefined && set.has(e.principal.accessKeyId))
  }

  if (spec.ips) {
    const ranges = spec.ips
    checks.push((e) => ranges.some((r) => ipInRange(e.from, r)))
  }

  if (spec.userAgents) {
    const match = textMatcher(spec.userAgents)
    checks.push((e) => match([e.userAgent]))
  }

  if (spec.accounts) {
    const set = new Set(spec.accounts)
    checks.push((e) => e.recipientAccount !== undefined && set.has(e.recipientAccount))
  }

  if (spec.regions) {
    const set = new Set(spec.regions)
    checks.push((e) => set.has(e.region))
  }

  if (spec.errors) checks.push((e) => e.errorCode !== undefined)
  if (spec.denied) checks.push((e) => e.denied)
  if (spec.readOnly) checks.push((e) => e.readOnly === true)
  if (spec.write) checks.push((e) => e.readOnly === false)
  return (e) => {
    for (const c of checks) if (!c(e)) return false
    return true
  }
}

/**
 * Substrings that a record's raw JSON text must contain to have any chance to match: an AND of
 * OR-groups. Only conditions whose text CloudTrail writes verbatim are used (event names, key IDs,
 * aliases, access key IDs, the event source); the exact filter still decides after parsing.
 */
export function rawNeedles(spec: FilterSpec): string[][] {
  const groups: string[][] = []
  if (spec.events && spec.events.every((e) => !e.startsWith('*') && !e.startsWith('?'))) {
    groups.push(spec.events.map((e) => `"${e.split(/[*?]/)[0]}${isGlob(e) ? '' : '"'}`))
  }

  if (spec.keys) {
    const group: string[] = []
    for (const k of spec.keys) {
      if (k.id) group.push(k.id)
      for (const a of k.aliases) group.push(a)
      if (!k.id && k.aliases.length === 0) return groups
    }

    groups.push([...new Set(group)])
  }

  if (spec.accessKeys) groups.push(spec.accessKeys.map((a) => `"${a}"`))
  if (spec.denied) groups.push(['AccessDenied'])
  else if (spec.errors) groups.push(['"errorCode"'])
  if (!spec.allServices) groups.push([`"${KMS_SOURCE}"`])
  return groups
}

/** Records as read may be partial (Lake rows): the raw record is kept alongside for --raw. */
export interface MatchedRecord {
  event: TrailEvent
  record: CloudTrailRecord
}
