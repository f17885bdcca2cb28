import {Args, Flags} from '@oclif/core'

import {KmsctlCommand} from '../../cli/base-command.js'
import {columnFlags} from '../../cli/flags.js'
import {chalk, formatDate} from '../../lib/output.js'
import {sourceFlags} from '../../cli/trail-flags.js'
import {queryOptions, trailProgress} from '../../cli/trail-flags.js'
import {type CallerRow, summariseWho} from '../../lib/trail/group.js'
import type {TrailEvent} from '../../lib/trail/normalise.js'
import {runTrailQuery} from '../../lib/trail/query.js'
import {buildFilterSpec} from '../../lib/trail/spec.js'
import {interruptOnSigint} from '../../lib/interrupt.js'
import {roleFlags, roleFrom} from '../../cli/org-flags.js'
import {usageError} from '../../lib/errors.js'
import {clientsForKeyRefs} from '../../lib/org/credentials.js'

export interface TrailWhoResult {
  /** Successful calls on the key, by principal and source. */
  callers: CallerRow[]
  /** Failed calls, by principal and source, with their error codes. */
  failures: CallerRow[]
  key: string
  /** The key's ID and ARN, when resolved. */
  keyArn?: string
  since: string
  source: string
  total: number
  until?: string
}

export default class TrailWho extends KmsctlCommand<typeof TrailWho> {
  static override args = {
    key: Args.string({description: 'Key ID, key ARN, alias name or alias ARN.', required: true}),
    path: Args.string({description: 'With --source files: log files or directories holding them.'}),
  }

  static override description = `Who used a key: its calls of the last 7 days (--since) by principal and source address, with the operations they called, first and last seen, and the failed calls apart.

The incident responder's first question about a key, in one command. It reads the same sources as \`kmsctl trail query\` (LookupEvents by default, --source files for log files copied from S3, --source s3 for the trail's bucket, --source athena for its Athena table, --source lake).`

  static override examples = [
    {command: '<%= config.bin %> <%= command.id %> alias/payments', description: 'Who used the key in the last 7 days'},
    {command: '<%= config.bin %> <%= command.id %> alias/payments --since 30d --all-regions', description: 'The last 30 days, every region'},
    {command: '<%= config.bin %> <%= command.id %> arn:aws:kms:eu-west-1:444455556666:alias/payments --role-name OrganizationAccountAccessRole', description: 'A key of another account: its CloudTrail read through the role assumed there'},
    {command: '<%= config.bin %> <%= command.id %> 1234abcd-12ab-34cd-56ef-1234567890ab --source files ./AWSLogs --json', description: 'From log files, as JSON'},
    {command: '<%= config.bin %> <%= command.id %> 1234abcd-12ab-34cd-56ef-1234567890ab --source s3 s3://my-org-trail --since 30d', description: 'From an organization trail\'s bucket'},
    {command: '<%= config.bin %> <%= command.id %> 1234abcd-12ab-34cd-56ef-1234567890ab --source athena --table security.cloudtrail --since 90d', description: 'Through Athena'},
  ]

  static override flags = {
    ...columnFlags,
    ...sourceFlags,
    ...roleFlags,
    since: Flags.string({default: '7d', description: 'Start of the window: 2h, 7d, or ISO 8601.'}),
    until: Flags.string({description: 'End of the window: 30m, 1d, or ISO 8601.'}),
  }

  static override strict = false

  static override usage = ['<%= command.id %> KEY [--since 7d] [--until TIME] [--json]', '<%= command.id %> KEY --source files PATH... [--since 7d]', '<%= command.id %> KEY --source s3 s3://BUCKET[/PREFIX] [--accounts A,B]', '<%= command.id %> KEY --source athena --table DATABASE.TABLE', '<%= command.id %> KEY --source lake --event-data-store ARN']

  async run(): Promise<TrailWhoResult> {
    const argv = this.argvList
    const f = this.flags
    const paths = (argv as string[]).slice(1)
    const spec = buildFilterSpec({key: [this.args.key], since: f.since, until: f.until})
    // A key ARN of another account: its calls are in that account's CloudTrail, read through the role.
    const role = roleFrom(f)
    if (role && (f.source ?? 'api') !== 'api') throw usageError(`--role-name, --role-arn-template and --external-id are for --source api (got ${f.source}).`, 'Try this: drop the role flags; the log sources hold every account\'s events.')
    const place = role ? await clientsForKeyRefs(this.aws, [this.args.key], role) : {clients: this.aws, role: undefined}
    if (place.role) process.stderr.write(`Through role ${place.role}.\n`)
    const options = await queryOptions(f, paths, spec, place.clients, false)
    const events: TrailEvent[] = []
    const progress = this.progress()
    const abort = interruptOnSigint()
    let summary
    try {
      summary = await runTrailQuery({
        ...options,
        onMatches: (m) => events.push(...m.map((x) => x.event)),
        onProgress: trailProgress(progress, spec),
        signal: abort.signal,
      })
    } finally {
      abort.dispose()
      progress.done()
    }

    for (const c of summary.corrupt ?? []) this.warnLine(`Skipped ${c.file}: ${c.reason}`)
    for (const r of summary.failures ?? []) this.warnLine(`Could not read ${r.region}: ${r.message}`)
    if (summary.interrupted) {
      this.exitWith('interrupted')
      process.stderr.write(`Interrupted: showing the ${summary.matched} calls found so far.\n`)
    } else if ((summary.corrupt?.length ?? 0) > 0 || (summary.failures?.length ?? 0) > 0) {
      this.exitWith('partial')
    }

    const {callers, failures} = summariseWho(events)
    const key = summary.keys?.[0]
    const result: TrailWhoResult = {
      callers,
      failures,
      key: this.args.key,
      keyArn: key?.arn,
      since: spec.since!,
      source: summary.source,
      total: events.length,
      until: spec.until,
    }
    if (!this.jsonEnabled()) this.render(result)
    return result
  }

  private render(r: TrailWhoResult): void {
    const window = `since ${formatDate(r.since)}${r.until ? ` until ${formatDate(r.until)}` : ''}`
    if (r.total === 0) {
      this.log(`No calls on ${r.key} ${window}.`)
      return
    }

    this.log(chalk.bold(`Calls on ${r.key}${r.keyArn && r.keyArn !== r.key ? ` (${r.keyArn})` : ''} ${window}: ${r.total}`))
    if (r.callers.length > 0) {
      this.log(
        this.renderList(r.callers, [
          {cut: 'start', get: (c) => c.who, header: 'Who', kind: 'name', minWidth: 16},
          {get: (c) => c.from, header: 'From', kind: 'text', minWidth: 9, priority: 3},
          {get: (c) => String(c.count), header: 'Calls', kind: 'fixed'},
          {get: (c) => c.events.join(', '), header: 'Operations', kind: 'text', minWidth: 12},
          {get: (c) => formatDate(c.first), header: 'First seen', kind: 'fixed', priority: 4},
          {get: (c) => formatDate(c.last), header: 'Last seen', kind: 'fixed', priority: 2},
        ]),
      )
    }

    if (r.failures.length > 0) {
      this.log(chalk.bold(`\nFailed calls: ${r.failures.reduce((n, c) => n + c.count, 0)}`))
      this.log(
        this.renderList(r.failures, [
          {cut: 'start', get: (c) => c.who, header: 'Who', kind: 'name', minWidth: 16},
          {get: (c) => c.from, header: 'From', kind: 'text', minWidth: 9, priority: 3},
          {get: (c) => String(c.count), header: 'Calls', kind: 'fixed'},
          {get: (c) => (c.errors ?? []).join(', '), header: 'Errors', kind: 'text', minWidth: 12},
          {get: (c) => c.events.join(', '), header: 'Operations', kind: 'text', minWidth: 12, priority: 2},
          {get: (c) => formatDate(c.last), header: 'Last seen', kind: 'fixed', priority: 2},
        ]),
      )
    }
  }
}
