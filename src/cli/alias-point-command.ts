// The part `alias create` and `alias update` share: plan, then nothing to do, a dry run, or the
// journaled change, rendered the same way.
import {KmsctlCommand} from './base-command.js'
import {mutationFlags} from './flags.js'
import {type AliasPlan, applyAliasPlanJournaled} from '../lib/aliases.js'
import {renderFields, renderPlannedRequests} from '../lib/output.js'

export const aliasPointFlags = {...mutationFlags}

export abstract class AliasPointCommand extends KmsctlCommand<typeof AliasPointCommand> {
  /**
   * Applies an alias plan: says so when the alias already points at the key, prints the requests on
   * --dry-run, and otherwise sends them with a journal entry, then shows `fields` and `done`.
   * Returns the journal ID when something was sent.
   */
  protected async applyPointPlan(plan: AliasPlan, fields: Array<[string, string]>, done: string): Promise<string | undefined> {
    if (plan.unchanged) {
      this.note(`${plan.aliasName} already points at ${plan.target!.keyId}: nothing to do.`)
      return undefined
    }

    if ((this.flags as {'dry-run'?: boolean})['dry-run']) {
      if (!this.jsonEnabled()) this.log(renderPlannedRequests(plan.requests))
      return undefined
    }

    const kms = await this.aws.kms()
    const journalId = await applyAliasPlanJournaled(kms, plan, await this.journalContext())
    if (!this.jsonEnabled()) {
      this.log(renderFields(fields))
      this.note(`${done} ${plan.aliasName} (journal ${journalId}).`)
    }

    return journalId
  }
}
