import {KmsctlCommand} from '../../cli/base-command.js'
import {defaultSandboxDir} from '../../lib/home.js'
import {renderFields} from '../../lib/output.js'
import {type SandboxStatus, sandboxStatus} from '../../sandbox/admin.js'

export type StatusResult = SandboxStatus

export default class SandboxStatusCommand extends KmsctlCommand<typeof SandboxStatusCommand> {
  static override description = `Show what the sandbox holds: keys by state, aliases, grants, CloudTrail events recorded, and its directory.

The sandbox is not for protecting real data: its key material is stored unencrypted.`

  static override examples = ['<%= config.bin %> sandbox status', '<%= config.bin %> sandbox status --sandbox-dir ./sbx --json']

  async run(): Promise<StatusResult> {
    const status = sandboxStatus(this.flags['sandbox-dir'] ?? defaultSandboxDir())
    if (!this.jsonEnabled()) {
      const byState = Object.entries(status.keysByState)
        .sort()
        .map(([s, n]) => `${s} ${n}`)
        .join(', ')
      process.stdout.write(
        renderFields([
          ['Directory', status.dir + (status.exists ? '' : ' (empty: nothing created yet)')],
          ['Keys', `${status.keys}${byState ? ` (${byState})` : ''}`],
          ['Aliases', String(status.aliases)],
          ['Grants', String(status.grants)],
          ['Events recorded', String(status.eventsRecorded)],
        ]) + '\n',
      )
      this.note(status.notice)
    }

    return status
  }
}
