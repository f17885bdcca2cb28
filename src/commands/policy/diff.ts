import {Args, Flags} from '@oclif/core'

import {KmsctlCommand} from '../../cli/base-command.js'
import {usageError} from '../../lib/errors.js'
import {resolveKey} from '../../lib/key-ref.js'
import {type PolicyDiffJson, diffPolicies, diffToJson} from '../../lib/policy/diff.js'
import {renderAccessSummary, renderDiffTable} from '../../lib/policy/render.js'
import {fetchKeyPolicy, readPolicyFile, requirePolicy} from '../../lib/policy/source.js'

export interface PolicyDiffResult extends PolicyDiffJson {
  key: {keyId: string; arn: string}
  /** What the key's policy was compared with: a file or another key. */
  against: string
  changed: boolean
}

export default class PolicyDiff extends KmsctlCommand<typeof PolicyDiff> {
  static override args = {
    key: Args.string({description: 'Key ID, key ARN, alias name (alias/x) or alias ARN.', required: true}),
  }

  static override summary = "Semantic diff of a key's policy against a file or another key; says if access widens."

  static override description = `Compare a key's policy with a new one by meaning, not by text: statements are normalised (order of statements and values, a string or a one-element list, an account ID or its root ARN) and compared by value.

Shows the statements added (+), removed (-) and changed (- then +) as a table fitted to the terminal, and whether access is widened (new principals or actions, removed conditions or Denies) or narrowed. --fail-on-change exits 1 when they differ, for CI.`

  static override examples = [
    '<%= config.bin %> <%= command.id %> alias/payments --file new-policy.json',
    '<%= config.bin %> <%= command.id %> alias/payments --from-key alias/payments-staging',
    '<%= config.bin %> <%= command.id %> alias/payments --file new-policy.json --fail-on-change --json',
    '<%= config.bin %> <%= command.id %> alias/payments --file new-policy.json --hunks',
  ]

  static override flags = {
    'fail-on-change': Flags.boolean({description: 'Exit 1 when the policies differ (for CI).'}),
    file: Flags.string({char: 'f', description: 'The new policy document (- reads stdin).', exactlyOne: ['file', 'from-key']}),
    'from-key': Flags.string({description: "Compare with another key's policy.", exactlyOne: ['file', 'from-key']}),
    hunks: Flags.boolean({description: 'Also print the raw JSON of each changed statement.'}),
  }

  async run(): Promise<PolicyDiffResult> {
    const {flags} = this
    // Read and check the new policy before any AWS call: bad input sends nothing.
    let newText: string | undefined
    if (flags.file) {
      newText = await readPolicyFile(flags.file)
      requirePolicy(newText, flags.file)
    }

    const kms = await this.aws.kms()
    const key = await resolveKey(kms, this.args.key)
    let against = flags.file ?? ''
    if (flags['from-key']) {
      const other = await resolveKey(kms, flags['from-key'])
      if (other.keyId === key.keyId) throw usageError(`--from-key ${flags['from-key']} is the same key as ${this.args.key}.`, 'Try this: --from-key OTHER_KEY, or --file NEW.json')
      newText = await fetchKeyPolicy(kms, other.keyId)
      against = other.ref
    }

    const currentText = await fetchKeyPolicy(kms, key.keyId)
    const diff = diffPolicies(
      requirePolicy(currentText, `the policy of ${key.keyId}`, {lenient: true}),
      requirePolicy(newText!, against, {lenient: Boolean(flags['from-key'])}),
    )
    const result: PolicyDiffResult = {...diffToJson(diff), against, changed: diff.changes.length > 0, key: {arn: key.arn, keyId: key.keyId}}

    if (!this.jsonEnabled()) {
      if (diff.changes.length > 0) {
        this.log(renderDiffTable(diff))
        if (flags.hunks) {
          for (const c of result.changes) {
            if (c.before) this.log(`--- ${c.sid ?? 'statement'} (current)\n${JSON.stringify(c.before, null, 2).replaceAll(/^/gm, '- ')}`)
            if (c.after) this.log(`+++ ${c.sid ?? 'statement'} (new)\n${JSON.stringify(c.after, null, 2).replaceAll(/^/gm, '+ ')}`)
          }
        }
      }

      this.log(renderAccessSummary(diff))
    }

    this.exitWith(flags['fail-on-change'] && result.changed ? 'failed' : 'ok')
    return result
  }
}
