import {Args} from '@oclif/core'

import {KmsctlCommand} from '../../../cli/base-command.js'
import {usageError} from '../../../lib/errors.js'
import {mutationFlags} from '../../../cli/flags.js'
import {defaultSandboxDir} from '../../../lib/home.js'
import {parseIsoTime} from '../../../lib/time.js'
import {type ClockChange, clockChangeLines, setClock} from '../../../sandbox/admin.js'

export type ClockSetResult = ClockChange

/** An ISO 8601 date or date-time (UTC when no zone is given), or "now" for real time. */
export function parseClockTime(text: string, nowMs = Date.now()): Date {
  const t = text.trim()
  if (t === 'now') return new Date(nowMs)
  const d = parseIsoTime(t)
  if (d) return d

  throw usageError(`"${text}" is not a time.`, 'Try this: kmsctl sandbox clock set 2027-01-01T00:00:00Z (or "now" for real time)')
}

export default class SandboxClockSet extends KmsctlCommand<typeof SandboxClockSet> {
  static override args = {
    time: Args.string({description: 'The sandbox time to set: an ISO 8601 date or date-time (UTC by default), or "now".', required: true}),
  }

  static override description = `Set the sandbox's time.

Moving forward applies what falls due (deletions, automatic rotations), as \`clock advance\` does.
Moving back is allowed (e.g. "now" returns to real time) but undoes nothing: deleted keys stay deleted.`

  static override examples = ['<%= config.bin %> sandbox clock set 2027-01-01T00:00:00Z', '<%= config.bin %> sandbox clock set now']

  static override flags = {...mutationFlags}

  async run(): Promise<ClockSetResult> {
    const target = parseClockTime(this.args.time)
    const change = await setClock(this.flags['sandbox-dir'] ?? defaultSandboxDir(), target, {dryRun: this.flags['dry-run']})
    if (!this.jsonEnabled()) {
      process.stdout.write(clockChangeLines(change).join('\n') + '\n')
      if (Date.parse(change.after.now) < Date.parse(change.before.now)) this.note('The clock moved back: keys already deleted stay deleted.')
    }

    return change
  }
}
