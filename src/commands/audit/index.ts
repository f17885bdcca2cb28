import {Args, Flags} from '@oclif/core'

import {KmsctlCommand} from '../../cli/base-command.js'
import {orgFlags, progressReporter, renderSummary, targetsFrom, whereColumns} from '../../cli/org-flags.js'
import {acrossTargets} from '../../lib/org/run.js'
import type {AuditFinding} from '../../lib/audit/types.js'
import {type AuditReport, runAudit} from '../../lib/audit/audit.js'
import {readBaseline} from '../../lib/audit/baseline.js'
import {toCsv} from '../../lib/audit/csv.js'
import {toJunit} from '../../lib/audit/junit.js'
import {type Severity, SEVERITIES, selectChecks} from '../../lib/audit/registry.js'
import {mergeAuditReports} from '../../lib/audit/org.js'
import {findingsTable, summaryLine, summaryTable} from '../../lib/audit/render.js'
import {toSarif} from '../../lib/audit/sarif.js'
import {DEFAULT_OPTIONS, GRANTS_PER_KEY_QUOTA} from '../../lib/audit/types.js'
import {readRefList, validateSource} from '../../lib/bulk/select.js'
import {usageError} from '../../lib/errors.js'
import {Journal} from '../../lib/journal.js'
import {Pacer} from '../../lib/pacing.js'
import {renderNdjson} from '../../lib/output.js'
import {parsePairs, splitList} from '../../lib/parse.js'

export type AuditResult = AuditReport

/**
 * Which keys to audit. Kept apart from the check options so that selections of accounts and
 * Regions can join them: the audit runs once per account and Region, each with its own pacing.
 */
export const auditTargetFlags = {
  file: Flags.string({char: 'f', description: 'Audit the keys listed in this file, one ID, ARN or alias a line (# comments); - reads stdin.', helpGroup: 'TARGET'}),
  tag: Flags.string({description: 'Audit the customer-managed keys with this tag (k=v); repeat for several (all must match).', helpGroup: 'TARGET', multiple: true}),
}


export default class Audit extends KmsctlCommand<typeof Audit> {
  static override args = {
    keys: Args.string({description: 'Key IDs, key ARNs or aliases (several allowed). Default: every customer-managed key of the region.'}),
  }

  static override summary = 'Audit keys: findings per key, with the one command that fixes each, for people and for CI.'

  static override description = `Reads each customer-managed key (policy, grants, tags, rotation, last use, state) and reports findings by key: rotation off, policy open to everyone, cross-account access, administration or kms:* given to non-administrators, no separation of duties, CreateGrant not limited to AWS services, every policy lint finding, grants to other accounts or to deleted principals, keys near the grants quota, disabled for long, pending deletion but still used, unused, aliases pointing at unusable keys, missing alias, description or owner tag, multi-Region keys. \`kmsctl audit checks\` lists the checks.

Reads only, each call paced under its KMS quota (GetKeyPolicy 30/s sets the pace: about 33 s for 1,000 keys).

Exit codes: 0 no finding at or above --fail-on (or no --fail-on), 1 a finding at or above --fail-on remains (after the baseline), 2 bad input, 3 some keys (or, across accounts and regions, an account-region) could not be audited. 1 takes precedence over 3: findings at or above --fail-on are definite even when part of the audit is missing.`

  static override examples = [
    {command: '<%= config.bin %> <%= command.id %>', description: 'Every customer-managed key of the region'},
    {command: '<%= config.bin %> <%= command.id %> alias/payments alias/orders', description: 'Two keys'},
    {command: '<%= config.bin %> <%= command.id %> --tag team=payments --trusted-accounts 444455556666', description: 'Keys tagged team=payments; account 444455556666 may use them'},
    {command: '<%= config.bin %> <%= command.id %> --sarif --fail-on high > kms.sarif', description: 'CI: SARIF for code scanning, exit 1 on a high finding'},
    {command: '<%= config.bin %> <%= command.id %> --junit --baseline audit-baseline.json > audit.xml', description: 'CI: JUnit report, accepted findings left out until their entry expires'},
    {command: '<%= config.bin %> <%= command.id %> --only rotation-off,policy-public', description: 'Two checks only'},
    {command: '<%= config.bin %> <%= command.id %> --org --all-regions --role-name OrganizationAccountAccessRole --fail-on high', description: 'Every account and enabled region of the organisation'},
    {command: '<%= config.bin %> <%= command.id %> --json | jq ".findings[] | {key, check, command}"', description: 'Findings as JSON'},
  ]

  static override flags = {
    ...auditTargetFlags,
    ...orgFlags,
    'admin-principals': Flags.string({description: "Principal ARNs that administer keys, besides the key account's root (comma-separated or repeated).", multiple: true}),
    baseline: Flags.string({description: 'JSON file of accepted findings, each with a reason and an expiry date (expired entries count again).'}),
    csv: Flags.boolean({description: 'Print the findings as CSV.', exclusive: ['json', 'sarif', 'junit', 'ndjson']}),
    'disabled-days': Flags.integer({default: DEFAULT_OPTIONS.disabledDays, description: 'A key disabled for longer than this many days is a finding.', min: 1}),
    'fail-on': Flags.string({description: 'Exit 1 when a finding of this severity or higher remains.', options: [...SEVERITIES]}),
    'grant-threshold': Flags.integer({default: DEFAULT_OPTIONS.grantThreshold, description: `Grants on one key from which it is near the quota of ${GRANTS_PER_KEY_QUOTA.toLocaleString('en-US')}.`, max: GRANTS_PER_KEY_QUOTA, min: 1}),
    junit: Flags.boolean({description: 'Print a JUnit XML report (one test case per key and check).', exclusive: ['json', 'sarif', 'csv', 'ndjson']}),
    ndjson: Flags.boolean({description: 'Print the findings one JSON object a line (accepted ones too, with their baseline status); across accounts each has its account and region.', exclusive: ['json', 'sarif', 'junit', 'csv']}),
    only: Flags.string({description: 'Run only these checks (IDs, comma-separated or repeated).', multiple: true}),
    'recent-days': Flags.integer({default: DEFAULT_OPTIONS.recentDays, description: 'A key pending deletion that was used within this many days is a finding.', min: 1}),
    'require-tags': Flags.string({description: 'Tags every key must have (comma-separated or repeated; "none" for none).', multiple: true}),
    sarif: Flags.boolean({description: 'Print SARIF 2.1.0 (GitHub code scanning).', exclusive: ['json', 'csv', 'junit', 'ndjson']}),
    skip: Flags.string({description: 'Skip these checks (IDs, comma-separated or repeated).', multiple: true}),
    'trusted-accounts': Flags.string({description: 'Accounts whose principals may use the keys (comma-separated or repeated).', multiple: true}),
    'unused-days': Flags.integer({default: DEFAULT_OPTIONS.unusedDays, description: 'An enabled key not used for longer than this many days is a finding.', min: 1}),
  }

  static override strict = false

  async run(): Promise<AuditResult> {
    const {flags} = this
    const argv = await this.positionalArgs()
    const fromStdin = argv.includes('-')
    const refs = argv.filter((a) => a !== '-')
    if (fromStdin && flags.file) throw usageError('Give the list either on stdin (-) or with --file, not both.', 'Try this: --file keys.txt')
    const checks = selectChecks(splitList(flags.only), splitList(flags.skip))
    if (checks.length === 0) throw usageError('--only and --skip leave no check to run.', 'Try this: kmsctl audit checks lists them')
    const trustedAccounts = splitList(flags['trusted-accounts'])
    for (const a of trustedAccounts) if (!/^\d{12}$/.test(a)) throw usageError(`--trusted-accounts "${a}" is not a 12-digit account ID.`, 'Try this: --trusted-accounts 111122223333,444455556666')
    const adminPrincipals = splitList(flags['admin-principals'])
    for (const p of adminPrincipals) {
      if (!/^arn:aws[a-z-]*:(iam|sts)::\d{12}:.+$/.test(p)) throw usageError(`--admin-principals "${p}" is not an IAM principal ARN.`, 'Try this: --admin-principals arn:aws:iam::111122223333:role/KeyAdmins')
    }

    const requireTagsRaw = flags['require-tags'] === undefined ? DEFAULT_OPTIONS.requireTags : splitList(flags['require-tags'])
    const requireTags = requireTagsRaw.length === 1 && requireTagsRaw[0] === 'none' ? [] : requireTagsRaw
    const tags = parsePairs(flags.tag, 'tag')
    const list = flags.file ? await readRefList(flags.file) : fromStdin ? await readRefList('-') : undefined
    const source = {listName: list?.name, listText: list?.text, refs, tags}
    const named = refs.length > 0 || Object.keys(tags).length > 0 || list !== undefined
    if (named) validateSource(source)
    const baseline = flags.baseline ? await readBaseline(flags.baseline) : undefined

    const options = {
      adminPrincipals,
      disabledDays: flags['disabled-days'],
      grantThreshold: flags['grant-threshold'],
      now: new Date(),
      recentDays: flags['recent-days'],
      requireTags,
      trustedAccounts,
      unusedDays: flags['unused-days'],
    }
    const failOn = flags['fail-on'] as Severity | undefined
    const targets = targetsFrom(flags)
    const progress = this.progress()
    let report: AuditReport
    let summaryText: string | undefined
    if (targets) {
      // One audit per account-region, each with its own pacer, under --max-parallel.
      const {outcomes, summaries} = await acrossTargets(
        this.aws,
        targets,
        async ({clients, pacer, region}) =>
          runAudit({baseline, checks, deps: {cloudtrail: () => clients.cloudtrail(), journal: new Journal(), kms: await clients.kms(), region}, failOn, options, pacer, source: named ? source : undefined}),
        {count: (r) => ({failed: r.failed.length, seen: r.summary.keys}), onProgress: progressReporter(progress, 'keys'), pacer: () => new Pacer({concurrency: 32})},
      )
      progress.done()
      const parts = outcomes.filter((o) => o.value).map((o) => ({account: o.account, region: o.region, report: o.value!}))
      const {now, ...rest} = options
      report = mergeAuditReports(parts, summaries, {checks: checks.map((c) => c.id), failOn, generatedAt: now.toISOString(), options: rest})
      summaryText = renderSummary(summaries, 'keys')
    } else {
      const kms = await this.aws.kms()
      const region = await this.aws.region()
      progress.update('Listing keys…', true)
      report = await runAudit({
        baseline,
        checks,
        deps: {cloudtrail: () => this.aws.cloudtrail(), journal: new Journal(), kms, region},
        failOn,
        onProgress: (done, total) => progress.update(`Auditing keys: ${done}/${total}`),
        options,
        pacer: new Pacer({concurrency: 32}),
        source: named ? source : undefined,
      })
      progress.done()
    }

    // 1: findings at or above --fail-on; 3: some keys could not be read (exit-code.ts decides the number).
    this.exitWith(report.exitCode === 1 ? 'failed' : report.exitCode === 3 ? 'partial' : 'ok')
    this.notes(report)
    if (this.jsonEnabled()) return report
    if (flags.sarif) process.stdout.write(JSON.stringify(toSarif(report, this.config.version), null, 2) + '\n')
    else if (flags.junit) process.stdout.write(toJunit(report))
    else if (flags.csv) process.stdout.write(toCsv(report))
    else if (flags.ndjson) {
      const rows = [...report.findings, ...report.suppressed]
      if (rows.length > 0) process.stdout.write(renderNdjson(rows) + '\n')
    } else this.render(report, targets !== undefined)
    // The closing summary per account-region, on stderr under machine formats.
    if (summaryText !== undefined) {
      if (flags.sarif || flags.junit || flags.csv || flags.ndjson) process.stderr.write(summaryText + '\n')
      else this.log('\n' + summaryText)
    }

    return report
  }

  /** Keys not audited and checks that could not tell, on stderr (also under machine formats). */
  private notes(report: AuditReport): void {
    for (const s of report.skipped) process.stderr.write(`Skipped ${s.ref}: ${s.reason}\n`)
    for (const f of report.failed) this.warnLine(`${f.ref}: not audited: ${f.reason}`)
    const reasons = new Map<string, number>()
    for (const n of report.notChecked) {
      const reason = `${n.check}: ${n.reason}`
      reasons.set(reason, (reasons.get(reason) ?? 0) + 1)
    }

    for (const [reason, n] of reasons) process.stderr.write(`Not checked on ${n} key${n === 1 ? '' : 's'}: ${reason}\n`)
    for (const e of report.baseline?.entries ?? []) {
      if (e.status === 'expired') this.warnLine(`baseline entry for ${e.check} on ${e.key ?? e.fingerprint} expired on ${e.expires} (${e.reason}): its findings count again.`)
      else if (e.status === 'unused') process.stderr.write(`Baseline entry for ${e.check} on ${e.key ?? e.fingerprint} matched no finding: remove it?\n`)
    }
  }

  private render(report: AuditReport, where = false): void {
    if (report.summary.keys === 0) {
      this.log('No customer-managed key to audit.')
      return
    }

    if (report.findings.length > 0) {
      this.log(findingsTable(report.findings, undefined, where ? whereColumns<AuditFinding>() : []))
      this.log('')
      this.log(summaryTable(report))
    }

    this.log(summaryLine(report))
    if (report.failOn && report.exitCode === 1) this.log(`Failing: findings at or above ${report.failOn} remain (--fail-on ${report.failOn}).`)
  }

  private async positionalArgs(): Promise<string[]> {
    // Parsed again with the static definitions, so that every positional argument is kept.
    const parse = (this as unknown as {parse(options: unknown): Promise<{argv: unknown[]}>}).parse.bind(this)
    const {argv} = await parse({args: Audit.args, baseFlags: KmsctlCommand.baseFlags, enableJsonFlag: true, flags: Audit.flags, strict: false})
    return argv.map(String)
  }
}

