// The semantic diff of two key policies: statements compared by value after normalisation (order
// of statements and of list values, a string vs a one-element list, an account ID vs its root ARN,
// action case), and each change classified as widening or narrowing access.
//
// Statements are paired: identical statements first, then statements with the same Sid ("changed"),
// then statements equal but for their Sid, then unnamed statements with the same effect and
// principals. What is left over is added or removed.
import {type Condition, type ListElement, type Policy, type PrincipalValue, type Statement, cmp, isNegatedOperator, parseOperator, statementLabel} from './model.js'

export type AccessChange = 'both' | 'narrowed' | 'neutral' | 'widened'

export interface StatementChange {
  kind: 'added' | 'changed' | 'removed'
  before?: Statement
  after?: Statement
  access: AccessChange
  /** What changed, in words: "adds principal arn:...", "removes condition StringEquals kms:ViaService". */
  reasons: string[]
}

export interface PolicyDiff {
  changes: StatementChange[]
  /** Statements equal in both policies. */
  unchanged: number
  /** The overall effect on access. 'unchanged' when there are no changes. */
  access: AccessChange | 'unchanged'
  /** Why access is widened, collected from the changes. */
  widenedBy: string[]
  narrowedBy: string[]
}

/** A canonical text form of a statement for comparison by value (the Sid left out on request). */
export function canonicalStatement(st: Statement, withSid = true): string {
  return JSON.stringify({
    action: st.action && {not: st.action.not, values: st.action.values.map((v) => v.toLowerCase()).sort()},
    conditions: st.conditions.map((c) => ({key: c.key.toLowerCase(), operator: c.operator, values: c.values})).sort((a, b) => cmp(a.operator, b.operator) || cmp(a.key, b.key)),
    effect: st.effect,
    principal: st.principal && {not: st.principal.not, values: st.principal.values.map((v) => `${v.type} ${v.value}`)},
    resource: st.resource,
    sid: withSid ? (st.sid ?? null) : undefined,
  })
}

export function diffPolicies(before: Policy, after: Policy): PolicyDiff {
  const oldLeft = [...before.statements]
  const newLeft = [...after.statements]
  const pairs: Array<[Statement, Statement]> = []
  let unchanged = 0

  const pairBy = (same: (a: Statement, b: Statement) => boolean, onPair: (a: Statement, b: Statement) => void) => {
    for (let i = 0; i < oldLeft.length; ) {
      const j = newLeft.findIndex((n) => same(oldLeft[i], n))
      if (j === -1) {
        i++
        continue
      }

      onPair(oldLeft[i], newLeft[j])
      oldLeft.splice(i, 1)
      newLeft.splice(j, 1)
    }
  }

  pairBy((a, b) => canonicalStatement(a) === canonicalStatement(b), () => unchanged++)
  pairBy((a, b) => a.sid !== undefined && a.sid === b.sid, (a, b) => pairs.push([a, b]))
  pairBy((a, b) => canonicalStatement(a, false) === canonicalStatement(b, false), (a, b) => pairs.push([a, b]))
  pairBy(
    (a, b) => a.sid === undefined && b.sid === undefined && a.effect === b.effect && JSON.stringify(a.principal) === JSON.stringify(b.principal),
    (a, b) => pairs.push([a, b]),
  )

  const changes: StatementChange[] = [
    ...oldLeft.map((st): StatementChange => ({
      access: st.effect === 'Allow' ? 'narrowed' : 'widened',
      before: st,
      kind: 'removed',
      reasons: [`removes ${st.effect} ${statementLabel(st)}`],
    })),
    ...pairs.map(([a, b]) => compareStatements(a, b)),
    ...newLeft.map((st): StatementChange => ({
      access: st.effect === 'Allow' ? 'widened' : 'narrowed',
      after: st,
      kind: 'added',
      reasons: [`adds ${st.effect} ${statementLabel(st)}${st.effect === 'Allow' ? ` for ${describeList(st.principal, principalText)}` : ''}`],
    })),
  ]
  changes.sort((x, y) => ((x.before ?? x.after)!.index - (y.before ?? y.after)!.index) || cmp(x.kind, y.kind))

  const widenedBy = changes.filter((c) => c.access === 'widened' || c.access === 'both').flatMap((c) => c.reasons)
  const narrowedBy = changes.filter((c) => c.access === 'narrowed' || c.access === 'both').flatMap((c) => c.reasons)
  let access: PolicyDiff['access'] = 'unchanged'
  if (changes.length > 0) {
    const w = changes.some((c) => c.access === 'widened' || c.access === 'both')
    const n = changes.some((c) => c.access === 'narrowed' || c.access === 'both')
    access = w && n ? 'both' : w ? 'widened' : n ? 'narrowed' : 'neutral'
  }

  return {access, changes, narrowedBy, unchanged, widenedBy}
}

/** Compares two paired statements: for an Allow, more principals/actions or fewer conditions widen access; for a Deny, the reverse. */
function compareStatements(a: Statement, b: Statement): StatementChange {
  const more: string[] = []
  const less: string[] = []
  const other: string[] = []
  const label = statementLabel(b)

  if (a.sid !== b.sid) other.push(`renames ${statementLabel(a)} to ${label}`)
  if (a.effect !== b.effect) {
    // Allow -> Deny narrows, Deny -> Allow widens.
    ;(b.effect === 'Deny' ? less : more).push(`${label} changes from ${a.effect} to ${b.effect}`)
    return finish(a, b, b.effect === 'Deny' ? [] : more, b.effect === 'Deny' ? less : [], other)
  }

  compareLists('principal', a.principal, b.principal, principalText, more, less)
  compareLists('action', a.action, b.action, (s) => s, more, less, (s) => s.toLowerCase())
  compareLists('resource', a.resource, b.resource, (s) => s, more, less)
  compareConditions(a.conditions, b.conditions, more, less)

  // For a Deny, matching more requests narrows access.
  return a.effect === 'Allow' ? finish(a, b, more, less, other) : finish(a, b, less, more, other)
}

function finish(a: Statement, b: Statement, widen: string[], narrow: string[], other: string[]): StatementChange {
  const label = statementLabel(b)
  const prefix = (s: string) => (s.includes(label) ? s : `${label}: ${s}`)
  const access: AccessChange = widen.length > 0 && narrow.length > 0 ? 'both' : widen.length > 0 ? 'widened' : narrow.length > 0 ? 'narrowed' : 'neutral'
  return {access, after: b, before: a, kind: 'changed', reasons: [...widen, ...narrow, ...other].map(prefix)}
}

function compareLists<T>(
  noun: string,
  a: ListElement<T> | undefined,
  b: ListElement<T> | undefined,
  text: (v: T) => string,
  more: string[],
  less: string[],
  identity: (s: string) => string = (s) => s,
): void {
  if (!a && !b) return
  if (!a || !b || a.not !== b.not) {
    // Switching between X and NotX (or dropping the element) cannot be ranked: count it as both.
    const desc = `${noun} ${describeList(a, text)} becomes ${describeList(b, text)}`
    more.push(desc)
    less.push(desc)
    return
  }

  const aSet = new Set(a.values.map((v) => identity(text(v))))
  const bSet = new Set(b.values.map((v) => identity(text(v))))
  const added = b.values.filter((v) => !aSet.has(identity(text(v)))).map(text)
  const removed = a.values.filter((v) => !bSet.has(identity(text(v)))).map(text)
  const Not = a.not ? `Not${noun[0].toUpperCase()}${noun.slice(1)}` : noun
  // Adding to a NotX list matches fewer requests.
  if (added.length > 0) (a.not ? less : more).push(`adds ${Not} ${added.join(', ')}`)
  if (removed.length > 0) (a.not ? more : less).push(`removes ${Not} ${removed.join(', ')}`)
}

function compareConditions(a: Condition[], b: Condition[], more: string[], less: string[]): void {
  const id = (c: Condition) => `${c.operator} ${c.key.toLowerCase()}`
  const bById = new Map(b.map((c) => [id(c), c]))
  const aById = new Map(a.map((c) => [id(c), c]))
  for (const c of a) {
    const nc = bById.get(id(c))
    if (!nc) {
      more.push(`removes condition ${conditionText(c)}`)
      continue
    }

    const added = nc.values.filter((v) => !c.values.includes(v))
    const removed = c.values.filter((v) => !nc.values.includes(v))
    if (added.length === 0 && removed.length === 0) continue
    const negated = isNegatedOperator(parseOperator(c.operator)?.base ?? 'StringEquals')
    // More values in a positive operator match more requests; in a negated one, fewer.
    const addsMatch = !negated
    if (added.length > 0) (addsMatch ? more : less).push(`condition ${c.operator} ${c.key} adds ${added.join(', ')}`)
    if (removed.length > 0) (addsMatch ? less : more).push(`condition ${c.operator} ${c.key} drops ${removed.join(', ')}`)
  }

  for (const c of b) {
    if (!aById.has(id(c))) less.push(`adds condition ${conditionText(c)}`)
  }
}

export function principalText(v: PrincipalValue): string {
  return v.type === 'AWS' ? v.value : `${v.type}:${v.value}`
}

export function conditionText(c: Condition): string {
  return `${c.operator} ${c.key} ${c.values.length === 1 ? c.values[0] : `[${c.values.join(', ')}]`}`
}

function describeList<T>(el: ListElement<T> | undefined, text: (v: T) => string): string {
  if (!el) return '(none)'
  return `${el.not ? 'all but ' : ''}${el.values.map(text).join(', ')}`
}

export interface StatementChangeJson {
  kind: StatementChange['kind']
  access: AccessChange
  sid?: string
  reasons: string[]
  /** The statements as written in each document. */
  before?: Record<string, unknown>
  after?: Record<string, unknown>
}

export interface PolicyDiffJson {
  access: PolicyDiff['access']
  unchanged: number
  changes: StatementChangeJson[]
  widenedBy: string[]
  narrowedBy: string[]
}

/** The diff as plain data for --json. */
export function diffToJson(diff: PolicyDiff): PolicyDiffJson {
  return {
    access: diff.access,
    changes: diff.changes.map((c) => ({
      access: c.access,
      after: c.after?.raw,
      before: c.before?.raw,
      kind: c.kind,
      reasons: c.reasons,
      sid: (c.after ?? c.before)?.sid,
    })),
    narrowedBy: diff.narrowedBy,
    unchanged: diff.unchanged,
    widenedBy: diff.widenedBy,
  }
}
