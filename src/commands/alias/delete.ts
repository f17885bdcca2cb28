import {Args} from '@oclif/core'

import {applyAliasPlanJournaled, planAliasDelete} from '../../lib/aliases.js'
import {KmsctlCommand} from '../../cli/base-command.js'
import {confirmAction} from '../../lib/confirm.js'
import {confirmFlags, mutationFlags} from '../../cli/flags.js'
import {type PlannedRequest, renderPlannedRequests} from '../../lib/output.js'

export interface AliasDeleteResult {
  aliasName: string
  /** The key the alias pointed at (the key itself is not changed). */
  previousTargetKeyId: string
  dryRun: boolean
  requests: PlannedRequest[]
  journalId?: string
}

export default class AliasDelete extends KmsctlCommand<typeof AliasDelete> {
  static override args = {
    name: Args.string({description: 'The alias to delete, starting with alias/.', required: true}),
  }

  static override description = `Delete an alias. The key it points at is not changed, but applications that use the alias name stop finding the key.
Asks you to type the alias name (or pass --confirm NAME, or --yes); never prompts without a terminal. The journal records the key the alias pointed at.`

  static override examples = [
    {command: '<%= config.bin %> <%= command.id %> alias/old-payments', description: 'Asks you to type alias/old-payments'},
    {command: '<%= config.bin %> <%= command.id %> alias/old-payments --confirm alias/old-payments', description: 'In a script'},
    {command: '<%= config.bin %> <%= command.id %> alias/old-payments --dry-run', description: 'Show the DeleteAlias request, send nothing'},
  ]

  static override flags = {...mutationFlags, ...confirmFlags}

  async run(): Promise<AliasDeleteResult> {
    const kms = await this.aws.kms()
    const plan = await planAliasDelete(kms, this.args.name)
    const previous = plan.previousTarget!
    const result: AliasDeleteResult = {
      aliasName: plan.aliasName,
      dryRun: Boolean(this.flags['dry-run']),
      previousTargetKeyId: previous.keyId,
      requests: plan.requests,
    }
    if (this.flags['dry-run']) {
      if (!this.jsonEnabled()) this.log(renderPlannedRequests(plan.requests))
      return result
    }

    await confirmAction({
      accepted: [plan.aliasName],
      action: `delete ${plan.aliasName}`,
      confirm: this.flags.confirm,
      json: this.jsonEnabled(),
      summary: `${plan.aliasName} points at key ${previous.keyId}. Deleting the alias leaves the key as it is; anything that uses the alias name will stop finding it.`,
      yes: this.flags.yes,
    })
    result.journalId = await applyAliasPlanJournaled(kms, plan, await this.journalContext())
    if (!this.jsonEnabled()) this.log(`Deleted ${plan.aliasName} (it pointed at ${previous.keyId}; journal ${result.journalId}).`)
    return result
  }
}
