// Confirmation of destructive actions: the operator types the key ID or alias of one key, or a
// text that names the change for several ("disable 4 keys"), not "y"; or passes --confirm with the
// same text; --yes skips the prompt where the action allows it. A wrong answer is said to be wrong
// and asked again (three tries); Ctrl-C at the prompt exits 130.
// Never a prompt without a TTY or under --json: that is an error naming the flag to pass.
import {KmsctlError, usageError} from './errors.js'
import {chalk} from './output.js'

export interface ConfirmOptions {
  /** Texts the operator may type: key ID, alias name(s), key ARN. The first is shown in the prompt. */
  accepted: readonly string[]
  /** What will happen, shown above the prompt (may be several lines). */
  summary?: string
  /** The action in a few words, e.g. "disable 3 keys". */
  action: string
  /** --confirm value. */
  confirm?: string
  /** --yes given. */
  yes?: boolean
  /** false where --yes alone is not enough (key deletion). Default true. */
  allowYes?: boolean
  /** --json in effect: never prompt. */
  json?: boolean
  /** Injected for tests; defaults to whether stdin and stderr are terminals. */
  interactive?: boolean
  /** Wrong answers allowed before giving up (default 3). */
  attempts?: number
  /** Injected for tests: reads one line from the operator. */
  ask?: (message: string, check?: (answer: string) => boolean) => Promise<string>
  /** Where notes go (default stderr). */
  write?: (line: string) => void
}

export type ConfirmedBy = 'confirm-flag' | 'prompt' | 'yes'

export async function confirmAction(options: ConfirmOptions): Promise<ConfirmedBy> {
  const write = options.write ?? ((line: string) => process.stderr.write(line + '\n'))
  const accepted = options.accepted.filter(Boolean)
  const allowYes = options.allowYes ?? true

  if (options.confirm !== undefined) {
    if (accepted.includes(options.confirm)) return 'confirm-flag'
    throw usageError(`--confirm "${options.confirm}" does not match; expected ${describeAccepted(accepted)}.`, `Try this: --confirm ${shellWord(accepted[0])}`)
  }

  if (options.yes) {
    if (!allowYes) {
      throw usageError(`--yes is not enough to ${options.action}.`, `Try this: --confirm ${shellWord(accepted[0])} (type the key ID or alias)`)
    }

    write(`Confirmed with --yes: ${options.action}.`)
    return 'yes'
  }

  const interactive = options.interactive ?? (Boolean(process.stdin.isTTY) && Boolean(process.stderr.isTTY))
  if (options.json || !interactive) {
    const how = allowYes ? `--confirm ${shellWord(accepted[0])} or --yes` : `--confirm ${shellWord(accepted[0])}`
    throw new KmsctlError('CONFIRMATION_REQUIRED', `Confirmation required to ${options.action}, and there is no terminal to ask on.`, {
      remedy: `Try this: ${how}`,
    })
  }

  if (options.summary) write(options.summary)
  const ask = options.ask ?? defaultAsk
  const attempts = options.attempts ?? 3
  const prompt = `To ${options.action}, type ${chalk.bold(accepted[0])}${accepted.length > 1 ? ' (or its alias)' : ''}:`
  let answer = ''
  for (let attempt = 1; attempt <= attempts; attempt++) {
    // eslint-disable-next-line no-await-in-loop
    answer = (await ask(prompt, (typed) => accepted.includes(typed))).trim()
    if (accepted.includes(answer)) return 'prompt'
    // An empty answer (Enter alone) is a no.
    if (!answer) break
    const left = attempts - attempt
    write(
      `${chalk.red('✖')} "${answer}" does not match.${left > 0 ? ` Type ${accepted[0]} exactly (${left} more ${left === 1 ? 'try' : 'tries'}), or press Enter to stop.` : ''}`,
    )
  }

  throw new KmsctlError('DECLINED', answer ? `"${answer}" does not match; nothing was changed.` : 'Not confirmed; nothing was changed.')
}

/** A value as typed in a shell: quoted when it holds spaces ("disable 4 keys"). */
function shellWord(text: string): string {
  return /^[\w./:@=+,-]+$/.test(text) ? text : `"${text}"`
}

function describeAccepted(accepted: readonly string[]): string {
  return accepted.map((a) => `"${a}"`).join(' or ')
}

/**
 * One line typed on the terminal with @inquirer/prompts' input (loaded only when prompting), the
 * prompt on stderr. The answer is shown as typed, in red when it does not match (`check`), and the
 * prompt keeps its question mark once answered: no tick that would read as accepted. Ctrl-C is an
 * interrupt (exit 130), a closed input a no; either way nothing is changed.
 */
async function defaultAsk(message: string, check?: (answer: string) => boolean): Promise<string> {
  const {input} = await import('@inquirer/prompts')
  const mark = chalk.bold('?')
  try {
    return await input(
      {
        message,
        theme: {prefix: {done: mark, idle: mark}, style: {message: (text: string) => text}},
        transformer: (value: string, {isFinal}: {isFinal: boolean}) => (isFinal && check && value.trim() && !check(value.trim()) ? chalk.red(value) : value),
      },
      {output: process.stderr},
    )
  } catch (error) {
    const name = (error as Error)?.name
    if (name === 'ExitPromptError' && /SIGINT/.test((error as Error).message)) {
      throw new KmsctlError('INTERRUPTED', 'Interrupted at the prompt; nothing was changed.')
    }

    if (name === 'ExitPromptError' || name === 'AbortPromptError') throw new KmsctlError('DECLINED', 'Not confirmed; nothing was changed.')
    throw error
  }
}
