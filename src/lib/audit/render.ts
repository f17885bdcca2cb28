// The audit for people: one table grouped by key (severity coloured on a terminal), then a
// summary by check and one closing line.
import {type Column, chalk, renderTable} from '../output.js'
import type {AuditReport} from './audit.js'
import {CHECKS, type Severity} from './registry.js'
import type {AuditFinding} from './types.js'

const PAINT: Record<Severity, (s: string) => string> = {high: (s) => chalk.red.bold(s), low: (s) => chalk.cyan(s), medium: (s) => chalk.yellow(s)}

export function severityText(s: Severity): string {
  return PAINT[s](s.toUpperCase())
}

/** `lead`: columns before the key (Account and Region across accounts or regions). */
export function findingsTable(findings: readonly AuditFinding[], width?: number, lead: Array<Column<AuditFinding>> = []): string {
  let previous = ''
  return renderTable(
    findings,
    [
      ...lead,
      {
        get(f) {
          const first = f.keyArn !== previous
          previous = f.keyArn
          return first ? (f.key === f.keyId ? f.keyId : `${f.key}\n${f.keyId}`) : ''
        },
        header: 'Key',
        // Alias and key ID: the key ID may be shortened so that the finding keeps its width.
        kind: 'id',
        minWidth: 20,
      },
      {get: (f) => severityText(f.severity), header: 'Severity', kind: 'fixed'},
      {get: (f) => f.check, header: 'Check', kind: 'name', minWidth: 12},
      {get: (f) => f.message + (f.baseline?.status === 'expired' ? `\n(baseline entry expired ${f.baseline.expires}: ${f.baseline.reason})` : ''), header: 'Finding', kind: 'text', minWidth: 24},
      {get: (f) => f.command ?? f.remedy, header: 'Fix', kind: 'text', minWidth: 16, priority: 2},
    ],
    // A report to read: findings wrap within their column.
    {multiline: true, width},
  )
}

export function summaryTable(report: AuditReport, width?: number): string {
  const rows = report.summary.byCheck.filter((c) => c.findings + c.suppressed + c.notChecked > 0)
  const order = new Map(CHECKS.map((c, i) => [c.id, i]))
  rows.sort((a, b) => b.findings - a.findings || order.get(a.check)! - order.get(b.check)!)
  return renderTable(
    rows,
    [
      {get: (c) => c.check, header: 'Check', kind: 'name'},
      {get: (c) => severityText(c.severity), header: 'Severity', kind: 'fixed'},
      {get: (c) => String(c.findings), header: 'Findings', kind: 'fixed'},
      {get: (c) => (c.suppressed ? String(c.suppressed) : ''), header: 'Accepted', kind: 'fixed', priority: 3},
      {get: (c) => (c.notChecked ? String(c.notChecked) : ''), header: 'Not checked', kind: 'fixed', priority: 3},
      {get: (c) => c.title, header: 'What', kind: 'text', minWidth: 16, priority: 2},
    ],
    width,
  )
}

/** "5 findings (1 high, 3 medium, 1 low) on 3 of 7 keys; 2 accepted by the baseline". */
export function summaryLine(report: AuditReport): string {
  const s = report.summary
  const withFindings = report.keys.filter((k) => k.findings > 0).length
  const parts = [
    `${s.findings} finding${s.findings === 1 ? '' : 's'} (${s.bySeverity.high} high, ${s.bySeverity.medium} medium, ${s.bySeverity.low} low) on ${withFindings} of ${s.keys} key${s.keys === 1 ? '' : 's'}`,
  ]
  if (s.suppressed) parts.push(`${s.suppressed} accepted by the baseline`)
  if (s.expiredBaseline) parts.push(`${s.expiredBaseline} whose baseline entry expired`)
  if (s.notChecked) parts.push(`${s.notChecked} check${s.notChecked === 1 ? '' : 's'} could not tell`)
  if (s.failed) parts.push(`${s.failed} key${s.failed === 1 ? '' : 's'} not audited`)
  return parts.join('; ')
}
