// Bulk key actions: choose the keys (arguments, --tag, --file or stdin), plan what each one needs,
// then send the calls paced at the operation's KMS quota with a per-key report. Every change is
// journaled before it is sent; an interrupt stops new calls, waits for the ones in flight and
// reports the keys never sent.
import type {KMSClient, KeyMetadata} from '@aws-sdk/client-kms'

import {readFile} from 'node:fs/promises'

import {listAllPages} from './aws/paging.js'
import {kmsSdk} from './aws/sdk.js'
import {KmsctlError, fromAwsError, usageError} from './errors.js'
import {type Journal, newJournalId} from './journal.js'
import {aliasesOf, listAllAliases, parseKeyRef, resolveKey} from './key-ref.js'
import {listAllKeyIds} from './inventory.js'
import {type Column} from './output.js'
import {Pacer} from './pacing.js'

// ---------------------------------------------------------------------------------------------
// Selection
// ---------------------------------------------------------------------------------------------

export interface KeySource {
  /** References given as arguments. */
  refs?: readonly string[]
  /** Every customer-managed key carrying all of these tags. */
  tags?: Readonly<Record<string, string>>
  /** Text of a reference list (--file or stdin), one reference a line. */
  listText?: string
  /** Where listText came from, for messages ("keys.txt", "stdin"). */
  listName?: string
}

export interface SelectedKey {
  /** The reference as given (or the key ID for keys found by tag). */
  ref: string
  keyId: string
  arn: string
  aliases: string[]
  state: string
  manager: string
  metadata: KeyMetadata
}

export interface UnresolvedKey {
  ref: string
  error: KmsctlError
}

export interface Selection {
  keys: SelectedKey[]
  /** References that could not be resolved (not found, not allowed). */
  unresolved: UnresolvedKey[]
}

/** Errors that concern the whole run (credentials, network, region), not one key. */
const GLOBAL_CODES = new Set(['NO_CREDENTIALS', 'EXPIRED_TOKEN', 'NETWORK', 'NO_REGION'])

/**
 * Parses a reference list: one reference a line; blank lines and `#` comments (whole-line or
 * trailing) are ignored. A malformed reference is a usage error naming its line.
 */
export function parseRefList(text: string, name = 'the list'): string[] {
  const refs: string[] = []
  const lines = text.split(/\r?\n/)
  for (const [i, line] of lines.entries()) {
    const hash = line.indexOf('#')
    const ref = (hash === -1 ? line : line.slice(0, hash)).trim()
    if (!ref) continue
    try {
      parseKeyRef(ref)
    } catch (error) {
      const e = error as KmsctlError
      throw usageError(`${name}, line ${i + 1}: ${e.message}`, e.remedy)
    }

    refs.push(ref)
  }

  return refs
}

/** Reads a reference list from a file, or from stdin when the name is "-". */
export async function readRefList(file: string, stdin: NodeJS.ReadableStream = process.stdin): Promise<{name: string; text: string}> {
  if (file === '-') {
    if ((stdin as NodeJS.ReadStream).isTTY) {
      throw usageError('Reading key references from stdin, but stdin is a terminal.', 'Try this: pipe the list in (cat keys.txt | kmsctl key disable -) or use --file keys.txt')
    }

    const chunks: Buffer[] = []
    for await (const chunk of stdin) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer))
    return {name: 'stdin', text: Buffer.concat(chunks).toString('utf8')}
  }

  try {
    return {name: file, text: await readFile(file, 'utf8')}
  } catch (error) {
    throw usageError(`Cannot read --file ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}.`, 'Try this: a path to a text file with one key ID, ARN or alias a line')
  }
}

/** Checks the references given before anything is sent; returns them in order, without duplicates. */
export function validateSource(source: KeySource): string[] {
  const refs: string[] = []
  for (const ref of source.refs ?? []) {
    parseKeyRef(ref)
    refs.push(ref.trim())
  }

  if (source.listText !== undefined) refs.push(...parseRefList(source.listText, source.listName))
  const hasTags = Object.keys(source.tags ?? {}).length > 0
  if (refs.length === 0 && !hasTags) {
    if (source.listText !== undefined) throw usageError(`${source.listName ?? 'The list'} names no key.`, 'Try this: one key ID, ARN or alias a line (# starts a comment)')
    throw usageError('No key given.', 'Try this: KEY... (ID, ARN or alias), --tag team=payments, or --file keys.txt (- for stdin)')
  }

  return [...new Set(refs)]
}

/** A key's tags (every page), each page paced and retried like the bulk calls. */
export async function tagsOf(kms: KMSClient, keyId: string, pacer: Pacer): Promise<Record<string, string>> {
  const {ListResourceTagsCommand} = await kmsSdk()
  const tags = await listAllPages(
    `ListResourceTags on ${keyId}`,
    (marker) => pacedCall(pacer, 'ListResourceTags', () => kms.send(new ListResourceTagsCommand({KeyId: keyId, Limit: 50, Marker: marker}))),
    (page) => page.Tags,
  )
  return Object.fromEntries(tags.map((t) => [t.TagKey ?? '', t.TagValue ?? '']))
}

/**
 * Resolves the keys of a source: each reference with DescribeKey, and with tags every
 * customer-managed key of the region carrying them. Keys named twice appear once.
 */
export async function selectKeys(kms: KMSClient, source: KeySource, options: {pacer?: Pacer} = {}): Promise<Selection> {
  const refs = validateSource(source)
  const pacer = options.pacer ?? new Pacer()
  const aliasesPromise = pacedCall(pacer, 'ListAliases', () => listAllAliases(kms)).catch((error) => {
    throw fromAwsError(error, {operation: 'ListAliases'})
  })
  const unresolved: UnresolvedKey[] = []
  const found: Array<SelectedKey | undefined> = await Promise.all(
    refs.map(async (ref) => {
      try {
        const r = await pacedCall(pacer, 'DescribeKey', () => resolveKey(kms, ref))
        return {aliases: [], arn: r.arn, keyId: r.keyId, manager: r.metadata.KeyManager ?? '', metadata: r.metadata, ref, state: r.metadata.KeyState ?? ''}
      } catch (error) {
        const e = fromAwsError(error, {key: ref, operation: 'DescribeKey'})
        if (GLOBAL_CODES.has(e.code)) throw e
        unresolved.push({error: e, ref})
        return undefined
      }
    }),
  )

  const tags = source.tags ?? {}
  if (Object.keys(tags).length > 0) {
    const {DescribeKeyCommand} = await kmsSdk()
    const ids = await pacedCall(pacer, 'ListKeys', () => listAllKeyIds(kms, pacer)).catch((error) => {
      throw fromAwsError(error, {operation: 'ListKeys'})
    })
    // AWS-managed keys (alias/aws/*) cannot carry tags: not asked. The others are asked for their
    // tags first and described only when they match, which is the fewer calls in most accounts.
    const awsManaged = new Set((await aliasesPromise).filter((a) => a.AliasName?.startsWith('alias/aws/')).map((a) => a.TargetKeyId))
    const describe = async (KeyId: string): Promise<KeyMetadata | undefined> => {
      try {
        return (await pacedCall(pacer, 'DescribeKey', () => kms.send(new DescribeKeyCommand({KeyId})))).KeyMetadata
      } catch (error) {
        throw fromAwsError(error, {key: KeyId, operation: 'DescribeKey'})
      }
    }

    const tagged = await Promise.all(
      ids.map(async ({KeyId}): Promise<SelectedKey | undefined> => {
        if (awsManaged.has(KeyId)) return undefined
        let keyTags: Record<string, string>
        try {
          keyTags = await tagsOf(kms, KeyId, pacer)
        } catch (error) {
          const e = fromAwsError(error, {key: KeyId, operation: 'ListResourceTags'})
          // A key whose tags cannot be read is fine to leave out only if it is not a customer key.
          if (GLOBAL_CODES.has(e.code) || (await describe(KeyId))?.KeyManager === 'CUSTOMER') throw e
          return undefined
        }

        for (const [k, v] of Object.entries(tags)) if (keyTags[k] !== v) return undefined
        const m = await describe(KeyId)
        if (!m || m.KeyManager !== 'CUSTOMER') return undefined
        return {aliases: [], arn: m.Arn ?? '', keyId: KeyId, manager: m.KeyManager ?? '', metadata: m, ref: KeyId, state: m.KeyState ?? ''}
      }),
    )
    found.push(...tagged)
  }

  const aliases = await aliasesPromise
  const seen = new Set<string>()
  const keys: SelectedKey[] = []
  for (const k of found) {
    if (!k || seen.has(k.keyId)) continue
    seen.add(k.keyId)
    k.aliases = aliasesOf(k.keyId, aliases)
    if (k.ref === k.keyId && k.aliases.length > 0) k.ref = k.aliases[0]
    keys.push(k)
  }

  return {keys, unresolved}
}

// ---------------------------------------------------------------------------------------------
// Plan
// ---------------------------------------------------------------------------------------------

export type StateAction = 'disable' | 'enable'

export const STATE_ACTIONS: Record<StateAction, {operation: 'DisableKey' | 'EnableKey'; target: 'Disabled' | 'Enabled'; verb: string; journal: 'key.disable' | 'key.enable'}> = {
  disable: {journal: 'key.disable', operation: 'DisableKey', target: 'Disabled', verb: 'disable'},
  enable: {journal: 'key.enable', operation: 'EnableKey', target: 'Enabled', verb: 'enable'},
}

/** What happened to one key: planned (dry run), changed, unchanged (already so), skipped (cannot), failed, not-sent (interrupted). */
export type Outcome = 'changed' | 'failed' | 'not-sent' | 'planned' | 'skipped' | 'unchanged'

export interface ReportRow {
  /** Key ID (or the reference as given when it could not be resolved). */
  key: string
  ref: string
  alias?: string
  arn?: string
  before?: string
  after?: string
  outcome: Outcome
  /** Why it was skipped, unchanged or not sent. */
  reason?: string
  error?: {code: string; message: string}
  /** The journal entry of this key's change. */
  journalId?: string
  attempts?: number
}

export interface PlanItem {
  key: SelectedKey
  send: boolean
  /** For items not sent: the row to report. */
  row: ReportRow
}

function baseRow(k: SelectedKey): ReportRow {
  return {alias: k.aliases[0], arn: k.arn, before: k.state, key: k.keyId, outcome: 'planned', ref: k.ref}
}

/** Why a key in this state cannot take the action, or undefined when the call should be sent. */
export function whyNot(action: StateAction, k: Pick<SelectedKey, 'manager' | 'state'>): {outcome: 'skipped' | 'unchanged'; reason: string} | undefined {
  const {target, verb} = STATE_ACTIONS[action]
  if (k.manager === 'AWS') return {outcome: 'skipped', reason: `AWS-managed keys cannot be ${verb}d`}
  if (k.state === target) return {outcome: 'unchanged', reason: `already ${target}`}
  if (k.state === 'PendingDeletion' || k.state === 'PendingReplicaDeletion') {
    return {outcome: 'skipped', reason: `pending deletion: cancel it first (kmsctl key cancel-deletion KEY${action === 'enable' ? ' --enable' : ''})`}
  }

  if (k.state === 'PendingImport') return {outcome: 'skipped', reason: 'no key material yet (PendingImport)'}
  return undefined
}

/** The plan for a selection: which keys get the call, and why the others do not. */
export function planStateChange(action: StateAction, selection: Selection): {items: PlanItem[]; unresolved: ReportRow[]} {
  const items = selection.keys.map((k): PlanItem => {
    const row = baseRow(k)
    const no = whyNot(action, k)
    if (no) return {key: k, row: {...row, after: k.state, outcome: no.outcome, reason: no.reason}, send: false}
    return {key: k, row: {...row, after: STATE_ACTIONS[action].target, reason: `will ${STATE_ACTIONS[action].verb}`}, send: true}
  })
  const unresolved = selection.unresolved.map(
    (u): ReportRow => ({error: {code: u.error.code, message: u.error.message}, key: u.ref, outcome: 'failed', ref: u.ref}),
  )
  return {items, unresolved}
}

// ---------------------------------------------------------------------------------------------
// Run
// ---------------------------------------------------------------------------------------------

/** Where and by whom: recorded with each journal entry. */
export interface JournalContext {
  journal: Journal
  region: string
  account?: string
  caller?: string
  command?: string[]
  batch?: string
  /** The role assumed to reach the account (changes across accounts). */
  role?: string
}


export interface BulkCounts {
  total: number
  done: number
  changed: number
  failed: number
}

export interface RunOptions {
  kms: KMSClient
  action: StateAction
  items: readonly PlanItem[]
  pacer: Pacer
  journal?: JournalContext
  /** Abort: stop starting calls, let the ones in flight finish. */
  signal?: AbortSignal
  /** Most keys being worked on at once (default 10). */
  workers?: number
  /** Extra attempts after the SDK's own retries for throttling and server errors (default 4). */
  retries?: number
  /** First backoff between those attempts, in ms (default 250, doubling, with jitter). */
  backoffMs?: number
  onProgress?: (counts: BulkCounts) => void
}

const RETRYABLE = new Set([
  'ThrottlingException',
  'TooManyRequestsException',
  'Throttling',
  'KMSInternalException',
  'InternalFailure',
  'InternalServerError',
  'ServiceUnavailable',
  'ServiceUnavailableException',
  'RequestTimeout',
  'RequestTimeoutException',
  'TimeoutError',
])

/** A failure worth another attempt: throttling, a server-side error, or a dropped connection. */
export function isRetryable(error: unknown): boolean {
  if (error instanceof KmsctlError) return (error.awsCode !== undefined && RETRYABLE.has(error.awsCode)) || isRetryable(error.cause)
  const e = error as {$metadata?: {httpStatusCode?: number}; code?: string; name?: string}
  if (e?.name && RETRYABLE.has(e.name)) return true
  const status = e?.$metadata?.httpStatusCode
  if (status !== undefined && (status >= 500 || status === 429)) return true
  const code = e?.code ?? ''
  return ['ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ECONNREFUSED'].includes(code)
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    if (signal?.aborted) return resolve()
    const timer = setTimeout(done, ms)
    function done() {
      clearTimeout(timer)
      signal?.removeEventListener('abort', done)
      resolve()
    }

    signal?.addEventListener('abort', done, {once: true})
  })

/**
 * Sends the action for every planned key, paced by the Pacer, and reports each key. Rows come back
 * in the plan's order. Never throws for a key's failure: it is in its row.
 */
export async function runStateChange(options: RunOptions): Promise<ReportRow[]> {
  const {action, items, kms, pacer, signal} = options
  const spec = STATE_ACTIONS[action]
  const sdk = await kmsSdk()
  const Command = action === 'disable' ? sdk.DisableKeyCommand : sdk.EnableKeyCommand
  const retries = options.retries ?? 4
  const backoff = options.backoffMs ?? 250
  const rows: ReportRow[] = items.map((i) => ({...i.row}))
  const toSend = items.map((item, index) => ({index, item})).filter(({item}) => item.send)
  const counts: BulkCounts = {changed: 0, done: 0, failed: 0, total: toSend.length}
  const aborted = new Promise<'aborted'>((resolve) => {
    if (signal?.aborted) resolve('aborted')
    signal?.addEventListener('abort', () => resolve('aborted'), {once: true})
  })

  const sendOne = async (index: number, item: PlanItem): Promise<void> => {
    const row = rows[index]
    const k = item.key
    let entryId: string | undefined
    let attempts = 0
    let lastError: unknown
    for (;;) {
      let started = false
      const attempt = pacer.run(spec.operation, async () => {
        if (signal?.aborted) return 'not-started' as const
        started = true
        attempts++
        if (!entryId && options.journal) {
          const j = options.journal
          entryId = j.journal.begin({
            account: j.account,
            action: spec.journal,
            batch: j.batch,
            before: {state: k.state},
            caller: j.caller,
            command: j.command,
            key: {aliases: k.aliases, arn: k.arn, keyId: k.keyId, ref: k.ref},
            region: j.region,
            request: {KeyId: k.keyId, operation: spec.operation},
            ...(j.role ? {role: j.role} : {}),
          }).id
        }

        try {
          await kms.send(new Command({KeyId: k.keyId}))
          return 'ok' as const
        } catch (error) {
          lastError = error
          return 'error' as const
        }
      })
      // Wait for the call, unless an interrupt comes first and the call has not started yet.
      // eslint-disable-next-line no-await-in-loop
      let result = await Promise.race([attempt, aborted])
      if (result === 'aborted') result = started ? await attempt : 'not-started'

      if (result === 'not-started') {
        if (attempts === 0) {
          Object.assign(row, {after: k.state, outcome: 'not-sent', reason: 'interrupted before it was sent'})
        } else {
          fail(row, lastError, 'interrupted before another attempt')
        }

        break
      }

      if (result === 'ok') {
        Object.assign(row, {after: spec.target, outcome: 'changed', reason: undefined})
        counts.changed++
        break
      }

      if (isRetryable(lastError) && attempts <= retries && !signal?.aborted) {
        const wait = backoff * 2 ** (attempts - 1)
        // eslint-disable-next-line no-await-in-loop
        await sleep(wait / 2 + Math.random() * wait, signal)
        continue
      }

      fail(row, lastError)
      break
    }

    row.attempts = attempts || undefined
    if (entryId) {
      row.journalId = entryId
      options.journal!.journal.finish(
        entryId,
        row.outcome === 'changed' ? {after: {state: spec.target}, status: 'ok'} : {error: row.error, status: 'failed'},
      )
    }

    if (row.outcome === 'failed') counts.failed++
    counts.done++
    options.onProgress?.({...counts})
  }

  function fail(row: ReportRow, error: unknown, note?: string): void {
    const e = fromAwsError(error, {key: row.alias ?? row.key, operation: spec.operation})
    const state = (e.details?.state as string | undefined) ?? row.before
    Object.assign(row, {after: state, error: {code: e.code, message: note ? `${e.message} (${note})` : e.message}, outcome: 'failed', reason: undefined})
  }

  let next = 0
  const worker = async () => {
    while (next < toSend.length) {
      const {index, item} = toSend[next++]
      // eslint-disable-next-line no-await-in-loop
      await sendOne(index, item)
    }
  }

  const workers = Math.max(1, Math.min(options.workers ?? 10, toSend.length))
  await Promise.all(Array.from({length: workers}, () => worker()))
  return rows
}

export interface Tally {
  total: number
  changed: number
  unchanged: number
  skipped: number
  failed: number
  notSent: number
  planned: number
}

export function tally(rows: readonly ReportRow[]): Tally {
  const count = (o: Outcome) => rows.filter((r) => r.outcome === o).length
  return {
    changed: count('changed'),
    failed: count('failed'),
    notSent: count('not-sent'),
    planned: count('planned'),
    skipped: count('skipped'),
    total: rows.length,
    unchanged: count('unchanged'),
  }
}

/**
 * The exit code of a bulk run: 130 when interrupted; 0 when nothing failed; 1 when every key
 * failed; 3 when some failed and others did not.
 */
export function bulkExitCode(rows: readonly ReportRow[], interrupted: boolean): number {
  if (interrupted) return 130
  const t = tally(rows)
  if (t.failed === 0) return 0
  return t.failed === t.total ? 1 : 3
}

// ---------------------------------------------------------------------------------------------
// Shared by the commands that change keys: who is calling, the report table
// ---------------------------------------------------------------------------------------------

/** The subset of the client factory the journal context needs. */
export interface CallerSource {
  region(): Promise<string>
  callerIdentity(): Promise<{account: string; arn: string}>
}

/**
 * Region, account and caller for journal entries. The caller comes from STS; when STS cannot be
 * asked (denied, unavailable) the entry is still written, without it, and `warn` says so.
 */
export async function journalContextFor(
  aws: CallerSource,
  journal: Journal,
  command: string[],
  options: {batch?: string; warn?: (message: string) => void} = {},
): Promise<JournalContext> {
  const region = await aws.region()
  try {
    const id = await aws.callerIdentity()
    return {account: id.account, batch: options.batch, caller: id.arn, command, journal, region}
  } catch (error) {
    const e = fromAwsError(error, {operation: 'GetCallerIdentity'})
    if (GLOBAL_CODES.has(e.code)) throw e
    options.warn?.(`The journal will not name the caller: ${e.message}`)
    return {batch: options.batch, command, journal, region}
  }
}

/**
 * Installs a Ctrl-C handler for the duration of a bulk run: the first SIGINT aborts (no new calls;
 * calls in flight finish), a second one exits at once with 130. Returns the signal and a dispose.
 */
export function interruptOnSigint(onFirst?: () => void): {dispose: () => void; signal: AbortSignal} {
  const controller = new AbortController()
  const handler = () => {
    if (controller.signal.aborted) process.exit(130)
    controller.abort()
    onFirst?.()
  }

  process.on('SIGINT', handler)
  return {dispose: () => process.off('SIGINT', handler), signal: controller.signal}
}

const OUTCOME_TEXT: Record<Outcome, string> = {
  changed: 'changed',
  failed: 'FAILED',
  'not-sent': 'not sent',
  planned: 'planned',
  skipped: 'skipped',
  unchanged: 'unchanged',
}

/** The per-key table: alias, key ID, state before and after, outcome, and why. */
export function reportColumns(): Array<Column<ReportRow>> {
  return [
    {get: (r) => r.alias ?? '', header: 'Alias'},
    {get: (r) => r.key, header: 'Key ID', shrink: false},
    {get: (r) => r.before ?? '', header: 'Before', shrink: false},
    {get: (r) => r.after ?? '', header: 'After', shrink: false},
    {get: (r) => OUTCOME_TEXT[r.outcome], header: 'Outcome', shrink: false},
    {get: (r) => r.error?.message ?? r.reason ?? '', header: 'Detail'},
  ]
}

/** The plan shown before confirming: alias, key ID, current state, what will happen. */
export function planColumns(): Array<Column<ReportRow>> {
  return [
    {get: (r) => r.alias ?? '', header: 'Alias'},
    {get: (r) => r.key, header: 'Key ID', shrink: false},
    {get: (r) => r.before ?? '', header: 'State', shrink: false},
    {get: (r) => r.error?.message ?? r.reason ?? '', header: 'Plan'},
  ]
}

/** One line summing up a run, e.g. "Disabled 98 of 100 keys; 2 failed." */
export function summaryLine(action: StateAction, t: Tally, dryRun = false): string {
  const past = action === 'disable' ? 'Disabled' : 'Enabled'
  const parts: string[] = []
  if (dryRun) {
    const n = t.planned
    return `Dry run: would ${action} ${n} key${n === 1 ? '' : 's'}${t.unchanged + t.skipped + t.failed > 0 ? `; ${[t.unchanged && `${t.unchanged} unchanged`, t.skipped && `${t.skipped} skipped`, t.failed && `${t.failed} not found or not allowed`].filter(Boolean).join(', ')}` : ''}. Nothing was sent.`
  }

  if (t.unchanged) parts.push(`${t.unchanged} already ${action === 'disable' ? 'disabled' : 'enabled'}`)
  if (t.skipped) parts.push(`${t.skipped} skipped`)
  if (t.failed) parts.push(`${t.failed} failed`)
  if (t.notSent) parts.push(`${t.notSent} not sent (interrupted)`)
  return `${past} ${t.changed} of ${t.total} key${t.total === 1 ? '' : 's'}${parts.length > 0 ? `; ${parts.join(', ')}` : ''}.`
}

/**
 * One call through the pacer with the same extra attempts as the bulk runner (throttling and
 * server errors, after the SDK's own retries). Throws the last error.
 */
export async function pacedCall<T>(pacer: Pacer, operation: string, fn: () => Promise<T>, options: {retries?: number; backoffMs?: number} = {}): Promise<T> {
  const retries = options.retries ?? 4
  const backoff = options.backoffMs ?? 250
  for (let attempt = 1; ; attempt++) {
    try {
      // eslint-disable-next-line no-await-in-loop
      return await pacer.run(operation, fn)
    } catch (error) {
      if (!isRetryable(error) || attempt > retries) throw error
      const wait = backoff * 2 ** (attempt - 1)
      // eslint-disable-next-line no-await-in-loop
      await sleep(wait / 2 + Math.random() * wait)
    }
  }
}
