// Rendering: colour policy, tables fitted to the terminal, progress lines on stderr.
// Results go to stdout; progress, warnings and prompts go to stderr.
import {createRequire} from 'node:module'

import chalk from 'chalk'

import {usageError} from './errors.js'
import {didYouMean} from './suggest.js'

import {DAY_MS} from './time.js'

/** Colour only when stdout is a terminal and NO_COLOR is not set (FORCE_COLOR wins for tests). */
export function configureColour(env: NodeJS.ProcessEnv = process.env, isTTY = Boolean(process.stdout.isTTY)): void {
  if (env.FORCE_COLOR && env.FORCE_COLOR !== '0') {
    chalk.level = 1
    return
  }

  if (env.NO_COLOR !== undefined || !isTTY) chalk.level = 0
}

export {default as chalk} from 'chalk'

export function terminalWidth(stream: NodeJS.WriteStream = process.stdout, env: NodeJS.ProcessEnv = process.env): number {
  const fromEnv = Number.parseInt(env.COLUMNS ?? '', 10)
  if (Number.isFinite(fromEnv) && fromEnv > 20) return fromEnv
  if (!stream.isTTY) return Number.POSITIVE_INFINITY
  return stream.columns && stream.columns > 20 ? stream.columns : 120
}

/** The width messages on stderr are wrapped to: the terminal's, unlimited when stderr is not a terminal (logs keep whole lines). */
export function messageWidth(stream: NodeJS.WriteStream = process.stderr): number {
  return stream.isTTY ? terminalWidth(stream) : Number.POSITIVE_INFINITY
}

export interface Column<T> {
  /** Header text. */
  header: string
  /** Cell text for a row (several lines are shown on one, joined with ", "). */
  get: (row: T) => string
  /** The name --columns selects it by; default the header in lower case with '-' for spaces ("Key ID" -> key-id). */
  name?: string
  /**
   * What the column holds, which decides how it gives way when the table is wider than the terminal:
   * - 'name': what people read to recognise a row (aliases, role names, event names): cut last, only
   *   after every ID is shortened and every optional column dropped;
   * - 'id': identifiers (key IDs, grant IDs, entry IDs): shortened to minWidth with an ellipsis;
   * - 'text': free text (descriptions, reasons): narrowed first, with an ellipsis;
   * - 'fixed': short values (states, dates, counts): never cut, only dropped.
   * Default 'text' ('fixed' for the older `shrink: false`).
   */
  kind?: 'fixed' | 'id' | 'name' | 'text'
  /**
   * 1 (default): always shown. 2: dropped after IDs are shortened. 3 and more: low value (manager,
   * multi-Region, creation date), dropped first, the highest number first.
   */
  priority?: number
  /** Shown only with -o wide or when named in --columns. */
  wide?: boolean
  /** 'right' for numbers (columns whose cells are all numbers are right-aligned anyway). */
  align?: 'left' | 'right'
  /** Where an ellipsis cuts: 'end' (default), or 'start' for ARNs and paths, whose end is the name. */
  cut?: 'end' | 'start'
  /** Never narrower than this when cut (default: 24 for text, 12 for ids and names). */
  minWidth?: number
  /** false: same as kind 'fixed'. */
  shrink?: boolean
}

export interface TableOptions {
  /** Terminal width (default: the terminal's, unlimited when stdout is not a terminal). */
  width?: number
  /** --columns: exactly these columns, in this order (names or headers, case-insensitive). */
  columns?: readonly string[]
  /** -o wide: every column, including the wide ones (still fitted to the width). */
  wide?: boolean
  /**
   * Cells keep their lines and text cells wrap (a row takes as many lines as its tallest cell),
   * for documents shown as tables (policy statements, findings), not for lists, which are one line
   * a row.
   */
  multiline?: boolean
}

const ANSI = /\u001B\[[0-9;]*m/g
const plainText = (s: string): string => s.replaceAll(ANSI, '')
const visibleLength = (s: string): number => plainText(s).length
const GAP = 2

/** The --columns name of a column. */
export function columnName(c: Pick<Column<unknown>, 'header' | 'name'>): string {
  return c.name ?? c.header.toLowerCase().replaceAll(/[^a-z0-9]+/g, '-').replaceAll(/^-|-$/g, '')
}

/**
 * The columns a table shows: with `names`, exactly those (an unknown name is a usage error that
 * lists the known ones); otherwise every column not marked wide (all of them with `wide`).
 */
export function selectColumns<T>(columns: readonly Column<T>[], names?: readonly string[], wide = false): Array<Column<T>> {
  if (!names || names.length === 0) return columns.filter((c) => wide || !c.wide)
  const known = columns.map((c) => columnName(c))
  return names.map((raw) => {
    const n = raw.trim().toLowerCase()
    const found = columns.find((c) => columnName(c) === n || c.header.toLowerCase() === n)
    if (!found) {
      throw usageError(`--columns: no column "${raw.trim()}".${didYouMean(n, known)}`, `Try this: --columns ${known.slice(0, 3).join(',')} (columns: ${known.join(', ')})`)
    }

    return found
  })
}

/** Cuts plain text to `width` columns with an ellipsis at the end (or at the start). */
export function cut(text: string, width: number, where: 'end' | 'start' = 'end'): string {
  if (visibleLength(text) <= width) return text
  const plain = plainText(text)
  if (width <= 1) return '…'.slice(0, width)
  return where === 'start' ? '…' + plain.slice(plain.length - width + 1) : plain.slice(0, width - 1) + '…'
}

interface Fitted {
  column: Column<unknown>
  kind: 'fixed' | 'id' | 'name' | 'text'
  priority: number
  natural: number
  min: number
  width: number
  dropped: boolean
}

/**
 * Fits columns into a width, in this order, stopping as soon as the table fits: free text is
 * narrowed to a comfortable width; low-value columns (priority 3+) are dropped, the least
 * valuable first; free text is narrowed to its minimum; IDs are shortened; priority-2 columns are
 * dropped; names are cut; the last columns are dropped. Width left over then goes back to the
 * columns that were cut: names, then text, then IDs.
 */
function fitColumns(fitted: Fitted[], width: number): void {
  const shown = () => fitted.filter((f) => !f.dropped)
  const total = () => shown().reduce((a, f) => a + f.width, 0) + GAP * Math.max(0, shown().length - 1)
  const fits = () => total() <= width
  const narrow = (kind: Fitted['kind'], floor: (f: Fitted) => number) => {
    while (!fits()) {
      const candidates = shown().filter((f) => f.kind === kind && f.width > floor(f))
      if (candidates.length === 0) return
      const widest = candidates.reduce((a, b) => (b.width > a.width ? b : a))
      widest.width--
    }
  }

  const drop = (test: (f: Fitted) => boolean) => {
    while (!fits()) {
      const candidates = shown().filter((f) => test(f))
      if (candidates.length === 0 || shown().length === 1) return
      // The least valuable first; among equals, the one further right.
      const victim = candidates.reduce((a, b) => (b.priority >= a.priority ? b : a))
      victim.dropped = true
    }
  }

  narrow('text', (f) => Math.max(f.min, Math.min(f.natural, 24)))
  drop((f) => f.priority >= 3)
  narrow('text', (f) => f.min)
  narrow('id', (f) => f.min)
  drop((f) => f.priority >= 2)
  narrow('name', (f) => f.min)
  drop((f) => f !== fitted[0])
  narrow('text', () => 3)
  narrow('id', () => 3)
  narrow('name', () => 3)

  let slack = width - total()
  for (const kind of ['name', 'text', 'id'] as const) {
    for (const f of shown().filter((x) => x.kind === kind)) {
      const give = Math.min(slack, f.natural - f.width)
      if (give > 0) {
        f.width += give
        slack -= give
      }
    }
  }
}

/**
 * Renders rows as a table, one line a row, no wider than the terminal: a bold header, columns
 * two spaces apart, no rules. Columns give way by kind and priority (see Column), cut text ends
 * with an ellipsis, numbers are right-aligned. `options` may be a width (older callers).
 */
export function renderTable<T>(rows: readonly T[], columns: readonly Column<T>[], options: TableOptions | number = {}): string {
  const opts: TableOptions = typeof options === 'number' ? {width: options} : options
  const width = opts.width ?? terminalWidth()
  const chosen = selectColumns(columns, opts.columns, opts.wide)
  const explicit = Boolean(opts.columns && opts.columns.length > 0)
  const cells = rows.map((r) => chosen.map((c) => (opts.multiline ? String(c.get(r) ?? '') : oneLine(c.get(r) ?? ''))))
  const widest = (text: string) => Math.max(0, ...text.split('\n').map((l) => visibleLength(l)))
  const fitted: Fitted[] = chosen.map((c, i) => {
    const kind = c.kind ?? (c.shrink === false ? 'fixed' : 'text')
    const natural = Math.max(visibleLength(c.header), ...cells.map((row) => widest(row[i])))
    const empty = rows.length > 0 && cells.every((row) => row[i] === '')
    return {
      column: c as Column<unknown>,
      // A column empty in every row is left out, unless asked for by name.
      dropped: empty && !explicit,
      kind,
      min: Math.min(natural, c.minWidth ?? (kind === 'text' ? 24 : 12)),
      natural,
      priority: c.priority ?? 1,
      width: natural,
    }
  })
  if (fitted.every((f) => f.dropped)) for (const f of fitted) f.dropped = false
  if (Number.isFinite(width)) fitColumns(fitted, width)

  const right = fitted.map((f, i) => f.column.align === 'right' || (f.column.align === undefined && isNumeric(cells.map((row) => row[i]))))
  const shown = fitted.map((f, i) => ({f, i})).filter(({f}) => !f.dropped)
  // Cells are cut here (an ellipsis at the end, or at the start for ARNs), so that cli-table3 only lays them out.
  const cutRow = (values: string[]): string[] => shown.map(({f, i}) => cut(values[i], f.width, f.column.cut))
  const rowLines = (row: string[]): string[][] => {
    if (!opts.multiline) return [cutRow(row)]
    // Text cells wrap at word boundaries to their column; other cells keep their lines (cut if need be).
    const split = row.map((cell, i) => (fitted[i].kind === 'text' && !fitted[i].dropped ? wrapText(cell, fitted[i].width) : cell).split('\n'))
    const height = Math.max(1, ...split.map((l) => l.length))
    return Array.from({length: height}, (_, n) => cutRow(split.map((l) => l[n] ?? '')))
  }

  const header = cutRow(chosen.map((c) => c.header)).map((h) => chalk.bold(h))
  const body = cells.flatMap((row) => rowLines(row))
  if (shown.length === 0) return ['', ...body.map(() => '')].join('\n')
  const Table = loadTable()
  const table = new Table({
    chars: BORDERLESS,
    colAligns: shown.map(({i}) => (right[i] ? 'right' : 'left')),
    colWidths: shown.map(({f}) => f.width),
    head: header,
    style: {border: [], compact: true, head: [], 'padding-left': 0, 'padding-right': 0},
    wordWrap: false,
  })
  for (const line of body) table.push(line)
  // The last column is padded by cli-table3 like the others; a line ends with its last character.
  return table
    .toString()
    .split('\n')
    .map((l) => l.trimEnd())
    .join('\n')
}

type TableConstructor = typeof import('cli-table3')
let tableConstructor: TableConstructor | undefined

/** cli-table3, loaded at the first table (start-up, --help and --version never load it). */
function loadTable(): TableConstructor {
  tableConstructor ??= createRequire(import.meta.url)('cli-table3') as TableConstructor
  return tableConstructor
}

/** No rules: columns two spaces apart (the 'middle' separator), no outer border, no line between rows. */
const BORDERLESS = {
  bottom: '',
  'bottom-left': '',
  'bottom-mid': '',
  'bottom-right': '',
  left: '',
  'left-mid': '',
  mid: '',
  'mid-mid': '',
  middle: ' '.repeat(GAP),
  right: '',
  'right-mid': '',
  top: '',
  'top-left': '',
  'top-mid': '',
  'top-right': '',
}

/** Rows as CSV (RFC 4180) with a header line: every chosen column, values in full and uncoloured. */
export function renderCsv<T>(rows: readonly T[], columns: readonly Column<T>[], options: Pick<TableOptions, 'columns'> = {}): string {
  const chosen = selectColumns(columns, options.columns, true)
  const quote = (v: string) => (/[",\r\n]/.test(v) ? `"${v.replaceAll('"', '""')}"` : v)
  const lines = [chosen.map((c) => quote(columnName(c))).join(',')]
  for (const r of rows) lines.push(chosen.map((c) => quote(oneLine(plainText(c.get(r) ?? '')))).join(','))
  return lines.join('\n')
}

/** One JSON object a line (NDJSON): each row whole, as --json shows it, no colour, no trailing newline. */
export function renderNdjson(rows: readonly unknown[]): string {
  return rows.map((r) => JSON.stringify(r)).join('\n')
}

function oneLine(text: string): string {
  return String(text)
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .join(', ')
}

function isNumeric(values: readonly string[]): boolean {
  const present = values.map((v) => plainText(v)).filter((v) => v !== '')
  return present.length > 0 && present.every((v) => /^[-+]?\d[\d,]*(\.\d+)?\s?(%|[kKMGT]?i?B|x|ms|s)?$/.test(v))
}

/**
 * Wraps prose to a width at word boundaries, once: each paragraph (a line of the source) is
 * filled to the width; a word longer than the width (an ARN, a path) gets a line of its own and
 * is never split. Lines that start with spaces keep their indent on every wrapped line.
 */
export function wrapText(text: string, width: number): string {
  if (!Number.isFinite(width) || width <= 0) return text
  return text
    .split('\n')
    .map((paragraph) => {
      if (visibleLength(paragraph) <= width) return paragraph
      const indent = /^\s*/.exec(paragraph)?.[0] ?? ''
      const hanging = /^(\s*)(- |\* |\d+\. )/.exec(paragraph)
      const next = hanging ? ' '.repeat(hanging[0].length) : indent
      const words = paragraph.slice(indent.length).split(/ +/).filter(Boolean)
      const lines: string[] = []
      let line = indent
      let lineLength = indent.length
      for (const word of words) {
        const len = visibleLength(word)
        const bare = line.trim() === ''
        if (!bare && lineLength + 1 + len > width) {
          lines.push(line)
          line = next + word
          lineLength = next.length + len
        } else {
          line = bare ? line + word : `${line} ${word}`
          lineLength = bare ? lineLength + len : lineLength + 1 + len
        }
      }

      lines.push(line)
      return lines.join('\n')
    })
    .join('\n')
}

/** Key/value lines aligned on the key, for `describe`-style output. */
export function renderFields(fields: ReadonlyArray<readonly [string, string | undefined]>): string {
  const shown = fields.filter(([, v]) => v !== undefined && v !== '')
  const pad = Math.max(0, ...shown.map(([k]) => k.length))
  return shown.map(([k, v]) => `${chalk.bold(k.padEnd(pad))}  ${String(v).replaceAll('\n', '\n' + ' '.repeat(pad + 2))}`).join('\n')
}

/**
 * A progress line on stderr, rewritten in place on a terminal and silent otherwise
 * (CI logs get the final summary only).
 */
export class Progress {
  private active = false
  private last = 0
  private readonly stream: NodeJS.WriteStream
  private readonly enabled: boolean

  constructor(options: {enabled?: boolean; stream?: NodeJS.WriteStream} = {}) {
    this.stream = options.stream ?? process.stderr
    this.enabled = options.enabled ?? Boolean(this.stream.isTTY)
  }

  private readonly started = Date.now()

  /**
   * A count toward a total with elapsed time, rate and time left, e.g.
   * "Disabling keys  12/50  0:04 elapsed  3.0/s  0:13 left  (12 disabled, 0 failed)".
   */
  count(label: string, done: number, total: number, detail?: string, force = false): void {
    const seconds = (Date.now() - this.started) / 1000
    const rate = seconds > 0 ? done / seconds : 0
    const parts = [`${label}  ${done}/${total}`, `${clock(seconds)} elapsed`]
    if (done > 0 && seconds >= 0.5) {
      parts.push(`${rate >= 10 ? Math.round(rate) : rate.toFixed(1)}/s`)
      if (done < total) parts.push(`${clock((total - done) / rate)} left`)
    }

    this.update(parts.join('  ') + (detail ? `  (${detail})` : ''), force)
  }

  /** Elapsed time and what was reached so far, for work without a known total (pages, files). */
  reached(label: string, detail: string, force = false): void {
    this.update(`${label ? `${label}  ` : ''}${clock((Date.now() - this.started) / 1000)} elapsed  ${detail}`, force)
  }

  done(finalLine?: string): void {
    if (this.active) this.stream.write('\r\u001B[2K')
    this.active = false
    if (finalLine && this.enabled) this.stream.write(finalLine + '\n')
  }

  update(line: string, force = false): void {
    if (!this.enabled) return
    const now = Date.now()
    if (!force && now - this.last < 100) return
    this.last = now
    this.active = true
    const cols = this.stream.columns ?? 120
    this.stream.write('\r\u001B[2K' + (line.length > cols - 1 ? line.slice(0, cols - 2) + '…' : line))
  }
}

/** Seconds as m:ss (or h:mm:ss). */
export function clock(seconds: number): string {
  const t = Math.max(0, Math.round(seconds))
  const h = Math.floor(t / 3600)
  const m = Math.floor((t % 3600) / 60)
  const sec = String(t % 60).padStart(2, '0')
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${sec}` : `${m}:${sec}`
}

/** A byte count for people: 512 B, 1.5 KB, 23 MB. */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB']
  let value = bytes
  let unit = 0
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024
    unit++
  }

  return `${unit === 0 || value >= 10 ? Math.round(value) : value.toFixed(1)} ${units[unit]}`
}

export function formatDate(d: Date | string | undefined): string {
  if (!d) return ''
  const date = typeof d === 'string' ? new Date(d) : d
  if (Number.isNaN(date.getTime())) return String(d)
  return date.toISOString().replace('T', ' ').replace(/\.\d{3}Z$/, 'Z')
}

export function formatDay(d: Date | string | undefined): string {
  return formatDate(d).slice(0, 10)
}


/** Whole days from now until a date, rounded up; 0 once it has passed. */
export function daysUntil(date: Date | string, now: Date = new Date()): number {
  const d = typeof date === 'string' ? new Date(date) : date
  return Math.max(0, Math.ceil((d.getTime() - now.getTime()) / DAY_MS))
}

/** `k=v` pairs (tags, encryption context) on one line: "team=payments, env=prod". */
export function formatPairs(pairs: Readonly<Record<string, string>>, separator = ', '): string {
  return Object.entries(pairs)
    .map(([k, v]) => `${k}=${v}`)
    .join(separator)
}

/** One request a mutating command would send, as shown by --dry-run. */
export interface PlannedRequest {
  /** The KMS API operation, e.g. "CreateAlias". */
  operation: string
  /** The request parameters exactly as they would be sent (values not known yet are shown as <placeholders>). */
  input: Record<string, unknown>
}

/** The --dry-run listing: each operation and its parameters as JSON, one request after another. */
export function renderPlannedRequests(requests: readonly PlannedRequest[]): string {
  const lines = [`Dry run: ${requests.length === 1 ? 'this request would be sent' : `these ${requests.length} requests would be sent, in order`} (nothing was sent):`]
  for (const r of requests) lines.push(`${chalk.bold(r.operation)} ${JSON.stringify(r.input, null, 2)}`)
  return lines.join('\n')
}
