// The journal: every mutating command appends what it is about to overwrite *before* it changes
// anything, then the outcome. Append-only JSON lines, one file a day under $KMSCTL_HOME/journal/,
// each line fsync'ed, so a crash mid-batch leaves every entry written so far readable. Bulk changes
// use the durable variants (beginDurable, finishDurable): lines appended while a write is on its way
// to disk go together in the next write, under one fsync, off the event loop (group commit); each
// caller still resumes only once its own line is on disk.
import {randomBytes} from 'node:crypto'
import {closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, readdirSync, writeSync} from 'node:fs'
import {open} from 'node:fs/promises'
import {join} from 'node:path'

import type {AwsClients} from './aws/clients.js'
import {fromAwsError, isRunWide} from './errors.js'
import {journalDir} from './home.js'

export type JournalAction =
  | 'alias.create'
  | 'alias.delete'
  | 'alias.update'
  | 'grant.create'
  | 'grant.retire'
  | 'grant.revoke'
  | 'incident.contain'
  | 'incident.restore'
  | 'key.cancel-deletion'
  | 'key.create'
  | 'key.disable'
  | 'key.enable'
  | 'key.rotation'
  | 'key.schedule-deletion'
  | 'policy.put'
  | 'policy.restore'
  | 'undo'
  | (string & {})

export interface JournalKey {
  keyId: string
  arn?: string
  /** The reference as the user gave it. */
  ref?: string
  aliases?: string[]
}

export interface JournalEntryInput {
  action: JournalAction
  region: string
  account?: string
  /** The role assumed to reach the account, when it is not the caller's (changes across accounts). */
  role?: string
  /** The caller's ARN (STS GetCallerIdentity). */
  caller?: string
  /** The command line, as typed (argv after the binary). */
  command?: string[]
  key?: JournalKey
  /** The state this change is about to overwrite: enough to put it back. */
  before: unknown
  /** What is about to be sent. */
  request?: unknown
  /** Groups the entries of one bulk command. */
  batch?: string
  /** An entry this one reverses (undo). */
  reverses?: string
}

export interface JournalEntry extends JournalEntryInput {
  id: string
  time: string
}

export type JournalStatus = 'failed' | 'ok' | 'partial' | 'skipped'

export interface JournalOutcomeInput {
  status: JournalStatus
  error?: {code: string; message: string}
  /** The state after the change, when known (e.g. new grant IDs). */
  after?: unknown
}

export interface JournalOutcome extends JournalOutcomeInput {
  id: string
  time: string
}

export interface JournalRecord extends JournalEntry {
  /** Absent when the process stopped before the outcome was known. */
  outcome?: JournalOutcome
}

type Line = ({type: 'entry'} & JournalEntry) | ({type: 'outcome'} & JournalOutcome)

/** Where and by whom a change is made, and with which command line: the same for every entry of a run. */
export interface ChangeOrigin {
  region: string
  account?: string
  /** The role assumed to reach the account, when it is not the caller's (changes across accounts). */
  role?: string
  /** The caller's ARN. */
  caller?: string
  /** The command line, as typed (argv after the binary). */
  command?: string[]
}

/** The origin of the changes of a run, with the journal they are recorded in. */
export interface ChangeContext extends ChangeOrigin {
  journal: Journal
  /** Groups the entries of one bulk command. */
  batch?: string
}

/** A batch ID groups the journal entries of one bulk command (`grant recreate BATCH` takes it). */
export function newBatchId(now: Date = new Date()): string {
  return newJournalId(now).replace(/^j-/, 'b-')
}

/** The command line as the user typed it after the binary: `grant revoke --grantee ...`. */
export function commandLine(id: string | undefined, argv: readonly string[]): string[] {
  return [...(id ? id.split(':') : []), ...argv]
}

/**
 * Who makes a change: the region, the account and the caller's ARN (STS GetCallerIdentity), and the
 * command line. Asked before any change is sent. An expired or missing credential (or no region) is
 * an error here, so that nothing is changed; when STS only refuses or fails to say who is calling,
 * the change is still recorded, without the caller, and `warn` says so.
 */
export async function changeOrigin(
  aws: Pick<AwsClients, 'callerIdentity' | 'region'>,
  command: readonly string[],
  options: {warn?: (message: string) => void} = {},
): Promise<ChangeOrigin> {
  const region = await aws.region()
  try {
    const identity = await aws.callerIdentity()
    return {account: identity.account || undefined, caller: identity.arn || undefined, command: [...command], region}
  } catch (error) {
    const e = fromAwsError(error, {operation: 'GetCallerIdentity'})
    if (isRunWide(e)) throw e
    options.warn?.(`The journal will not name the caller: ${e.message}`)
    return {command: [...command], region}
  }
}

/** changeOrigin() with the journal the changes go to and the batch they belong to. */
export async function changeContext(
  aws: Pick<AwsClients, 'callerIdentity' | 'region'>,
  journal: Journal,
  command: readonly string[],
  options: {batch?: string; warn?: (message: string) => void} = {},
): Promise<ChangeContext> {
  return {...(await changeOrigin(aws, command, options)), batch: options.batch, journal}
}

export function newJournalId(now: Date = new Date()): string {
  const stamp = now.toISOString().replaceAll(/[-:]/g, '').replace(/\.\d{3}Z$/, 'Z')
  return `j-${stamp}-${randomBytes(3).toString('hex')}`
}

export class Journal {
  readonly dir: string
  private readonly now: () => Date

  constructor(options: {dir?: string; now?: () => Date} = {}) {
    this.dir = options.dir ?? journalDir()
    this.now = options.now ?? (() => new Date())
  }

  /** Appends an entry (durably) and returns its ID. Call before changing anything. */
  begin(input: JournalEntryInput): JournalEntry {
    const time = this.now()
    const entry: JournalEntry = {id: newJournalId(time), time: time.toISOString(), ...input}
    this.append({type: 'entry', ...entry})
    return entry
  }

  /** Records the outcome of an entry (durably). */
  finish(id: string, outcome: JournalOutcomeInput): JournalOutcome {
    const record: JournalOutcome = {id, time: this.now().toISOString(), ...outcome}
    this.append({type: 'outcome', ...record})
    return record
  }

  /**
   * begin(), for many changes at once: resolves once the entry is on disk, sharing one write and one
   * fsync with the entries and outcomes appended meanwhile. Await it before changing anything.
   */
  async beginDurable(input: JournalEntryInput): Promise<JournalEntry> {
    const time = this.now()
    const entry: JournalEntry = {id: newJournalId(time), time: time.toISOString(), ...input}
    await this.appendGrouped({type: 'entry', ...entry})
    return entry
  }

  /** finish(), grouped as beginDurable() is: resolves once the outcome is on disk. */
  async finishDurable(id: string, outcome: JournalOutcomeInput): Promise<JournalOutcome> {
    const record: JournalOutcome = {id, time: this.now().toISOString(), ...outcome}
    await this.appendGrouped({type: 'outcome', ...record})
    return record
  }

  private grouped: Array<{line: Line; settle: (error?: unknown) => void}> = []
  private writing = false

  private appendGrouped(line: Line): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.grouped.push({line, settle: (error) => (error === undefined ? resolve() : reject(error))})
      if (!this.writing) void this.drainGrouped()
    })
  }

  /** Writes what is queued, one write and one fsync per file, until nothing is left. */
  private async drainGrouped(): Promise<void> {
    this.writing = true
    try {
      while (this.grouped.length > 0) {
        const group = this.grouped.splice(0)
        const byFile = new Map<string, string>()
        for (const {line} of group) {
          const file = join(this.dir, `${line.time.slice(0, 10)}.jsonl`)
          byFile.set(file, (byFile.get(file) ?? '') + JSON.stringify(line) + '\n')
        }

        try {
          mkdirSync(this.dir, {mode: 0o700, recursive: true})
          for (const [file, text] of byFile) {
            // eslint-disable-next-line no-await-in-loop
            const handle = await open(file, 'a', 0o600)
            try {
              // eslint-disable-next-line no-await-in-loop
              await handle.write(text)
              // eslint-disable-next-line no-await-in-loop
              await handle.sync()
            } finally {
              // eslint-disable-next-line no-await-in-loop
              await handle.close()
            }
          }

          for (const g of group) g.settle()
        } catch (error) {
          for (const g of group) g.settle(error)
        }
      }
    } finally {
      this.writing = false
    }
  }

  /** One entry with its outcome, or undefined. Accepts a unique prefix of the ID. */
  get(id: string): JournalRecord | undefined {
    const all = this.readAll()
    const exact = all.find((r) => r.id === id)
    if (exact) return exact
    const matches = all.filter((r) => r.id.startsWith(id))
    return matches.length === 1 ? matches[0] : undefined
  }

  /** Entries, oldest first, filtered by key (ID or ARN) and time. */
  list(filter: {keyId?: string; since?: Date; action?: string; batch?: string} = {}): JournalRecord[] {
    return this.readAll().filter((r) => {
      if (filter.keyId && r.key?.keyId !== filter.keyId && r.key?.arn !== filter.keyId) return false
      if (filter.since && new Date(r.time) < filter.since) return false
      if (filter.action && r.action !== filter.action) return false
      if (filter.batch && r.batch !== filter.batch) return false
      return true
    })
  }

  /** Every record in the journal. Lines that cannot be parsed (a torn last line) are skipped. */
  readAll(): JournalRecord[] {
    if (!existsSync(this.dir)) return []
    const files = readdirSync(this.dir).filter((f) => f.endsWith('.jsonl')).sort()
    const entries = new Map<string, JournalRecord>()
    const outcomes = new Map<string, JournalOutcome>()
    for (const f of files) {
      for (const line of readFileSync(join(this.dir, f), 'utf8').split('\n')) {
        if (!line.trim()) continue
        let parsed: Line
        try {
          parsed = JSON.parse(line) as Line
        } catch {
          continue
        }

        if (parsed.type === 'entry') {
          const {type: _type, ...entry} = parsed
          entries.set(entry.id, entry)
        } else if (parsed.type === 'outcome') {
          const {type: _type, ...outcome} = parsed
          outcomes.set(outcome.id, outcome)
        }
      }
    }

    const records = [...entries.values()].map((e) => (outcomes.has(e.id) ? {...e, outcome: outcomes.get(e.id)} : e))
    return records.sort((a, b) => a.time.localeCompare(b.time) || a.id.localeCompare(b.id))
  }

  private append(line: Line): void {
    mkdirSync(this.dir, {mode: 0o700, recursive: true})
    const file = join(this.dir, `${line.time.slice(0, 10)}.jsonl`)
    const fd = openSync(file, 'a', 0o600)
    try {
      writeSync(fd, JSON.stringify(line) + '\n')
      fsyncSync(fd)
    } finally {
      closeSync(fd)
    }
  }
}

/**
 * Records an entry, runs the change, then records its outcome: `ok` with `after(result)`, or
 * `failed` with the error's code and message (the error is rethrown).
 */
export async function journaled<T>(
  journal: Journal,
  input: JournalEntryInput,
  change: () => Promise<T>,
  after: (result: T) => unknown = () => undefined,
): Promise<{entry: JournalEntry; result: T}> {
  const entry = journal.begin(input)
  let result: T
  try {
    result = await change()
  } catch (error) {
    const e = error as {code?: string; message?: string; name?: string}
    journal.finish(entry.id, {error: {code: e?.code ?? e?.name ?? 'FAILED', message: e?.message ?? String(error)}, status: 'failed'})
    throw error
  }

  journal.finish(entry.id, {after: after(result), status: 'ok'})
  return {entry, result}
}
