// CSV (RFC 4180): one row per finding, accepted ones included with their baseline status.
import type {AuditReport} from './audit.js'
import type {AuditFinding} from './types.js'

export const CSV_COLUMNS = ['key', 'keyId', 'keyArn', 'check', 'severity', 'title', 'message', 'remedy', 'command', 'baseline', 'fingerprint'] as const

export function csvField(value: string): string {
  // A cell a spreadsheet would read as a formula is quoted with a leading apostrophe.
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value
  return /[",\r\n]/.test(safe) || safe !== value ? `"${safe.replaceAll('"', '""')}"` : safe
}

function row(f: AuditFinding): string[] {
  const baseline = f.baseline ? `${f.baseline.status} until ${f.baseline.expires}: ${f.baseline.reason}` : ''
  return [f.key, f.keyId, f.keyArn, f.check, f.severity, f.title, f.message, f.remedy, f.command ?? '', baseline, f.fingerprint]
}

export function toCsv(report: AuditReport): string {
  const lines = [CSV_COLUMNS.join(','), ...[...report.findings, ...report.suppressed].map((f) => row(f).map((v) => csvField(v)).join(','))]
  return lines.join('\r\n') + '\r\n'
}
