// The audit: read what the selected checks need about each key (collect.ts), run the checks
// (checks/*.ts), apply the baseline, and decide the exit code. Reads only: nothing is ever changed.
import {createHash} from 'node:crypto'

import type {KeySource} from '../bulk/select.js'
import type {Pacer} from '../pacing.js'
import {type Baseline, type BaselineEntryUse, applyBaseline} from './baseline.js'
import type {CheckFn} from './checks/check.js'
import {grantChecks} from './checks/grants.js'
import {hygieneChecks} from './checks/hygiene.js'
import {lifecycleChecks} from './checks/lifecycle.js'
import {materialChecks} from './checks/material.js'
import {policyChecks} from './checks/policy.js'
import {type CollectDeps, type SkippedKey, collectFacts} from './collect.js'
import {type CheckDefinition, type Need, type Severity, CHECKS, SEVERITIES, fillTemplate, severityRank} from './registry.js'
import type {AuditFinding, AuditOptions, KeyFacts, NotChecked} from './types.js'

/** Every check's implementation, by ID (each registry entry has one: a unit test holds them together). */
export const IMPLEMENTATIONS: Readonly<Record<string, CheckFn>> = {...lifecycleChecks, ...materialChecks, ...policyChecks, ...grantChecks, ...hygieneChecks}

export interface KeyReport {
  /** Account and region (audits across accounts or regions only). */
  account?: string
  region?: string
  keyId: string
  arn: string
  /** First alias, else the key ID. */
  key: string
  aliases: string[]
  state: string
  findings: number
}

export interface CheckSummary {
  check: string
  severity: Severity
  title: string
  findings: number
  suppressed: number
  notChecked: number
}

export interface AuditSummary {
  keys: number
  findings: number
  bySeverity: Record<Severity, number>
  suppressed: number
  expiredBaseline: number
  notChecked: number
  skipped: number
  failed: number
  byCheck: CheckSummary[]
}

export interface AuditReport {
  region: string
  generatedAt: string
  checks: string[]
  options: Omit<AuditOptions, 'now'>
  keys: KeyReport[]
  /** Findings that count (including those whose baseline entry expired). */
  findings: AuditFinding[]
  /** Findings accepted by the baseline. */
  suppressed: AuditFinding[]
  notChecked: NotChecked[]
  skipped: SkippedKey[]
  /** Keys that could not be read at all. */
  failed: SkippedKey[]
  baseline?: {file: string; entries: BaselineEntryUse[]}
  failOn?: Severity
  /** 0 clean (or below --fail-on), 1 a finding at or above --fail-on, 3 some keys could not be audited. */
  exitCode: number
  summary: AuditSummary
}

export function fingerprintOf(check: string, keyArn: string, subject = ''): string {
  return createHash('sha256').update(`${check}\n${keyArn}\n${subject}`).digest('hex').slice(0, 32)
}

/** The label people know a key by: its first alias, else its ID. */
export function keyLabel(k: Pick<KeyFacts, 'aliases' | 'keyId'>): string {
  return k.aliases[0] ?? k.keyId
}

/** The reads the checks need. */
export function needsOf(checks: readonly CheckDefinition[]): Set<Need> {
  return new Set(checks.flatMap((c) => c.needs))
}

/** Runs the checks over the facts: findings and what could not be checked. Pure. */
export function runChecks(keys: readonly KeyFacts[], checks: readonly CheckDefinition[], options: AuditOptions): {findings: AuditFinding[]; notChecked: NotChecked[]} {
  const findings: AuditFinding[] = []
  const notChecked: NotChecked[] = []
  for (const k of keys) {
    const label = keyLabel(k)
    for (const def of checks) {
      const result = IMPLEMENTATIONS[def.id](k, options)
      if (typeof result === 'string') {
        notChecked.push({check: def.id, keyId: k.keyId, reason: result})
        continue
      }

      for (const raw of result) {
        const values = {alias: raw.alias, grant: raw.grant, key: label, subject: raw.subject}
        findings.push({
          check: def.id,
          ...(def.command ? {command: fillTemplate(def.command, values)} : {}),
          ...(raw.evidence ? {evidence: raw.evidence} : {}),
          fingerprint: fingerprintOf(def.id, k.arn, raw.subject),
          key: label,
          keyArn: k.arn,
          keyId: k.keyId,
          message: raw.message,
          remedy: fillTemplate(def.remedy, values),
          severity: def.severity,
          ...(raw.subject ? {subject: raw.subject} : {}),
          title: def.title,
        })
      }
    }
  }

  return {findings: sortFindings(findings), notChecked}
}

/** By key label, then severity (high first), then the registry's order. */
export function sortFindings(findings: AuditFinding[]): AuditFinding[] {
  const order = new Map(CHECKS.map((c, i) => [c.id, i]))
  return findings.sort(
    (a, b) => a.key.localeCompare(b.key) || severityRank(b.severity) - severityRank(a.severity) || order.get(a.check)! - order.get(b.check)! || (a.subject ?? '').localeCompare(b.subject ?? ''),
  )
}

/** True when a finding at or above the threshold remains. */
export function failsAt(findings: readonly AuditFinding[], failOn: Severity | undefined): boolean {
  if (!failOn) return false
  return findings.some((f) => severityRank(f.severity) >= severityRank(failOn))
}

export interface AuditInput {
  deps: CollectDeps
  /** Keys named (arguments, --tag, --file); every customer-managed key of the region when absent. */
  source?: KeySource
  checks: readonly CheckDefinition[]
  options: AuditOptions
  baseline?: Baseline
  failOn?: Severity
  pacer?: Pacer
  onProgress?: (done: number, total: number) => void
}

export async function runAudit(input: AuditInput): Promise<AuditReport> {
  const {checks, options} = input
  const collected = await collectFacts(input.deps, input.source, {
    disabledDays: options.disabledDays,
    needs: needsOf(checks),
    now: options.now,
    onProgress: input.onProgress,
    pacer: input.pacer,
    recentDays: options.recentDays,
  })
  return buildReport(collected.keys, {...input, failed: collected.failed, skipped: collected.skipped})
}

/** The report from facts already read (runAudit's second half; unit tests call it directly). */
export function buildReport(
  keys: readonly KeyFacts[],
  input: Pick<AuditInput, 'baseline' | 'checks' | 'failOn' | 'options'> & {region?: string; failed?: SkippedKey[]; skipped?: SkippedKey[]; deps?: {region: string}},
): AuditReport {
  const {checks, options} = input
  const sorted = [...keys].sort((a, b) => keyLabel(a).localeCompare(keyLabel(b)))
  const {findings: all, notChecked} = runChecks(sorted, checks, options)
  const aliases = new Map(sorted.map((k) => [k.keyId, k.aliases]))
  const applied = input.baseline ? applyBaseline(all, input.baseline, (id) => aliases.get(id) ?? [], options.now) : {active: all, entries: [], suppressed: []}
  const findings = applied.active
  const bySeverity = Object.fromEntries(SEVERITIES.map((s) => [s, findings.filter((f) => f.severity === s).length])) as Record<Severity, number>
  const failed = input.failed ?? []
  const skipped = input.skipped ?? []
  const unresolved = skipped.filter((s) => !s.keyId)
  const exitCode = failsAt(findings, input.failOn) ? 1 : failed.length > 0 || unresolved.length > 0 ? 3 : 0
  const {now, ...rest} = options
  return {
    ...(input.baseline ? {baseline: {entries: applied.entries, file: input.baseline.file}} : {}),
    checks: checks.map((c) => c.id),
    exitCode,
    failed,
    ...(input.failOn ? {failOn: input.failOn} : {}),
    findings,
    generatedAt: now.toISOString(),
    keys: sorted.map((k) => ({
      aliases: k.aliases,
      arn: k.arn,
      findings: findings.filter((f) => f.keyId === k.keyId).length,
      key: keyLabel(k),
      keyId: k.keyId,
      state: k.metadata.KeyState ?? '',
    })),
    notChecked,
    options: rest,
    region: input.region ?? input.deps?.region ?? sorted[0]?.region ?? '',
    skipped,
    suppressed: applied.suppressed,
    summary: {
      byCheck: checks.map((c) => ({
        check: c.id,
        findings: findings.filter((f) => f.check === c.id).length,
        notChecked: notChecked.filter((n) => n.check === c.id).length,
        severity: c.severity,
        suppressed: applied.suppressed.filter((f) => f.check === c.id).length,
        title: c.title,
      })),
      bySeverity,
      expiredBaseline: findings.filter((f) => f.baseline?.status === 'expired').length,
      failed: failed.length,
      findings: findings.length,
      keys: sorted.length,
      notChecked: notChecked.length,
      skipped: skipped.length,
      suppressed: applied.suppressed.length,
    },
  }
}

