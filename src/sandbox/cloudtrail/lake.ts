// CloudTrail Lake in the sandbox: StartQuery, GetQueryResults, DescribeQuery and CancelQuery. The
// statement (Trino's dialect, FROM <event data store ID>) runs for real in the embedded SQL engine over
// a table of the sandbox's own CloudTrail events; the sandbox has one event data store, whatever its ID.
import {randomUUID} from 'node:crypto'

import {err} from '../errors.js'
import {SqlSyntaxError} from '../sql/dialect.js'
import type {SqlResult} from '../sql/engine.js'
import type {TrailRecord} from '../store/store.js'

interface LakeQuery {
  bytes: number
  created: number
  error?: string
  id: string
  result?: SqlResult
  scanned: number
  statement: string
  status: 'CANCELLED' | 'FAILED' | 'FINISHED' | 'QUEUED' | 'RUNNING'
}

const KEPT = 1000

export class LakeService {
  private readonly queries = new Map<string, LakeQuery>()

  constructor(
    private readonly events: () => TrailRecord[],
    private readonly nowMs: () => number,
  ) {}

  handles(operation: string): boolean {
    return ['CancelQuery', 'DescribeQuery', 'GetQueryResults', 'StartQuery'].includes(operation)
  }

  async call(operation: string, input: Record<string, any>): Promise<Record<string, unknown>> {
    switch (operation) {
      case 'StartQuery': {
        const statement = input.QueryStatement
        if (typeof statement !== 'string' || statement.length === 0 || statement.length > 10_000) {
          throw err('InvalidParameterException', 'QueryStatement must be 1 to 10000 characters long.')
        }

        if (!/\bfrom\s+[\w-]+/i.test(statement)) throw err('InvalidQueryStatementException', 'The query must name an event data store after FROM.')
        const q: LakeQuery = {bytes: 0, created: this.nowMs(), id: randomUUID(), scanned: 0, statement, status: 'QUEUED'}
        this.queries.set(q.id, q)
        if (this.queries.size > KEPT) this.queries.delete(this.queries.keys().next().value!)
        setImmediate(() => {
          void this.run(q)
        })
        return {QueryId: q.id}
      }

      case 'GetQueryResults': {
        const q = this.find(input.QueryId)
        const max = input.MaxQueryResults ?? 1000
        if (!Number.isInteger(max) || max < 1 || max > 1000) throw err('InvalidMaxResultsException', 'MaxQueryResults must be from 1 to 1000.')
        const out: Record<string, unknown> = {QueryStatus: q.status}
        if (q.status === 'FAILED') out.ErrorMessage = q.error
        if (q.status !== 'FINISHED' || !q.result) return out
        let from = 0
        if (input.NextToken !== undefined) {
          const m = /^(\d+)\.(.+)$/.exec(String(input.NextToken))
          if (!m || m[2] !== q.id) throw err('InvalidNextTokenException', 'The NextToken is not valid for this query.')
          from = Number(m[1])
        }

        const {columns, rows} = q.result
        const page = rows.slice(from, from + max)
        out.QueryResultRows = page.map((row) => row.flatMap((v, i) => (v === null ? [] : [{[columns[i].name]: v}])))
        out.QueryStatistics = {BytesScanned: q.bytes, ResultsCount: page.length, TotalResultsCount: rows.length}
        if (from + max < rows.length) out.NextToken = `${from + max}.${q.id}`
        return out
      }

      case 'DescribeQuery': {
        const q = this.find(input.QueryId)
        return {
          ...(q.error ? {ErrorMessage: q.error} : {}),
          QueryId: q.id,
          QueryStatistics: {BytesScanned: q.bytes, CreationTime: q.created / 1000, EventsMatched: q.result?.rows.length ?? 0, EventsScanned: q.scanned, ExecutionTimeInMillis: 0},
          QueryStatus: q.status,
          QueryString: q.statement,
        }
      }

      case 'CancelQuery': {
        const q = this.find(input.QueryId)
        if (q.status !== 'QUEUED' && q.status !== 'RUNNING') throw err('InactiveQueryException', `The query ${q.id} is ${q.status} and cannot be cancelled.`)
        q.status = 'CANCELLED'
        return {QueryId: q.id, QueryStatus: 'CANCELLED'}
      }

      default: {
        throw err('UnsupportedOperationException', `The kmsctl sandbox does not implement CloudTrail ${operation}.`)
      }
    }
  }

  private find(id: unknown): LakeQuery {
    if (typeof id !== 'string' || !id) throw err('InvalidParameterException', 'QueryId is required.')
    const q = this.queries.get(id)
    if (!q) throw err('QueryIdNotFoundException', `The query ID ${id} does not exist or does not map to a query.`)
    return q
  }

  private async run(q: LakeQuery): Promise<void> {
    if (q.status !== 'QUEUED') return
    q.status = 'RUNNING'
    try {
      const {sqlEngine} = await import('../sql/engine.js')
      const engine = await sqlEngine()
      const events = this.events()
      await engine.loadLakeTable('lake_events', events)
      q.scanned = events.length
      q.bytes = events.reduce((n, e) => n + JSON.stringify(e).length, 0)
      const result = await engine.query(q.statement, [], {lakeTable: () => '"lake_events"'})
      if (q.status !== 'RUNNING') return
      q.result = result
      q.status = 'FINISHED'
    } catch (error) {
      if (q.status !== 'RUNNING') return
      q.status = 'FAILED'
      q.error = error instanceof SqlSyntaxError ? `Query syntax error: ${error.message}` : ((error as Error)?.message ?? String(error)).split('\n')[0]
    }
  }
}
