// The key policy model: parsing a policy document into normalised statements.
//
// A key policy can be written in many equivalent ways (Statement as an object or a list, a single
// string or a list of strings, an account ID or its root ARN, any order of values). Everything in
// src/lib/policy/ works on the normalised form defined here, so that the evaluator, the diff, the
// lint rules and the lockout check agree on what a statement says.
//
//   const {policy, problems} = parsePolicy(text)
//   if (!policy) -> problems says why (invalid JSON, no Statement, ...)
//
// No oclif and no AWS SDK here: this module is shared with the sandbox.

/** KMS refuses key policies larger than this many bytes. */
export const MAX_POLICY_BYTES = 32_768

export type Effect = 'Allow' | 'Deny'

export type PrincipalType = 'AWS' | 'CanonicalUser' | 'Federated' | 'Service'

export interface PrincipalValue {
  type: PrincipalType
  /** An ARN, a service principal name, or '*'. Account IDs are normalised to arn:aws:iam::ACCOUNT:root. */
  value: string
}

export interface ListElement<T> {
  /** True for NotPrincipal / NotAction / NotResource. */
  not: boolean
  /** Deduplicated and sorted. */
  values: T[]
}

export interface Condition {
  /** The operator with its qualifiers as written, in canonical case: "ForAnyValue:StringLike", "StringEqualsIfExists". */
  operator: string
  /** The condition key as written ("kms:EncryptionContext:Department"); keys compare case-insensitively. */
  key: string
  /** The policy values as strings (true -> "true", 5 -> "5"), deduplicated and sorted. */
  values: string[]
}

export interface Statement {
  /** Position in the document's Statement list, from 0. */
  index: number
  sid?: string
  effect: Effect
  principal?: ListElement<PrincipalValue>
  action?: ListElement<string>
  resource?: ListElement<string>
  /** Sorted by operator, then key. */
  conditions: Condition[]
  /** The statement exactly as it appeared in the document. */
  raw: Record<string, unknown>
}

export interface Policy {
  version?: string
  id?: string
  statements: Statement[]
}

export type Severity = 'error' | 'warning' | 'info'

export interface Problem {
  severity: Severity
  /** A stable rule code, e.g. "invalid-json", "resource-not-star". */
  code: string
  message: string
  /** Index of the statement the problem is about, when it is about one. */
  statement?: number
  sid?: string
}

export interface ParseResult {
  /** Undefined when the text cannot be read as a policy at all (see problems). */
  policy?: Policy
  /** The parsed JSON document, when the text is JSON. */
  document?: unknown
  problems: Problem[]
}

const STATEMENT_KEYS = new Set(['Sid', 'Effect', 'Principal', 'NotPrincipal', 'Action', 'NotAction', 'Resource', 'NotResource', 'Condition'])
const TOP_KEYS = new Set(['Version', 'Id', 'Statement'])
const PRINCIPAL_TYPES: PrincipalType[] = ['AWS', 'CanonicalUser', 'Federated', 'Service']

/** The base condition operators IAM defines (without IfExists and set qualifiers). */
export const BASE_OPERATORS = [
  'StringEquals',
  'StringNotEquals',
  'StringEqualsIgnoreCase',
  'StringNotEqualsIgnoreCase',
  'StringLike',
  'StringNotLike',
  'NumericEquals',
  'NumericNotEquals',
  'NumericLessThan',
  'NumericLessThanEquals',
  'NumericGreaterThan',
  'NumericGreaterThanEquals',
  'DateEquals',
  'DateNotEquals',
  'DateLessThan',
  'DateLessThanEquals',
  'DateGreaterThan',
  'DateGreaterThanEquals',
  'Bool',
  'BinaryEquals',
  'IpAddress',
  'NotIpAddress',
  'ArnEquals',
  'ArnLike',
  'ArnNotEquals',
  'ArnNotLike',
  'Null',
] as const

export type BaseOperator = (typeof BASE_OPERATORS)[number]

const OPERATOR_BY_LOWER = new Map<string, BaseOperator>(BASE_OPERATORS.map((o) => [o.toLowerCase(), o]))

export interface ParsedOperator {
  base: BaseOperator
  ifExists: boolean
  set?: 'ForAllValues' | 'ForAnyValue'
  /** The canonical spelling, e.g. "ForAnyValue:StringLikeIfExists". */
  canonical: string
}

/** Splits "ForAnyValue:StringEqualsIfExists" into its parts; undefined for an unknown operator. */
export function parseOperator(operator: string): ParsedOperator | undefined {
  let rest = operator.trim()
  let set: ParsedOperator['set']
  const colon = rest.indexOf(':')
  if (colon !== -1) {
    const qualifier = rest.slice(0, colon).toLowerCase()
    if (qualifier === 'foranyvalue') set = 'ForAnyValue'
    else if (qualifier === 'forallvalues') set = 'ForAllValues'
    else return undefined
    rest = rest.slice(colon + 1)
  }

  let ifExists = false
  if (/ifexists$/i.test(rest)) {
    ifExists = true
    rest = rest.slice(0, -'IfExists'.length)
  }

  const base = OPERATOR_BY_LOWER.get(rest.toLowerCase())
  if (!base) return undefined
  if (base === 'Null' && ifExists) return undefined
  const canonical = `${set ? set + ':' : ''}${base}${ifExists ? 'IfExists' : ''}`
  return {base, canonical, ifExists, set}
}

/** True for the operators whose match is negated (StringNotEquals, NotIpAddress, ArnNotLike, ...). */
export function isNegatedOperator(base: BaseOperator): boolean {
  return base.includes('Not')
}

/** Bytes and characters KMS refuses, before any JSON parsing. */
export function checkPolicyText(text: string): Problem[] {
  const problems: Problem[] = []
  const bytes = Buffer.byteLength(text, 'utf8')
  if (bytes > MAX_POLICY_BYTES) {
    problems.push({
      code: 'too-large',
      message: `The policy is ${bytes} bytes; KMS accepts at most ${MAX_POLICY_BYTES}.`,
      severity: 'error',
    })
  }

  // KMS accepts printable ASCII and Latin-1 (U+0020..U+007E, U+00A0..U+00FF) plus tab, LF and CR.
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    const ok = c === 0x09 || c === 0x0a || c === 0x0d || (c >= 0x20 && c <= 0x7e) || (c >= 0xa0 && c <= 0xff)
    if (!ok) {
      const line = text.slice(0, i).split('\n').length
      const cp = text.codePointAt(i) ?? c
      problems.push({
        code: 'invalid-characters',
        message: `Character U+${cp.toString(16).toUpperCase().padStart(4, '0')} on line ${line} is not accepted by KMS (only printable ASCII and Latin-1, tab, LF, CR).`,
        severity: 'error',
      })
      break
    }
  }

  return problems
}

/** Parses and normalises a key policy given as text. Problems include size, characters and structure. */
export function parsePolicy(text: string): ParseResult {
  const problems = checkPolicyText(text)
  let document: unknown
  try {
    document = JSON.parse(text)
  } catch (error) {
    problems.unshift({code: 'invalid-json', message: `The policy is not valid JSON: ${(error as Error).message}`, severity: 'error'})
    return {problems}
  }

  const result = normalisePolicy(document)
  return {document, policy: result.policy, problems: [...problems, ...result.problems]}
}

/** Normalises a parsed policy document. Structural problems are reported, and bad statements are skipped. */
export function normalisePolicy(document: unknown): {policy?: Policy; problems: Problem[]} {
  const problems: Problem[] = []
  if (!isObject(document)) {
    problems.push({code: 'invalid-structure', message: 'The policy must be a JSON object with a Statement list.', severity: 'error'})
    return {problems}
  }

  for (const k of Object.keys(document)) {
    if (!TOP_KEYS.has(k)) problems.push({code: 'invalid-structure', message: `Unknown top-level element "${k}" (expected Version, Id, Statement).`, severity: 'error'})
  }

  const version = document.Version
  if (version !== undefined && version !== '2012-10-17' && version !== '2008-10-17') {
    problems.push({code: 'invalid-structure', message: `Version "${String(version)}" is not a policy language version (use "2012-10-17").`, severity: 'error'})
  }

  const rawStatements = document.Statement
  if (rawStatements === undefined) {
    problems.push({code: 'invalid-structure', message: 'The policy has no Statement.', severity: 'error'})
    return {problems}
  }

  const list = Array.isArray(rawStatements) ? rawStatements : [rawStatements]
  const statements: Statement[] = []
  for (const [index, raw] of list.entries()) {
    const st = normaliseStatement(raw, index, problems)
    if (st) statements.push(st)
  }

  return {
    policy: {
      id: typeof document.Id === 'string' ? document.Id : undefined,
      statements,
      version: typeof version === 'string' ? version : undefined,
    },
    problems,
  }
}

function normaliseStatement(raw: unknown, index: number, problems: Problem[]): Statement | undefined {
  const where = (sid?: string) => (sid ? `Statement "${sid}"` : `Statement #${index + 1}`)
  if (!isObject(raw)) {
    problems.push({code: 'invalid-structure', message: `${where()} is not an object.`, severity: 'error', statement: index})
    return undefined
  }

  const sid = typeof raw.Sid === 'string' ? raw.Sid : undefined
  const problem = (code: string, message: string) => problems.push({code, message: `${where(sid)}: ${message}`, severity: 'error', sid, statement: index})
  let ok = true
  for (const k of Object.keys(raw)) {
    if (!STATEMENT_KEYS.has(k)) {
      problem('invalid-structure', `unknown element "${k}".`)
      ok = false
    }
  }

  if (raw.Sid !== undefined && typeof raw.Sid !== 'string') problem('invalid-structure', 'Sid must be a string.')
  const effect = raw.Effect
  if (effect !== 'Allow' && effect !== 'Deny') {
    problem('invalid-structure', `Effect must be "Allow" or "Deny"${effect === undefined ? ' (it is missing)' : `, not ${JSON.stringify(effect)}`}.`)
    ok = false
  }

  const pair = (a: string, b: string): {key?: string; not: boolean; value?: unknown} => {
    if (raw[a] !== undefined && raw[b] !== undefined) {
      problem('invalid-structure', `has both ${a} and ${b}.`)
      ok = false
    }

    if (raw[a] !== undefined) return {key: a, not: false, value: raw[a]}
    if (raw[b] !== undefined) return {key: b, not: true, value: raw[b]}
    return {not: false}
  }

  const p = pair('Principal', 'NotPrincipal')
  const a = pair('Action', 'NotAction')
  const r = pair('Resource', 'NotResource')

  let principal: ListElement<PrincipalValue> | undefined
  if (p.key) {
    const values = normalisePrincipal(p.value)
    if (values) principal = {not: p.not, values}
    else {
      problem('invalid-structure', `${p.key} must be "*" or an object such as {"AWS": "arn:..."} or {"Service": "..."}.`)
      ok = false
    }
  } else {
    problem('missing-principal', 'has no Principal (a key policy statement must name who it applies to).')
    ok = false
  }

  let action: ListElement<string> | undefined
  if (a.key) {
    const values = stringList(a.value)
    if (values && values.length > 0) action = {not: a.not, values: sortedUnique(values, (s) => s.toLowerCase())}
    else {
      problem('invalid-structure', `${a.key} must be a string or a non-empty list of strings.`)
      ok = false
    }
  }

  let resource: ListElement<string> | undefined
  if (r.key) {
    const values = stringList(r.value)
    if (values && values.length > 0) resource = {not: r.not, values: sortedUnique(values)}
    else {
      problem('invalid-structure', `${r.key} must be a string or a non-empty list of strings.`)
      ok = false
    }
  }

  const conditions: Condition[] = []
  if (raw.Condition !== undefined) {
    if (isObject(raw.Condition)) {
      for (const [op, block] of Object.entries(raw.Condition)) {
        const parsed = parseOperator(op)
        if (!parsed) {
          problem('unknown-operator', `unknown condition operator "${op}".`)
          ok = false
          continue
        }

        if (!isObject(block)) {
          problem('invalid-structure', `Condition "${op}" must map condition keys to values.`)
          ok = false
          continue
        }

        for (const [key, value] of Object.entries(block)) {
          const values = conditionValues(value)
          if (values === undefined) {
            problem('invalid-structure', `the value of ${op} ${key} must be a string, number, boolean or a list of them.`)
            ok = false
            continue
          }

          conditions.push({key, operator: parsed.canonical, values: sortedUnique(values)})
        }
      }
    } else {
      problem('invalid-structure', 'Condition must be an object.')
      ok = false
    }
  }

  if (!ok) return undefined
  conditions.sort((x, y) => cmp(x.operator, y.operator) || cmp(x.key.toLowerCase(), y.key.toLowerCase()))
  return {action, conditions, effect: effect as Effect, index, principal, raw, resource, sid}
}

function normalisePrincipal(value: unknown): PrincipalValue[] | undefined {
  if (value === '*') return [{type: 'AWS', value: '*'}]
  if (!isObject(value)) return undefined
  const out: PrincipalValue[] = []
  for (const [type, v] of Object.entries(value)) {
    if (!PRINCIPAL_TYPES.includes(type as PrincipalType)) return undefined
    const list = stringList(v)
    if (!list || list.length === 0) return undefined
    for (const s of list) {
      const trimmed = s.trim()
      out.push({type: type as PrincipalType, value: type === 'AWS' && /^\d{12}$/.test(trimmed) ? `arn:aws:iam::${trimmed}:root` : trimmed})
    }
  }

  if (out.length === 0) return undefined
  const seen = new Map<string, PrincipalValue>()
  for (const pv of out) seen.set(`${pv.type} ${pv.value}`, pv)
  return [...seen.values()].sort((x, y) => cmp(x.type, y.type) || cmp(x.value, y.value))
}

function stringList(value: unknown): string[] | undefined {
  if (typeof value === 'string') return [value]
  if (Array.isArray(value) && value.every((v) => typeof v === 'string')) return value as string[]
  return undefined
}

function conditionValues(value: unknown): string[] | undefined {
  const one = (v: unknown) => (typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'boolean' ? String(v) : undefined)
  if (Array.isArray(value)) {
    const out = value.map(one)
    return out.every((v) => v !== undefined) ? (out as string[]) : undefined
  }

  const single = one(value)
  return single === undefined ? undefined : [single]
}

/** Deduplicates (by the given identity) and sorts, keeping the first spelling seen. */
export function sortedUnique(values: string[], identity: (s: string) => string = (s) => s): string[] {
  const seen = new Map<string, string>()
  for (const v of values) if (!seen.has(identity(v))) seen.set(identity(v), v)
  return [...seen.entries()].sort((x, y) => cmp(x[0], y[0])).map(([, v]) => v)
}

export function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}

export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

/** "Sid \"KeyAdmins\"" or "statement #3", for messages. */
export function statementLabel(st: Pick<Statement, 'index' | 'sid'>): string {
  return st.sid ? `statement "${st.sid}"` : `statement #${st.index + 1}`
}

/** The account root ARN for an account ID. */
export function rootArn(account: string, partition = 'aws'): string {
  return `arn:${partition}:iam::${account}:root`
}

/** The account of an ARN (its fifth field), if it has one. */
export function arnAccount(arn: string): string | undefined {
  const parts = arn.split(':')
  return parts.length >= 6 && parts[0] === 'arn' && /^\d{12}$/.test(parts[4]) ? parts[4] : undefined
}

/** True for arn:PARTITION:iam::ACCOUNT:root. */
export function isRootArn(value: string): boolean {
  return /^arn:[\w-]+:iam::\d{12}:root$/.test(value)
}

/**
 * Pretty JSON with a stable key order: the policy elements in IAM's usual order (Version, Id, Statement;
 * Sid, Effect, Principal, Action, Resource, Condition), everything else alphabetically.
 */
export function stablePolicyJson(document: unknown): string {
  return JSON.stringify(orderKeys(document), null, 2) + '\n'
}

const KEY_ORDER = ['Version', 'Id', 'Statement', 'Sid', 'Effect', 'Principal', 'NotPrincipal', 'Action', 'NotAction', 'Resource', 'NotResource', 'Condition']

function orderKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(orderKeys)
  if (!isObject(value)) return value
  const keys = Object.keys(value).sort((a, b) => {
    const ia = KEY_ORDER.indexOf(a)
    const ib = KEY_ORDER.indexOf(b)
    if (ia !== -1 || ib !== -1) return (ia === -1 ? 99 : ia) - (ib === -1 ? 99 : ib)
    return cmp(a, b)
  })
  const out: Record<string, unknown> = {}
  for (const k of keys) out[k] = orderKeys(value[k])
  return out
}
