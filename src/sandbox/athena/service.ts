// Athena in the sandbox (AWS JSON 1.1, X-Amz-Target AmazonAthena.*): StartQueryExecution,
// GetQueryExecution, GetQueryResults and StopQueryExecution. SELECT statements run for real in the
// embedded SQL engine (../sql/engine.ts) over the CloudTrail log files in the sandbox's buckets, with the
// execution parameters bound; CREATE DATABASE, CREATE EXTERNAL TABLE and DROP TABLE are kept in a
// catalog (athena/catalog.json in the sandbox directory), a table being its LOCATION in a bucket. Queries
// run asynchronously, as in Athena: QUEUED, RUNNING, then SUCCEEDED, FAILED or CANCELLED.
import {randomUUID} from 'node:crypto'
import {existsSync, mkdirSync, readFileSync, readdirSync, renameSync, statSync, writeFileSync} from 'node:fs'
import {dirname, join, sep} from 'node:path'

import {err} from '../errors.js'
import {jsonOk, parseJson} from '../http/protocol.js'
import type {SandboxService} from '../request.js'
import {type BucketMounts, bucketDir} from '../s3/buckets.js'
import {SqlSyntaxError, statementType, tokenize} from '../sql/dialect.js'
import type {SqlResult} from '../sql/engine.js'

export const ATHENA_TARGET_PREFIX = 'AmazonAthena.'

interface CatalogTable {
  location: string
  /** TBLPROPERTIES, as written. */
  properties: Record<string, string>
}

interface Catalog {
  databases: string[]
  tables: Record<string, CatalogTable>
}

interface Execution {
  completed?: number
  database?: string
  error?: {category: number; message: string; type: number}
  id: string
  parameters?: string[]
  query: string
  result?: SqlResult
  scanned: number
  state: 'CANCELLED' | 'FAILED' | 'QUEUED' | 'RUNNING' | 'SUCCEEDED'
  statementType: 'DDL' | 'DML' | 'UTILITY'
  submitted: number
  workgroup: string
  outputLocation: string
}

/** The sandbox's primary workgroup writes results here (so OutputLocation is optional, as with a configured workgroup). */
const DEFAULT_OUTPUT = 's3://kmsctl-sandbox-athena-results/'
const EXECUTIONS_KEPT = 1000

export interface AthenaEnvironment {
  dir: string
  mounts: BucketMounts
  nowMs: () => number
}

export class AthenaService {
  private readonly executions = new Map<string, Execution>()

  constructor(private readonly env: AthenaEnvironment) {}

  /** One operation: its output object, or a SandboxError. */
  async call(operation: string, input: Record<string, any>): Promise<Record<string, unknown>> {
    switch (operation) {
      case 'StartQueryExecution': {
        return this.start(input)
      }

      case 'GetQueryExecution': {
        return {QueryExecution: this.describe(this.find(input.QueryExecutionId))}
      }

      case 'GetQueryResults': {
        return this.results(input)
      }

      case 'StopQueryExecution': {
        const e = this.find(input.QueryExecutionId)
        if (e.state === 'QUEUED' || e.state === 'RUNNING') {
          e.state = 'CANCELLED'
          e.completed = this.env.nowMs()
        }

        return {}
      }

      default: {
        throw err('UnknownOperationException', `The kmsctl sandbox implements Athena StartQueryExecution, GetQueryExecution, GetQueryResults and StopQueryExecution, not ${operation}.`)
      }
    }
  }

  private find(id: unknown): Execution {
    if (typeof id !== 'string' || id.length === 0) throw err('InvalidRequestException', 'QueryExecutionId is required.')
    const e = this.executions.get(id)
    if (!e) throw err('InvalidRequestException', `QueryExecution ${id} was not found`)
    return e
  }

  private start(input: Record<string, any>): Record<string, unknown> {
    const query = input.QueryString
    if (typeof query !== 'string' || query.length === 0 || query.length > 262_144) {
      throw err('InvalidRequestException', '1 validation error detected: Value at \'queryString\' failed to satisfy constraint: Member must have length between 1 and 262144')
    }

    const parameters = input.ExecutionParameters
    if (parameters !== undefined && (!Array.isArray(parameters) || parameters.length === 0 || parameters.some((p) => typeof p !== 'string' || p.length === 0 || p.length > 1024))) {
      throw err('InvalidRequestException', '1 validation error detected: Value at \'executionParameters\' failed to satisfy constraint: Member must have length greater than or equal to 1, each 1 to 1024 characters')
    }

    const workgroup = input.WorkGroup ?? 'primary'
    if (typeof workgroup !== 'string' || !/^[\w.-]{1,128}$/.test(workgroup)) throw err('InvalidRequestException', `WorkGroup ${String(workgroup)} is not found.`)
    const output = input.ResultConfiguration?.OutputLocation ?? DEFAULT_OUTPUT
    const id = randomUUID()
    const execution: Execution = {
      database: input.QueryExecutionContext?.Database,
      id,
      outputLocation: `${String(output).replace(/\/?$/, '/')}${id}.csv`,
      parameters,
      query,
      scanned: 0,
      state: 'QUEUED',
      statementType: statementType(query),
      submitted: this.env.nowMs(),
      workgroup,
    }
    this.executions.set(id, execution)
    if (this.executions.size > EXECUTIONS_KEPT) this.executions.delete(this.executions.keys().next().value!)
    // Asynchronous, as in Athena: the caller polls GetQueryExecution.
    setImmediate(() => {
      void this.run(execution)
    })
    return {QueryExecutionId: id}
  }

  private async run(e: Execution): Promise<void> {
    if (e.state !== 'QUEUED') return
    e.state = 'RUNNING'
    try {
      const result = e.statementType === 'DDL' ? this.ddl(e) : await this.select(e)
      if (e.state !== 'RUNNING') return
      e.result = result
      e.state = 'SUCCEEDED'
    } catch (error) {
      if (e.state !== 'RUNNING') return
      e.state = 'FAILED'
      e.error = athenaFailure(error, e)
    } finally {
      e.completed ??= this.env.nowMs()
    }
  }

  // ---- DDL: the catalog --------------------------------------------------------------------------
  private catalogFile(): string {
    return join(this.env.dir, 'athena', 'catalog.json')
  }

  private catalog(): Catalog {
    try {
      return JSON.parse(readFileSync(this.catalogFile(), 'utf8')) as Catalog
    } catch {
      return {databases: [], tables: {}}
    }
  }

  private saveCatalog(c: Catalog): void {
    const file = this.catalogFile()
    mkdirSync(dirname(file), {recursive: true})
    writeFileSync(`${file}.tmp`, JSON.stringify(c, null, 2))
    renameSync(`${file}.tmp`, file)
  }

  private ddl(e: Execution): SqlResult {
    const words = tokenize(e.query).filter((t) => t.kind !== 'space' && t.kind !== 'comment')
    const upper = (i: number) => words[i]?.text.toUpperCase()
    const name = (t: {kind: string; text: string} | undefined) => (t ? (t.kind === 'quoted' ? t.text.slice(1, -1) : t.text).toLowerCase() : '')
    let i = 1
    const c = this.catalog()
    if (upper(0) === 'CREATE' && (upper(1) === 'DATABASE' || upper(1) === 'SCHEMA')) {
      i = 2
      const ifNotExists = upper(i) === 'IF' && upper(i + 1) === 'NOT' && upper(i + 2) === 'EXISTS'
      if (ifNotExists) i += 3
      const db = name(words[i])
      if (!/^[a-z0-9_]{1,255}$/.test(db)) throw new SqlSyntaxError(`line 1: mismatched input '${words[i]?.text ?? '<EOF>'}'. Expecting: a database name`)
      if (c.databases.includes(db)) {
        if (!ifNotExists) throw new AthenaFailure('ALREADY_EXISTS', `Database ${db} already exists`)
      } else {
        c.databases.push(db)
        this.saveCatalog(c)
      }

      return {columns: [], rows: []}
    }

    const tableName = (): [string, string] => {
      const first = name(words[i])
      if (words[i + 1]?.text === '.') {
        const second = name(words[i + 2])
        i += 3
        return [first, second]
      }

      i += 1
      if (!e.database) throw new AthenaFailure('SCHEMA_NOT_FOUND', 'line 1: Schema must be specified when session schema is not set')
      return [e.database.toLowerCase(), first]
    }

    if (upper(0) === 'CREATE' && (upper(1) === 'EXTERNAL' || upper(1) === 'TABLE')) {
      i = upper(1) === 'EXTERNAL' ? 3 : 2
      const ifNotExists = upper(i) === 'IF' && upper(i + 1) === 'NOT' && upper(i + 2) === 'EXISTS'
      if (ifNotExists) i += 3
      const [db, table] = tableName()
      if (!c.databases.includes(db)) throw new AthenaFailure('SCHEMA_NOT_FOUND', `Database ${db} does not exist`)
      const key = `${db}.${table}`
      if (c.tables[key]) {
        if (ifNotExists) return {columns: [], rows: []}
        throw new AthenaFailure('ALREADY_EXISTS', `Table ${key} already exists`)
      }

      const at = words.findIndex((w) => w.text.toUpperCase() === 'LOCATION')
      const location = at === -1 ? undefined : words[at + 1]?.kind === 'string' ? words[at + 1].text.slice(1, -1).replaceAll("''", "'") : undefined
      if (!location || !location.startsWith('s3://')) throw new AthenaFailure('INVALID_TABLE_PROPERTY', 'A CloudTrail table needs LOCATION \'s3://bucket/prefix/\'')
      const properties: Record<string, string> = {}
      const props = words.findIndex((w) => w.text.toUpperCase() === 'TBLPROPERTIES')
      if (props !== -1) {
        for (let j = props + 1; j < words.length - 2; j++) {
          if (words[j].kind === 'string' && words[j + 1].text === '=' && words[j + 2].kind === 'string') {
            properties[words[j].text.slice(1, -1)] = words[j + 2].text.slice(1, -1).replaceAll("''", "'")
          }
        }
      }

      c.tables[key] = {location, properties}
      this.saveCatalog(c)
      return {columns: [], rows: []}
    }

    if (upper(0) === 'DROP' && upper(1) === 'TABLE') {
      i = 2
      const ifExists = upper(i) === 'IF' && upper(i + 1) === 'EXISTS'
      if (ifExists) i += 2
      const [db, table] = tableName()
      const key = `${db}.${table}`
      if (!c.tables[key] && !ifExists) throw new AthenaFailure('TABLE_NOT_FOUND', `Table ${key} does not exist`)
      delete c.tables[key]
      this.saveCatalog(c)
      return {columns: [], rows: []}
    }

    throw new AthenaFailure('NOT_SUPPORTED', `The kmsctl sandbox runs CREATE DATABASE, CREATE EXTERNAL TABLE and DROP TABLE, not: ${e.query.slice(0, 60)}`)
  }

  // ---- SELECT: the engine --------------------------------------------------------------------------
  /** The local folder and log files of a table's LOCATION. */
  tableFiles(t: CatalogTable): {files: string[]; root: string} {
    const m = /^s3:\/\/([^/]+)\/?(.*)$/.exec(t.location)
    const dir = m ? bucketDir(this.env.mounts, m[1]) : undefined
    if (!m || !dir) return {files: [], root: join(this.env.dir, 'athena', 'no-such-bucket')}
    const root = join(dir, ...m[2].split('/').filter(Boolean))
    if (!existsSync(root) || !statSync(root).isDirectory()) return {files: [], root}
    const files = (readdirSync(root, {recursive: true}) as string[])
      .filter((rel) => (rel.endsWith('.json.gz') || rel.endsWith('.json')) && !rel.split(sep).includes('CloudTrail-Digest'))
      .map((rel) => join(root, rel))
      .sort()
    return {files, root}
  }

  private async select(e: Execution): Promise<SqlResult> {
    const c = this.catalog()
    // Every table of the catalog the statement names is (re)defined over its current files.
    const words = tokenize(e.query).filter((t) => t.kind !== 'space' && t.kind !== 'comment')
    const clean = (t: {kind: string; text: string}) => (t.kind === 'quoted' ? t.text.slice(1, -1) : t.text).toLowerCase()
    const named = new Set<string>()
    for (let j = 0; j < words.length; j++) {
      if (words[j + 1]?.text === '.' && words[j + 2]) named.add(`${clean(words[j])}.${clean(words[j + 2])}`)
      if (e.database) named.add(`${e.database.toLowerCase()}.${clean(words[j])}`)
    }

    const {sqlEngine} = await import('../sql/engine.js')
    const engine = await sqlEngine()
    let scanned = 0
    let any = false
    for (const key of named) {
      const t = c.tables[key]
      if (!t) continue
      any = true
      const [database, table] = key.split('.')
      const {files, root} = this.tableFiles(t)
      const {totalBytes} = await import('../sql/engine.js')
      scanned += totalBytes(files)
      // eslint-disable-next-line no-await-in-loop
      await engine.defineAthenaTable({database, files, root, table})
    }

    if (!any) {
      // The table after FROM, for the message.
      const from = words.findIndex((w) => w.text.toUpperCase() === 'FROM')
      const first = from === -1 ? undefined : words[from + 1]
      const ref = !first ? '?' : words[from + 2]?.text === '.' && words[from + 3] ? `${clean(first)}.${clean(words[from + 3])}` : `${e.database?.toLowerCase() ?? 'default'}.${clean(first)}`
      throw new AthenaFailure('TABLE_NOT_FOUND', `line 1: Table 'awsdatacatalog.${ref}' does not exist`)
    }

    // Unqualified table names resolve in the query's database.
    const sql = e.database ? `SET schema = '${e.database.toLowerCase().replaceAll("'", "''")}'` : undefined
    if (sql) await engine.query(sql)
    const result = await engine.query(e.query, e.parameters ?? [])
    e.scanned = scanned
    return result
  }

  private describe(e: Execution): Record<string, unknown> {
    const status: Record<string, unknown> = {State: e.state, SubmissionDateTime: e.submitted / 1000}
    if (e.completed) status.CompletionDateTime = e.completed / 1000
    if (e.error) {
      status.StateChangeReason = e.error.message
      status.AthenaError = {ErrorCategory: e.error.category, ErrorMessage: e.error.message, ErrorType: e.error.type, Retryable: false}
    }

    if (e.state === 'CANCELLED') status.StateChangeReason = 'Query cancelled by user'
    const elapsed = Math.max(0, (e.completed ?? this.env.nowMs()) - e.submitted)
    return {
      EngineVersion: {EffectiveEngineVersion: 'Athena engine version 3', SelectedEngineVersion: 'AUTO'},
      ...(e.parameters ? {ExecutionParameters: e.parameters} : {}),
      Query: e.query,
      QueryExecutionContext: e.database ? {Catalog: 'awsdatacatalog', Database: e.database} : {},
      QueryExecutionId: e.id,
      ResultConfiguration: {OutputLocation: e.outputLocation},
      StatementType: e.statementType,
      Statistics: {DataScannedInBytes: e.scanned, EngineExecutionTimeInMillis: elapsed, TotalExecutionTimeInMillis: elapsed},
      Status: status,
      WorkGroup: e.workgroup,
    }
  }

  private results(input: Record<string, any>): Record<string, unknown> {
    const e = this.find(input.QueryExecutionId)
    if (e.state === 'FAILED') throw err('InvalidRequestException', e.error?.message ?? 'Query failed')
    if (e.state === 'CANCELLED') throw err('InvalidRequestException', 'Query was cancelled')
    if (e.state !== 'SUCCEEDED' || !e.result) throw err('InvalidRequestException', `Query has not yet finished. Current state: ${e.state}`)
    const max = input.MaxResults ?? 1000
    if (!Number.isInteger(max) || max < 1 || max > 1000) throw err('InvalidRequestException', '1 validation error detected: Value at \'maxResults\' failed to satisfy constraint: Member must have value between 1 and 1000')
    // Rows of the result as Athena pages them: the header row first (SELECT), then the data.
    const header = e.statementType === 'DML' ? [e.result.columns.map((c) => c.name)] : []
    const all: Array<Array<null | string>> = [...header, ...e.result.rows]
    let from = 0
    if (input.NextToken !== undefined) {
      const m = /^(\d+)\.(.+)$/.exec(String(input.NextToken))
      if (!m || m[2] !== e.id) throw err('InvalidRequestException', 'The NextToken is not valid for this query.')
      from = Number(m[1])
    }

    const page = all.slice(from, from + max)
    const out: Record<string, unknown> = {
      ResultSet: {
        ResultSetMetadata: {
          ColumnInfo: e.result.columns.map((c) => ({CaseSensitive: c.type === 'varchar', CatalogName: 'hive', Label: c.name, Name: c.name, Nullable: 'UNKNOWN', Precision: 0, Scale: 0, SchemaName: '', TableName: '', Type: c.type})),
        },
        Rows: page.map((row) => ({Data: row.map((v) => (v === null ? {} : {VarCharValue: v}))})),
      },
      UpdateCount: 0,
    }
    if (from + max < all.length) out.NextToken = `${from + max}.${e.id}`
    return out
  }
}

/** A failure with Athena's error name (TABLE_NOT_FOUND, SYNTAX_ERROR, ...). */
class AthenaFailure extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message)
  }
}

function athenaFailure(error: unknown, _e: Execution): {category: number; message: string; type: number} {
  if (error instanceof AthenaFailure) return {category: 2, message: `${error.code}: ${error.message}`, type: error.code === 'TABLE_NOT_FOUND' ? 1006 : 1000}
  if (error instanceof SqlSyntaxError) return {category: 2, message: `SYNTAX_ERROR: ${error.message}`, type: 1004}
  const message = (error as Error)?.message ?? String(error)
  const catalog = /Catalog Error: Table with name (\S+) does not exist/.exec(message)
  if (catalog) return {category: 2, message: `TABLE_NOT_FOUND: line 1: Table '${catalog[1]}' does not exist`, type: 1006}
  if (/Parser Error|Binder Error|syntax error/i.test(message)) return {category: 2, message: `SYNTAX_ERROR: ${message.split('\n')[0]}`, type: 1004}
  return {category: 2, message: `GENERIC_USER_ERROR: ${message.split('\n')[0]}`, type: 1000}
}


const services = new WeakMap<object, AthenaService>()

/** Athena as a registered service of the request core (AWS JSON 1.1, X-Amz-Target AmazonAthena.*). */
export const athenaService: SandboxService = {
  name: 'athena',
  protocol: 'json',
  operationOf(req) {
    const target = req.headers['x-amz-target'] ?? ''
    return target.startsWith(ATHENA_TARGET_PREFIX) ? target.slice(ATHENA_TARGET_PREFIX.length) : undefined
  },
  async handle(ctx, req, env) {
    const input = parseJson(req.body)
    await env.limits.admit({account: ctx.principal.accountId, operation: ctx.operation, region: ctx.region, service: 'athena'})
    let athena = services.get(env.store)
    if (!athena) {
      athena = new AthenaService({dir: env.store.dir, mounts: env.buckets, nowMs: () => env.store.clock.nowMs()})
      services.set(env.store, athena)
    }

    return jsonOk(ctx.requestId, await athena.call(ctx.operation, input))
  },
}
