// The one base command: global flags, the AWS client factory, JSON output and the one catch().
import {Command, Errors, Flags, Interfaces} from '@oclif/core'
import createDebug from 'debug'

import {AwsClients} from '../lib/aws/clients.js'
import {checkRegion} from '../lib/aws/regions.js'
import {ExitCode, KmsctlError, fromAwsError} from '../lib/errors.js'
import {type ChangeContext, type ChangeOrigin, Journal, changeOrigin, commandLine} from '../lib/journal.js'
import {type Column, type TableOptions, Progress, chalk, configureColour, renderCsv, renderNdjson, renderTable, messageWidth, selectColumns, terminalWidth, wrapText} from '../lib/output.js'
import {splitList} from '../lib/parse.js'
import {closest} from '../lib/suggest.js'
import {type Counts, type Outcome, exitCodeOf} from './exit-code.js'

export type BaseFlags<T extends typeof Command> = Interfaces.InferredFlags<(typeof KmsctlCommand)['baseFlags'] & T['flags']>
export type BaseArgs<T extends typeof Command> = Interfaces.InferredArgs<T['args']>

const GLOBAL = 'GLOBAL'

export abstract class KmsctlCommand<T extends typeof Command> extends Command {
  static override baseFlags = {
    debug: Flags.boolean({
      description: 'Show stack traces and SDK details on errors (also DEBUG=kmsctl*).',
      helpGroup: GLOBAL,
    }),
    'endpoint-url': Flags.string({
      description: 'Send requests to this endpoint (also AWS_ENDPOINT_URL_KMS, AWS_ENDPOINT_URL_CLOUDTRAIL, AWS_ENDPOINT_URL).',
      helpGroup: GLOBAL,
    }),
    'max-attempts': Flags.integer({
      description: 'Attempts per AWS request, retries included (the SDK standard retry strategy; default 3).',
      env: 'AWS_MAX_ATTEMPTS',
      helpGroup: GLOBAL,
      min: 1,
    }),
    profile: Flags.string({
      description: 'AWS profile from the shared config files.',
      env: 'AWS_PROFILE',
      helpGroup: GLOBAL,
    }),
    region: Flags.string({
      description: 'AWS region (else AWS_REGION, AWS_DEFAULT_REGION, then the profile\'s region).',
      helpGroup: GLOBAL,
    }),
    sandbox: Flags.boolean({
      description: 'Use the embedded KMS + CloudTrail sandbox instead of AWS (env KMSCTL_SANDBOX=1).',
      env: 'KMSCTL_SANDBOX',
      helpGroup: GLOBAL,
    }),
    'sandbox-dir': Flags.string({
      description: 'State directory of the sandbox (env KMSCTL_SANDBOX_DIR; default ~/.kmsctl/sandbox).',
      env: 'KMSCTL_SANDBOX_DIR',
      helpGroup: GLOBAL,
    }),
  }

  static override enableJsonFlag = true

  protected args!: BaseArgs<T>
  protected flags!: BaseFlags<T>
  /** Every positional argument, in order (for commands with `strict = false` that take several). */
  protected argvList: string[] = []
  protected log$ = createDebug('kmsctl')
  private awsClients?: AwsClients

  /** The shared AWS client factory for this invocation (nothing is loaded until a client is asked for). */
  protected get aws(): AwsClients {
    this.awsClients ??= new AwsClients({
      endpointUrl: this.flags['endpoint-url'],
      maxAttempts: this.flags['max-attempts'],
      profile: this.flags.profile,
      region: this.flags.region,
      sandbox: this.flags.sandbox,
      sandboxDir: this.flags['sandbox-dir'],
      version: this.config.version,
    })
    return this.awsClients
  }

  override async catch(error: Error & {exitCode?: number; oclif?: {exit?: number}}): Promise<unknown> {
    // this.exit() and oclif's own exits pass through untouched.
    if (error instanceof Errors.ExitError) throw error
    const err = toKmsctlError(error, this.argv, this.knownFlags())
    process.exitCode = err.exitCode // errors carry their own code (usage 2, failed 1, ...)
    const showStack = this.debugEnabled()
    if (this.jsonEnabled()) {
      this.logJson({error: err.toJSON()})
    } else {
      const lines = [`${chalk.red('Error:')} ${err.message}`]
      if (err.remedy) lines.push(err.remedy.startsWith('Try this') ? err.remedy : `Try this: ${err.remedy}`)
      process.stderr.write(wrapText(lines.join('\n'), messageWidth()) + '\n')
    }

    if (showStack) {
      const cause = (err.cause as Error | undefined) ?? error
      process.stderr.write((cause?.stack ?? String(cause)) + '\n')
      if (cause !== error && error.stack) process.stderr.write(error.stack + '\n')
    }

    return undefined
  }

  override async init(): Promise<void> {
    await super.init()
    configureColour()
    // argv is parsed once, here; variadic commands read every positional argument from this.argvList.
    const {args, argv, flags} = await this.parse({
      args: this.ctor.args,
      baseFlags: (super.ctor as typeof KmsctlCommand).baseFlags,
      enableJsonFlag: this.ctor.enableJsonFlag,
      flags: this.ctor.flags,
      strict: this.ctor.strict,
    })
    this.flags = flags as BaseFlags<T>
    this.args = args as BaseArgs<T>
    this.argvList = argv.map(String)
    if (this.flags.debug) createDebug.enable('kmsctl*')
    // A mistyped region is refused before any request (it would end in a DNS error).
    if (this.flags.region) checkRegion(this.flags.region)
    else if (process.env.AWS_REGION) checkRegion(process.env.AWS_REGION, 'AWS_REGION')
  }

  /**
   * A result line on stdout. On a terminal, prose longer than the terminal is wrapped at word
   * boundaries (tables already fit; JSON and policy documents are left as they are); in a pipe,
   * lines are never changed.
   */
  override log(message = '', ...args: unknown[]): void {
    if (args.length > 0 || !process.stdout.isTTY || typeof message !== 'string') {
      super.log(message, ...args)
      return
    }

    const width = terminalWidth(process.stdout)
    const document = /^\s*[[{"}\]]/
    super.log(
      message
        .split('\n')
        .map((line) => (document.test(line) ? line : wrapText(line, width)))
        .join('\n'),
    )
  }

  /** One JSON document on stdout, uncoloured, so that pipes to jq always work. */
  override logJson(json: unknown): void {
    process.stdout.write(JSON.stringify(json, null, 2) + '\n')
  }

  /**
   * Where and by whom a change is made, for journal entries (changeOrigin(): an expired or missing
   * credential is an error before anything is changed; a refused GetCallerIdentity is a warning).
   */
  protected changeContext(): Promise<ChangeOrigin> {
    return changeOrigin(this.aws, commandLine(this.id, this.argv), {warn: (m) => this.warnLine(m)})
  }

  /** changeContext() with the journal the changes go to. */
  protected async journalContext(journal: Journal = new Journal()): Promise<ChangeContext> {
    return {...(await this.changeContext()), journal}
  }

  /**
   * Sets the process exit code from the command's result (see exitCodeOf) and returns it, so that
   * the result can carry it too (`--json` documents of bulk commands include `exitCode`).
   */
  protected exitWith(result: Counts | Outcome): number {
    const code = exitCodeOf(result)
    process.exitCode = code
    return code
  }

  /**
   * A list for stdout, as the table flags ask (tableFlags / columnFlags in src/cli/flags.ts): a
   * table fitted to the terminal, the --columns chosen or every column with -o wide, CSV with
   * --csv, or one JSON object a line with --ndjson (each row as --json has it). Commands without
   * those flags get the default table.
   */
  protected renderList<R>(rows: readonly R[], columns: readonly Column<R>[], width?: number): string {
    const f = this.flags as {columns?: string; csv?: boolean; ndjson?: boolean; output?: string}
    if (f.ndjson) return renderNdjson(rows)
    const names = f.columns ? splitList([f.columns]) : undefined
    if (f.csv) return renderCsv(rows, columns, {columns: names})
    return renderTable(rows, columns, {columns: names, wide: f.output === 'wide', width})
  }

  /** True under --csv or --ndjson: stdout holds only the rows, counts and summaries go to stderr or nowhere. */
  protected rowsOnly(): boolean {
    const f = this.flags as {csv?: boolean; ndjson?: boolean}
    return Boolean(f.csv || f.ndjson)
  }

  /** --columns and -o wide as renderTable() options, for lists rendered by a helper. */
  protected tableOptions(): TableOptions {
    const f = this.flags as {columns?: string; output?: string}
    return {columns: f.columns ? splitList([f.columns]) : undefined, wide: f.output === 'wide'}
  }

  /** Checks --columns against a table's columns before anything is sent (an unknown name is a usage error). */
  protected checkColumns<R>(columns: readonly Column<R>[]): void {
    const f = this.flags as {columns?: string}
    if (f.columns) selectColumns(columns, splitList([f.columns]))
  }

  /** A progress line on stderr: on a terminal, and never under --json. */
  protected progress(): Progress {
    return new Progress({enabled: !this.jsonEnabled() && Boolean(process.stderr.isTTY)})
  }

  /** A line on stderr (warnings, notes, progress summaries): never mixed with results. */
  protected note(message: string): void {
    if (!this.jsonEnabled()) process.stderr.write(wrapText(message, messageWidth()) + '\n')
  }

  /** A warning on stderr, also shown under --json (stderr is not the JSON document). */
  protected warnLine(message: string): void {
    process.stderr.write(wrapText(`${chalk.yellow('Warning:')} ${message}`, messageWidth()) + '\n')
  }

  /** Every flag name this command accepts (for "did you mean"). */
  private knownFlags(): string[] {
    const ctor = this.ctor as typeof KmsctlCommand
    return Object.keys({...KmsctlCommand.baseFlags, ...ctor.flags, json: true})
  }

  private debugEnabled(): boolean {
    return Boolean(this.flags?.debug) || createDebug.enabled('kmsctl') || /(^|,)\s*kmsctl/.test(process.env.DEBUG ?? '')
  }
}

/** Normalises anything thrown inside a command to a KmsctlError (oclif parse errors become usage errors). */
export function toKmsctlError(error: unknown, argv: readonly string[] = process.argv, flags: readonly string[] = []): KmsctlError {
  if (error instanceof KmsctlError) return error
  const e = error as Error & {exitCode?: number; oclif?: {exit?: number}; code?: string}
  // oclif's flag and argument parsing errors (unknown flag, missing argument, invalid option).
  if (e?.constructor?.name?.endsWith('Error') && (e as {parse?: unknown}).parse !== undefined) {
    const relation = relationshipMessage(e.message, argv)
    if (relation) return new KmsctlError('USAGE', relation.message, {exitCode: ExitCode.USAGE, remedy: relation.remedy})
    const unknown = /Nonexistent flags?: (\S+)/.exec(e.message)
    if (unknown) {
      const typed = unknown[1].replace(/^-+/, '').replace(/=.*$/, '').replace(/,$/, '')
      const guess = closest(typed, flags)
      return new KmsctlError('USAGE', `Unknown flag --${typed}.${guess ? ` Did you mean --${guess}?` : ''}`, {
        exitCode: ExitCode.USAGE,
        remedy: guess ? `Try this: --${guess}` : 'See --help for the accepted flags.',
      })
    }
    return new KmsctlError('USAGE', firstLine(e.message), {exitCode: ExitCode.USAGE, remedy: 'See --help for the accepted flags and arguments.'})
  }

  if (error instanceof Errors.CLIError) {
    const exit = e.oclif?.exit ?? ExitCode.FAILED
    return new KmsctlError(exit === ExitCode.USAGE ? 'USAGE' : 'FAILED', firstLine(e.message), {exitCode: exit})
  }

  const aws = fromAwsError(error)
  return aws
}

function firstLine(message: string): string {
  // oclif's parse messages can span lines ("The following error occurred:\n  --b cannot also be
  // provided when using --a", "Missing 1 required arg:\nkey") and end with a help trailer: fold
  // them into one line without the trailer.
  const lines = message
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !/^See more help with/.test(l))
  if (lines.length === 0) return message
  if (/^The following errors? occurred:$/.test(lines[0])) lines.shift()
  return lines.join(' ').replaceAll(/:\s+/g, ': ')
}

/**
 * The flag relationships declared on the flags (exclusive, dependsOn, exactlyOne) fail in oclif's
 * parser with one reason per pair, both ways round ("--a=true cannot also be provided when using
 * --b", and the same for --b): said once, in one line, with the fix.
 */
export function relationshipMessage(message: string, argv: readonly string[] = process.argv): {message: string; remedy: string} | undefined {
  const exclusive = /--([\w-]+)(?:=\S*)? cannot also be provided when using --([\w-]+)/.exec(message)
  if (exclusive) {
    // Named in the order the user typed them.
    const at = (f: string) => argv.findIndex((arg) => arg === `--${f}` || arg.startsWith(`--${f}=`))
    const [a, b] = at(exclusive[1]) <= at(exclusive[2]) ? [exclusive[1], exclusive[2]] : [exclusive[2], exclusive[1]]
    return {message: `--${a} and --${b} exclude each other.`, remedy: `Try this: one of --${a} or --${b}.`}
  }

  const needs = /(?:All|One) of the following must be provided when using --([\w-]+): (.+)/.exec(message)
  if (needs) {
    const others = needs[2].split(/,\s*/).map((f) => f.trim()).filter(Boolean)
    const all = message.includes('All of the following')
    return {
      message: `--${needs[1]} is only used with ${others.join(all ? ' and ' : ' or ')}.`,
      remedy: `Try this: ${others[0]} --${needs[1]} ...`,
    }
  }

  const one = /Exactly one of the following must be provided: (.+)/.exec(message)
  if (one) {
    const flags = one[1].split(/,\s*/).map((f) => f.trim()).filter(Boolean)
    return {message: `Give exactly one of ${flags.join(', ')}.`, remedy: `Try this: ${flags[0]} ...`}
  }

  return undefined
}
