import {Flags} from '@oclif/core'

import {KmsctlCommand} from '../../cli/base-command.js'
import {confirmAction} from '../../lib/confirm.js'
import {defaultSandboxDir} from '../../lib/home.js'
import {type ResetResult, resetSandbox, sandboxStatus} from '../../sandbox/admin.js'

export interface SandboxResetResult extends ResetResult {
  dryRun: boolean
}

/** What the operator types (or passes to --confirm) to reset the sandbox. */
export const RESET_WORD = 'reset'

export default class SandboxReset extends KmsctlCommand<typeof SandboxReset> {
  static override description = `Delete every key, alias, grant and CloudTrail event of the sandbox.

On a terminal you type "${RESET_WORD}" to confirm; --confirm ${RESET_WORD} or --yes confirm without a prompt (needed without a terminal and under --json). Only the sandbox directory is touched, never AWS.`

  static override examples = [
    '<%= config.bin %> sandbox reset',
    '<%= config.bin %> sandbox reset --yes',
    '<%= config.bin %> sandbox reset --confirm reset --json',
    '<%= config.bin %> sandbox reset --dry-run',
  ]

  static override flags = {
    confirm: Flags.string({description: `Confirm without a prompt by passing "${RESET_WORD}".`}),
    'dry-run': Flags.boolean({description: 'Show what would be deleted, and delete nothing.'}),
    yes: Flags.boolean({char: 'y', description: 'Do not ask for confirmation.'}),
  }

  async run(): Promise<SandboxResetResult> {
    const dir = this.flags['sandbox-dir'] ?? defaultSandboxDir()
    const before = sandboxStatus(dir)
    const removed = {aliases: before.aliases, events: before.eventsRecorded, grants: before.grants, keys: before.keys}
    const n = (count: number, word: string) => `${count} ${word}${count === 1 ? '' : word.endsWith('s') ? 'es' : 's'}`
    const summary = `${n(removed.keys, 'key')}, ${n(removed.aliases, 'alias')}, ${n(removed.grants, 'grant')} and ${n(removed.events, 'CloudTrail event')} in ${dir}`
    if (this.flags['dry-run']) {
      this.note(`Would delete ${summary}.`)
      return {dir, dryRun: true, removed}
    }

    await confirmAction({
      accepted: [RESET_WORD],
      action: 'reset the sandbox',
      confirm: this.flags.confirm,
      json: this.jsonEnabled(),
      summary: `This deletes ${summary}.`,
      yes: this.flags.yes,
    })
    const result = await resetSandbox(dir)
    if (!this.jsonEnabled()) process.stdout.write(`Sandbox reset: deleted ${summary}.\n`)
    return {...result, dryRun: false}
  }
}
