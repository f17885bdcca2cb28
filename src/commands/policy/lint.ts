import {Args, Flags} from '@oclif/core'

import {existsSync} from 'node:fs'

import {KmsctlCommand} from '../../cli/base-command.js'
import {usageError} from '../../lib/errors.js'
import {parseKeyRef, resolveKey} from '../../lib/key-ref.js'
import {type Finding, lintPolicyText} from '../../lib/policy/lint.js'
import {arnAccount} from '../../lib/policy/model.js'
import {renderFindings} from '../../lib/policy/render.js'
import {fetchKeyPolicy, readPolicyFile} from '../../lib/policy/source.js'

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
    target: Args.string({description: 'A policy file (- reads stdin), or a key ID, key ARN or alias whose policy to lint.', required: true}),
  }

  static override summary = 'Lint a key policy (file or key): what KMS refuses and what is risky.'

  static override description = `Check a key policy for what KMS refuses and what is risky, with the statement each finding points at.

Errors: invalid JSON or structure, over 32,768 bytes or characters KMS refuses, a Resource other than "*", a missing Action or Resource, Principal "*" without a condition restricting the caller, no statement keeping the account root or a named administrator able to change the policy.
Warnings: kms:* for principals other than the account root, administrators who can also use the key, kms:CreateGrant without kms:GrantIsForAWSResource, principals of other accounts, encryption-context conditions that can never match, unknown actions.

Exit 1 when there are errors (or warnings, with --strict); 0 otherwise.`

  static override examples = [
    '<%= config.bin %> <%= command.id %> new-policy.json',
    '<%= config.bin %> <%= command.id %> alias/payments',
    '<%= config.bin %> <%= command.id %> new-policy.json --account 111122223333 --strict',
    'cat new-policy.json | <%= config.bin %> <%= command.id %> - --json',
  ]

  static override flags = {
    account: Flags.string({description: "The key's account, for the cross-account rule (default: the key's, or the account root the policy names)."}),
    strict: Flags.boolean({description: 'Exit 1 on warnings too.'}),
  }

  async run(): Promise<PolicyLintResult> {
    const {target} = this.args
    const {flags} = this
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
}
