// The lake source: CloudTrail Lake. The filters become one SQL statement (a superset of the
// selection: whatever SQL cannot say exactly is left to the local filters, which still run on every
// row), started with StartQuery and read page by page with GetQueryResults.
// CloudTrail Lake is closed to new AWS customers since 2026-05-31; existing event data stores work.
import type {CloudTrailClient} from '@aws-sdk/client-cloudtrail'

import {cloudtrailSdk} from '../../aws/sdk.js'
import {KmsctlError, usageError} from '../../errors.js'
import {isGlob} from '../../glob.js'
import {type FilterSpec, KMS_SOURCE} from '../filters.js'
import type {CloudTrailRecord} from '../normalise.js'
import {cloudtrailError} from './api.js'
import type {FileMatch} from './file-scan.js'
import {pollUntil, readResultPages} from './sql-results.js'

export type LakeClient = Pick<CloudTrailClient, 'send'>

/** The columns read, and where each goes in the rebuilt record. */
const COLUMNS: ReadonlyArray<[sql: string, alias: string]> = [
  ['eventID', 'eventID'],
  ['eventTime', 'eventTime'],
  ['eventSource', 'eventSource'],
  ['eventName', 'eventName'],
  ['awsRegion', 'awsRegion'],
  ['sourceIPAddress', 'sourceIPAddress'],
  ['userAgent', 'userAgent'],
  ['errorCode', 'errorCode'],
  ['errorMessage', 'errorMessage'],
  ['readOnly', 'readOnly'],
  ['recipientAccountId', 'recipientAccountId'],
  ['sharedEventID', 'sharedEventID'],
  ['vpcEndpointId', 'vpcEndpointId'],
  ['userIdentity.type', 'uiType'],
  ['userIdentity.principalId', 'uiPrincipalId'],
  ['userIdentity.arn', 'uiArn'],
  ['userIdentity.accountId', 'uiAccountId'],
  ['userIdentity.accessKeyId', 'uiAccessKeyId'],
  ['userIdentity.userName', 'uiUserName'],
  ['userIdentity.invokedBy', 'uiInvokedBy'],
  ['userIdentity.sessionContext.sessionIssuer.arn', 'uiIssuerArn'],
  ['userIdentity.sessionContext.sessionIssuer.userName', 'uiIssuerName'],
  ["element_at(requestParameters, 'keyId')", 'reqKeyId'],
  ["element_at(responseElements, 'keyId')", 'resKeyId'],
  ['element_at(resources, 1).arn', 'resource1'],
  ['element_at(resources, 2).arn', 'resource2'],
]

/** The event data store's ID, from its ARN or as given. */
export function eventDataStoreId(value: string): string {
  const id = value.includes(':eventdatastore/') ? value.slice(value.indexOf(':eventdatastore/') + ':eventdatastore/'.length) : value
  if (!/^[\w-]{1,128}$/.test(id)) {
    throw usageError(`--event-data-store "${value}" is not an event data store ARN or ID.`, 'Try this: --event-data-store arn:aws:cloudtrail:us-east-1:111122223333:eventdatastore/EXAMPLE-f852-4e8f-8bd1-bcf6cEXAMPLE')
  }

  return id
}

const quote = (value: string): string => `'${value.replaceAll("'", "''")}'`
const sqlTime = (iso: string): string => quote(new Date(iso).toISOString().replace('T', ' ').replace(/\.\d{3}Z$/, ''))
const likeOf = (glob: string): string => quote(glob.replaceAll(/[%_\\]/g, '\\$&').replaceAll('*', '%').replaceAll('?', '_')) + " ESCAPE '\\'"

/** One SQL statement selecting at least every row the filters accept. */
export function buildLakeSql(eventDataStore: string, spec: FilterSpec): string {
  const where: string[] = []
  if (!spec.allServices) where.push(`eventSource = ${quote(KMS_SOURCE)}`)
  if (spec.since) where.push(`eventTime >= ${sqlTime(spec.since)}`)
  if (spec.until) where.push(`eventTime <= ${sqlTime(spec.until)}`)
  if (spec.events) {
    const exact = spec.events.filter((e) => !isGlob(e))
    const parts = exact.length > 0 ? [`eventName IN (${exact.map((e) => quote(e)).join(', ')})`] : []
    for (const g of spec.events.filter((e) => isGlob(e))) parts.push(`eventName LIKE ${likeOf(g)}`)
    where.push(parts.length === 1 ? parts[0] : `(${parts.join(' OR ')})`)
  }

  if (spec.keys) {
    const forms = [...new Set(spec.keys.flatMap((k) => [k.id, k.arn, ...k.aliases].filter((v): v is string => Boolean(v))))]
    const arns = spec.keys.map((k) => k.arn).filter((v): v is string => Boolean(v))
    const list = (values: string[]) => values.map((v) => quote(v)).join(', ')
    const parts = [`element_at(requestParameters, 'keyId') IN (${list(forms)})`, `element_at(responseElements, 'keyId') IN (${list(forms)})`]
    if (arns.length > 0) parts.push(`element_at(resources, 1).arn IN (${list(arns)})`, `element_at(resources, 2).arn IN (${list(arns)})`)
    // Alias ARNs as sent: arn:...:alias/name
    for (const a of spec.keys.flatMap((k) => k.aliases)) parts.push(`element_at(requestParameters, 'keyId') LIKE ${likeOf(`arn:*:${a}`)}`)
    where.push(`(${parts.join(' OR ')})`)
  }

  if (spec.accessKeys) where.push(`userIdentity.accessKeyId IN (${spec.accessKeys.map((a) => quote(a)).join(', ')})`)
  if (spec.denied) where.push(`errorCode LIKE 'AccessDenied%'`)
  else if (spec.errors) where.push('errorCode IS NOT NULL')
  if (spec.readOnly) where.push('readOnly = true')
  if (spec.write) where.push('readOnly = false')
  const select = COLUMNS.map(([sql, alias]) => (sql === alias ? sql : `${sql} AS ${alias}`)).join(', ')
  return `SELECT ${select} FROM ${eventDataStore}${where.length > 0 ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY eventTime DESC`
}

/** A result row ([{column: value}, ...]) back into the shape of a CloudTrail record. */
export function recordFromRow(row: ReadonlyArray<Record<string, string>>): CloudTrailRecord {
  const v: Record<string, string | undefined> = {}
  for (const cell of row) Object.assign(v, cell)
  const put = <T extends Record<string, unknown>>(obj: T): T | undefined => {
    for (const k of Object.keys(obj)) if (obj[k] === undefined || obj[k] === '') delete obj[k]
    return Object.keys(obj).length > 0 ? obj : undefined
  }

  const issuer = put({arn: v.uiIssuerArn, userName: v.uiIssuerName})
  const record: CloudTrailRecord = {
    awsRegion: v.awsRegion,
    errorCode: v.errorCode || undefined,
    errorMessage: v.errorMessage || undefined,
    eventID: v.eventID,
    eventName: v.eventName,
    eventSource: v.eventSource,
    // Lake prints times as "2026-11-02 10:00:00.000": back to ISO 8601.
    eventTime: v.eventTime && !v.eventTime.includes('T') ? new Date(v.eventTime.replace(' ', 'T') + 'Z').toISOString().replace('.000Z', 'Z') : v.eventTime,
    readOnly: v.readOnly,
    recipientAccountId: v.recipientAccountId,
    requestParameters: put({keyId: v.reqKeyId}) ?? null,
    resources: [v.resource1, v.resource2].filter((a): a is string => Boolean(a)).map((ARN) => ({ARN, type: 'AWS::KMS::Key'})),
    responseElements: put({keyId: v.resKeyId}) ?? null,
    sharedEventID: v.sharedEventID || undefined,
    sourceIPAddress: v.sourceIPAddress,
    userAgent: v.userAgent,
    userIdentity: put({
      accessKeyId: v.uiAccessKeyId,
      accountId: v.uiAccountId,
      arn: v.uiArn,
      invokedBy: v.uiInvokedBy,
      principalId: v.uiPrincipalId,
      sessionContext: issuer ? {sessionIssuer: issuer} : undefined,
      type: v.uiType,
      userName: v.uiUserName,
    }),
    vpcEndpointId: v.vpcEndpointId || undefined,
  }
  for (const k of Object.keys(record)) if (record[k] === undefined) delete record[k]
  return record
}

export interface LakeQueryOptions {
  aliases?: Array<[string, string]>
  client: LakeClient
  eventDataStore: string
  maxEvents?: number
  onMatches?: (matches: FileMatch[]) => void
  onProgress?: (progress: {matched: number; pages: number; status: string}) => void
  /** Wait between polls of a running query (default 1 s). */
  pollMs?: number
  signal?: AbortSignal
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>
  spec: FilterSpec
}

export interface LakeQueryResult {
  interrupted: boolean
  matched: number
  pages: number
  queryId: string
  reachedMaxEvents: boolean
  sql: string
}

export async function queryLake(options: LakeQueryOptions): Promise<LakeQueryResult> {
  const {CancelQueryCommand, GetQueryResultsCommand, StartQueryCommand} = await cloudtrailSdk()
  const store = eventDataStoreId(options.eventDataStore)
  const sql = buildLakeSql(store, options.spec)
  let queryId: string
  try {
    const started = await options.client.send(new StartQueryCommand({QueryStatement: sql}))
    queryId = started.QueryId ?? ''
  } catch (error) {
    throw cloudtrailError(error, 'StartQuery')
  }

  const result: LakeQueryResult = {interrupted: false, matched: 0, pages: 0, queryId, reachedMaxEvents: false, sql}
  const page = async (token: string | undefined) => {
    try {
      return await options.client.send(new GetQueryResultsCommand({EventDataStore: options.eventDataStore, NextToken: token, QueryId: queryId}))
    } catch (error) {
      throw cloudtrailError(error, 'GetQueryResults')
    }
  }

  // GetQueryResults answers the query's status: poll it until the query has ended.
  const first = await pollUntil(
    async () => {
      const p = await page(undefined)
      const status = p.QueryStatus ?? 'RUNNING'
      options.onProgress?.({matched: 0, pages: 0, status})
      if (status === 'QUEUED' || status === 'RUNNING') return undefined
      if (status !== 'FINISHED') {
        throw new KmsctlError('FAILED', `The CloudTrail Lake query ${queryId} ended ${status}${p.ErrorMessage ? `: ${p.ErrorMessage}` : ''}.`, {
          details: {queryId, sql},
          remedy: 'Check the event data store ARN and its region (--region).',
        })
      }

      return p
    },
    {firstMs: options.pollMs ?? 1000, growth: 1, maxMs: options.pollMs ?? 1000, signal: options.signal, sleep: options.sleep},
  )
  if (first) {
    const pages = await readResultPages({
      aliases: options.aliases,
      dedupe: false,
      first,
      maxEvents: options.maxEvents,
      next: page,
      onMatches: options.onMatches,
      onPage: (matched) => options.onProgress?.({matched, pages: result.pages, status: 'FINISHED'}),
      read: (p) => ({records: (p.QueryResultRows ?? []).map((row) => recordFromRow(row)), token: p.NextToken}),
      signal: options.signal,
      spec: options.spec,
    })
    Object.assign(result, {interrupted: pages.interrupted, matched: pages.matched, pages: pages.pages, reachedMaxEvents: pages.reachedMaxEvents})
    if (!pages.interrupted && !pages.reachedMaxEvents) return result
  } else {
    result.interrupted = true
  }

  // Stopped early: the query need not keep running (and costing) on the service.
  try {
    await options.client.send(new CancelQueryCommand({EventDataStore: options.eventDataStore, QueryId: queryId}))
  } catch {
    // A query that already finished cannot be cancelled; nothing to do.
  }

  return result
}
