import {KmsctlCommand} from '../../../cli/base-command.js'
import {defaultSandboxDir} from '../../../lib/home.js'
import {renderFields} from '../../../lib/output.js'
import {clockStatus} from '../../../sandbox/admin.js'
import type {ClockStatus} from '../../../sandbox/clock.js'

export type ClockShowResult = ClockStatus

export function formatOffset(ms: number): string {
  if (ms === 0) return 'none (real time)'
  const sign = ms < 0 ? '-' : '+'
  let rest = Math.abs(ms)
  const days = Math.floor(rest / 86_400_000)
  rest -= days * 86_400_000
  const hours = Math.floor(rest / 3_600_000)
  rest -= hours * 3_600_000
  const minutes = Math.floor(rest / 60_000)
  rest -= minutes * 60_000
  const seconds = Math.round(rest / 1000)
  const parts = [days && `${days}d`, hours && `${hours}h`, minutes && `${minutes}m`, seconds && `${seconds}s`].filter(Boolean)
  return `${sign}${parts.length > 0 ? parts.join(' ') : `${Math.abs(ms)}ms`}`
}

export default class SandboxClockShow extends KmsctlCommand<typeof SandboxClockShow> {
  static override description = `Show the sandbox's time and how far it is from real time.

The sandbox's time drives deletion windows, automatic rotation and CloudTrail event times. It is real time plus an offset kept in the sandbox directory (\`clock advance\`, \`clock set\`) plus KMSCTL_SANDBOX_NOW_OFFSET_MS (milliseconds) from the environment.`

  static override examples = ['<%= config.bin %> sandbox clock show', '<%= config.bin %> sandbox clock show --json']

  async run(): Promise<ClockShowResult> {
    const status = clockStatus(this.flags['sandbox-dir'] ?? defaultSandboxDir())
    if (!this.jsonEnabled()) {
      process.stdout.write(
        renderFields([
          ['Sandbox time', status.now],
          ['Real time', status.realNow],
          ['Offset', formatOffset(status.offsetMs) + (status.envOffsetMs ? ` (of which ${formatOffset(status.envOffsetMs)} from KMSCTL_SANDBOX_NOW_OFFSET_MS)` : '')],
        ]) + '\n',
      )
    }

    return status
  }
}
