// SQL for Athena's CloudTrail table: the CREATE TABLE with partition projection over the account or
// organization layout (as the Athena documentation describes it), and the query that kmsctl's filters
// and --group-by become. Every value a user typed travels as an execution parameter (a `?` in the
// statement, its literal in ExecutionParameters, quotes doubled), never spliced into the statement;
// identifiers are checked against Athena's rules. The statement selects at least every row the filters
// accept: what SQL cannot say exactly (CIDR ranges, principal globs) is left to the local filters, which
// still run on every row.
import {usageError} from '../errors.js'
import {isGlob} from '../glob.js'
import {type FilterSpec, KMS_SOURCE} from './filters.js'
import type {GroupBy} from './group.js'
import {ACCOUNT_ID, REGION, type S3Location} from './sources/s3-layout.js'

export interface SqlQuery {
  /** Literals for the `?` placeholders, in order (Athena's ExecutionParameters). */
  parameters: string[]
  sql: string
}

/** Athena's limit on one execution parameter. */
const MAX_PARAMETER = 1024

/** A SQL string literal: single quotes doubled. NUL cannot be sent. */
export function sqlString(value: string): string {
  if (value.includes('\u0000')) throw usageError('A filter value holds a NUL character, which Athena cannot take.', 'Try this: remove it from the value.')
  return `'${value.replaceAll("'", "''")}'`
}

/** The statement with its parameters written in place (for --print-sql and the Athena console). */
export function inlineParameters(query: SqlQuery): string {
  let i = 0
  let out = ''
  let inString = false
  for (const ch of query.sql) {
    if (ch === "'") inString = !inString
    if (ch === '?' && !inString) {
      out += query.parameters[i++]
      continue
    }

    out += ch
  }

  return out
}

export interface TableName {
  database: string
  table: string
}

const IDENTIFIER = /^[a-z0-9_]{1,255}$/

/** D.T (or T with a default database): lower-case letters, digits and underscores, as Athena requires. */
export function parseTableName(value: string, flag = '--table'): TableName {
  const parts = value.trim().toLowerCase().split('.')
  if (parts.length !== 2 || !parts.every((p) => IDENTIFIER.test(p))) {
    throw usageError(`${flag} "${value}" is not DATABASE.TABLE (letters, digits and underscores).`, `Try this: ${flag} security.cloudtrail`)
  }

  return {database: parts[0], table: parts[1]}
}

export function checkIdentifier(value: string, flag: string): string {
  const v = value.trim().toLowerCase()
  if (!IDENTIFIER.test(v)) throw usageError(`${flag} "${value}" is not an Athena name (letters, digits and underscores).`, `Try this: ${flag} cloudtrail`)
  return v
}

class Parameters {
  readonly list: string[] = []

  add(value: string): string {
    const literal = sqlString(value)
    if (literal.length > MAX_PARAMETER) throw usageError(`A filter value is longer than Athena allows (${MAX_PARAMETER} characters): ${value.slice(0, 40)}...`, 'Try this: a shorter value.')
    this.list.push(literal)
    return '?'
  }

  in(values: readonly string[]): string {
    return `(${values.map((v) => this.add(v)).join(', ')})`
  }
}

/** A glob (* and ?) or a substring as a LIKE pattern, with \ as the escape character. */
export function likePattern(text: string, glob: boolean): string {
  const escaped = [...text].map((ch) => {
    if (ch === '%' || ch === '_' || ch === '\\') return `\\${ch}`
    if (glob && ch === '*') return '%'
    if (glob && ch === '?') return '_'
    return ch
  })
  return glob ? escaped.join('') : `%${escaped.join('')}%`
}

const TIME_SECOND = (t: number) => new Date(t).toISOString().replace(/\.\d{3}Z$/, 'Z')
const DAY = (t: number) => new Date(t).toISOString().slice(0, 10).replaceAll('-', '/')

/** The partition columns' values a query can be pruned to. */
export interface PartitionFilter {
  accounts?: string[]
  regions?: string[]
}

/**
 * Words of the principal description that a substring could match without matching any column:
 * such a substring, or one spanning two parts ("role/app"), is left to the local filter.
 */
const DESCRIPTION_WORDS = ['user', 'role', 'federated', 'root', 'via', 'an aws service', 'account', 'aws internal', 'saml', 'web-identity', 'identity-center', 'unknown']

function principalInSql(needle: string): boolean {
  const n = needle.toLowerCase()
  if (/[\s/()[\]]/.test(n) || n === '') return false
  return !DESCRIPTION_WORDS.some((w) => w.includes(n))
}

/** The columns of the principal a --principal substring is matched against. */
const PRINCIPAL_COLUMNS = [
  'useridentity.arn',
  'useridentity.username',
  'useridentity.principalid',
  'useridentity.accountid',
  'useridentity.invokedby',
  'useridentity.type',
  'useridentity.identityprovider',
  'useridentity.onbehalfof.userid',
  'useridentity.sessioncontext.sessionissuer.arn',
  'useridentity.sessioncontext.sessionissuer.username',
]

/** Conditions for the WHERE clause, and whether they say exactly what the local filters say. */
function whereClause(spec: FilterSpec, partitions: PartitionFilter, p: Parameters): {exact: boolean; where: string[]} {
  const where: string[] = []
  let exact = true
  if (!spec.allServices) where.push(`eventsource = ${p.add(KMS_SOURCE)}`)
  const accounts = [...new Set([...(partitions.accounts ?? []), ...(spec.accounts ?? [])])]
  if (accounts.length > 0) {
    where.push(`account IN ${p.in(accounts)}`)
    if (spec.accounts) where.push(`recipientaccountid IN ${p.in(spec.accounts)}`)
  }

  const regions = [...new Set([...(partitions.regions ?? []), ...(spec.regions ?? [])])]
  if (regions.length > 0) {
    where.push(`region IN ${p.in(regions)}`)
    if (spec.regions) where.push(`awsregion IN ${p.in(spec.regions)}`)
  }

  // The partition of a log file is its delivery day: on or after the event's day, at most a day later.
  if (spec.since) {
    const t = Date.parse(spec.since)
    where.push(`"timestamp" >= ${p.add(DAY(t))}`, `eventtime >= ${p.add(TIME_SECOND(Math.ceil(t / 1000) * 1000))}`)
  }

  if (spec.until) {
    const t = Date.parse(spec.until)
    where.push(`"timestamp" <= ${p.add(DAY(t + 86_400_000))}`, `eventtime <= ${p.add(TIME_SECOND(Math.floor(t / 1000) * 1000))}`)
  }

  if (spec.events) {
    const exactNames = spec.events.filter((e) => !isGlob(e))
    const parts = exactNames.length > 0 ? [`eventname IN ${p.in(exactNames)}`] : []
    for (const g of spec.events.filter((e) => isGlob(e))) parts.push(`eventname LIKE ${p.add(likePattern(g, true))} ESCAPE '\\'`)
    where.push(parts.length === 1 ? parts[0] : `(${parts.join(' OR ')})`)
  }

  if (spec.keys) {
    // Any mention of the key's ID or alias in what was sent, what came back, or the resources: the
    // local filter then decides (which field, which region).
    exact = false
    const needles = [...new Set(spec.keys.flatMap((k) => [k.id?.toLowerCase(), ...k.aliases].filter((v): v is string => Boolean(v))))]
    const parts: string[] = []
    for (const n of needles) {
      parts.push(
        `strpos(lower(requestparameters), ${p.add(n.toLowerCase())}) > 0`,
        `strpos(lower(responseelements), ${p.add(n.toLowerCase())}) > 0`,
        `cardinality(filter(resources, r -> strpos(lower(r.arn), ${p.add(n.toLowerCase())}) > 0)) > 0`,
      )
    }

    where.push(`(${parts.join(' OR ')})`)
  }

  if (spec.principals) {
    const sqlable = spec.principals.filter((v) => !isGlob(v) && principalInSql(v))
    if (sqlable.length === spec.principals.length) {
      const parts = sqlable.flatMap((v) => PRINCIPAL_COLUMNS.map((c) => `strpos(lower(${c}), ${p.add(v.toLowerCase())}) > 0`))
      where.push(`(${parts.join(' OR ')})`)
    }

    exact = false
  }

  if (spec.accessKeys) where.push(`useridentity.accesskeyid IN ${p.in(spec.accessKeys)}`)
  if (spec.ips) {
    // Single IPv4 addresses, as written or IPv4-mapped; ranges and IPv6 are matched locally.
    const singles = spec.ips.filter((v) => !v.includes('/') && !v.includes(':'))
    if (singles.length === spec.ips.length) where.push(`sourceipaddress IN ${p.in(singles.flatMap((v) => [v, `::ffff:${v}`]))}`)
    exact = false
  }

  if (spec.userAgents) {
    const parts = spec.userAgents.map((v) => (isGlob(v) ? `lower(useragent) LIKE ${p.add(likePattern(v.toLowerCase(), true))} ESCAPE '\\'` : `strpos(lower(useragent), ${p.add(v.toLowerCase())}) > 0`))
    where.push(parts.length === 1 ? parts[0] : `(${parts.join(' OR ')})`)
  }

  if (spec.denied) where.push(`errorcode LIKE 'AccessDenied%'`)
  else if (spec.errors) where.push(`errorcode <> ''`)
  if (spec.readOnly) where.push(`readonly = 'true'`)
  if (spec.write) where.push(`readonly = 'false'`)
  return {exact, where}
}

/** The columns selected for each event, and the field of the record each goes back to. */
export const EVENT_COLUMNS: ReadonlyArray<[sql: string, name: string]> = [
  ['eventid', 'eventid'],
  ['eventtime', 'eventtime'],
  ['eventsource', 'eventsource'],
  ['eventname', 'eventname'],
  ['awsregion', 'awsregion'],
  ['sourceipaddress', 'sourceipaddress'],
  ['useragent', 'useragent'],
  ['errorcode', 'errorcode'],
  ['errormessage', 'errormessage'],
  ['readonly', 'readonly'],
  ['recipientaccountid', 'recipientaccountid'],
  ['sharedeventid', 'sharedeventid'],
  ['vpcendpointid', 'vpcendpointid'],
  ['eventtype', 'eventtype'],
  ['eventcategory', 'eventcategory'],
  ['useridentity.type', 'ui_type'],
  ['useridentity.principalid', 'ui_principalid'],
  ['useridentity.arn', 'ui_arn'],
  ['useridentity.accountid', 'ui_accountid'],
  ['useridentity.accesskeyid', 'ui_accesskeyid'],
  ['useridentity.username', 'ui_username'],
  ['useridentity.invokedby', 'ui_invokedby'],
  ['useridentity.identityprovider', 'ui_identityprovider'],
  ['useridentity.onbehalfof.userid', 'ui_onbehalfof_userid'],
  ['useridentity.sessioncontext.sessionissuer.type', 'ui_issuer_type'],
  ['useridentity.sessioncontext.sessionissuer.arn', 'ui_issuer_arn'],
  ['useridentity.sessioncontext.sessionissuer.username', 'ui_issuer_username'],
  ['useridentity.sessioncontext.sessionissuer.accountid', 'ui_issuer_accountid'],
  ['requestparameters', 'requestparameters'],
  ['responseelements', 'responseelements'],
  // type|arn pairs, space-separated (neither holds a space).
  ["array_join(transform(resources, r -> concat(coalesce(r.type, ''), '|', coalesce(r.arn, ''))), ' ')", 'resources'],
]

/** Group-by values computable in SQL (as group.ts computes them from events). */
const GROUP_SQL: Partial<Record<GroupBy, string>> = {
  day: 'substr(eventtime, 1, 10)',
  event: "coalesce(eventname, '?')",
  ip: "CASE WHEN coalesce(vpcendpointid, '') <> '' THEN concat(coalesce(sourceipaddress, ''), ' (', vpcendpointid, ')') WHEN coalesce(sourceipaddress, '') = '' THEN '-' ELSE sourceipaddress END",
  'user-agent': "CASE WHEN coalesce(useragent, '') = '' THEN '-' ELSE useragent END",
}

export interface AthenaSelect extends SqlQuery {
  /** The statement counts by group in Athena (the filters are all exact in SQL). */
  grouped: boolean
}

/**
 * The query for the filters: rows of events (normalised and filtered again locally), or, with a
 * --group-by that SQL can compute and filters SQL says exactly, the counts themselves.
 */
export function buildAthenaQuery(table: TableName, spec: FilterSpec, partitions: PartitionFilter = {}, group?: GroupBy): AthenaSelect {
  const p = new Parameters()
  const {exact, where} = whereClause(spec, partitions, p)
  const from = `"${table.database}"."${table.table}"`
  const whereSql = where.length > 0 ? ` WHERE ${where.join(' AND ')}` : ''
  const groupSql = group ? GROUP_SQL[group] : undefined
  if (groupSql && exact) {
    // Duplicate deliveries of one event count once, as with the other sources.
    const sql =
      `SELECT value, count(*) AS count, sum(CASE WHEN coalesce(errorcode, '') <> '' THEN 1 ELSE 0 END) AS errors, min(eventtime) AS first, max(eventtime) AS last` +
      ` FROM (SELECT DISTINCT eventid, eventtime, errorcode, ${groupSql} AS value FROM ${from}${whereSql})` +
      ` GROUP BY value ORDER BY count DESC, value`
    return {grouped: true, parameters: p.list, sql}
  }

  const select = EVENT_COLUMNS.map(([sql, name]) => (sql === name ? sql : `${sql} AS ${name}`)).join(', ')
  return {grouped: false, parameters: p.list, sql: `SELECT ${select} FROM ${from}${whereSql} ORDER BY eventtime, eventid`}
}

export interface CreateTableInput {
  /** Account IDs the projection enumerates. */
  accounts: string[]
  location: S3Location
  /** The organization ID (o-...) for an organization trail. */
  org?: string
  regions: string[]
  /** First day of the projection, YYYY/MM/DD. */
  start: string
  table: TableName
}

/** The prefix up to and including AWSLogs/ (and the organization folder). */
export function tableLocation(location: S3Location, org?: string): string {
  const base = location.prefix.includes('AWSLogs/') ? location.prefix.slice(0, location.prefix.indexOf('AWSLogs/') + 8) : `${location.prefix}AWSLogs/`
  return `s3://${location.bucket}/${base}${org ? `${org}/` : ''}`
}

const SAFE_LOCATION = /^s3:\/\/[a-z0-9.-]+\/[\w!\-.*()/]*$/

/**
 * CREATE EXTERNAL TABLE for CloudTrail logs with partition projection: partitions account (enum),
 * region (enum) and timestamp (date, yyyy/MM/dd, from `start` to NOW), located by
 * storage.location.template, so no partition ever needs adding.
 */
export function buildCreateTable(input: CreateTableInput): string {
  const location = tableLocation(input.location, input.org)
  if (!SAFE_LOCATION.test(location)) {
    throw usageError(`The bucket prefix of ${location} holds characters kmsctl does not put in a table definition.`, 'Try this: a prefix of letters, digits and / - _ . ! * ( ).')
  }

  if (input.accounts.length === 0) throw usageError('No account to create the table for.', 'Try this: --accounts 111122223333,444455556666')
  for (const a of input.accounts) if (!ACCOUNT_ID.test(a)) throw usageError(`--accounts: "${a}" is not a 12-digit account ID.`, 'Try this: --accounts 111122223333,444455556666')
  if (input.regions.length === 0) throw usageError('No region to create the table for.', 'Try this: --regions us-east-1,eu-west-1')
  for (const r of input.regions) if (!REGION.test(r)) throw usageError(`--regions: "${r}" is not an AWS region name.`, 'Try this: --regions us-east-1,eu-west-1')
  if (!/^\d{4}\/\d{2}\/\d{2}$/.test(input.start)) throw usageError(`--start "${input.start}" is not a date.`, 'Try this: --start 2024-01-01')
  const columns = [
    'eventversion STRING',
    [
      'useridentity STRUCT<type: STRING, principalid: STRING, arn: STRING, accountid: STRING, invokedby: STRING, accesskeyid: STRING,',
      '    username: STRING, identityprovider: STRING, onbehalfof: STRUCT<userid: STRING, identitystorearn: STRING>,',
      '    sessioncontext: STRUCT<attributes: STRUCT<mfaauthenticated: STRING, creationdate: STRING>,',
      '      sessionissuer: STRUCT<type: STRING, principalid: STRING, arn: STRING, accountid: STRING, username: STRING>,',
      '      ec2roledelivery: STRING, webidfederationdata: STRUCT<federatedprovider: STRING, attributes: MAP<STRING, STRING>>>>',
    ].join('\n'),
    'eventtime STRING',
    'eventsource STRING',
    'eventname STRING',
    'awsregion STRING',
    'sourceipaddress STRING',
    'useragent STRING',
    'errorcode STRING',
    'errormessage STRING',
    'requestparameters STRING',
    'responseelements STRING',
    'additionaleventdata STRING',
    'requestid STRING',
    'eventid STRING',
    'readonly STRING',
    'resources ARRAY<STRUCT<arn: STRING, accountid: STRING, type: STRING>>',
    'eventtype STRING',
    'apiversion STRING',
    'recipientaccountid STRING',
    'serviceeventdetails STRING',
    'sharedeventid STRING',
    'vpcendpointid STRING',
    'eventcategory STRING',
    'tlsdetails STRUCT<tlsversion: STRING, ciphersuite: STRING, clientprovidedhostheader: STRING>',
  ]
  const lines = columns.map((c, i) => `  ${c}${i === columns.length - 1 ? '' : ','}`)
  const template = `${location}\${account}/CloudTrail/\${region}/\${timestamp}`
  return [
    `CREATE EXTERNAL TABLE IF NOT EXISTS \`${input.table.database}\`.\`${input.table.table}\` (`,
    ...lines,
    ')',
    'PARTITIONED BY (account STRING, region STRING, `timestamp` STRING)',
    "ROW FORMAT SERDE 'org.apache.hive.hcatalog.data.JsonSerDe'",
    "STORED AS INPUTFORMAT 'com.amazon.emr.cloudtrail.CloudTrailInputFormat'",
    "OUTPUTFORMAT 'org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat'",
    `LOCATION '${location}'`,
    'TBLPROPERTIES (',
    "  'projection.enabled'='true',",
    "  'projection.account.type'='enum',",
    `  'projection.account.values'='${input.accounts.join(',')}',`,
    "  'projection.region.type'='enum',",
    `  'projection.region.values'='${input.regions.join(',')}',`,
    "  'projection.timestamp.type'='date',",
    "  'projection.timestamp.format'='yyyy/MM/dd',",
    "  'projection.timestamp.interval'='1',",
    "  'projection.timestamp.interval.unit'='DAYS',",
    `  'projection.timestamp.range'='${input.start},NOW',`,
    `  'storage.location.template'='${template}'`,
    ')',
  ].join('\n')
}

export function createDatabaseSql(database: string): string {
  return `CREATE DATABASE IF NOT EXISTS \`${database}\``
}

/** Athena's price: USD 5 per TB scanned (1 TB = 2^40 bytes), rounded up to the megabyte, 10 MB minimum per query. */
export function athenaCostUsd(bytes: number): number {
  const mb = Math.max(10, Math.ceil(bytes / 1_048_576))
  return (mb / 1_048_576) * 5
}
