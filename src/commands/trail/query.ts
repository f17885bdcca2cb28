import {Args, Flags} from '@oclif/core'

import {KmsctlCommand} from '../../cli/base-command.js'
import {columnFlags} from '../../cli/flags.js'
import {usageError} from '../../lib/errors.js'
import {formatBytes} from '../../lib/trail/sources/s3-layout.js'
import {filterFlags, queryOptions, sourceFlags, trailProgress} from '../../cli/trail-flags.js'
import {type GroupRow, groupBy, parseGroupBy} from '../../lib/trail/group.js'
import type {CloudTrailRecord, TrailEvent} from '../../lib/trail/normalise.js'
import {type TrailQuerySummary, byTime, partialQuery, runTrailQuery} from '../../lib/trail/query.js'
import {csvHeader, csvLine, renderEvents, renderGroups} from '../../lib/trail/render.js'
import {buildFilterSpec} from '../../lib/trail/spec.js'
import {interruptOnSigint} from '../../lib/interrupt.js'
import {trailOrgFlags, progressReporter, renderSummary, whereColumns} from '../../cli/org-flags.js'
import type {TargetSummary} from '../../lib/org/run.js'
import {type OrgTrailEvent, queryApiAcross} from '../../lib/org/trail.js'
import {type Progress, renderTable} from '../../lib/output.js'
import {EVENT_COLUMNS} from '../../lib/trail/render.js'

/** Across accounts (--source api with --accounts, --accounts-file or --org): the events, each with its account, and each account-region's summary. */
export interface OrgTrailQueryResult {
  /** The events (oldest first); the groups with --group-by; the records as they were with --raw. */
  events?: OrgTrailEvent[]
  groups?: GroupRow[]
  records?: CloudTrailRecord[]
  /** One row per account-region: events matched, or its failure (exit 3). */
  targets: TargetSummary[]
}

/** --json: the events (oldest first), the raw records with --raw, or the groups with --group-by. */
export type TrailQueryResult = CloudTrailRecord[] | GroupRow[] | OrgTrailQueryResult | PrintedSql | TrailEvent[]

/** --print-sql: the statement and its execution parameters (athena), nothing sent. */
export interface PrintedSql {
  parameters?: string[]
  /** The statement with the parameters written in place. */
  inline?: string
  sql: string
}

const OUTPUT = 'OUTPUT'

/** The column title of a --group-by table. */
function groupTitle(group: NonNullable<ReturnType<typeof parseGroupBy>>): string {
  return group === 'ip' ? 'From' : group[0].toUpperCase() + group.slice(1)
}

export default class TrailQuery extends KmsctlCommand<typeof TrailQuery> {
  static override args = {
    path: Args.string({description: 'With --source files: log files (.json.gz, .json) or directories holding them (more than one may be given).'}),
  }

  static override description = `Who called which KMS API, when, from where, on which key: CloudTrail events, filtered and normalised.

Sources (--source):
- api: CloudTrail LookupEvents (the last 90 days) in the current region, or --regions / --all-regions in parallel. One lookup attribute narrows what is read (the key's ARN, an access key, one event name, else the KMS event source); every other filter is applied locally, so any combination is exact. Pages are paced at 2 requests/s per region (--rate) and throttling is waited out. Ctrl-C prints what was found so far. Across accounts (--accounts, --accounts-file or --org, with --role-name): every account-region is read through the role, in parallel, each at its own 2 requests/s; every event gains its Account (and Region) column, --key aliases are resolved in each account, --json is {"events", "targets"}, and an account-region that cannot be read is named in the closing summary (exit 3).
- files: CloudTrail log files copied from S3: directories are walked, .json.gz and .json are read, in the account (AWSLogs/<account>/CloudTrail/...) or organization (AWSLogs/o-<org>/<account>/...) layout. Date folders skip files outside --since/--until; files are scanned in worker threads; duplicate events are dropped; a corrupt or truncated file is named on stderr and skipped (exit 3). An alias given to --key is resolved from the logs themselves.
- s3: The bucket a trail or an organization trail delivers to: s3://BUCKET[/PREFIX]. Only the accounts (--accounts), regions (--regions) and days of --since/--until are listed; objects are downloaded a few at a time and scanned in worker threads; digest files are left out; SSE-KMS objects are read when you may decrypt them. A prefix or object that cannot be read is named on stderr (exit 3).
- athena: The Athena table over that bucket (--table DATABASE.TABLE, made by kmsctl trail athena setup): the filters and --group-by become one query (values sent as execution parameters), with partition pruning on account, region and day. The data scanned and its cost (USD 5 per TB, 10 MB minimum) are printed on stderr. --print-sql shows the SQL and sends nothing; Ctrl-C stops the query.
- lake: CloudTrail Lake (--event-data-store): the filters become SQL (StartQuery, GetQueryResults). Note: CloudTrail Lake is closed to new AWS customers since 2026-05-31.

Filters are ANDed; only KMS events are shown unless --all-services. The table shows who honestly for every identity type: user/NAME, role/ROLE (session), federated/NAME, root, "via s3.amazonaws.com" for a service, "AWS Internal", and the account of callers from other accounts.

Output: a table (oldest first); --json (an array); --ndjson (one event a line, as found); --csv; --raw (the CloudTrail records as they were, one a line; an array with --json); --group-by (counts, failures, first and last seen). Exit codes: 0 done, 1 failed, 2 bad flags (nothing sent), 3 some regions or files could not be read, 130 interrupted (what was found so far is printed).`

  static override examples = [
    {command: '<%= config.bin %> <%= command.id %> --key alias/payments --since 2h', description: 'Every call on a key in the last two hours'},
    {command: '<%= config.bin %> <%= command.id %> --event "Disable*,ScheduleKeyDeletion" --since 7d --all-regions', description: 'Who disabled or scheduled the deletion of a key this week, in every region'},
    {command: '<%= config.bin %> <%= command.id %> --key alias/payments --denied --group-by principal', description: 'Refused calls on a key, counted by caller'},
    {command: '<%= config.bin %> <%= command.id %> --principal "role/ci-*" --ip 203.0.113.0/24 --ndjson', description: 'Calls by CI roles from one range, one JSON event a line'},
    {command: '<%= config.bin %> <%= command.id %> --org --regions us-east-1,eu-west-1 --role-name OrganizationAccountAccessRole --event "Disable*,ScheduleKeyDeletion" --since 1d', description: 'Who disabled or scheduled the deletion of a key, in every account of the organisation'},
    {command: '<%= config.bin %> <%= command.id %> --source files ./AWSLogs --key 1234abcd-12ab-34cd-56ef-1234567890ab --event Decrypt --since 2026-11-01 --csv', description: 'From log files copied from S3, as CSV'},
    {command: '<%= config.bin %> <%= command.id %> --source s3 s3://my-org-trail --accounts 111122223333,444455556666 --regions eu-west-1 --key 1234abcd-12ab-34cd-56ef-1234567890ab --since 7d', description: 'From the organization trail\'s bucket, two accounts, one region'},
    {command: '<%= config.bin %> <%= command.id %> --source athena --table security.cloudtrail --event "Disable*,ScheduleKeyDeletion" --since 30d --group-by principal', description: 'Through Athena (create the table first with kmsctl trail athena setup)'},
    {command: '<%= config.bin %> <%= command.id %> --source athena --table security.cloudtrail --denied --since 1d --print-sql', description: 'Show the Athena SQL and send nothing'},
    {command: '<%= config.bin %> <%= command.id %> --source lake --event-data-store arn:aws:cloudtrail:us-east-1:111122223333:eventdatastore/EXAMPLE --errors', description: 'From CloudTrail Lake'},
  ]

  static override flags = {
    ...sourceFlags,
    ...trailOrgFlags,
    ...filterFlags,
    ...columnFlags,
    csv: Flags.boolean({description: 'CSV with a header line.', exclusive: ['ndjson', 'raw', 'group-by', 'json'], helpGroup: OUTPUT}),
    'group-by': Flags.string({description: 'Count events by principal, event, key, ip, user-agent or day.', exclusive: ['csv', 'ndjson', 'raw'], helpGroup: OUTPUT}),
    ndjson: Flags.boolean({description: 'One normalised event per line, printed as found.', exclusive: ['csv', 'raw', 'group-by', 'json'], helpGroup: OUTPUT}),
    'print-sql': Flags.boolean({description: 'athena, lake: print the SQL the filters become, and send nothing.', helpGroup: OUTPUT}),
    raw: Flags.boolean({description: 'The CloudTrail records as they were, one per line (an array with --json).', exclusive: ['csv', 'ndjson', 'group-by'], helpGroup: OUTPUT}),
  }

  static override strict = false

  async run(): Promise<TrailQueryResult> {
    const argv = this.argvList
    const f = this.flags
    const json = this.jsonEnabled()
    const group = parseGroupBy(f['group-by'])
    const spec = buildFilterSpec({
      accessKey: f['access-key'],
      allServices: f['all-services'],
      denied: f.denied,
      errors: f.errors,
      event: f.event,
      ip: f.ip,
      key: f.key,
      principal: f.principal,
      readOnly: f['read-only'],
      since: f.since,
      until: f.until,
      userAgent: f['user-agent'],
      write: f.write,
    })
    const options = await queryOptions(f, argv as string[], spec, this.aws)
    if (f['print-sql']) return this.printSql(options, group)
    if (options.targets) return this.acrossAccounts(options, group)
    if (options.source === 'athena') options.group = group

    const progress = this.progress()
    const {events, onMatches, raws, stream} = this.matchSink<TrailEvent>(progress, false)
    const abort = interruptOnSigint()
    let summary: TrailQuerySummary
    try {
      summary = await runTrailQuery({
        ...options,
        onMatches,
        onProgress: trailProgress(progress, spec),
        raw: f.raw,
        signal: abort.signal,
      })
    } finally {
      abort.dispose()
      progress.done()
    }

    this.reportProblems(summary)
    if (summary.source === 'athena') {
      // The cost is on stderr also under --json (stdout holds the events only).
      process.stderr.write(`Athena query ${summary.queryId}: ${formatBytes(summary.scannedBytes ?? 0)} scanned, USD ${(summary.costUsd ?? 0).toFixed(6)} (USD 5 per TB, 10 MB minimum).\n`)
    }

    let result: TrailQueryResult
    if (group) {
      result = summary.groups ?? groupBy(events, group)
      if (!json) this.log(result.length > 0 ? renderGroups(result, groupTitle(group), this.tableOptions()) : '')
    } else if (f.raw && json) {
      result = raws.map((r) => JSON.parse(r) as CloudTrailRecord)
    } else {
      result = stream ? [] : byTime(events, summary.source)
      if (!json && !stream && result.length > 0) this.log(renderEvents(result as TrailEvent[], this.tableOptions()))
    }

    this.note(this.summaryLine(summary))
    const partial = json ? partialQuery(result, summary) : undefined
    if (partial) throw partial
    return result
  }

  /** LookupEvents in every account-region (--source api with --accounts, --accounts-file or --org), each at its own 2 requests/s. */
  private async acrossAccounts(options: Awaited<ReturnType<typeof queryOptions>>, group: ReturnType<typeof parseGroupBy>): Promise<OrgTrailQueryResult> {
    const f = this.flags
    const json = this.jsonEnabled()
    const progress = this.progress()
    const {events, onMatches, raws, stream} = this.matchSink<OrgTrailEvent>(progress, true)
    const report = progressReporter(progress, 'events')
    const abort = interruptOnSigint()
    let run
    try {
      run = await queryApiAcross(this.aws, options.targets!, {
        maxEvents: options.maxEvents,
        onMatches,
        onProgress: (done, total, matched) => report(done, total, matched),
        rate: options.rate,
        signal: abort.signal,
        spec: options.spec,
      })
    } finally {
      abort.dispose()
      progress.done()
    }

    const sorted = byTime(events, 'api') as OrgTrailEvent[]
    const result: OrgTrailQueryResult = {targets: run.summaries}
    if (group) result.groups = groupBy(sorted, group)
    else if (f.raw) result.records = raws.map((r) => JSON.parse(r) as CloudTrailRecord)
    else result.events = stream ? [] : sorted
    if (!json) {
      if (result.groups) this.log(result.groups.length > 0 ? renderGroups(result.groups, groupTitle(group!), this.tableOptions()) : '')
      else if (!stream && sorted.length > 0) this.log(renderTable(sorted, [...whereColumns<OrgTrailEvent>(), ...(EVENT_COLUMNS as never)], this.tableOptions()))
      this.note(renderSummary(run.summaries, 'events'))
      this.note(`${run.matched} matching event${run.matched === 1 ? '' : 's'}, ${run.pages} LookupEvents page${run.pages === 1 ? '' : 's'}${run.reachedMaxEvents ? ', stopped at --max-events' : ''}.`)
    }

    if (run.interrupted) {
      this.exitWith('interrupted')
      process.stderr.write(`Interrupted: ${run.matched} matching events found so far.\n`)
    } else if (run.summaries.some((s) => s.error)) {
      // An account-region that could not be read is a partial failure: exit 3, each one named.
      this.exitWith('partial')
    }

    return result
  }

  /**
   * Where matching events go as they come: kept for the table, JSON and --group-by, or, with --ndjson,
   * --csv or --raw (and no --json), written to stdout at once (the CSV header first).
   */
  private matchSink<E extends TrailEvent>(progress: Progress, acrossAccounts: boolean) {
    const f = this.flags
    const stream = !this.jsonEnabled() && Boolean(f.ndjson || f.csv || f.raw)
    if (stream && f.csv) process.stdout.write(csvHeader(acrossAccounts) + '\n')
    const events: E[] = []
    const raws: string[] = []
    const onMatches = (matches: Array<{event: E; raw?: string}>): void => {
      if (!stream) {
        for (const m of matches) {
          events.push(m.event)
          if (f.raw) raws.push(m.raw ?? '')
        }

        return
      }

      progress.done()
      const lines = f.raw ? matches.map((m) => m.raw ?? '') : f.csv ? matches.map((m) => csvLine(m.event, acrossAccounts)) : matches.map((m) => JSON.stringify(m.event))
      process.stdout.write(lines.join('\n') + '\n')
    }

    return {events, onMatches, raws, stream}
  }

  private async printSql(options: Awaited<ReturnType<typeof queryOptions>>, group: ReturnType<typeof parseGroupBy>): Promise<PrintedSql> {
    let printed: PrintedSql
    if (options.source === 'athena') {
      const {buildAthenaQuery, inlineParameters} = await import('../../lib/trail/athena-sql.js')
      const q = buildAthenaQuery(options.table!, options.spec, {accounts: options.accounts, regions: options.regions}, group)
      printed = {inline: inlineParameters(q), parameters: q.parameters, sql: q.sql}
    } else if (options.source === 'lake') {
      const {buildLakeSql, eventDataStoreId} = await import('../../lib/trail/sources/lake.js')
      printed = {sql: buildLakeSql(eventDataStoreId(options.eventDataStore!), options.spec)}
    } else {
      throw usageError(`--print-sql is for --source athena and --source lake (got ${options.source}).`, 'Try this: --source athena --table DATABASE.TABLE --print-sql')
    }

    if (!this.jsonEnabled()) {
      this.log(printed.inline ?? printed.sql)
      this.note('Nothing was sent.')
    }

    return printed
  }

  private reportProblems(summary: TrailQuerySummary): void {
    for (const c of summary.corrupt ?? []) this.warnLine(`Skipped ${c.file}: ${c.reason}`)
    for (const x of summary.s3Failures ?? []) this.warnLine(`Could not read ${x.location}: ${x.reason}`)
    for (const r of summary.failures ?? []) this.warnLine(`Could not read ${r.region}: ${r.message}`)
    if (summary.interrupted) {
      this.exitWith('interrupted')
      process.stderr.write(`Interrupted: ${summary.matched} matching events found so far.\n`)
    } else if ((summary.corrupt?.length ?? 0) > 0 || (summary.failures?.length ?? 0) > 0 || (summary.s3Failures?.length ?? 0) > 0) {
      this.exitWith('partial')
    }
  }

  private summaryLine(s: TrailQuerySummary): string {
    const parts = [`${s.matched} matching event${s.matched === 1 ? '' : 's'}`]
    if (s.source === 'api') parts.push(`${s.pages} LookupEvents page${s.pages === 1 ? '' : 's'}${s.attribute ? ` (${s.attribute.AttributeKey}=${s.attribute.AttributeValue})` : ''}`)
    if (s.source === 'files') {
      parts.push(`${s.files} log file${s.files === 1 ? '' : 's'} read`)
      if (s.skippedByDate) parts.push(`${s.skippedByDate} outside the time window`)
      if (s.duplicates) parts.push(`${s.duplicates} duplicate${s.duplicates === 1 ? '' : 's'} dropped`)
      if (s.corrupt?.length) parts.push(`${s.corrupt.length} skipped as unreadable`)
    }

    if (s.source === 's3') {
      parts.push(`${s.objects} log object${s.objects === 1 ? '' : 's'} read (${formatBytes(s.bytes ?? 0)}) from ${s.prefixes} prefix${s.prefixes === 1 ? '' : 'es'}, ${s.accounts?.length ?? 0} account${s.accounts?.length === 1 ? '' : 's'}, ${s.regionsRead?.length ?? 0} region${s.regionsRead?.length === 1 ? '' : 's'}`)
      if (s.skippedByDate) parts.push(`${s.skippedByDate} outside the time window`)
      if (s.duplicates) parts.push(`${s.duplicates} duplicate${s.duplicates === 1 ? '' : 's'} dropped`)
      if (s.s3Failures?.length) parts.push(`${s.s3Failures.length} not readable`)
    }

    if (s.source === 'lake' || s.source === 'athena') parts.push(`query ${s.queryId}`)
    if (s.reachedMaxEvents) parts.push('stopped at --max-events')
    return parts.join(', ') + '.'
  }
}
