import {Args, Flags} from '@oclif/core'

import {existsSync} from 'node:fs'

import {usageError} from '../../lib/errors.js'
import {Journal} from '../../lib/journal.js'
import type {PolicyWriteResult} from '../../lib/policy/put.js'
import {readPolicyFile} from '../../lib/policy/source.js'
import {PolicyWriteCommand, policyWriteFlags} from '../../cli/policy-write-command.js'

export type PolicyRestoreResult = PolicyWriteResult

export default class PolicyRestore extends PolicyWriteCommand {
  static override args = {
    key: Args.string({description: 'Key ID, key ARN, alias name (alias/x) or alias ARN.', required: true}),
  }

  static override summary = 'Put a saved policy back, byte for byte, from a backup file or journal entry.'

  static override description = `Put a saved policy back, byte for byte: a backup file written by "policy put" (its path is printed after every put), or a journal entry ID of a policy put or restore.

It goes through the same steps as "policy put": lint, diff, lockout check, a backup of the policy it overwrites, confirmation, a re-read to catch concurrent changes, and a verified read-back.`

  static override examples = [
    '<%= config.bin %> <%= command.id %> alias/payments --from ~/.kmsctl/backups/1234abcd-12ab-34cd-56ef-1234567890ab-20261128T101500Z.json',
    '<%= config.bin %> <%= command.id %> alias/payments --from j-20261128T101500Z-a1b2c3 --yes',
    '<%= config.bin %> <%= command.id %> alias/payments --from backup.json --dry-run',
  ]

  static override flags = {
    ...policyWriteFlags,
    from: Flags.string({description: 'The backup file, or the journal entry ID of the put that overwrote the policy.', required: true}),
  }

  async run(): Promise<PolicyRestoreResult> {
    const {args, flags} = this
    let text: string
    if (flags.from !== '-' && !existsSync(flags.from) && /^j-/.test(flags.from)) {
      const entry = new Journal().get(flags.from)
      const before = entry?.before as {policy?: unknown} | undefined
      if (!entry || !entry.action.startsWith('policy.') || typeof before?.policy !== 'string') {
        throw usageError(`--from ${flags.from}: no policy put or restore with that journal entry ID.`, 'Try this: kmsctl journal list, or give the backup file printed by policy put.')
      }

      text = before.policy
    } else {
      text = await readPolicyFile(flags.from, 'from')
    }

    return this.writePolicy('restore', args.key, text, flags.from)
  }
}
