import {Args} from '@oclif/core'

import {planAliasUpdate} from '../../lib/aliases.js'
import {AliasPointCommand, aliasPointFlags} from '../../cli/alias-point-command.js'
import {type PlannedRequest} from '../../lib/output.js'

export interface AliasUpdateResult {
  aliasName: string
  previousTargetKeyId: string
  targetKeyId: string
  targetArn: string
  /** True when the alias already pointed at this key: nothing was sent. */
  unchanged: boolean
  dryRun: boolean
  requests: PlannedRequest[]
  journalId?: string
}

export default class AliasUpdate extends AliasPointCommand {
  static override args = {
    name: Args.string({description: 'The existing alias name, starting with alias/.', required: true}),
    key: Args.string({description: 'The key it will point at: key ID, key ARN, alias name or alias ARN.', required: true}),
  }

  static override description = `Point an existing alias at another key.
KMS only moves an alias between keys of the same type (symmetric, asymmetric or HMAC) and the same usage; kmsctl checks that first. The journal records the key the alias pointed at, so the change can be undone.`

  static override examples = [
    {command: '<%= config.bin %> <%= command.id %> alias/payments 0987dcba-09fe-87dc-65ba-ab0987654321', description: 'Move alias/payments to a new key'},
    {command: '<%= config.bin %> <%= command.id %> alias/payments alias/payments-next --dry-run', description: 'Show the UpdateAlias request, send nothing'},
  ]

  static override flags = aliasPointFlags

  async run(): Promise<AliasUpdateResult> {
    const kms = await this.aws.kms()
    const plan = await planAliasUpdate(kms, this.args.name, this.args.key)
    const previous = plan.previousTarget!
    const target = plan.target!
    const result: AliasUpdateResult = {
      aliasName: plan.aliasName,
      dryRun: Boolean(this.flags['dry-run']),
      previousTargetKeyId: previous.keyId,
      requests: plan.requests,
      targetArn: target.arn,
      targetKeyId: target.keyId,
      unchanged: plan.unchanged,
    }
    result.journalId = await this.applyPointPlan(plan, [['Alias', plan.aliasName], ['Was', previous.keyId], ['Now', target.keyId]], 'Updated')
    return result
  }
}
