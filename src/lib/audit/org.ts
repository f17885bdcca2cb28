// One audit over many account-regions: each account-region's report, its findings, keys and
// notes marked with the account and region, joined into one report. Exit code: 1 when a finding
// at or above --fail-on remains anywhere (as in one region), else 3 when an account-region (or a
// key) could not be audited, else 0.
import type {TargetSummary} from '../org/run.js'
import {type AuditReport, failsAt} from './audit.js'
import {CHECKS, type Severity, SEVERITIES, severityRank} from './registry.js'

export interface OrgAuditPart {
  account: string
  region: string
  report: AuditReport
}

/** The joined report, with each account-region's summary (`targets`). */
export type OrgAuditReport = AuditReport & {targets: TargetSummary[]}

export function mergeAuditReports(parts: readonly OrgAuditPart[], targets: TargetSummary[], base: Pick<AuditReport, 'checks' | 'failOn' | 'generatedAt' | 'options'>): OrgAuditReport {
  const where = (p: OrgAuditPart) => ({account: p.account, region: p.region})
  const order = new Map(CHECKS.map((c, i) => [c.id, i]))
  const findings = parts.flatMap((p) => p.report.findings.map((f) => ({...where(p), ...f})))
  findings.sort(
    (a, b) =>
      a.account.localeCompare(b.account) ||
      a.region.localeCompare(b.region) ||
      a.key.localeCompare(b.key) ||
      severityRank(b.severity) - severityRank(a.severity) ||
      order.get(a.check)! - order.get(b.check)!,
  )
  const suppressed = parts.flatMap((p) => p.report.suppressed.map((f) => ({...where(p), ...f})))
  const notChecked = parts.flatMap((p) => p.report.notChecked.map((n) => ({...where(p), ...n})))
  const failed = parts.flatMap((p) => p.report.failed.map((f) => ({...f, ref: `${p.account}/${p.region}/${f.ref}`})))
  const skipped = parts.flatMap((p) => p.report.skipped.map((s) => ({...s, ref: `${p.account}/${p.region}/${s.ref}`})))
  const keys = parts.flatMap((p) => p.report.keys.map((k) => ({...where(p), ...k})))
  const targetFailed = targets.some((t) => t.error)
  const partial = targetFailed || parts.some((p) => p.report.exitCode === 3 || p.report.failed.length > 0)
  const exitCode = failsAt(findings, base.failOn as Severity | undefined) ? 1 : partial ? 3 : 0
  const bySeverity = Object.fromEntries(SEVERITIES.map((s) => [s, findings.filter((f) => f.severity === s).length])) as Record<Severity, number>
  const byCheck = base.checks.map((id) => {
    const rows = parts.map((p) => p.report.summary.byCheck.find((c) => c.check === id)).filter((c) => c !== undefined)
    const def = CHECKS.find((c) => c.id === id)!
    return {
      check: id,
      findings: rows.reduce((n, c) => n + c.findings, 0),
      notChecked: rows.reduce((n, c) => n + c.notChecked, 0),
      severity: def.severity,
      suppressed: rows.reduce((n, c) => n + c.suppressed, 0),
      title: def.title,
    }
  })
  const regions = [...new Set(parts.map((p) => p.region))].sort()
  // A baseline entry is unused only when it matched nothing in any account-region.
  const first = parts.find((p) => p.report.baseline)?.report.baseline
  const baseline = first && {
    entries: first.entries.map((e, i) => {
      const matched = parts.reduce((n, p) => n + (p.report.baseline?.entries[i]?.matched ?? 0), 0)
      return {...e, matched, status: e.status === 'expired' ? e.status : matched > 0 ? ('accepted' as const) : ('unused' as const)}
    }),
    file: first.file,
  }
  return {
    ...(baseline ? {baseline} : {}),
    checks: base.checks,
    exitCode,
    failed,
    ...(base.failOn ? {failOn: base.failOn} : {}),
    findings,
    generatedAt: base.generatedAt,
    keys,
    notChecked,
    options: base.options,
    region: regions.join(','),
    skipped,
    summary: {
      byCheck,
      bySeverity,
      expiredBaseline: findings.filter((f) => f.baseline?.status === 'expired').length,
      failed: failed.length,
      findings: findings.length,
      keys: keys.length,
      notChecked: notChecked.length,
      skipped: skipped.length,
      suppressed: suppressed.length,
    },
    suppressed,
    targets,
  }
}
