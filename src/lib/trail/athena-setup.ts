// `kmsctl trail athena setup`: the accounts and regions of a trail bucket (read from its folders when
// not given), and the statements that create the database and the CloudTrail table, run one after the
// other in Athena.
import {athenaSdk} from '../aws/sdk.js'
import {KmsctlError, usageError} from '../errors.js'
import {type TableName, buildCreateTable, createDatabaseSql} from './athena-sql.js'
import {type AthenaClientLike, athenaError} from './sources/athena.js'
import {abortableSleep} from '../interrupt.js'
import {ACCOUNT_ID, ORG_ID, REGION, type S3Location, accountPrefix, s3Url, trailRoot} from './sources/s3-layout.js'
import {type S3ClientLike, describeS3Failure, listAll} from './sources/s3.js'

export interface TrailLayout {
  accounts: string[]
  org?: string
  regions: string[]
}

/**
 * The organization, accounts and regions whose folders the bucket holds (one ListObjectsV2 with a
 * delimiter per level): what the table's partition projection enumerates.
 */
export async function discoverLayout(client: S3ClientLike, location: S3Location, given: Partial<TrailLayout>): Promise<TrailLayout> {
  const root = trailRoot(location.prefix)
  const folders = async (prefix: string): Promise<string[]> => {
    try {
      return (await listAll(client, location.bucket, prefix, '/')).folders.map((f) => f.slice(prefix.length).replace(/\/$/, ''))
    } catch (error) {
      const f = describeS3Failure(error, s3Url(location, prefix), 'ListObjectsV2')
      throw new KmsctlError(f.code === 'ACCESS_DENIED' ? 'ACCESS_DENIED' : 'FAILED', `Could not list ${f.location}: ${f.reason}`, {
        cause: error,
        remedy: 'Give --accounts and --regions, so the bucket need not be listed.',
      })
    }
  }

  let org = given.org ?? root.org
  if (!org && !root.account && (!given.accounts || !given.regions)) {
    const top = await folders(root.base)
    const orgs = top.filter((n) => ORG_ID.test(n))
    if (orgs.length > 1) throw usageError(`${s3Url(location, root.base)} holds several organizations (${orgs.join(', ')}).`, `Try this: --org ${orgs[0]}`)
    if (orgs.length === 1 && !top.some((n) => ACCOUNT_ID.test(n))) org = orgs[0]
  }

  const accounts = given.accounts ?? (root.account ? [root.account] : (await folders(`${root.base}${org ? `${org}/` : ''}`)).filter((n) => ACCOUNT_ID.test(n)))
  if (accounts.length === 0) {
    throw new KmsctlError('NOT_FOUND', `No account folders under ${s3Url(location, `${root.base}${org ? `${org}/` : ''}`)}.`, {
      remedy: 'Check the bucket and prefix (and --org for an organization trail), or give --accounts.',
    })
  }

  let regions = given.regions ?? (root.region ? [root.region] : undefined)
  if (!regions) {
    const found = new Set<string>()
    for (const account of accounts) {
      // eslint-disable-next-line no-await-in-loop
      for (const r of await folders(accountPrefix(root.base, org, account))) if (REGION.test(r)) found.add(r)
    }

    regions = [...found].sort()
  }

  if (regions.length === 0) throw new KmsctlError('NOT_FOUND', 'No region folders found for these accounts.', {remedy: 'Give --regions, e.g. --regions us-east-1,eu-west-1'})
  return {accounts: [...accounts].sort(), org, regions}
}

export interface StatementOptions {
  client: AthenaClientLike
  database?: string
  outputLocation?: string
  signal?: AbortSignal
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>
  workgroup?: string
}

/** Runs one statement to its end (DDL): its query execution ID. Failure is an error with Athena's reason. */
export async function runStatement(sql: string, options: StatementOptions): Promise<string> {
  const {GetQueryExecutionCommand, StartQueryExecutionCommand, StopQueryExecutionCommand} = await athenaSdk()
  let id: string
  try {
    const out = await options.client.send(
      new StartQueryExecutionCommand({
        QueryExecutionContext: options.database ? {Database: options.database} : undefined,
        QueryString: sql,
        ResultConfiguration: options.outputLocation ? {OutputLocation: options.outputLocation} : undefined,
        WorkGroup: options.workgroup,
      }),
    )
    id = out.QueryExecutionId ?? ''
  } catch (error) {
    throw athenaError(error, 'StartQueryExecution')
  }

  const sleep = options.sleep ?? abortableSleep
  let wait = 250
  for (;;) {
    if (options.signal?.aborted) {
      await options.client.send(new StopQueryExecutionCommand({QueryExecutionId: id})).catch(() => {})
      throw new KmsctlError('INTERRUPTED', `Stopped the Athena query ${id}.`)
    }

    let status
    try {
      // eslint-disable-next-line no-await-in-loop
      status = (await options.client.send(new GetQueryExecutionCommand({QueryExecutionId: id}))).QueryExecution?.Status
    } catch (error) {
      throw athenaError(error, 'GetQueryExecution')
    }

    if (status?.State === 'SUCCEEDED') return id
    if (status?.State === 'FAILED' || status?.State === 'CANCELLED') {
      throw new KmsctlError('FAILED', `Athena query ${id} ended ${status.State}: ${status.StateChangeReason ?? ''}`.trim(), {remedy: 'Check --workgroup and --output-location.'})
    }

    // eslint-disable-next-line no-await-in-loop
    await sleep(wait, options.signal)
    wait = Math.min(5000, Math.round(wait * 1.5))
  }
}

export interface SetupPlan {
  createDatabase: string
  createTable: string
  layout: TrailLayout
  location: string
  table: TableName
}

export function setupPlan(location: S3Location, layout: TrailLayout, table: TableName, start: string): SetupPlan {
  const createTable = buildCreateTable({accounts: layout.accounts, location, org: layout.org, regions: layout.regions, start, table})
  const loc = /LOCATION '([^']+)'/.exec(createTable)![1]
  return {createDatabase: createDatabaseSql(table.database), createTable, layout, location: loc, table}
}
