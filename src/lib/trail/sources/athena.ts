// The athena source: the filters become one Athena query over the CloudTrail table (athena-sql.ts),
// started with StartQueryExecution (values as ExecutionParameters), polled with GetQueryExecution
// with a growing wait, and read page by page with GetQueryResults. Rows are rebuilt into CloudTrail
// records, normalised and filtered locally as every other source does, so the answer is the same.
// Ctrl-C stops the query on the service (StopQueryExecution): a running query costs money.
import type {AthenaClient} from '@aws-sdk/client-athena'

import {athenaSdk} from '../../aws/sdk.js'
import {KmsctlError} from '../../errors.js'
import {type AthenaSelect, type PartitionFilter, type TableName, athenaCostUsd, buildAthenaQuery} from '../athena-sql.js'
import type {FilterSpec} from '../filters.js'
import type {GroupBy, GroupRow} from '../group.js'
import type {CloudTrailRecord} from '../normalise.js'
import type {FileMatch} from './file-scan.js'
import {pollUntil, readResultPages} from './sql-results.js'

export type AthenaClientLike = Pick<AthenaClient, 'send'>

export interface AthenaQueryOptions {
  aliases?: Array<[string, string]>
  client: AthenaClientLike
  group?: GroupBy
  maxEvents?: number
  onMatches?: (matches: FileMatch[]) => void
  onProgress?: (progress: {matched: number; rows: number; scannedBytes: number; state: string}) => void
  /** s3:// location for the results (when the workgroup does not set one). */
  outputLocation?: string
  partitions?: PartitionFilter
  /** First wait between polls (default 250 ms, growing to 5 s). */
  pollMs?: number
  signal?: AbortSignal
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>
  spec: FilterSpec
  table: TableName
  workgroup?: string
}

export interface AthenaQueryResult {
  /** USD at Athena's price for the data scanned. */
  costUsd: number
  /** Groups counted by Athena (when the query grouped). */
  groups?: GroupRow[]
  interrupted: boolean
  matched: number
  pages: number
  parameters: string[]
  queryId: string
  reachedMaxEvents: boolean
  rows: number
  scannedBytes: number
  sql: string
}

export function athenaError(error: unknown, operation: string): KmsctlError {
  if (error instanceof KmsctlError) return error
  const e = error as {message?: string; name?: string}
  const base = {awsCode: e?.name, awsMessage: e?.message, cause: error}
  if (e?.name === 'AccessDeniedException' || e?.name === 'AccessDenied') {
    return new KmsctlError('ACCESS_DENIED', `Access denied: you are not allowed to call athena:${operation}.`, {
      ...base,
      remedy: `Ask for athena:${operation} (and s3 access to the results location and the trail bucket), or read the bucket with --source s3.`,
    })
  }

  if (e?.name === 'InvalidRequestException') {
    return new KmsctlError('FAILED', `Athena refused ${operation}: ${e.message}`, {
      ...base,
      remedy: /output location/i.test(e.message ?? '') ? 'Try this: --output-location s3://my-athena-results/ (or a workgroup that sets one).' : 'Check --table, --workgroup and --output-location.',
    })
  }

  return new KmsctlError('FAILED', `Athena ${operation} failed: ${e?.message ?? String(error)}`, {...base, remedy: 'Check --region, --table and --workgroup.'})
}

/** A result row (by column name) back into the shape of a CloudTrail record. */
export function recordFromAthenaRow(v: Record<string, string | undefined>): CloudTrailRecord {
  const json = (text: string | undefined): null | Record<string, unknown> => {
    if (!text) return null
    try {
      const parsed = JSON.parse(text) as unknown
      return parsed && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : null
    } catch {
      return null
    }
  }

  const put = <T extends Record<string, unknown>>(obj: T): T | undefined => {
    for (const k of Object.keys(obj)) if (obj[k] === undefined || obj[k] === '') delete obj[k]
    return Object.keys(obj).length > 0 ? obj : undefined
  }

  const issuer = put({accountId: v.ui_issuer_accountid, arn: v.ui_issuer_arn, type: v.ui_issuer_type, userName: v.ui_issuer_username})
  const resources = (v.resources ?? '')
    .split(' ')
    .filter(Boolean)
    .map((pair) => {
      const bar = pair.indexOf('|')
      return put({ARN: pair.slice(bar + 1), type: pair.slice(0, bar)}) ?? {}
    })
  const record: CloudTrailRecord = {
    awsRegion: v.awsregion,
    errorCode: v.errorcode || undefined,
    errorMessage: v.errormessage || undefined,
    eventCategory: v.eventcategory,
    eventID: v.eventid,
    eventName: v.eventname,
    eventSource: v.eventsource,
    eventTime: v.eventtime,
    eventType: v.eventtype,
    readOnly: v.readonly === 'true' ? true : v.readonly === 'false' ? false : v.readonly,
    recipientAccountId: v.recipientaccountid,
    requestParameters: json(v.requestparameters),
    resources: resources.length > 0 ? resources : undefined,
    responseElements: json(v.responseelements),
    sharedEventID: v.sharedeventid || undefined,
    sourceIPAddress: v.sourceipaddress,
    userAgent: v.useragent,
    userIdentity: put({
      accessKeyId: v.ui_accesskeyid,
      accountId: v.ui_accountid,
      arn: v.ui_arn,
      identityProvider: v.ui_identityprovider,
      invokedBy: v.ui_invokedby,
      onBehalfOf: v.ui_onbehalfof_userid ? {userId: v.ui_onbehalfof_userid} : undefined,
      principalId: v.ui_principalid,
      sessionContext: issuer ? {sessionIssuer: issuer} : undefined,
      type: v.ui_type,
      userName: v.ui_username,
    }),
    vpcEndpointId: v.vpcendpointid || undefined,
  }
  for (const k of Object.keys(record)) if (record[k] === undefined) delete record[k]
  return record
}

export async function queryAthena(options: AthenaQueryOptions): Promise<AthenaQueryResult> {
  const {GetQueryExecutionCommand, GetQueryResultsCommand, StartQueryExecutionCommand, StopQueryExecutionCommand} = await athenaSdk()
  const query: AthenaSelect = buildAthenaQuery(options.table, options.spec, options.partitions, options.group)
  let queryId: string
  try {
    const started = await options.client.send(
      new StartQueryExecutionCommand({
        ExecutionParameters: query.parameters.length > 0 ? query.parameters : undefined,
        QueryExecutionContext: {Database: options.table.database},
        QueryString: query.sql,
        ResultConfiguration: options.outputLocation ? {OutputLocation: options.outputLocation} : undefined,
        WorkGroup: options.workgroup,
      }),
    )
    queryId = started.QueryExecutionId ?? ''
  } catch (error) {
    throw athenaError(error, 'StartQueryExecution')
  }

  const result: AthenaQueryResult = {
    costUsd: 0,
    interrupted: false,
    matched: 0,
    pages: 0,
    parameters: query.parameters,
    queryId,
    reachedMaxEvents: false,
    rows: 0,
    scannedBytes: 0,
    sql: query.sql,
  }
  const stop = async () => {
    try {
      await options.client.send(new StopQueryExecutionCommand({QueryExecutionId: queryId}))
    } catch {
      // A query that already ended cannot be stopped; nothing to do.
    }
  }

  // Poll until the query ends: 250 ms, then a wait growing by half each time, at most 5 s.
  const ended = await pollUntil(
    async () => {
      let execution
      try {
        execution = (await options.client.send(new GetQueryExecutionCommand({QueryExecutionId: queryId}))).QueryExecution
      } catch (error) {
        throw athenaError(error, 'GetQueryExecution')
      }

      const state = execution?.Status?.State ?? 'QUEUED'
      result.scannedBytes = execution?.Statistics?.DataScannedInBytes ?? result.scannedBytes
      options.onProgress?.({matched: 0, rows: 0, scannedBytes: result.scannedBytes, state})
      if (state === 'SUCCEEDED') return state
      if (state === 'FAILED' || state === 'CANCELLED') {
        const reason = execution?.Status?.StateChangeReason ?? execution?.Status?.AthenaError?.ErrorMessage ?? ''
        const missing = /does not exist|not found/i.test(reason)
        throw new KmsctlError('FAILED', `The Athena query ${queryId} ended ${state}${reason ? `: ${reason}` : ''}.`, {
          details: {queryId, sql: query.sql},
          remedy: missing ? `Create the table first: kmsctl trail athena setup --bucket s3://... --database ${options.table.database} --table ${options.table.table}` : 'Check --table, --workgroup and --output-location.',
        })
      }

      return undefined
    },
    {firstMs: options.pollMs ?? 250, growth: 1.5, maxMs: 5000, signal: options.signal, sleep: options.sleep},
  )
  if (!ended) {
    await stop()
    result.interrupted = true
    return result
  }

  result.costUsd = athenaCostUsd(result.scannedBytes)
  const groups: GroupRow[] = []
  let columns: string[] | undefined
  const pages = await readResultPages({
    aliases: options.aliases,
    dedupe: true,
    maxEvents: options.maxEvents,
    async next(token) {
      try {
        return await options.client.send(new GetQueryResultsCommand({MaxResults: 1000, NextToken: token, QueryExecutionId: queryId}))
      } catch (error) {
        throw athenaError(error, 'GetQueryResults')
      }
    },
    onMatches: options.onMatches,
    onPage: (matched) => options.onProgress?.({matched, rows: result.rows, scannedBytes: result.scannedBytes, state: 'SUCCEEDED'}),
    read(page, index) {
      const rows = page.ResultSet?.Rows ?? []
      columns ??= (page.ResultSet?.ResultSetMetadata?.ColumnInfo ?? []).map((c) => c.Name ?? '')
      const records: CloudTrailRecord[] = []
      // The first row of the first page is the header.
      for (const row of index === 0 ? rows.slice(1) : rows) {
        result.rows++
        const v: Record<string, string | undefined> = {}
        for (const [i, cell] of (row.Data ?? []).entries()) v[columns[i]] = cell.VarCharValue
        if (query.grouped) groups.push({count: Number(v.count), errors: Number(v.errors ?? 0), first: v.first ?? '', last: v.last ?? '', value: v.value ?? '-'})
        else records.push(recordFromAthenaRow(v))
      }

      return {records, token: page.NextToken}
    },
    signal: options.signal,
    spec: options.spec,
  })
  result.pages = pages.pages
  result.matched = pages.matched
  result.interrupted = pages.interrupted
  result.reachedMaxEvents = pages.reachedMaxEvents
  if (query.grouped) {
    result.groups = groups.sort((a, b) => b.count - a.count || a.value.localeCompare(b.value))
    result.matched = groups.reduce((n, g) => n + g.count, 0)
  }

  return result
}
