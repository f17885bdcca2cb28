import {Args, Flags} from '@oclif/core'

import type {PolicyWriteResult} from '../../lib/policy/put.js'
import {readPolicyFile} from '../../lib/policy/source.js'
import {PolicyWriteCommand, policyWriteFlags} from '../../cli/policy-write-command.js'

export type PolicyPutResult = PolicyWriteResult

export default class PolicyPut extends PolicyWriteCommand {
  static override args = {
    key: Args.string({description: 'Key ID, key ARN, alias name (alias/x) or alias ARN.', required: true}),
  }

  static override summary = "Replace a key's policy: lint, diff, lockout check, backup, confirm, verified put."

  static override description = `Replace a key's policy, reviewed, checked and reversible:
1. validate and lint the new policy locally (errors stop here, nothing is sent);
2. show the semantic diff against the current policy (no change ends here, exit 0);
3. check that the new policy still lets you call kms:PutKeyPolicy (refused otherwise, naming the statement that removed it);
4. ask to confirm by typing the key ID or alias (--confirm, or --yes); widened access is shown in red; declining writes nothing;
5. save the current policy to a backup file and the journal, and print where;
6. re-read the policy and stop if someone changed it since the diff was shown;
7. put it, read it back and verify it.
--dry-run stops after step 3 and prints exactly what would be sent.`

  static override examples = [
    '<%= config.bin %> <%= command.id %> alias/payments --file new-policy.json',
    '<%= config.bin %> <%= command.id %> alias/payments --file new-policy.json --dry-run',
    '<%= config.bin %> <%= command.id %> alias/payments --file new-policy.json --confirm alias/payments',
    '<%= config.bin %> <%= command.id %> 1234abcd-12ab-34cd-56ef-1234567890ab --file new-policy.json --yes --json',
    '<%= config.bin %> <%= command.id %> alias/payments --file mfa-only.json --condition aws:MultiFactorAuthPresent=true',
  ]

  static override flags = {
    ...policyWriteFlags,
    file: Flags.string({char: 'f', description: 'The new policy document (- reads stdin); sent exactly as written.', required: true}),
  }

  async run(): Promise<PolicyPutResult> {
    const {args, flags} = this
    const text = await readPolicyFile(flags.file)
    return this.writePolicy('put', args.key, text, flags.file)
  }
}
