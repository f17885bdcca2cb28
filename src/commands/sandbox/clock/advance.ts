import {Args} from '@oclif/core'

import {KmsctlCommand} from '../../../cli/base-command.js'
import {mutationFlags} from '../../../cli/flags.js'
import {parseDuration} from '../../../lib/parse.js'
import {defaultSandboxDir} from '../../../lib/home.js'
import {type ClockChange, clockChangeLines, shiftClock} from '../../../sandbox/admin.js'

export type ClockAdvanceResult = ClockChange

export default class SandboxClockAdvance extends KmsctlCommand<typeof SandboxClockAdvance> {
  static override args = {
    duration: Args.string({description: 'How far to move time forward: 90s, 2h, 8d, 1w.', required: true}),
  }

  static override description = `Move the sandbox's time forward.

What falls due happens at once: keys whose deletion waiting period ends are deleted (then NotFoundException), automatic rotations that come due are made, and later CloudTrail events carry the new time. A running \`sandbox serve\` follows immediately.`

  static override examples = ['<%= config.bin %> sandbox clock advance 8d', '<%= config.bin %> sandbox clock advance 366d --dry-run', '<%= config.bin %> sandbox clock advance 2h --json']

  static override flags = {...mutationFlags}

  async run(): Promise<ClockAdvanceResult> {
    const ms = parseDuration(this.args.duration, 'duration')
    const change = await shiftClock(this.flags['sandbox-dir'] ?? defaultSandboxDir(), ms, {dryRun: this.flags['dry-run']})
    if (!this.jsonEnabled()) process.stdout.write(clockChangeLines(change).join('\n') + '\n')
    return change
  }
}
