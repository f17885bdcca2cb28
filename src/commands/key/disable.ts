import {Args, Flags} from '@oclif/core'

import {KmsctlCommand} from '../../cli/base-command.js'
import {type ReportRow, type StateAction, STATE_ACTIONS, planStateChange} from '../../lib/bulk/plan.js'
import {planColumns, reportColumns, summaryLine} from '../../lib/bulk/report.js'
import {runStateChange} from '../../lib/bulk/run.js'
import {readRefList, selectKeys, validateSource} from '../../lib/bulk/select.js'
import {type Tally, bulkExitCode, tally} from '../../lib/bulk/tally.js'
import {interruptOnSigint} from '../../lib/interrupt.js'
import {confirmAction} from '../../lib/confirm.js'
import {usageError} from '../../lib/errors.js'
import {confirmFlags, mutationFlags} from '../../cli/flags.js'
import {parsePairs} from '../../lib/parse.js'
import {Journal, changeContext, commandLine, newBatchId} from '../../lib/journal.js'
import {Progress, renderTable} from '../../lib/output.js'
import {Pacer} from '../../lib/pacing.js'

export interface KeyStateResult {
  action: StateAction
  dryRun: boolean
  /** Groups the journal entries of this run. */
  batch?: string
  /** Why the aliases could not be read, when they could not (the keys are shown by ID). */
  aliasesUnavailable?: string
  interrupted: boolean
  /** One row per key: key, before, after, outcome, reason or error, journal entry. */
  keys: ReportRow[]
  summary: Tally
  exitCode: number
}

/**
 * Every positional argument of a variadic command. (Parsing again with the class itself would lose
 * the inherited statics: oclif spreads the options object, which copies own properties only.)
 */
export async function variadicArgs(command: KmsctlCommand<any>, ctor: {args?: unknown; flags?: unknown}): Promise<string[]> {
  const parse = (command as unknown as {parse(options: unknown): Promise<{argv: unknown[]}>}).parse.bind(command)
  const {argv} = await parse({
    args: ctor.args,
    baseFlags: KmsctlCommand.baseFlags,
    enableJsonFlag: true,
    flags: ctor.flags,
    strict: false,
  })
  return argv.map(String)
}

/** Parses --rate: requests per second, more than 0. */
export function parseRate(text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback
  const n = Number(text)
  if (!Number.isFinite(n) || n <= 0 || n > 10_000) throw usageError(`--rate "${text}" is not a rate in requests per second.`, 'Try this: --rate 5 (KMS\'s default quota for DisableKey and EnableKey)')
  return n
}

export const keyStateFlags = {
  ...mutationFlags,
  ...confirmFlags,
  confirm: Flags.string({description: 'Confirm without a prompt: the key ID or alias of a single key, or the number of keys for several.'}),
  file: Flags.string({char: 'f', description: 'Read key references from this file, one a line (# comments); - reads stdin.'}),
  rate: Flags.string({description: 'Calls per second (default 5, the KMS quota for DisableKey and EnableKey).'}),
  tag: Flags.string({description: 'Every customer-managed key with this tag (k=v); repeat for several (all must match).', multiple: true}),
}

/** Shared by `key disable` and `key enable`. */
export abstract class KeyStateCommand extends KmsctlCommand<typeof KeyStateCommand> {
  static override args = {
    keys: Args.string({description: 'Key IDs, key ARNs or aliases (several allowed); - reads them from stdin.'}),
  }

  static override flags = keyStateFlags
  static override strict = false

  protected abstract readonly action: StateAction
  private aliasesUnavailable?: string

  async run(): Promise<KeyStateResult> {
    const {action} = this
    const spec = STATE_ACTIONS[action]
    const flags = this.flags as unknown as {confirm?: string; 'dry-run'?: boolean; file?: string; rate?: string; tag?: string[]; yes?: boolean}
    const argv = await variadicArgs(this, this.ctor)
    const args = argv.filter((a) => a !== '-')
    const fromStdin = argv.includes('-')
    if (fromStdin && flags.file) throw usageError('Give the list either on stdin (-) or with --file, not both.', 'Try this: --file keys.txt')
    const rate = parseRate(flags.rate, 5)
    const tags = parsePairs(flags.tag, 'tag')
    const list = flags.file ? await readRefList(flags.file) : fromStdin ? await readRefList('-') : undefined
    const source = {listName: list?.name, listText: list?.text, refs: args, tags}
    validateSource(source)

    const kms = await this.aws.kms()
    const pacer = new Pacer({concurrency: 100, rates: {[spec.operation]: rate}})
    const progress = new Progress({enabled: !this.jsonEnabled() && Boolean(process.stderr.isTTY)})
    progress.update('Resolving keys…', true)
    // Who is calling (for the journal) is asked while the keys are resolved.
    const batch = newBatchId()
    const journalPromise = flags['dry-run']
      ? undefined
      : changeContext(this.aws, new Journal(), commandLine(this.id, this.argv), {batch, warn: (m) => this.warnLine(m)})
    journalPromise?.catch(() => {})
    const selection = await selectKeys(kms, source, {pacer})
    progress.done()
    if (selection.aliasesUnavailable) this.warnLine(`Aliases could not be read (${selection.aliasesUnavailable}); keys are shown by ID.`)
    this.aliasesUnavailable = selection.aliasesUnavailable
    const plan = planStateChange(action, selection)
    const planned = [...plan.items.map((i) => i.row), ...plan.unresolved]
    const toSend = plan.items.filter((i) => i.send)

    if (flags['dry-run']) {
      const result = this.result([...planned], false, true)
      if (!this.jsonEnabled()) {
        this.log(renderTable(planned, planColumns()))
        this.note(summaryLine(action, result.summary, true))
      }

      process.exitCode = result.exitCode
      return result
    }

    if (toSend.length === 0) {
      const result = this.result(planned, false)
      this.render(result)
      return result
    }

    if (!this.jsonEnabled()) {
      process.stderr.write(renderTable(planned, planColumns()) + '\n')
    }

    const one = toSend.length === 1 ? toSend[0].key : undefined
    await confirmAction({
      accepted: one ? [one.keyId, ...one.aliases, one.arn] : [String(toSend.length)],
      action: one ? `${spec.verb} key ${one.keyId}${one.aliases[0] ? ` (${one.aliases[0]})` : ''}` : `${spec.verb} ${toSend.length} keys`,
      confirm: flags.confirm,
      json: this.jsonEnabled(),
      yes: flags.yes,
    })

    const journal = await journalPromise
    const interrupt = interruptOnSigint(() => {
      progress.done()
      process.stderr.write('Interrupted: no new calls are sent; waiting for the calls in flight…\n')
    })
    const verbing = action === 'disable' ? 'Disabling' : 'Enabling'
    let rows: ReportRow[]
    try {
      rows = await runStateChange({
        action,
        items: plan.items,
        journal,
        kms,
        onProgress: (c) => progress.update(`${verbing} keys: ${c.done}/${c.total} (${c.changed} ${spec.target.toLowerCase()}, ${c.failed} failed)`),
        pacer,
        signal: interrupt.signal,
        // Enough keys in progress to keep up with the rate at a few hundred ms per call.
        workers: Math.min(200, Math.max(10, Math.ceil(rate * 2))),
      })
    } finally {
      interrupt.dispose()
      progress.done()
    }

    const result = this.result([...rows, ...plan.unresolved], interrupt.signal.aborted, false, batch)
    this.render(result)
    return result
  }

  private render(result: KeyStateResult): void {
    process.exitCode = result.exitCode
    if (this.jsonEnabled()) return
    this.log(renderTable(result.keys, reportColumns()))
    this.note(summaryLine(this.action, result.summary))
    if (result.batch) this.note(`Journal batch ${result.batch} (kmsctl undo ${result.batch} reverses the whole batch; kmsctl journal list --batch ${result.batch} lists its entries).`)
    if (result.interrupted) this.note('Interrupted (exit 130): the keys marked "not sent" were not changed.')
    else if (result.exitCode !== 0) this.note(`Exit ${result.exitCode}: ${result.summary.failed} key${result.summary.failed === 1 ? '' : 's'} failed.`)
  }

  private result(keys: ReportRow[], interrupted: boolean, dryRun = false, batch?: string): KeyStateResult {
    const t = tally(keys)
    return {action: this.action, aliasesUnavailable: this.aliasesUnavailable, batch, dryRun, exitCode: bulkExitCode(keys, interrupted), interrupted, keys, summary: t}
  }
}

export default class KeyDisable extends KeyStateCommand {
  static override description = `Disable keys: one, many, all keys with a tag, or a list from a file or stdin. Shows the resolved list and asks once for the batch.
Calls are paced at KMS's DisableKey quota (5/s by default, --rate to change) with retry on throttling. AWS-managed keys, keys already disabled and keys pending deletion are reported with the reason. Each change is journaled before it is sent (kmsctl undo reverses it). Ctrl-C stops sending, waits for the calls in flight and prints the report so far.
Exit codes: 0 all done, 1 every key failed, 3 some keys failed, 130 interrupted.`

  static override examples = [
    {command: '<%= config.bin %> <%= command.id %> alias/payments', description: 'Disable one key (type its ID or alias to confirm)'},
    {command: '<%= config.bin %> <%= command.id %> --tag team=payments --yes', description: 'Disable every customer-managed key tagged team=payments, without a prompt'},
    {command: '<%= config.bin %> <%= command.id %> --file compromised.txt --dry-run', description: 'Show what would be disabled, send nothing'},
    {command: 'cut -f1 keys.tsv | <%= config.bin %> <%= command.id %> - --yes --json', description: 'Keys from stdin, JSON report'},
  ]

  protected readonly action = 'disable' as const
}
