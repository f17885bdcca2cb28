// Condition operators of the IAM policy language, as KMS key policies use them.
//
// Rules (IAM's):
// - All operators of a Condition block must match, all keys of an operator must match, and a key
//   matches when the request value matches ANY of the policy values (for a negated operator such as
//   StringNotEquals: when it matches NONE of them).
// - A key absent from the request: a positive operator does not match, a negated operator matches,
//   an ...IfExists operator matches, Null "true" matches.
// - ForAnyValue: at least one request value matches (an absent or empty key does not match).
//   ForAllValues: every request value matches (an absent or empty key matches).
//   A multi-valued key used without a set qualifier is treated as ForAnyValue for positive operators
//   and as "no value matches" for negated ones.
// - Condition key names compare case-insensitively; values as the operator says (StringEquals is
//   case-sensitive, StringEqualsIgnoreCase is not, StringLike takes * and ?, Arn* compare each of the
//   six colon-separated fields with wildcards).
// Policy variables (${aws:username}) are not expanded: they are compared literally.
import {ipInRange} from '../cidr.js'
import {globMatch} from '../glob.js'

import {type BaseOperator, type Condition, isNegatedOperator, parseOperator} from './model.js'

export type ContextValue = boolean | number | readonly string[] | string

/** Condition keys of one request, e.g. {"kms:ViaService": "s3.us-east-1.amazonaws.com", "kms:EncryptionContext:app": "web"}. */
export type RequestContext = Record<string, ContextValue | undefined>

export interface ConditionResult {
  operator: string
  key: string
  /** The policy's values. */
  values: string[]
  /** The request's values; undefined when the key is absent. */
  requestValues?: string[]
  matched: boolean
  /** One line explaining the outcome. */
  reason: string
}

/** A request context indexed by lower-cased key, for evaluating many conditions against one request. */
export class PreparedContext {
  private readonly byKey = new Map<string, string[]>()

  constructor(context: RequestContext) {
    for (const [k, v] of Object.entries(context)) {
      if (v === undefined) continue
      const lower = k.toLowerCase()
      if (!this.byKey.has(lower)) this.byKey.set(lower, Array.isArray(v) ? v.map(String) : [String(v)])
    }
  }

  get(key: string): string[] | undefined {
    return this.byKey.get(key.toLowerCase())
  }
}

/** The request's values for a condition key (names compare case-insensitively); undefined when absent. */
export function lookupContext(context: PreparedContext | RequestContext, key: string): string[] | undefined {
  if (context instanceof PreparedContext) return context.get(key)
  const lower = key.toLowerCase()
  for (const [k, v] of Object.entries(context)) {
    if (k.toLowerCase() !== lower || v === undefined) continue
    if (Array.isArray(v)) return v.map(String)
    return [String(v)]
  }

  return undefined
}

const operatorCache = new Map<string, ReturnType<typeof parseOperator>>()

function cachedOperator(operator: string): ReturnType<typeof parseOperator> {
  if (!operatorCache.has(operator)) {
    if (operatorCache.size > 1000) operatorCache.clear()
    operatorCache.set(operator, parseOperator(operator))
  }

  return operatorCache.get(operator)
}

export function evaluateCondition(condition: Condition, context: PreparedContext | RequestContext): ConditionResult {
  const parsed = cachedOperator(condition.operator)
  if (!parsed) return new Outcome(condition, false, undefined, () => `unknown operator ${condition.operator}`)
  const requestValues = lookupContext(context, condition.key)
  const absent = requestValues === undefined || requestValues.length === 0
  // Reasons are built only when read (the sandbox evaluates many requests and reads few reasons).
  const shownOf = () => (requestValues === undefined ? 'absent' : requestValues.length === 0 ? 'empty' : requestValues.map((v) => JSON.stringify(v)).join(', '))
  const policyShownOf = () => condition.values.map((v) => JSON.stringify(v)).join(', ')
  const result = (matched: boolean, why: () => string): ConditionResult => new Outcome(condition, matched, requestValues, why)

  if (parsed.base === 'Null') {
    const matched = condition.values.some((v) => (v.toLowerCase() === 'true') === absent)
    return result(matched, () => `${condition.key} is ${absent ? 'absent' : 'present'}; Null ${policyShownOf()} ${matched ? 'matches' : 'does not match'}`)
  }

  const negated = isNegatedOperator(parsed.base)
  const positive = positiveOf(parsed.base)
  const hit = (rv: string) => condition.values.some((pv) => matchOne(positive, pv, rv))
  // For one request value: does this operator's test pass?
  const passes = (rv: string) => (negated ? !hit(rv) : hit(rv))

  if (parsed.set === 'ForAllValues') {
    if (absent) return result(true, () => `${condition.key} is ${shownOf()}: ForAllValues matches an absent or empty key`)
    const failing = requestValues!.filter((rv) => !passes(rv))
    return result(failing.length === 0, () => failing.length === 0 ? `every value of ${condition.key} passes ${parsed.base} ${policyShownOf()}` : `${condition.key} value ${JSON.stringify(failing[0])} fails ${parsed.base} ${policyShownOf()}`)
  }

  if (parsed.set === 'ForAnyValue') {
    if (absent) return result(false, () => `${condition.key} is ${shownOf()}: ForAnyValue does not match an absent or empty key`)
    const passing = requestValues!.filter((rv) => passes(rv))
    return result(passing.length > 0, () => passing.length > 0 ? `${condition.key} value ${JSON.stringify(passing[0])} passes ${parsed.base} ${policyShownOf()}` : `no value of ${condition.key} (${shownOf()}) passes ${parsed.base} ${policyShownOf()}`)
  }

  if (absent) {
    if (parsed.ifExists) return result(true, () => `${condition.key} is absent: ${condition.operator} matches`)
    if (negated) return result(true, () => `${condition.key} is absent: the negated ${parsed.base} matches`)
    return result(false, () => `${condition.key} is absent: ${parsed.base} needs it`)
  }

  const matched = negated ? requestValues!.every((rv) => passes(rv)) : requestValues!.some((rv) => passes(rv))
  return result(matched, () => `${condition.key} is ${shownOf()}; ${parsed.base} ${policyShownOf()} ${matched ? 'matches' : 'does not match'}`)
}

/** A condition's outcome; its reason is worded only when read. */
class Outcome implements ConditionResult {
  readonly key: string
  readonly matched: boolean
  readonly operator: string
  readonly requestValues?: string[]
  readonly values: string[]
  #reason?: string
  readonly #why: () => string

  constructor(condition: Condition, matched: boolean, requestValues: string[] | undefined, why: () => string) {
    this.key = condition.key
    this.operator = condition.operator
    this.values = condition.values
    this.matched = matched
    this.requestValues = requestValues
    this.#why = why
  }

  get reason(): string {
    this.#reason ??= this.#why()
    return this.#reason
  }

  toJSON(): ConditionResult {
    return {key: this.key, matched: this.matched, operator: this.operator, reason: this.reason, requestValues: this.requestValues, values: this.values}
  }
}

function positiveOf(base: BaseOperator): BaseOperator {
  switch (base) {
    case 'StringNotEquals': {
      return 'StringEquals'
    }

    case 'StringNotEqualsIgnoreCase': {
      return 'StringEqualsIgnoreCase'
    }

    case 'StringNotLike': {
      return 'StringLike'
    }

    case 'NumericNotEquals': {
      return 'NumericEquals'
    }

    case 'DateNotEquals': {
      return 'DateEquals'
    }

    case 'NotIpAddress': {
      return 'IpAddress'
    }

    case 'ArnNotEquals':
    case 'ArnNotLike': {
      return 'ArnLike'
    }

    default: {
      return base
    }
  }
}

/** Does the request value rv satisfy the (positive) operator for the policy value pv? */
export function matchOne(op: BaseOperator, pv: string, rv: string): boolean {
  switch (op) {
    case 'StringEquals':
    case 'BinaryEquals': {
      return pv === rv
    }

    case 'StringEqualsIgnoreCase': {
      return pv.toLowerCase() === rv.toLowerCase()
    }

    case 'StringLike': {
      return globMatch(pv, rv)
    }

    case 'Bool': {
      return pv.toLowerCase() === rv.toLowerCase()
    }

    case 'NumericEquals':
    case 'NumericLessThan':
    case 'NumericLessThanEquals':
    case 'NumericGreaterThan':
    case 'NumericGreaterThanEquals': {
      return compareWith(op.slice('Numeric'.length), Number(rv), Number(pv))
    }

    case 'DateEquals':
    case 'DateLessThan':
    case 'DateLessThanEquals':
    case 'DateGreaterThan':
    case 'DateGreaterThanEquals': {
      return compareWith(op.slice('Date'.length), parseDate(rv), parseDate(pv))
    }

    case 'IpAddress': {
      return ipInRange(rv, pv)
    }

    case 'ArnEquals':
    case 'ArnLike': {
      return arnLike(pv, rv)
    }

    default: {
      return false
    }
  }
}

function compareWith(relation: string, a: number, b: number): boolean {
  if (Number.isNaN(a) || Number.isNaN(b)) return false
  switch (relation) {
    case 'Equals': {
      return a === b
    }

    case 'LessThan': {
      return a < b
    }

    case 'LessThanEquals': {
      return a <= b
    }

    case 'GreaterThan': {
      return a > b
    }

    case 'GreaterThanEquals': {
      return a >= b
    }

    default: {
      return false
    }
  }
}

/** An ISO 8601 date or epoch seconds, as milliseconds; NaN when neither. */
export function parseDate(value: string): number {
  if (/^\d+$/.test(value)) return Number(value) * 1000
  return Date.parse(value)
}

/** ArnLike: each of the six colon-separated fields compared separately, with wildcards. */
export function arnLike(pattern: string, arn: string): boolean {
  if (pattern === '*') return true
  const p = splitArn(pattern)
  const a = splitArn(arn)
  if (!p || !a) return globMatch(pattern, arn)
  return p.every((field, i) => globMatch(field, a[i]))
}

function splitArn(arn: string): string[] | undefined {
  const parts = arn.split(':')
  if (parts.length < 6) return undefined
  return [...parts.slice(0, 5), parts.slice(5).join(':')]
}
