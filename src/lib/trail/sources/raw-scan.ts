// A raw scanner over a CloudTrail log file's bytes ({"Records":[{...},{...}]}): it finds where each
// record starts and ends without parsing it, and asks the caller to parse only the records whose
// text contains the needles every match must contain (an AND of OR-groups, see rawNeedles()).
// Most records of a large file are never turned into strings or objects at all.

export class ScanError extends Error {
  constructor(message: string, readonly offset: number) {
    super(message)
    this.name = 'ScanError'
  }
}

const QUOTE = 0x22
const BACKSLASH = 0x5c
const OPEN_BRACE = 0x7b
const CLOSE_BRACE = 0x7d
const OPEN_BRACKET = 0x5b
const CLOSE_BRACKET = 0x5d
const COMMA = 0x2c
const COLON = 0x3a

function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09
}

function skipSpace(b: Uint8Array, i: number): number {
  while (i < b.length && isSpace(b[i])) i++
  return i
}

/** End (exclusive) of the string starting at the quote at i. */
function endOfString(b: Uint8Array, i: number): number {
  const n = b.length
  i++
  while (i < n) {
    const c = b[i++]
    if (c === QUOTE) return i
    if (c === BACKSLASH) i++
  }

  throw new ScanError('unterminated string (truncated file?)', n)
}

/** End (exclusive) of the object or array starting at i. */
function endOfComposite(b: Uint8Array, start: number): number {
  const n = b.length
  let depth = 0
  let i = start
  while (i < n) {
    const c = b[i++]
    if (c === QUOTE) {
      // Inline string skip: the hot loop of the whole scanner.
      for (;;) {
        if (i >= n) throw new ScanError('unterminated string (truncated file?)', n)
        const d = b[i++]
        if (d === QUOTE) break
        if (d === BACKSLASH) i++
      }
    } else if (c === OPEN_BRACE || c === OPEN_BRACKET) {
      depth++
    } else if ((c === CLOSE_BRACE || c === CLOSE_BRACKET) && --depth === 0) {
      return i
    }
  }

  throw new ScanError('unbalanced braces (truncated file?)', n)
}

/** End (exclusive) of any JSON value starting at i (after whitespace). */
function endOfValue(b: Uint8Array, i: number): number {
  const c = b[i]
  if (c === OPEN_BRACE || c === OPEN_BRACKET) return endOfComposite(b, i)
  if (c === QUOTE) return endOfString(b, i)
  while (i < b.length && b[i] !== COMMA && b[i] !== CLOSE_BRACE && b[i] !== CLOSE_BRACKET && !isSpace(b[i])) i++
  return i
}

/**
 * One alternative of a needle group. A string is searched byte for byte (as UTF-8); a folded needle
 * ignores ASCII case (its text is given in lower case, ASCII only).
 */
export type Needle = FoldedNeedle | string

export interface FoldedNeedle {
  fold: true
  text: string
}

/**
 * A test on a record's raw bytes, on top of the needles (for conditions a substring cannot express,
 * such as an address inside a CIDR range). Made once per buffer, then called with records in
 * increasing order; it must return true for every record that could match.
 */
export type RecordTest = (buf: Buffer) => (start: number, end: number) => boolean

/** The buffer being scanned, and the same bytes as a Latin-1 string for folded needles (made on first use). */
class Haystack {
  private text?: string

  constructor(readonly buf: Buffer) {}

  /** One character per byte, so that positions are byte offsets. */
  latin1(): string {
    this.text ??= this.buf.toString('latin1')
    return this.text
  }
}

interface Finder {
  find(from: number): number
  length: number
}

function finder(hay: Haystack, needle: Needle): Finder {
  if (typeof needle === 'string') {
    const bytes = Buffer.from(needle)
    return {find: (from) => hay.buf.indexOf(bytes, from), length: bytes.length}
  }

  // A case-insensitive regular expression (without the u flag) over ASCII text matches ASCII letters
  // of either case and never folds another character into ASCII, which is exactly the folding wanted
  // here; it is also faster than lower-casing the whole text and searching that.
  const re = new RegExp(needle.text.replaceAll(/[$()*+.?[\\\]^{|}]/g, '\\$&'), 'gi')
  return {
    find(from) {
      re.lastIndex = from
      const m = re.exec(hay.latin1())
      return m ? m.index : -1
    },
    length: needle.text.length,
  }
}

/** Finds needles lazily: the next occurrence at or after a position, each searched at most once per hit. */
class NeedleCursor {
  private readonly next: number[]
  private readonly finders: Finder[]

  constructor(
    private readonly hay: Haystack,
    needles: readonly Needle[],
  ) {
    this.finders = needles.map((n) => finder(hay, n))
    this.next = needles.map(() => -2)
  }

  /** True when one of the needles lies entirely inside [start, end). */
  within(start: number, end: number): boolean {
    for (let k = 0; k < this.finders.length; k++) {
      let at = this.next[k]
      if (at !== -1 && at < start) {
        at = this.finders[k].find(start)
        this.next[k] = at
      }

      if (at !== -1 && at + this.finders[k].length <= end) return true
    }

    return false
  }

  /** The first occurrence of any needle at or after a position, or -1. */
  nextFrom(position: number): number {
    let best = -1
    for (let k = 0; k < this.finders.length; k++) {
      let at = this.next[k]
      if (at !== -1 && at < position) {
        at = this.finders[k].find(position)
        this.next[k] = at
      }

      if (at !== -1 && (best === -1 || at < best)) best = at
    }

    return best
  }

  private sample?: number

  /** First occurrence of each needle in the buffer (searched once: absent() and estimate() share it). */
  private firsts?: number[]

  private first(k: number): number {
    this.firsts ??= this.finders.map(() => -2)
    if (this.firsts[k] === -2) {
      this.firsts[k] = this.finders[k].find(0)
      // Also the next occurrence from the start of the buffer: the scan does not search it again.
      if (this.next[k] === -2) this.next[k] = this.firsts[k]
    }

    return this.firsts[k]
  }

  /** How common the needles are, from the first 256 KiB (at most 64 hits counted). */
  estimate(): number {
    if (this.sample !== undefined) return this.sample
    const limit = Math.min(this.hay.buf.length, 262_144)
    let hits = 0
    for (const [k, f] of this.finders.entries()) {
      let at = this.first(k)
      while (at !== -1 && at < limit && hits < 64) {
        hits++
        at = f.find(at + f.length)
      }
    }

    this.sample = hits
    return hits
  }

  /** True when no needle occurs anywhere in the buffer. */
  absent(): boolean {
    return this.finders.every((_, k) => this.first(k) === -1)
  }
}

export interface ScanStats {
  /** True when the records were split at their `},{"eventVersion":` boundaries (the fast path). */
  fast: boolean
  /** Records seen (-1 when the file was skipped as a whole because a needle was absent). */
  records: number
}

export interface ScanOptions {
  /** Never take the fast path (used to re-read a file whose fast split did not parse). */
  exact?: boolean
  /** A further test on each record that has the needles (see RecordTest). */
  test?: RecordTest
}

const HEAD = Buffer.from('{"Records":[{"eventVersion":')
const RECORDS_KEY = Buffer.from('"Records"')
const NO_RECORDS = 'no Records array: not a CloudTrail log file'
const MARKER = Buffer.from('{"eventVersion":')

function trimmedEnd(buf: Uint8Array): number {
  let end = buf.length
  while (end > 0 && isSpace(buf[end - 1])) end--
  return end
}

/**
 * Calls onRecord(start, end) for each record of the Records array whose text contains one needle
 * of every group (and passes options.test). Throws ScanError when the file is not a CloudTrail log file or is truncated.
 *
 * CloudTrail writes compact JSON in which every record starts with eventVersion. When a file has that
 * shape, records are split where `},{"eventVersion":` occurs (a native substring search, several
 * times faster than walking every byte); the text inside a string cannot produce that sequence,
 * since its quotes would be escaped. Every record handed to onRecord is then parsed by the caller,
 * which re-reads the file with { exact: true } should one not parse. Any other shape takes the exact
 * path, which follows strings and nesting byte by byte.
 */
export function scanRecords(
  buf: Buffer,
  needleGroups: readonly (readonly Needle[])[],
  onRecord: (start: number, end: number) => void,
  options: ScanOptions = {},
): ScanStats {
  const hay = new Haystack(buf)
  const cursors = withoutAbsentEscapes(buf, needleGroups).map((g) => new NeedleCursor(hay, g))
  const first = skipSpace(buf, 0)
  if (buf[first] !== OPEN_BRACE) throw new ScanError('not a JSON object', first)
  const end = trimmedEnd(buf)
  if (buf[end - 1] !== CLOSE_BRACE) throw new ScanError('the file ends before its closing brace (truncated?)', end)
  // Not a CloudTrail log file at all: said so, never passed over as a file without matches.
  if (buf.indexOf(RECORDS_KEY, first) === -1) throw new ScanError(NO_RECORDS, first)
  // A whole file without one of the needles has no match.
  if (cursors.some((c) => c.absent())) return {fast: false, records: -1}
  if (options.test) {
    const test = options.test(buf)
    const inner = onRecord
    onRecord = (start, end) => {
      if (test(start, end)) inner(start, end)
    }
  }

  if (!options.exact && buf.indexOf(HEAD, first) === first && buf[end - 2] === CLOSE_BRACKET && buf[end - 3] === CLOSE_BRACE) {
    return {fast: true, records: scanFast(buf, first + HEAD.length - MARKER.length, end - 2, cursors, onRecord)}
  }

  return {fast: false, records: scanExact(new Uint8Array(buf.buffer, buf.byteOffset, buf.length), first, cursors, onRecord)}
}

/**
 * Needles that hold a JSON escape (`\u`, `\/`) cannot occur in a buffer without that escape: they
 * are dropped after one quick search each, which spares a pass over the buffer per such needle.
 */
function withoutAbsentEscapes(buf: Buffer, groups: readonly (readonly Needle[])[]): (readonly Needle[])[] {
  const present = new Map<string, boolean>()
  const has = (escape: string) => {
    let p = present.get(escape)
    if (p === undefined) {
      p = buf.includes(escape)
      present.set(escape, p)
    }

    return p
  }

  return groups.map((g) =>
    g.filter((n) => {
      const text = typeof n === 'string' ? n : n.text
      for (const escape of ['\\u', '\\/']) if (text.includes(escape) && !has(escape)) return false
      return true
    }),
  )
}

function admitted(cursors: NeedleCursor[], start: number, end: number): boolean {
  for (const c of cursors) if (!c.within(start, end)) return false
  return true
}

/** Is there a record boundary (`},` then the marker) at this marker position? */
function isSplit(buf: Buffer, at: number): boolean {
  return buf[at - 1] === COMMA && buf[at - 2] === CLOSE_BRACE
}

/**
 * Fast path. Records lie between `start` (the first record's brace) and `stop` (the closing bracket
 * of Records). With needles, it jumps from one occurrence of the rarest needle group to the next and
 * finds only the boundaries of the record around it, so records without that needle are never
 * looked at; without needles, every record is split off. Returns the number of records, or -1 when
 * records were skipped without being counted.
 */
function scanFast(buf: Buffer, start: number, stop: number, cursors: NeedleCursor[], onRecord: (start: number, end: number) => void): number {
  const nextSplit = (from: number): number => {
    let at = buf.indexOf(MARKER, from)
    while (at !== -1 && at < stop && !isSplit(buf, at)) at = buf.indexOf(MARKER, at + MARKER.length)
    return at === -1 || at >= stop ? -1 : at
  }

  if (cursors.length === 0) {
    let records = 0
    let recordStart = start
    for (;;) {
      const next = nextSplit(recordStart + MARKER.length)
      const recordEnd = next === -1 ? stop : next - 1
      records++
      onRecord(recordStart, recordEnd)
      if (next === -1) return records
      recordStart = next
    }
  }

  const driver = cursors.reduce((best, c) => (c.estimate() < best.estimate() ? c : best))
  let pos = start
  for (;;) {
    const hit = driver.nextFrom(pos)
    if (hit === -1 || hit >= stop) return -1
    let recordStart = buf.lastIndexOf(MARKER, hit)
    while (recordStart > start && !isSplit(buf, recordStart)) recordStart = buf.lastIndexOf(MARKER, recordStart - 1)
    if (recordStart < start) recordStart = start
    const next = nextSplit(hit + 1)
    const recordEnd = next === -1 ? stop : next - 1
    if (admitted(cursors, recordStart, recordEnd)) onRecord(recordStart, recordEnd)
    if (next === -1) return -1
    pos = next
  }
}

function scanExact(buf: Uint8Array, first: number, cursors: NeedleCursor[], onRecord: (start: number, end: number) => void): number {
  let records = 0
  let sawRecords = false
  let i = first + 1
  for (;;) {
    i = skipSpace(buf, i)
    if (buf[i] === CLOSE_BRACE) break
    if (buf[i] !== QUOTE) throw new ScanError('expected a field name', i)
    const keyEnd = endOfString(buf, i)
    const key = Buffer.from(buf.buffer, buf.byteOffset + i + 1, keyEnd - i - 2).toString('latin1')
    i = skipSpace(buf, keyEnd)
    if (buf[i] !== COLON) throw new ScanError('expected ":"', i)
    i = skipSpace(buf, i + 1)
    if (key === 'Records') {
      if (buf[i] !== OPEN_BRACKET) throw new ScanError('Records is not an array', i)
      sawRecords = true
      i++
      for (;;) {
        i = skipSpace(buf, i)
        if (buf[i] === CLOSE_BRACKET) {
          i++
          break
        }

        if (buf[i] !== OPEN_BRACE) throw new ScanError(i >= buf.length ? 'the file ends inside Records (truncated?)' : 'a record is not an object', i)
        const start = i
        const end = endOfComposite(buf, i)
        records++
        if (admitted(cursors, start, end)) onRecord(start, end)
        i = skipSpace(buf, end)
        if (buf[i] === COMMA) i++
        else if (buf[i] !== CLOSE_BRACKET) throw new ScanError(i >= buf.length ? 'the file ends inside Records (truncated?)' : 'expected "," or "]"', i)
      }
    } else {
      i = endOfValue(buf, i)
    }

    i = skipSpace(buf, i)
    if (buf[i] === COMMA) i++
    else if (buf[i] !== CLOSE_BRACE) throw new ScanError(i >= buf.length ? 'the file ends early (truncated?)' : 'expected "," or "}"', i)
  }

  if (!sawRecords) throw new ScanError(NO_RECORDS, 0)
  return records
}
