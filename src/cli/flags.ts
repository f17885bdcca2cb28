// Flag definitions several commands share.
import {Flags} from '@oclif/core'

import {usageError} from '../lib/errors.js'

/** Flags shared by mutating commands. */
export const mutationFlags = {
  'dry-run': Flags.boolean({description: 'Show what would be sent to KMS, and send nothing.'}),
}

/** Flags shared by destructive commands that ask for confirmation. */
export const confirmFlags = {
  confirm: Flags.string({description: 'Confirm without a prompt by giving the key ID or alias (must match exactly).'}),
  yes: Flags.boolean({char: 'y', description: 'Skip the confirmation prompt (said on stderr).'}),
}

/**
 * Flags of the commands that act on a list of keys (key disable/enable, incident contain): the
 * keys come as arguments, from --file, from stdin (-) or by --tag, and one confirmation covers them.
 */
export const keyListFlags = {
  ...mutationFlags,
  ...confirmFlags,
  confirm: Flags.string({description: 'Confirm without a prompt: the key ID or alias of a single key, or the text asked for several (e.g. "disable 4 keys").'}),
  file: Flags.string({char: 'f', description: 'Read key references from this file, one a line (# comments); - reads stdin.'}),
  'skip-missing': Flags.boolean({description: 'Go on when a reference names no key (it is reported as failed); without it such a plan is refused.'}),
  tag: Flags.string({description: 'Every customer-managed key with this tag (k=v); repeat for several (all must match).', multiple: true}),
}

/** Parses --rate: requests per second, more than 0 (at most 10,000). */
export function parseRate(text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback
  const n = Number(text)
  if (!Number.isFinite(n) || n <= 0 || n > 10_000) throw usageError(`--rate "${text}" is not a rate in requests per second.`, 'Try this: --rate 5 (KMS\'s default quota for DisableKey and EnableKey)')
  return n
}

const OUTPUT = 'OUTPUT'

/** --columns and -o wide, for every command that prints a table. */
export const columnFlags = {
  columns: Flags.string({
    description: 'Show these columns, in this order (comma-separated names, as in the --csv header).',
    helpGroup: OUTPUT,
  }),
  output: Flags.string({
    char: 'o',
    description: 'wide: every column, including the ones left out by default (still fitted to the terminal).',
    helpGroup: OUTPUT,
    options: ['wide'],
  }),
}

/** columnFlags, --csv and --ndjson, for the list commands. */
export const tableFlags = {
  ...columnFlags,
  csv: Flags.boolean({description: 'CSV with a header line: every column (or --columns), values in full.', exclusive: ['json', 'ndjson'], helpGroup: OUTPUT}),
  ndjson: Flags.boolean({description: 'One JSON object a line: the rows of --json, each complete, printed as a stream for jq or a log pipeline.', exclusive: ['json', 'csv', 'columns', 'output'], helpGroup: OUTPUT}),
}
