// What differs between the SQL Athena and CloudTrail Lake run (Trino's dialect) and DuckDB's, for the
// statements kmsctl (and a person at the AWS CLI) sends: a few functions have other names or shapes, and
// a CloudTrail Lake statement names its event data store by ID, which is not an identifier. The
// statement is tokenised (strings, quoted identifiers and comments are kept as they are) and only
// these tokens change; everything else is executed by DuckDB as written.

/** Trino functions that DuckDB spells differently. */
const RENAMES: Record<string, string> = {
  array_join: 'array_to_string',
  cardinality: 'len',
  // element_at(array, i) and element_at(map, k): a macro (DUCKDB_MACROS) indexes both.
  element_at: 'trino_element_at',
  transform: 'list_transform',
}

/** Macros that give DuckDB the Trino functions it lacks. */
export const DUCKDB_MACROS = [
  'CREATE OR REPLACE MACRO trino_element_at(x, i) AS x[i]',
  'CREATE OR REPLACE MACRO json_extract_scalar(j, p) AS json_extract_string(j, p)',
  'CREATE OR REPLACE MACRO from_iso8601_timestamp(s) AS CAST(s AS TIMESTAMPTZ)',
]

type TokenKind = 'comment' | 'other' | 'quoted' | 'space' | 'string' | 'word'

interface Token {
  kind: TokenKind
  text: string
}

/** Splits a statement into tokens; throws on an unterminated string or quoted identifier. */
export function tokenize(sql: string): Token[] {
  const tokens: Token[] = []
  let i = 0
  while (i < sql.length) {
    const c = sql[i]
    if (c === "'" || c === '"' || c === '`') {
      let j = i + 1
      for (;;) {
        if (j >= sql.length) throw new SqlSyntaxError(`unterminated ${c === "'" ? 'string literal' : 'quoted identifier'}`)
        if (sql[j] === c) {
          if (sql[j + 1] === c) {
            j += 2
            continue
          }

          break
        }

        j++
      }

      tokens.push({kind: c === "'" ? 'string' : 'quoted', text: sql.slice(i, j + 1)})
      i = j + 1
    } else if (c === '-' && sql[i + 1] === '-') {
      const end = sql.indexOf('\n', i)
      const j = end === -1 ? sql.length : end
      tokens.push({kind: 'comment', text: sql.slice(i, j)})
      i = j
    } else if (c === '/' && sql[i + 1] === '*') {
      const end = sql.indexOf('*/', i + 2)
      const j = end === -1 ? sql.length : end + 2
      tokens.push({kind: 'comment', text: sql.slice(i, j)})
      i = j
    } else if (/\s/.test(c)) {
      let j = i
      while (j < sql.length && /\s/.test(sql[j])) j++
      tokens.push({kind: 'space', text: sql.slice(i, j)})
      i = j
    } else if (/[\w$]/.test(c)) {
      let j = i
      while (j < sql.length && /[\w$]/.test(sql[j])) j++
      tokens.push({kind: 'word', text: sql.slice(i, j)})
      i = j
    } else {
      tokens.push({kind: 'other', text: c})
      i++
    }
  }

  return tokens
}

export class SqlSyntaxError extends Error {}

export interface TranslateOptions {
  /**
   * CloudTrail Lake: the table named after FROM (an event data store ID, letters, digits and dashes)
   * becomes this DuckDB table.
   */
  lakeTable?: (id: string) => string
}

/** A backquoted identifier (Hive DDL, Athena) is a double-quoted one in DuckDB. */
function requote(text: string): string {
  return text.startsWith('`') ? `"${text.slice(1, -1).replaceAll('``', '`').replaceAll('"', '""')}"` : text
}

/** The statement in DuckDB's dialect. */
export function toDuckDb(sql: string, options: TranslateOptions = {}): string {
  const tokens = tokenize(sql)
  const out: string[] = []
  const nextSolid = (from: number): number => {
    let j = from
    while (j < tokens.length && (tokens[j].kind === 'space' || tokens[j].kind === 'comment')) j++
    return j
  }

  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]
    if (t.kind === 'quoted') {
      out.push(requote(t.text))
      continue
    }

    if (t.kind !== 'word') {
      out.push(t.text)
      continue
    }

    const lower = t.text.toLowerCase()
    const after = nextSolid(i + 1)
    if (RENAMES[lower] && tokens[after]?.text === '(') {
      out.push(RENAMES[lower])
      continue
    }

    if (lower === 'from' && options.lakeTable) {
      // The event data store ID: the run of words and dashes right after FROM.
      let j = after
      let id = ''
      while (j < tokens.length && (tokens[j].kind === 'word' || tokens[j].text === '-')) {
        id += tokens[j].text
        j++
      }

      if (id && tokens[after].kind === 'word' && lower === 'from' && !/^select$/i.test(id)) {
        out.push(t.text, ' ', options.lakeTable(id))
        i = j - 1
        continue
      }
    }

    out.push(t.text)
  }

  return out.join('')
}

/** Statement kind, as Athena reports it (StatementType). */
export function statementType(sql: string): 'DDL' | 'DML' | 'UTILITY' {
  const first = tokenize(sql).find((t) => t.kind === 'word')?.text.toUpperCase()
  if (first === 'SELECT' || first === 'WITH' || first === 'INSERT' || first === 'VALUES') return 'DML'
  if (first === 'CREATE' || first === 'DROP' || first === 'ALTER' || first === 'MSCK') return 'DDL'
  return 'UTILITY'
}

/** The literal of an Athena execution parameter as a value to bind: a quoted string, a number, a boolean or NULL. */
export function parameterValue(literal: string): boolean | null | number | string {
  const v = literal.trim()
  if (/^'.*'$/s.test(v)) {
    const inner = v.slice(1, -1)
    if (inner.replaceAll("''", '').includes("'")) throw new SqlSyntaxError(`execution parameter ${literal} is not one literal`)
    return inner.replaceAll("''", "'")
  }

  if (/^-?\d+(\.\d+)?$/.test(v)) return Number(v)
  if (/^(true|false)$/i.test(v)) return v.toLowerCase() === 'true'
  if (/^null$/i.test(v)) return null
  throw new SqlSyntaxError(`execution parameter ${literal} is not a literal (quote strings: 'value')`)
}
