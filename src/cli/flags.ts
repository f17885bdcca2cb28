// Flag definitions several commands share.
import {Flags} from '@oclif/core'

/** Flags shared by mutating commands. */
export const mutationFlags = {
  'dry-run': Flags.boolean({description: 'Show what would be sent to KMS, and send nothing.'}),
}

/** Flags shared by destructive commands that ask for confirmation. */
export const confirmFlags = {
  confirm: Flags.string({description: 'Confirm without a prompt by giving the key ID or alias (must match exactly).'}),
  yes: Flags.boolean({char: 'y', description: 'Skip the confirmation prompt (said on stderr).'}),
}
