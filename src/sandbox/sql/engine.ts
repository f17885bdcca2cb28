// The sandbox's SQL engine for Athena and CloudTrail Lake: DuckDB, embedded, loaded on the first query
// (so `sandbox serve` pays nothing for it until an Athena or Lake call comes). Athena tables are views
// over the CloudTrail log files themselves (read_json, the Records unnested, the partition columns read
// from each file's path); the Lake event data store is a table of the sandbox's own events. Statements
// arrive in Trino's dialect and are translated by dialect.ts; values are bound as parameters.
import {mkdtempSync, rmSync, statSync, writeFileSync} from 'node:fs'
import {createRequire} from 'node:module'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {DUCKDB_MACROS, type TranslateOptions, parameterValue, toDuckDb} from './dialect.js'

type DuckDb = typeof import('@duckdb/node-api')
type Connection = import('@duckdb/node-api').DuckDBConnection

export interface SqlColumn {
  name: string
  /** Athena's type name (varchar, bigint, boolean, double, timestamp, ...). */
  type: string
}

export interface SqlResult {
  columns: SqlColumn[]
  /** Every value as text, as Athena and Lake return them; null for NULL. */
  rows: Array<Array<null | string>>
}

let engine: Promise<SqlEngine> | undefined

/** The process's engine (one in-memory DuckDB database), created on first use. */
export function sqlEngine(): Promise<SqlEngine> {
  engine ??= SqlEngine.create()
  return engine
}

const ATHENA_TYPES: Record<string, string> = {BIGINT: 'bigint', BOOLEAN: 'boolean', DATE: 'date', DOUBLE: 'double', FLOAT: 'float', HUGEINT: 'decimal', INTEGER: 'integer', TIMESTAMP: 'timestamp', VARCHAR: 'varchar'}

function text(value: unknown): null | string {
  if (value === null || value === undefined) return null
  if (typeof value === 'object') return JSON.stringify(value)
  return String(value)
}

/** The JSON type of a CloudTrail record as DuckDB reads it (only the fields the tables expose). */
const USER_IDENTITY =
  'STRUCT(type VARCHAR, principalId VARCHAR, arn VARCHAR, accountId VARCHAR, invokedBy VARCHAR, accessKeyId VARCHAR, userName VARCHAR, identityProvider VARCHAR, ' +
  'onBehalfOf STRUCT(userId VARCHAR, identityStoreArn VARCHAR), ' +
  'sessionContext STRUCT(attributes STRUCT(mfaAuthenticated VARCHAR, creationDate VARCHAR), sessionIssuer STRUCT(type VARCHAR, principalId VARCHAR, arn VARCHAR, accountId VARCHAR, userName VARCHAR), ec2RoleDelivery VARCHAR))'
const RECORD =
  `STRUCT(eventVersion VARCHAR, userIdentity ${USER_IDENTITY}, eventTime VARCHAR, eventSource VARCHAR, eventName VARCHAR, awsRegion VARCHAR, sourceIPAddress VARCHAR, ` +
  'userAgent VARCHAR, errorCode VARCHAR, errorMessage VARCHAR, requestParameters JSON, responseElements JSON, additionalEventData JSON, requestID VARCHAR, eventID VARCHAR, ' +
  'readOnly VARCHAR, resources STRUCT(ARN VARCHAR, accountId VARCHAR, type VARCHAR)[], eventType VARCHAR, apiVersion VARCHAR, recipientAccountId VARCHAR, serviceEventDetails JSON, ' +
  'sharedEventID VARCHAR, vpcEndpointId VARCHAR, eventCategory VARCHAR, tlsDetails STRUCT(tlsVersion VARCHAR, cipherSuite VARCHAR, clientProvidedHostHeader VARCHAR))'

const sqlText = (s: string) => `'${s.replaceAll("'", "''")}'`
const ident = (s: string) => `"${s.replaceAll('"', '""')}"`

export interface AthenaTable {
  database: string
  /** The log files of the table (already listed from its location). */
  files: string[]
  /** The local directory that the table's LOCATION maps to: partitions are read from paths under it. */
  root: string
  table: string
}

export class SqlEngine {
  private queue: Promise<unknown> = Promise.resolve()

  private constructor(private readonly conn: Connection) {}

  static async create(): Promise<SqlEngine> {
    const duck = createRequire(import.meta.url)('@duckdb/node-api') as DuckDb
    const instance = await duck.DuckDBInstance.create(':memory:')
    const conn = await instance.connect()
    for (const m of DUCKDB_MACROS) await conn.run(m)
    return new SqlEngine(conn)
  }

  /** (Re)defines an Athena table as a view over its files, with Athena's lower-case column names. */
  defineAthenaTable(t: AthenaTable): Promise<void> {
    return this.serial(async () => {
      await this.conn.run(`CREATE SCHEMA IF NOT EXISTS ${ident(t.database)}`)
      const root = t.root.endsWith('/') ? t.root : `${t.root}/`
      // Partition values from the path under the location: <account>/CloudTrail/<region>/YYYY/MM/DD/.
      const part = (n: number) => `regexp_extract(substr(filename, ${root.length + 1}), '^(\\d{12})/CloudTrail/([^/]+)/(\\d{4}/\\d{2}/\\d{2})/', ${n})`
      const source =
        t.files.length === 0
          ? `(SELECT NULL::${RECORD} AS r, NULL::VARCHAR AS filename WHERE false)`
          : `(SELECT unnest(Records) AS r, filename FROM read_json([${t.files.map((f) => sqlText(f)).join(', ')}], filename = true, format = 'unstructured', ignore_errors = true, maximum_object_size = 1073741824, columns = {Records: ${sqlText(`${RECORD}[]`)}}))`
      const columns = [
        'r.eventVersion AS eventversion',
        'r.userIdentity AS useridentity',
        'r.eventTime AS eventtime',
        'r.eventSource AS eventsource',
        'r.eventName AS eventname',
        'r.awsRegion AS awsregion',
        'r.sourceIPAddress AS sourceipaddress',
        'r.userAgent AS useragent',
        'r.errorCode AS errorcode',
        'r.errorMessage AS errormessage',
        'CAST(r.requestParameters AS VARCHAR) AS requestparameters',
        'CAST(r.responseElements AS VARCHAR) AS responseelements',
        'CAST(r.additionalEventData AS VARCHAR) AS additionaleventdata',
        'r.requestID AS requestid',
        'r.eventID AS eventid',
        'r.readOnly AS readonly',
        'r.resources AS resources',
        'r.eventType AS eventtype',
        'r.apiVersion AS apiversion',
        'r.recipientAccountId AS recipientaccountid',
        'CAST(r.serviceEventDetails AS VARCHAR) AS serviceeventdetails',
        'r.sharedEventID AS sharedeventid',
        'r.vpcEndpointId AS vpcendpointid',
        'r.eventCategory AS eventcategory',
        'r.tlsDetails AS tlsdetails',
        `${part(1)} AS account`,
        `${part(2)} AS region`,
        `${part(3)} AS "timestamp"`,
      ]
      await this.conn.run(`CREATE OR REPLACE VIEW ${ident(t.database)}.${ident(t.table)} AS SELECT ${columns.join(', ')} FROM ${source}`)
    })
  }

  dropAthenaTable(database: string, table: string): Promise<void> {
    return this.serial(async () => {
      await this.conn.run(`DROP VIEW IF EXISTS ${ident(database)}.${ident(table)}`)
    })
  }

  /** Loads CloudTrail records as the Lake event data store table (replacing what it held). */
  loadLakeTable(name: string, records: ReadonlyArray<Record<string, any>>): Promise<void> {
    return this.serial(async () => {
      const dir = mkdtempSync(join(tmpdir(), 'kmsctl-lake-'))
      try {
        const file = join(dir, 'events.ndjson')
        const flat = (m: unknown): Record<string, string> | null => {
          if (!m || typeof m !== 'object') return null
          const out: Record<string, string> = {}
          for (const [k, v] of Object.entries(m)) if (v !== null && v !== undefined) out[k] = typeof v === 'string' ? v : JSON.stringify(v)
          return out
        }

        const lines = records.map((r) =>
          JSON.stringify({
            ...r,
            requestParameters: flat(r.requestParameters),
            resources: Array.isArray(r.resources) ? r.resources.map((x: Record<string, string>) => ({accountId: x.accountId, arn: x.ARN, type: x.type})) : null,
            responseElements: flat(r.responseElements),
          }),
        )
        writeFileSync(file, lines.join('\n') + '\n')
        const columns = {
          additionalEventData: 'MAP(VARCHAR, VARCHAR)',
          awsRegion: 'VARCHAR',
          errorCode: 'VARCHAR',
          errorMessage: 'VARCHAR',
          eventCategory: 'VARCHAR',
          eventID: 'VARCHAR',
          eventName: 'VARCHAR',
          eventSource: 'VARCHAR',
          eventTime: 'TIMESTAMP',
          eventType: 'VARCHAR',
          eventVersion: 'VARCHAR',
          readOnly: 'BOOLEAN',
          recipientAccountId: 'VARCHAR',
          requestID: 'VARCHAR',
          requestParameters: 'MAP(VARCHAR, VARCHAR)',
          resources: 'STRUCT(accountId VARCHAR, arn VARCHAR, type VARCHAR)[]',
          responseElements: 'MAP(VARCHAR, VARCHAR)',
          sharedEventID: 'VARCHAR',
          sourceIPAddress: 'VARCHAR',
          userAgent: 'VARCHAR',
          userIdentity: USER_IDENTITY,
          vpcEndpointId: 'VARCHAR',
        }
        const spec = Object.entries(columns)
          .map(([k, v]) => `${k}: ${sqlText(v)}`)
          .join(', ')
        const body = records.length === 0 ? '' : ` FROM read_json(${sqlText(file)}, format = 'newline_delimited', ignore_errors = true, columns = {${spec}})`
        await this.conn.run(records.length === 0 ? `CREATE OR REPLACE TABLE ${ident(name)} AS SELECT * FROM (SELECT ${Object.entries(columns).map(([k, v]) => `NULL::${v} AS ${k}`).join(', ')}) WHERE false` : `CREATE OR REPLACE TABLE ${ident(name)} AS SELECT *${body}`)
      } finally {
        rmSync(dir, {force: true, recursive: true})
      }
    })
  }

  /** Runs one statement (Trino dialect) with its parameter literals; every value comes back as text. */
  query(sql: string, parameters: readonly string[] = [], options: TranslateOptions = {}): Promise<SqlResult> {
    return this.serial(async () => {
      const prepared = await this.conn.prepare(toDuckDb(sql, options))
      const count = prepared.parameterCount
      if (count !== parameters.length) {
        throw new Error(`the statement has ${count} parameter${count === 1 ? '' : 's'} but ${parameters.length} execution parameter${parameters.length === 1 ? ' was' : 's were'} given`)
      }

      for (const [i, literal] of parameters.entries()) {
        const v = parameterValue(literal)
        if (v === null) prepared.bindNull(i + 1)
        else if (typeof v === 'boolean') prepared.bindBoolean(i + 1, v)
        else if (typeof v === 'number') prepared.bindDouble(i + 1, v)
        else prepared.bindVarchar(i + 1, v)
      }

      const reader = await prepared.runAndReadAll()
      const names = reader.columnNames()
      const types = reader.columnTypes().map((t) => String(t))
      return {
        columns: names.map((name, i) => ({name, type: ATHENA_TYPES[types[i]] ?? (types[i].endsWith('[]') ? 'array' : types[i].startsWith('STRUCT') ? 'row' : 'varchar')})),
        rows: reader.getRowsJson().map((row) => (row as unknown[]).map((v) => text(v))),
      }
    })
  }

  /** One statement at a time on the one connection. */
  private serial<T>(task: () => Promise<T>): Promise<T> {
    const run = this.queue.then(task, task)
    this.queue = run.catch(() => {})
    return run
  }
}

/** Total size of files (the data an Athena query over them scans). */
export function totalBytes(files: readonly string[]): number {
  let n = 0
  for (const f of files) {
    try {
      n += statSync(f).size
    } catch {
      // A file removed since it was listed scans nothing.
    }
  }

  return n
}
