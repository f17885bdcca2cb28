import {Flags} from '@oclif/core'

import {KmsctlCommand} from '../../../cli/base-command.js'
import {parseAccounts, parseRegions} from '../../../cli/trail-flags.js'
import {usageError} from '../../../lib/errors.js'
import {parseTime} from '../../../lib/parse.js'

export interface AthenaSetupResult {
  accounts: string[]
  database: string
  /** The statements, in the order they are (or would be) run. */
  statements: string[]
  /** Query execution IDs, when sent. */
  queryIds?: string[]
  location: string
  org?: string
  regions: string[]
  sent: boolean
  table: string
}

export default class TrailAthenaSetup extends KmsctlCommand<typeof TrailAthenaSetup> {
  static override description = `Create the Athena table over a CloudTrail bucket, with partition projection, for \`kmsctl trail query --source athena\`.

The table follows the Athena documentation ("Create the table for CloudTrail logs in Athena using partition
projection"): userIdentity and resources as structures, requestParameters and responseElements as JSON text,
and three projected partitions, account (enum), region (enum) and timestamp (yyyy/MM/dd, from --start to NOW),
located by storage.location.template over AWSLogs/[o-ORG/]ACCOUNT/CloudTrail/REGION/YYYY/MM/DD/. No partition
ever needs adding. The accounts and regions are read from the bucket's folders unless given; a new account or
region later needs the table made again (drop it, or use another --table).

Athena bills by the data scanned (USD 5 per TB, 10 MB minimum per query); queries that name days, accounts
and regions only read those partitions.`

  static override examples = [
    {command: '<%= config.bin %> <%= command.id %> --bucket s3://my-org-trail --org o-exampleorgid --database security --table cloudtrail', description: 'An organization trail: accounts and regions read from the bucket'},
    {command: '<%= config.bin %> <%= command.id %> --bucket s3://my-trail/prefix --database security --table cloudtrail --accounts 111122223333 --regions us-east-1,eu-west-1 --print-sql', description: 'Show the statements and send nothing'},
    {command: '<%= config.bin %> <%= command.id %> --bucket s3://my-org-trail --database security --table cloudtrail --workgroup security --start 2025-01-01', description: 'In a workgroup, partitions from 2025'},
  ]

  static override flags = {
    accounts: Flags.string({description: 'Comma-separated account IDs the table covers (default: the account folders in the bucket).'}),
    bucket: Flags.string({description: 'Where the trail delivers: s3://BUCKET[/PREFIX] (the folder holding AWSLogs/).', required: true}),
    database: Flags.string({description: 'Athena database (created if missing).', required: true}),
    'dry-run': Flags.boolean({description: 'Same as --print-sql: show the statements, send nothing.'}),
    org: Flags.string({description: 'Organization ID (o-...) of an organization trail (default: found in the bucket).'}),
    'output-location': Flags.string({description: 's3:// location for query results (when the workgroup does not set one).'}),
    'print-sql': Flags.boolean({description: 'Print the CREATE DATABASE and CREATE TABLE statements, and send nothing.'}),
    regions: Flags.string({description: 'Comma-separated regions the table covers (default: the region folders in the bucket).'}),
    start: Flags.string({default: '2020-01-01', description: 'First day of the timestamp partitions (ISO date).'}),
    table: Flags.string({description: 'Table name (letters, digits, underscores).', required: true}),
    workgroup: Flags.string({description: 'Athena workgroup (default: primary).'}),
  }

  async run(): Promise<AthenaSetupResult> {
    const f = this.flags
    const {checkIdentifier} = await import('../../../lib/trail/athena-sql.js')
    const {ORG_ID, parseS3Url} = await import('../../../lib/trail/sources/s3-layout.js')
    const location = parseS3Url(f.bucket, '--bucket')
    const table = {database: checkIdentifier(f.database, '--database'), table: checkIdentifier(f.table, '--table')}
    if (f.org !== undefined && !ORG_ID.test(f.org)) throw usageError(`--org "${f.org}" is not an organization ID.`, 'Try this: --org o-exampleorgid')
    if (f['output-location'] !== undefined) parseS3Url(f['output-location'], '--output-location')
    if (f.workgroup !== undefined && !/^[\w.-]{1,128}$/.test(f.workgroup)) throw usageError(`--workgroup "${f.workgroup}" is not a workgroup name.`, 'Try this: --workgroup primary')
    const start = parseTime(f.start, 'start', new Date()).toISOString().slice(0, 10).replaceAll('-', '/')
    const accounts = parseAccounts(f.accounts)
    const regions = parseRegions(f.regions)
    const {discoverLayout, runStatement, setupPlan} = await import('../../../lib/trail/athena-setup.js')
    const layout =
      accounts && regions ? {accounts, org: f.org, regions} : await discoverLayout(await this.aws.s3(), location, {accounts, org: f.org, regions})
    const plan = setupPlan(location, layout, table, start)
    const statements = [plan.createDatabase, plan.createTable]
    const result: AthenaSetupResult = {
      accounts: layout.accounts,
      database: table.database,
      location: plan.location,
      org: layout.org,
      regions: layout.regions,
      sent: false,
      statements,
      table: `${table.database}.${table.table}`,
    }
    if (f['print-sql'] || f['dry-run']) {
      if (!this.jsonEnabled()) {
        this.log(statements.map((s) => `${s};`).join('\n\n'))
        this.note('Nothing was sent.')
      }

      return result
    }

    const athena = await this.aws.athena()
    const common = {client: athena, outputLocation: f['output-location'], workgroup: f.workgroup}
    result.queryIds = [await runStatement(plan.createDatabase, common), await runStatement(plan.createTable, {...common, database: table.database})]
    result.sent = true
    if (!this.jsonEnabled()) {
      this.log(`Table ${result.table} over ${plan.location} (${layout.accounts.length} account${layout.accounts.length === 1 ? '' : 's'}, ${layout.regions.length} region${layout.regions.length === 1 ? '' : 's'}, days from ${start}).`)
      this.note(`Query it: kmsctl trail query --source athena --table ${result.table}${f.workgroup ? ` --workgroup ${f.workgroup}` : ''} --since 1d`)
    }

    return result
  }
}
