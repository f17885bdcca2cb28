// SARIF 2.1.0 for GitHub code scanning and other SARIF consumers: one rule per check (with help
// and a default level), one result per finding located at the key (a logical location with the
// key ARN, and a stable pseudo-path so that code scanning can show and track it), and a partial
// fingerprint so that the same finding is the same alert from one run to the next. Findings
// accepted by the baseline are kept, with an external suppression carrying the reason.
import type {AuditReport} from './audit.js'
import {CHECKS, type CheckDefinition, type Severity, fillTemplate} from './registry.js'
import type {AuditFinding} from './types.js'

export const SARIF_SCHEMA = 'https://json.schemastore.org/sarif-2.1.0.json'

const LEVEL: Record<Severity, 'error' | 'note' | 'warning'> = {high: 'error', low: 'note', medium: 'warning'}
/** GitHub ranks security alerts by this number: >= 7 high, >= 4 medium, else low. */
const SECURITY_SEVERITY: Record<Severity, string> = {high: '8.0', low: '3.0', medium: '5.5'}

/** Where code scanning shows a key's findings: the same path for the same key on every run. */
export function keyArtifactUri(arn: string): string {
  const [, , , region, account, resource] = arn.split(':')
  return `kms/${account}/${region}/${resource ?? 'key'}`
}

function rule(c: CheckDefinition) {
  const remedy = fillTemplate(c.remedy, {key: 'KEY'})
  const fix = c.command ? `${remedy} With kmsctl: ${fillTemplate(c.command, {key: 'KEY'})}` : remedy
  return {
    defaultConfiguration: {level: LEVEL[c.severity]},
    fullDescription: {text: c.reason},
    help: {
      markdown: `**${c.title}** (${c.severity})\n\n${c.reason}\n\n**Fix:** ${fillTemplate(c.remedy, {key: 'KEY'})}${c.command ? `\n\n\`\`\`\n${fillTemplate(c.command, {key: 'KEY'})}\n\`\`\`` : ''}`,
      text: `${c.reason} Fix: ${fix}`,
    },
    id: c.id,
    name: c.id.replaceAll(/(^|-)([a-z])/g, (_, __, ch: string) => ch.toUpperCase()),
    properties: {precision: 'high', 'problem.severity': c.severity === 'high' ? 'error' : c.severity === 'medium' ? 'warning' : 'recommendation', 'security-severity': SECURITY_SEVERITY[c.severity], tags: ['security', 'kms', c.group]},
    shortDescription: {text: c.title},
  }
}

function result(f: AuditFinding, ruleIndex: number) {
  return {
    level: LEVEL[f.severity],
    locations: [
      {
        logicalLocations: [{fullyQualifiedName: f.keyArn, kind: 'resource', name: f.account === undefined ? f.key : `${f.account}/${f.region}/${f.key}`}],
        physicalLocation: {artifactLocation: {uri: keyArtifactUri(f.keyArn)}, region: {startLine: 1}},
      },
    ],
    message: {text: `${f.key}: ${f.message} Fix: ${f.command ?? f.remedy}`},
    partialFingerprints: {'kmsctlFinding/v1': f.fingerprint},
    properties: {
      ...(f.baseline ? {baseline: f.baseline} : {}),
      ...(f.evidence ? {evidence: f.evidence} : {}),
      ...(f.account === undefined ? {} : {account: f.account, region: f.region}),
      keyArn: f.keyArn,
      keyId: f.keyId,
      severity: f.severity,
    },
    ruleId: f.check,
    ruleIndex,
    ...(f.baseline?.status === 'accepted'
      ? {suppressions: [{justification: `${f.baseline.reason} (accepted until ${f.baseline.expires})`, kind: 'external', status: 'accepted'}]}
      : {}),
  }
}

export function toSarif(report: AuditReport, version: string): Record<string, unknown> {
  const rules = CHECKS.filter((c) => report.checks.includes(c.id))
  const index = new Map(rules.map((r, i) => [r.id, i]))
  const results = [...report.findings, ...report.suppressed].map((f) => result(f, index.get(f.check)!))
  return {
    $schema: SARIF_SCHEMA,
    runs: [
      {
        automationDetails: {id: `kmsctl-audit/${report.region}/`},
        columnKind: 'unicodeCodePoints',
        invocations: [
          {
            endTimeUtc: report.generatedAt,
            executionSuccessful: report.failed.length === 0,
            exitCode: report.exitCode,
            ...(report.notChecked.length > 0 || report.failed.length > 0
              ? {
                  toolExecutionNotifications: [
                    ...report.failed.map((k) => ({level: 'error', message: {text: `${k.ref}: not audited: ${k.reason}`}})),
                    ...report.notChecked.map((n) => ({descriptor: {id: n.check}, level: 'warning', message: {text: `${n.keyId}: ${n.check} not checked: ${n.reason}`}})),
                  ],
                }
              : {}),
          },
        ],
        results,
        tool: {
          driver: {
            name: 'kmsctl',
            rules: rules.map((r) => rule(r)),
            semanticVersion: version,
            version,
          },
        },
      },
    ],
    version: '2.1.0',
  }
}
