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
  tag: Flags.string({description: 'Every customer-managed key with this tag (k=v); repeat for several (all must match).', multiple: true}),
}

/** Parses --rate: requests per second, more than 0 (at most 10,000). */
export function parseRate(text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback
  const n = Number(text)
  if (!Number.isFinite(n) || n <= 0 || n > 10_000) throw usageError(`--rate "${text}" is not a rate in requests per second.`, 'Try this: --rate 5 (KMS\'s default quota for DisableKey and EnableKey)')
  return n
}
