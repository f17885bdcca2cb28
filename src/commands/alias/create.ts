import {Args} from '@oclif/core'

import {planAliasCreate} from '../../lib/aliases.js'
import {AliasPointCommand, aliasPointFlags} from '../../cli/alias-point-command.js'
import {type PlannedRequest} from '../../lib/output.js'

export interface AliasCreateResult {
  aliasName: string
  targetKeyId: string
  targetArn: string
  /** True when the alias already pointed at this key: nothing was sent. */
  unchanged: boolean
  dryRun: boolean
  requests: PlannedRequest[]
  journalId?: string
}

export default class AliasCreate extends AliasPointCommand {
  static override args = {
    name: Args.string({description: 'The new alias name, starting with alias/ (not under alias/aws/).', required: true}),
    key: Args.string({description: 'The key it points at: key ID, key ARN, alias name or alias ARN.', required: true}),
  }

  static override description = `Create an alias that points at a customer managed key.
Refuses names under alias/aws/ and names KMS would reject, before anything is sent. The change is recorded in the journal.`

  static override examples = [
    {command: '<%= config.bin %> <%= command.id %> alias/payments 1234abcd-12ab-34cd-56ef-1234567890ab', description: 'Name a key'},
    {command: '<%= config.bin %> <%= command.id %> alias/payments-v2 alias/payments', description: 'A second alias for the key alias/payments points at'},
    {command: '<%= config.bin %> <%= command.id %> alias/payments KEY --dry-run', description: 'Show the CreateAlias request, send nothing'},
  ]

  static override flags = aliasPointFlags

  async run(): Promise<AliasCreateResult> {
    const kms = await this.aws.kms()
    const plan = await planAliasCreate(kms, this.args.name, this.args.key)
    const result: AliasCreateResult = {
      aliasName: plan.aliasName,
      dryRun: Boolean(this.flags['dry-run']),
      requests: plan.requests,
      targetArn: plan.target!.arn,
      targetKeyId: plan.target!.keyId,
      unchanged: plan.unchanged,
    }
    result.journalId = await this.applyPointPlan(plan, [['Alias', plan.aliasName], ['Target key', plan.target!.keyId], ['Key ARN', plan.target!.arn]], 'Created')
    return result
  }
}
