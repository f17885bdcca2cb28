// CSV (RFC 4180): one row per finding, accepted ones included with their baseline status.
import type {AuditReport} from './audit.js'
import type {AuditFinding} from './types.js'

export const CSV_COLUMNS = ['key', 'keyId', 'keyArn', 'check', 'severity', 'title', 'message', 'remedy', 'command', 'baseline', 'fingerprint'] as const

export function csvField(value: string): string {
  // A cell a spreadsheet would read as a formula is quoted with a leading apostrophe.
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value
  return /[",\r\n]/.test(safe) || safe !== value ? `"${safe.replaceAll('"', '""')}"` : safe
}

function row(f: AuditFinding, where: boolean): string[] {
  const baseline = f.baseline ? `${f.baseline.status} until ${f.baseline.expires}: ${f.baseline.reason}` : ''
  return [...(where ? [f.account ?? '', f.region ?? ''] : []), f.key, f.keyId, f.keyArn, f.check, f.severity, f.title, f.message, f.remedy, f.command ?? '', baseline, f.fingerprint]
}

/** Across accounts or regions (findings carry an account), account and region lead each row. */
export function toCsv(report: AuditReport): string {
  const all = [...report.findings, ...report.suppressed]
  const where = report.keys.some((k) => k.account !== undefined) || all.some((f) => f.account !== undefined)
  const lines = [[...(where ? ['account', 'region'] : []), ...CSV_COLUMNS].join(','), ...all.map((f) => row(f, where).map((v) => csvField(v)).join(','))]
  return lines.join('\r\n') + '\r\n'
}
