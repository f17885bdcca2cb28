// Terminal rendering of policy diffs, lint findings and simulations (tables fitted to the terminal).
import {type Column, chalk, renderTable, terminalWidth} from '../output.js'
import {type PolicyDiff, conditionText, principalText} from './diff.js'
import type {Evaluation} from './evaluate.js'
import type {Finding} from './lint.js'
import {type Statement, statementLabel} from './model.js'

interface DiffRow {
  sign: '+' | '-'
  st: Statement
}

const colour = (sign: DiffRow['sign'], s: string) => (sign === '+' ? chalk.green(s) : chalk.red(s))

/** The semantic diff as +/- rows: Sid, Effect, Principal, Action, Condition. A changed statement is a - row then a + row. */
export function renderDiffTable(diff: PolicyDiff, width = terminalWidth()): string {
  const rows: DiffRow[] = []
  for (const c of diff.changes) {
    if (c.before) rows.push({sign: '-', st: c.before})
    if (c.after) rows.push({sign: '+', st: c.after})
  }

  const columns: Array<Column<DiffRow>> = [
    {get: (r) => colour(r.sign, r.sign), header: '', shrink: false},
    {get: (r) => colour(r.sign, r.st.sid ?? `#${r.st.index + 1}`), header: 'Sid', minWidth: 4},
    {get: (r) => colour(r.sign, r.st.effect), header: 'Effect', shrink: false},
    {get: (r) => colour(r.sign, listText(r.st.principal, principalText, 'NotPrincipal')), header: 'Principal', kind: 'name', minWidth: 10},
    {get: (r) => colour(r.sign, listText(r.st.action, (s) => s, 'NotAction')), header: 'Action', kind: 'name', minWidth: 8},
    {get: (r) => colour(r.sign, r.st.conditions.map((c) => conditionText(c)).join('\n')), header: 'Condition', minWidth: 8},
  ]
  return renderTable(rows, columns, {multiline: true, width})
}

function listText<T>(el: {not: boolean; values: T[]} | undefined, text: (v: T) => string, notName: string): string {
  if (!el) return '(none)'
  const values = el.values.map(text).join('\n')
  return el.not ? `${notName}:\n${values}` : values
}

/** One line (plus reasons) saying whether access is widened or narrowed. */
export function renderAccessSummary(diff: PolicyDiff): string {
  const n = diff.changes.length
  const counts = `${n} statement${n === 1 ? '' : 's'} changed, ${diff.unchanged} unchanged`
  switch (diff.access) {
    case 'unchanged': {
      return `No semantic change (${diff.unchanged} statement${diff.unchanged === 1 ? '' : 's'} equal).`
    }

    case 'widened': {
      return [chalk.red(`Access is WIDENED (${counts}):`), ...diff.widenedBy.map((r) => chalk.red(`  + ${r}`))].join('\n')
    }

    case 'narrowed': {
      return [`Access is narrowed (${counts}):`, ...diff.narrowedBy.map((r) => `  - ${r}`)].join('\n')
    }

    case 'both': {
      return [
        chalk.red(`Access is WIDENED and narrowed (${counts}):`),
        ...diff.widenedBy.map((r) => chalk.red(`  + ${r}`)),
        ...diff.narrowedBy.map((r) => `  - ${r}`),
      ].join('\n')
    }

    default: {
      return `Access is unchanged (${counts}): ${diff.changes.flatMap((c) => c.reasons).join('; ')}`
    }
  }
}

export function renderFindings(findings: readonly Finding[], width = terminalWidth()): string {
  const sev = (f: Finding) => (f.severity === 'error' ? chalk.red('error') : f.severity === 'warning' ? chalk.yellow('warning') : 'info')
  return renderTable(
    findings,
    [
      {get: sev, header: 'Severity', shrink: false},
      {get: (f) => (f.statement === undefined ? '-' : (f.sid ?? `#${f.statement + 1}`)), header: 'Statement', minWidth: 9},
      {get: (f) => f.code, header: 'Rule', shrink: false},
      {get: (f) => f.message, header: 'Finding', minWidth: 20},
    ],
    {multiline: true, width},
  )
}

const DECISION_TEXT: Record<Evaluation['decision'], string> = {
  allow: 'ALLOW',
  'delegated-to-iam': 'DELEGATED TO IAM',
  deny: 'DENY (explicit)',
  'implicit-deny': 'DENY (implicit)',
}

export function decisionText(e: Evaluation): string {
  const t = DECISION_TEXT[e.decision]
  return e.decision === 'allow' ? chalk.green(t) : e.decision === 'delegated-to-iam' ? chalk.yellow(t) : chalk.red(t)
}

export function renderSimulation(results: readonly Evaluation[], width = terminalWidth()): string {
  return renderTable(
    results,
    [
      {get: (e) => e.action, header: 'Action', shrink: false},
      {get: (e) => decisionText(e), header: 'Decision', shrink: false},
      {get: (e) => e.statements.map((s) => statementLabel(s)).join('\n') || '-', header: 'Deciding statements', minWidth: 12},
      {get: (e) => e.reason, header: 'Why', minWidth: 20},
    ],
    {multiline: true, width},
  )
}

/** Every statement's evaluation for one request (--trace). */
export function renderTrace(e: Evaluation, width = terminalWidth()): string {
  const yes = (b: boolean) => (b ? 'yes' : 'no')
  return renderTable(
    e.trace,
    [
      {get: (t) => t.sid ?? `#${t.index + 1}`, header: 'Statement', minWidth: 9},
      {get: (t) => t.effect, header: 'Effect', shrink: false},
      {get: (t) => t.principal, header: 'Principal', shrink: false},
      {get: (t) => yes(t.action), header: 'Action', shrink: false},
      {get: (t) => t.conditions.map((c) => `${c.matched ? 'ok' : 'FAIL'}: ${c.reason}`).join('\n') || '-', header: 'Conditions', minWidth: 20},
      {get: (t) => (t.applies ? chalk.bold('applies') : '-'), header: 'Result', shrink: false},
    ],
    {multiline: true, width},
  )
}
