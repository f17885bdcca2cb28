// The local filters of `kmsctl trail query`: parsed and checked once (bad values are usage errors
// before anything is sent or read), kept as plain data so that worker threads can receive them, and
// compiled into one predicate over a normalised event. Every source applies all of them locally, so
// a combination of filters is exact whatever the source could narrow on its side.
import {ipInRange, isIpOrRange, parseIpRange} from '../cidr.js'
import {usageError} from '../errors.js'
import {globMatcher, isGlob} from '../glob.js'
import {type CloudTrailRecord, type TrailEvent, aliasOf, keyIdOf} from './normalise.js'
import type {Needle, RecordTest} from './sources/raw-scan.js'

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

// ---- Pre-filter on raw record text -------------------------------------------------------------
//
// The files source tests each record's raw JSON text before parsing it: a necessary condition, never
// false for a record the exact filter above would keep. Text is compared as JSON writes it, so only
// characters JSON spells one way are used: a needle never holds a quote, backslash, slash, control
// character or non-ASCII character (the values are cut there, and the longest piece is searched),
// except a slash, whose two spellings ("/" and "\/") are both searched. Any character may also be
// written as a \uXXXX escape: every group also admits a record holding "\u". Case-insensitive filters
// (principal, user agent) search ASCII-case-folded text, plus the two characters whose lower case is
// ASCII (U+0130 -> "i̇", U+212A KELVIN SIGN -> "k").

/** Admits any record with a \uXXXX escape, which may spell any character. */
const ESCAPE_MARK = '\\u'

/** Characters that JSON may write in another way (or that a needle cannot hold). */
function unsafe(ch: string): boolean {
  const c = ch.codePointAt(0)!
  return c < 0x20 || c > 0x7e || ch === '"' || ch === '\\'
}

/** Pieces of a literal that JSON writes one way only (cut at unsafe characters; a slash is kept). */
function safePieces(text: string): string[] {
  const pieces: string[] = []
  let current = ''
  for (const ch of text) {
    if (unsafe(ch)) {
      if (current) pieces.push(current)
      current = ''
    } else current += ch
  }

  if (current) pieces.push(current)
  return pieces
}

/**
 * Every spelling of a piece as JSON may write it: "/" or "\/" at each slash; with more than three
 * slashes (too many spellings), its longest piece between slashes, marked as cut.
 */
function spellings(piece: string): {cut: boolean; texts: string[]} {
  const parts = piece.split('/')
  if (parts.length === 1) return {cut: false, texts: [piece]}
  if (parts.length > 4) {
    const longest = parts.reduce((a, b) => (b.length > a.length ? b : a))
    return {cut: true, texts: longest ? [longest] : []}
  }

  let out = [parts[0]]
  for (const part of parts.slice(1)) out = out.flatMap((s) => [`${s}/${part}`, `${s}\\/${part}`])
  return {cut: false, texts: out}
}

const KELVIN = '\u212A'
const DOTTED_CAPITAL_I = '\u0130'

/**
 * Text of the "who" column that is not a record's own text (describePrincipal()): labels at its start,
 * and joints between the values. A principal piece that could overlap one of these proves nothing.
 */
const WHO_START = ['user/', 'role/', 'federated/', 'account ', 'saml/', 'web-identity/', 'identity-center/', 'via ', 'via an aws service', 'root', 'aws internal', 'aws internal (account ', 'unknown', 'awsinternal']
const WHO_JOINTS = [' (', ')', ' (via user/', ' [account ', ']', ' via ', '?']

function overlapsLabel(piece: string): boolean {
  const p = piece.toLowerCase()
  const prefixIsSuffixOf = (label: string) => {
    for (let n = 1; n <= Math.min(p.length, label.length); n++) if (label.endsWith(p.slice(0, n))) return true
    return false
  }

  const suffixIsPrefixOf = (label: string) => {
    for (let n = 1; n <= Math.min(p.length, label.length); n++) if (label.startsWith(p.slice(-n))) return true
    return false
  }

  // A start label has nothing before it: the piece begins inside it, or lies in it.
  if (WHO_START.some((l) => l.includes(p) || prefixIsSuffixOf(l))) return true
  return WHO_JOINTS.some((l) => l.includes(p) || p.includes(l) || prefixIsSuffixOf(l) || suffixIsPrefixOf(l))
}

/**
 * Needles for a case-insensitive text filter (substring or glob): one group, or undefined when a
 * value has no piece long enough to be worth searching (the group would admit everything).
 */
function foldedGroup(patterns: string[], pieceOk: (piece: string) => boolean = () => true): Needle[] | undefined {
  const group: Needle[] = [ESCAPE_MARK]
  for (const pattern of patterns) {
    const candidates = pattern
      .split(/[*?]/)
      .flatMap((lit) => safePieces(lit))
      .flatMap((piece) => (piece.includes('/') ? [piece, ...piece.split('/')] : [piece]))
      .filter((piece) => piece.length >= 3 && pieceOk(piece))
    if (candidates.length === 0) return undefined
    const best = candidates.reduce((a, b) => (b.length > a.length ? b : a)).toLowerCase()
    const {texts} = spellings(best)
    if (texts.length === 0) return undefined
    for (const text of texts) group.push({fold: true, text})
    if (best.includes('k')) group.push(KELVIN)
    if (best.includes('i')) group.push(DOTTED_CAPITAL_I)
  }

  const unique = new Map(group.map((n) => [typeof n === 'string' ? n : `fold:${n.text}`, n]))
  return [...unique.values()]
}

/** Needles for exact (case-sensitive) values: the value with its quotes, or its longest safe piece. */
function exactGroup(values: string[], quoted: boolean): Needle[] | undefined {
  const group = new Set<string>([ESCAPE_MARK])
  for (const value of values) {
    const pieces = safePieces(value)
    if (pieces.length === 1 && pieces[0] === value) {
      const {cut, texts} = spellings(value)
      if (texts.length === 0) return undefined
      // Quotes around the value only when it is searched whole.
      for (const text of texts) group.add(quoted && !cut ? `"${text}"` : text)
      continue
    }

    const best = pieces.flatMap((p) => p.split('/')).reduce((a, b) => (b.length > a.length ? b : a), '')
    if (!best) return undefined
    group.add(best)
  }

  return [...group]
}

/**
 * Needles that a record's raw JSON text must contain to have any chance to match: an AND of
 * OR-groups (see above). The exact filter still decides after parsing.
 */
export function rawNeedles(spec: FilterSpec): Needle[][] {
  const groups: Needle[][] = []
  const add = (g: Needle[] | undefined) => {
    if (g && g.length > 1) groups.push(g)
  }

  if (spec.events) {
    // Names are word characters; a glob's longest literal run, with the quote on an anchored side.
    const group = new Set<string>([ESCAPE_MARK])
    let ok = true
    for (const e of spec.events) {
      const runs = e.split(/[*?]/)
      const marked = runs.map((r, i) => ({text: `${i === 0 ? '"' : ''}${r}${i === runs.length - 1 ? '"' : ''}`, weight: r.length}))
      const best = marked.reduce((a, b) => (b.weight > a.weight ? b : a))
      if (best.weight === 0) ok = false
      group.add(best.text)
    }

    if (ok) add([...group])
  }

  if (spec.keys) {
    // Aliases compare exactly; key IDs in any case (keyRefMatches()): an ID is searched by its longest
    // run without letters (digits and dashes have no case), or case-insensitively when that is short.
    const aliases: string[] = []
    const ids: Needle[] = []
    let ok = true
    for (const k of spec.keys) {
      if (k.id) {
        const run = (k.id.match(/[^A-Za-z]+/g) ?? []).reduce((a, b) => (b.length > a.length ? b : a), '')
        if (run.length >= 8 && safePieces(run)[0] === run) ids.push(run)
        else if (safePieces(k.id)[0] === k.id) ids.push({fold: true, text: k.id.toLowerCase()})
        else ok = false
      }

      aliases.push(...k.aliases)
      if (!k.id && k.aliases.length === 0) ok = false
    }

    const group = aliases.length > 0 ? exactGroup([...new Set(aliases)], false) : [ESCAPE_MARK]
    if (ok && group) add([...group, ...ids])
  }

  if (spec.accessKeys) add(exactGroup(spec.accessKeys, true))
  if (spec.principals) add(foldedGroup(spec.principals, (piece) => !overlapsLabel(piece)))
  if (spec.userAgents) add(foldedGroup(spec.userAgents))
  if (spec.denied) add([ESCAPE_MARK, 'AccessDenied'])
  else if (spec.errors) add([ESCAPE_MARK, '"errorCode"'])
  if (!spec.allServices) add([ESCAPE_MARK, `"${KMS_SOURCE}"`])
  return groups
}

/**
 * ipInRange() for the common case, an IPv4 address in plain dotted decimal (no leading zeros), with
 * integer arithmetic; undefined for any other text (ipInRange() decides then).
 */
function dottedQuadTest(ranges: string[]): (address: string) => boolean | undefined {
  const v4: Array<{mask: number; net: number}> = []
  for (const text of ranges) {
    const [net, bits] = parseIpRange(text)
    if (net.kind() !== 'ipv4') continue
    const mask = bits === 0 ? 0 : (~0 << (32 - bits)) >>> 0
    const o = net.toByteArray()
    v4.push({mask, net: ((((o[0] << 24) | (o[1] << 16) | (o[2] << 8) | o[3]) & mask) >>> 0)})
  }

  const QUAD = /^(0|[1-9]\d{0,2})\.(0|[1-9]\d{0,2})\.(0|[1-9]\d{0,2})\.(0|[1-9]\d{0,2})$/
  return (address) => {
    const m = QUAD.exec(address)
    if (!m) return undefined
    const o = [Number(m[1]), Number(m[2]), Number(m[3]), Number(m[4])]
    if (o.some((x) => x > 255)) return undefined
    const ip = ((o[0] << 24) | (o[1] << 16) | (o[2] << 8) | o[3]) >>> 0
    return v4.some((r) => ((ip & r.mask) >>> 0) === r.net)
  }
}

const IP_FIELD = Buffer.from('"sourceIPAddress"')
const ESCAPE_BYTES = Buffer.from(ESCAPE_MARK)

/**
 * The --ip filter on raw text: every "sourceIPAddress" member of the record is read (a string
 * without escapes as it stands, one with escapes through JSON.parse) and tested against the ranges,
 * exactly as the filter does; a record with a \u escape passes (its member names may be escaped).
 */
export function rawRecordTest(spec: FilterSpec): RecordTest | undefined {
  if (!spec.ips) return undefined
  const ranges = spec.ips
  const quick = dottedQuadTest(ranges)
  return (buf) => {
    let nextEscape = -2
    let nextField = -2
    return (start, end) => {
      if (nextEscape !== -1 && nextEscape < start) nextEscape = buf.indexOf(ESCAPE_BYTES, start)
      if (nextEscape !== -1 && nextEscape < end) return true
      if (nextField !== -1 && nextField < start) nextField = buf.indexOf(IP_FIELD, start)
      let at = nextField
      while (at !== -1 && at < end) {
        let i = at + IP_FIELD.length
        while (i < end && (buf[i] === 0x20 || buf[i] === 0x0a || buf[i] === 0x0d || buf[i] === 0x09)) i++
        if (buf[i] === 0x3a) {
          i++
          while (i < end && (buf[i] === 0x20 || buf[i] === 0x0a || buf[i] === 0x0d || buf[i] === 0x09)) i++
          if (buf[i] === 0x22) {
            let j = i + 1
            let escaped = false
            while (j < end && buf[j] !== 0x22) {
              if (buf[j] === 0x5c) {
                escaped = true
                j++
              }

              j++
            }

            if (j < end) {
              let value: unknown
              try {
                value = escaped ? JSON.parse(buf.toString('utf8', i, j + 1)) : buf.toString('latin1', i + 1, j)
              } catch {
                value = undefined
              }

              if (typeof value === 'string' && (quick(value) ?? ranges.some((r) => ipInRange(value, r)))) return true
            }
          }
        }

        at = buf.indexOf(IP_FIELD, at + 1)
        if (at === -1 || at >= end) break
      }

      return false
    }
  }
}

/** Records as read may be partial (Lake rows): the raw record is kept alongside for --raw. */
export interface MatchedRecord {
  event: TrailEvent
  record: CloudTrailRecord
}
