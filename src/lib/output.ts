// Rendering: colour policy, tables fitted to the terminal, progress lines on stderr.
// Results go to stdout; progress, warnings and prompts go to stderr.
import chalk from 'chalk'
import Table from 'cli-table3'

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

export interface Column<T> {
  /** Header text. */
  header: string
  /** Cell text for a row. */
  get: (row: T) => string
  /** Columns that may shrink to fit; others keep their natural width. Default true for text columns. */
  shrink?: boolean
  /** Never narrower than this when shrinking. */
  minWidth?: number
}

const visibleLength = (s: string): number => {
  // Strip ANSI colour codes before measuring; count each line of a multi-line cell.
  // eslint-disable-next-line no-control-regex
  const plain = s.replaceAll(/\u001B\[[0-9;]*m/g, '')
  return Math.max(0, ...plain.split('\n').map((l) => l.length))
}

/**
 * Renders rows as a table no wider than the terminal: columns keep their natural width when it
 * fits, otherwise the shrinkable ones are narrowed (widest first) and their text wraps.
 */
export function renderTable<T>(rows: readonly T[], columns: readonly Column<T>[], width = terminalWidth()): string {
  const cells = rows.map((r) => columns.map((c) => c.get(r) ?? ''))
  const natural = columns.map((c, i) => Math.max(visibleLength(c.header), ...cells.map((row) => visibleLength(row[i]))) + 2)
  const borders = columns.length + 1
  const widths = [...natural]
  let total = widths.reduce((a, b) => a + b, 0) + borders
  while (total > width) {
    let widest = -1
    for (let i = 0; i < widths.length; i++) {
      const min = (columns[i].minWidth ?? 6) + 2
      if (columns[i].shrink === false || widths[i] <= min) continue
      if (widest === -1 || widths[i] > widths[widest]) widest = i
    }

    if (widest === -1) break
    widths[widest]--
    total--
  }

  const table = new Table({
    colWidths: widths,
    head: columns.map((c) => chalk.bold(c.header)),
    style: {border: [], compact: false, head: []},
    wordWrap: true,
    wrapOnWordBoundary: true,
  })
  for (const row of cells) table.push(row)
  return table.toString()
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
