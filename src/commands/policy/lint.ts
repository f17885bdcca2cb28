import {Args, Flags} from '@oclif/core'

import {existsSync} from 'node:fs'

import {KmsctlCommand} from '../../cli/base-command.js'
import {tableFlags} from '../../cli/flags.js'
import {orgFlags, progressReporter, renderSummary, targetsFrom, whereColumns} from '../../cli/org-flags.js'
import {usageError} from '../../lib/errors.js'
import {parseKeyRef, resolveKey} from '../../lib/key-ref.js'
import {type TargetSummary, acrossTargets, anyFailed} from '../../lib/org/run.js'
import type {Targets} from '../../lib/org/targets.js'
import {type Column, chalk} from '../../lib/output.js'
import {parsePairs} from '../../lib/parse.js'
import {type Finding, lintPolicyText} from '../../lib/policy/lint.js'
import {type KeyFindingRow, type KeyLintFailure, type KeyPolicyLint, type KeysLint, findingRows, lintKeyPolicies} from '../../lib/policy/lint-keys.js'
import {arnAccount} from '../../lib/policy/model.js'
import {renderFindings} from '../../lib/policy/render.js'
import {fetchKeyPolicy, readPolicyFile} from '../../lib/policy/source.js'

/** A key linted in a listing of many keys: where it is (across accounts or regions), then its lint. */
export type PolicyLintKey = KeyPolicyLint & {account?: string; region?: string}

/** Many keys (--all-keys, --tag, or across accounts and regions): each key's lint, every finding as a row. */
export interface PolicyLintKeysResult {
  kind: 'keys'
  keys: PolicyLintKey[]
  /** Every finding of every key, with the key (and its account and region). */
  findings: KeyFindingRow[]
  /** Keys whose policy could not be read, each with where it is. */
  failures: Array<KeyLintFailure & {account?: string; region?: string}>
  errors: number
  warnings: number
  /** 1 with errors (or warnings under --strict), else 3 when keys or account-regions could not be read, else 0. */
  exitCode: number
  /** Across accounts or regions: each account-region's keys linted, or its failure. */
  targets?: TargetSummary[]
}

export interface PolicyLintResult {
  /** The file linted, or the key's ARN. */
  source: string
  kind: 'file' | 'key'
  /** The key's account the rules used (given, from the key, or inferred from the policy). */
  keyAccount?: string
  findings: Finding[]
  errors: number
  warnings: number
  /** 1 with errors (or warnings under --strict), else 0. */
  exitCode: number
}

export default class PolicyLint extends KmsctlCommand<typeof PolicyLint> {
  static override args = {
    target: Args.string({description: 'A policy file (- reads stdin), or a key ID, key ARN or alias whose policy to lint. Without it: --all-keys, --tag, or the account and region flags.'}),
  }

  static override summary = 'Lint a key policy (file or key): what KMS refuses and what is risky.'

  static override description = `Check a key policy for what KMS refuses and what is risky, with the statement each finding points at.

Errors: invalid JSON or structure, over 32,768 bytes or characters KMS refuses, a Resource other than "*", a missing Action or Resource, Principal "*" without a condition restricting the caller, no statement keeping the account root or a named administrator able to change the policy.
Warnings: kms:* for principals other than the account root, administrators who can also use the key, kms:CreateGrant without kms:GrantIsForAWSResource, principals of other accounts, encryption-context conditions that can never match, unknown actions.

Many keys: --all-keys lints the policy of every customer-managed key of the region (--tag k=v only those with the tag), and the organisation flags (--org, --accounts, --regions, --all-regions with --role-name) do it in every account-region, each at its own GetKeyPolicy quota. The table has one row per finding (Account, Region, Key, Severity, Rule, Statement, Finding); --csv and --ndjson give the same rows; the closing summary per account-region is on stderr.

Exit 1 when there are errors (or warnings, with --strict); else 3 when some keys or account-regions could not be read; 0 otherwise.`

  static override examples = [
    '<%= config.bin %> <%= command.id %> new-policy.json',
    '<%= config.bin %> <%= command.id %> alias/payments',
    '<%= config.bin %> <%= command.id %> new-policy.json --account 111122223333 --strict',
    'cat new-policy.json | <%= config.bin %> <%= command.id %> - --json',
    {command: '<%= config.bin %> <%= command.id %> --all-keys', description: 'Every customer-managed key of the region, one row per finding'},
    {command: '<%= config.bin %> <%= command.id %> --org --all-regions --role-name OrganizationAccountAccessRole --tag team=payments --csv', description: 'The keys tagged team=payments in every account and region of the organisation, as CSV'},
  ]

  static override flags = {
    ...orgFlags,
    ...tableFlags,
    account: Flags.string({description: "The key's account, for the cross-account rule (default: the key's, or the account root the policy names)."}),
    'all-keys': Flags.boolean({description: 'Lint the policy of every customer-managed key of the region (or of each account-region).'}),
    strict: Flags.boolean({description: 'Exit 1 on warnings too.'}),
    tag: Flags.string({description: 'Only the customer-managed keys with this tag (k=v); repeat for several (all must match).', multiple: true}),
  }

  async run(): Promise<PolicyLintKeysResult | PolicyLintResult> {
    const {target} = this.args
    const {flags} = this
    const targets = targetsFrom(flags)
    const tags = parsePairs(flags.tag, 'tag')
    const many = targets !== undefined || flags['all-keys'] || Object.keys(tags).length > 0
    if (many) {
      if (target !== undefined) throw usageError(`${target}: one policy or key is linted alone; --all-keys, --tag and the account and region flags lint many keys.`, 'Try this: drop the argument, or drop --all-keys, --tag and the account and region flags.')
      if (flags.account !== undefined) throw usageError('--account is for one policy file: each key is linted with its own account.', 'Try this: drop --account.')
      this.checkColumns(findingColumns(targets !== undefined))
      return this.lintMany(targets, tags)
    }

    if (target === undefined) throw usageError('Nothing to lint: give a policy file, a key, or many keys.', 'Try this: kmsctl policy lint policy.json, kmsctl policy lint alias/NAME, or kmsctl policy lint --all-keys')
    for (const f of ['csv', 'ndjson', 'columns', 'output'] as const) {
      if (flags[f]) throw usageError(`--${f} is for the rows of many keys (--all-keys, --tag, the account and region flags).`, 'Try this: --json for one policy\'s findings.')
    }

    if (flags.account !== undefined && !/^\d{12}$/.test(flags.account)) throw usageError(`--account "${flags.account}" is not a 12-digit account ID.`, 'Try this: --account 111122223333')
    let text: string
    let kind: PolicyLintResult['kind']
    let source = target
    let keyAccount = flags.account
    if (target === '-' || existsSync(target)) {
      text = await readPolicyFile(target, 'file')
      kind = 'file'
    } else {
      try {
        parseKeyRef(target)
      } catch {
        throw usageError(`${target}: no such file, and not a key ID, key ARN or alias.`, 'Try this: kmsctl policy lint policy.json, or kmsctl policy lint alias/NAME')
      }

      const kms = await this.aws.kms()
      const key = await resolveKey(kms, target)
      text = await fetchKeyPolicy(kms, key.keyId)
      kind = 'key'
      source = key.arn
      keyAccount ??= arnAccount(key.arn)
    }

    const lint = lintPolicyText(text, {keyAccount})
    const failing = lint.errors > 0 || (flags.strict && lint.warnings > 0)
    const result: PolicyLintResult = {
      errors: lint.errors,
      exitCode: this.exitWith(failing ? 'failed' : 'ok'),
      findings: lint.findings,
      keyAccount: lint.keyAccount,
      kind,
      source,
      warnings: lint.warnings,
    }

    if (!this.jsonEnabled()) {
      if (lint.findings.length > 0) this.log(renderFindings(lint.findings))
      const counts = `${lint.errors} error${lint.errors === 1 ? '' : 's'}, ${lint.warnings} warning${lint.warnings === 1 ? '' : 's'}`
      this.note(lint.findings.length === 0 ? `${source}: no findings.` : `${source}: ${counts}.`)
    }

    return result
  }

  /** The policies of many keys: the region's, or every account-region's, one row per finding. */
  private async lintMany(targets: Targets | undefined, tags: Record<string, string>): Promise<PolicyLintKeysResult> {
    const progress = this.progress()
    let keys: PolicyLintKey[]
    let failures: PolicyLintKeysResult['failures']
    let summaries: TargetSummary[] | undefined
    if (targets) {
      const run = await acrossTargets(this.aws, targets, async ({clients, pacer}) => lintKeyPolicies(await clients.kms(), {pacer, tags}), {
        count: (l: KeysLint) => ({failed: l.failures.length, seen: l.keys.length}),
        onProgress: progressReporter(progress, 'keys'),
      })
      summaries = run.summaries
      keys = run.outcomes.flatMap((o) => (o.value?.keys ?? []).map((k) => ({account: o.account, region: o.region, ...k})))
      failures = run.outcomes.flatMap((o) => (o.value?.failures ?? []).map((f) => ({account: o.account, region: o.region, ...f})))
    } else {
      const lint = await lintKeyPolicies(await this.aws.kms(), {onProgress: (done, total) => progress.update(`Linting key policies: ${done}/${total}`), tags})
      keys = lint.keys
      failures = lint.failures
    }

    progress.done()
    const findings = findingRows(keys)
    const errors = keys.reduce((n, k) => n + k.errors, 0)
    const warnings = keys.reduce((n, k) => n + k.warnings, 0)
    const failing = errors > 0 || (this.flags.strict && warnings > 0)
    const unread = failures.length > 0 || (summaries !== undefined && anyFailed(summaries))
    // 1 (findings) takes precedence over 3 (some keys or account-regions not read), as in the audit.
    const exitCode = this.exitWith(failing ? 'failed' : unread ? 'partial' : 'ok')
    for (const f of failures) this.warnLine(`${f.account ? `${f.account}/${f.region}: ` : ''}${f.keyId ? `${f.keyId}: ` : ''}${f.operation}: ${f.message}`)
    if (!this.jsonEnabled()) {
      if (findings.length > 0) this.log(this.renderList(findings, findingColumns(targets !== undefined)))
      const withFindings = keys.filter((k) => k.findings.length > 0).length
      this.note(`${keys.length} key polic${keys.length === 1 ? 'y' : 'ies'} linted: ${errors} error${errors === 1 ? '' : 's'}, ${warnings} warning${warnings === 1 ? '' : 's'}${withFindings > 0 ? ` in ${withFindings} key${withFindings === 1 ? '' : 's'}` : ''}.`)
      if (summaries) this.note(renderSummary(summaries, 'keys'))
    }

    return {errors, exitCode, failures, findings, keys, kind: 'keys', warnings, ...(summaries ? {targets: summaries} : {})}
  }
}

/** The columns of the findings of many keys: where (across accounts or regions), which key, what. */
function findingColumns(where: boolean): Array<Column<KeyFindingRow>> {
  const sev = (f: KeyFindingRow) => (f.severity === 'error' ? chalk.red('error') : f.severity === 'warning' ? chalk.yellow('warning') : f.severity)
  return [
    ...(where ? whereColumns<KeyFindingRow>() : []),
    {get: (f) => f.alias ?? f.keyId, header: 'Key', kind: 'name', minWidth: 14},
    {get: (f) => f.keyId, header: 'Key ID', kind: 'id', name: 'key-id', wide: true},
    {get: sev, header: 'Severity', kind: 'fixed'},
    {get: (f) => f.code, header: 'Rule', kind: 'fixed'},
    {get: (f) => (f.statement === undefined ? '-' : (f.sid ?? `#${f.statement + 1}`)), header: 'Statement', kind: 'name', minWidth: 9, priority: 2},
    {get: (f) => f.message, header: 'Finding', kind: 'text', minWidth: 20},
  ]
}
