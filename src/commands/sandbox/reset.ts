import {Flags} from '@oclif/core'

import {KmsctlCommand} from '../../lib/base-command.js'
import {KmsctlError} from '../../lib/errors.js'
import {defaultSandboxDir} from '../../lib/home.js'
import {type ResetResult, resetSandbox, sandboxStatus} from '../../sandbox/admin.js'

export interface SandboxResetResult extends ResetResult {
  dryRun: boolean
}

export default class SandboxReset extends KmsctlCommand<typeof SandboxReset> {
  static override description = `Delete every key, alias, grant and CloudTrail event of the sandbox.

Asks for confirmation on a terminal; --yes skips it. Only the sandbox directory is touched, never AWS.`

  static override examples = ['<%= config.bin %> sandbox reset', '<%= config.bin %> sandbox reset --yes', '<%= config.bin %> sandbox reset --dry-run']

  static override flags = {
    'dry-run': Flags.boolean({description: 'Show what would be deleted, and delete nothing.'}),
    yes: Flags.boolean({char: 'y', description: 'Do not ask for confirmation.'}),
  }

  async run(): Promise<SandboxResetResult> {
    const dir = this.flags['sandbox-dir'] ?? defaultSandboxDir()
    const before = sandboxStatus(dir)
    const removed = {aliases: before.aliases, events: before.eventsRecorded, grants: before.grants, keys: before.keys}
    const summary = `${removed.keys} keys, ${removed.aliases} aliases, ${removed.grants} grants and ${removed.events} CloudTrail events in ${dir}`
    if (this.flags['dry-run']) {
      this.note(`Would delete ${summary}.`)
      return {dir, dryRun: true, removed}
    }

    if (this.flags.yes) {
      this.note('--yes given: resetting without confirmation.')
    } else {
      if (!process.stdin.isTTY || this.jsonEnabled()) {
        throw new KmsctlError('CONFIRMATION_REQUIRED', `Resetting the sandbox deletes ${summary}.`, {remedy: 'Try this: pass --yes to confirm.'})
      }

      const {confirm} = await import('@inquirer/prompts')
      const ok = await confirm({default: false, message: `Delete ${summary}?`}, {output: process.stderr})
      if (!ok) throw new KmsctlError('DECLINED', 'Nothing was deleted.')
    }

    const result = await resetSandbox(dir)
    if (!this.jsonEnabled()) process.stdout.write(`Sandbox reset: deleted ${summary}.\n`)
    return {...result, dryRun: false}
  }
}
