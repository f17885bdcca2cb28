import {Args, Flags} from '@oclif/core'

import {writeFileSync} from 'node:fs'

import {KmsctlCommand} from '../../cli/base-command.js'
import {KmsctlError} from '../../lib/errors.js'
import {resolveKey} from '../../lib/key-ref.js'
import {stablePolicyJson} from '../../lib/policy/model.js'
import {POLICY_NAME, fetchKeyPolicy} from '../../lib/policy/source.js'

export interface PolicyGetResult {
  keyId: string
  arn: string
  policyName: string
  /** The policy document, parsed. */
  policy: unknown
  /** The policy text exactly as KMS returned it. */
  text: string
  /** The file written with --out. */
  out?: string
}

export default class PolicyGet extends KmsctlCommand<typeof PolicyGet> {
  static override args = {
    key: Args.string({description: 'Key ID, key ARN, alias name (alias/x) or alias ARN.', required: true}),
  }

  static override summary = "Print a key's policy (pretty, stable key order; or raw)."

  static override description = `Print a key's policy as pretty JSON with a stable key order (Version, Id, Statement; Sid, Effect, Principal, Action, Resource, Condition), or exactly as KMS stores it with --raw.

--out writes it to a file instead, ready to edit and give to "policy put --file".`

  static override examples = [
    '<%= config.bin %> <%= command.id %> alias/payments',
    '<%= config.bin %> <%= command.id %> alias/payments --out payments-policy.json',
    '<%= config.bin %> <%= command.id %> 1234abcd-12ab-34cd-56ef-1234567890ab --raw',
    '<%= config.bin %> <%= command.id %> alias/payments --json | jq .policy.Statement',
  ]

  static override flags = {
    out: Flags.string({char: 'o', description: 'Write the policy to this file instead of stdout.'}),
    raw: Flags.boolean({description: 'The policy text exactly as KMS returns it, byte for byte.'}),
  }

  async run(): Promise<PolicyGetResult> {
    const kms = await this.aws.kms()
    const key = await resolveKey(kms, this.args.key)
    const text = await fetchKeyPolicy(kms, key.keyId)
    let policy: unknown
    try {
      policy = JSON.parse(text)
    } catch {
      policy = undefined
    }

    const shown = this.flags.raw || policy === undefined ? text : stablePolicyJson(policy)
    const result: PolicyGetResult = {arn: key.arn, keyId: key.keyId, policy, policyName: POLICY_NAME, text}
    if (this.flags.out) {
      try {
        writeFileSync(this.flags.out, shown)
      } catch (error) {
        throw new KmsctlError('FAILED', `Could not write ${this.flags.out}: ${(error as Error).message}`, {remedy: 'Check the path and its directory.'})
      }

      result.out = this.flags.out
      if (!this.jsonEnabled()) this.note(`Wrote the policy of ${key.keyId} to ${this.flags.out}.`)
    } else if (!this.jsonEnabled()) {
      process.stdout.write(shown.endsWith('\n') ? shown : shown + '\n')
    }

    return result
  }
}
