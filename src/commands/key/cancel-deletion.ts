import {Args, Flags} from '@oclif/core'

import {KmsctlCommand} from '../../cli/base-command.js'
import {type CancelPlan, cancelKeyDeletion, planCancelDeletion} from '../../lib/deletion/schedule.js'
import {mutationFlags} from '../../cli/flags.js'
import {keyLabel, parseKeyRef} from '../../lib/key-ref.js'
import {chalk, formatDate} from '../../lib/output.js'

export interface KeyCancelDeletionResult {
  dryRun: boolean
  keyId: string
  arn: string
  /** The state before: PendingDeletion or PendingReplicaDeletion. */
  previousState: string
  /** The deletion date that was cancelled. */
  deletionDate?: string
  requests: CancelPlan['requests']
  cancelled: boolean
  enabled: boolean
  /** The key's state now (after a dry run: what it would be). */
  keyState: 'Disabled' | 'Enabled'
  journalId?: string
}

export default class KeyCancelDeletion extends KmsctlCommand<typeof KeyCancelDeletion> {
  static override args = {
    key: Args.string({description: 'Key ID, key ARN, alias name (alias/x) or alias ARN.', required: true}),
  }

  static override description = `Cancel the scheduled deletion of a key, and with --enable make it usable again.

KMS leaves a key whose deletion is cancelled Disabled: pass --enable to re-enable it in the same step. A key that is not pending deletion is refused (exit 2, nothing sent). The change is recorded in the journal.`

  static override examples = [
    {command: '<%= config.bin %> <%= command.id %> alias/old-reports --enable', description: 'Keep the key and use it again'},
    {command: '<%= config.bin %> <%= command.id %> 1234abcd-12ab-34cd-56ef-1234567890ab', description: 'Keep the key, but leave it Disabled'},
    {command: '<%= config.bin %> <%= command.id %> alias/old-reports --enable --dry-run', description: 'Show what would be sent'},
  ]

  static override flags = {
    ...mutationFlags,
    enable: Flags.boolean({description: 'Enable the key after cancelling (KMS leaves it Disabled otherwise).'}),
  }

  async run(): Promise<KeyCancelDeletionResult> {
    const {args, flags} = this
    parseKeyRef(args.key)
    const enable = Boolean(flags.enable)
    const kms = await this.aws.kms()
    const plan = await planCancelDeletion(kms, args.key, enable)
    const result: KeyCancelDeletionResult = {
      arn: plan.arn,
      cancelled: false,
      deletionDate: plan.deletionDate,
      dryRun: Boolean(flags['dry-run']),
      enabled: false,
      keyId: plan.keyId,
      keyState: enable ? 'Enabled' : 'Disabled',
      previousState: plan.state,
      requests: plan.requests,
    }
    const label = keyLabel(plan.ref, plan.keyId)
    if (flags['dry-run']) {
      if (!this.jsonEnabled()) {
        this.log(`Key ${label} is ${plan.state}${plan.deletionDate ? `, to be deleted on ${formatDate(plan.deletionDate)}` : ''}.`)
        this.log('Dry run: would send')
        for (const r of plan.requests) this.log(`  ${r.operation} ${JSON.stringify(r.input)}`)
        this.note('Nothing was sent.')
      }

      return result
    }

    // The journal keeps this command's arguments only, without the command's own name.
    const outcome = await cancelKeyDeletion(kms, plan, {...(await this.journalContext()), command: this.argv})
    Object.assign(result, {cancelled: true, enabled: outcome.enabled, journalId: outcome.journalId, keyState: outcome.keyState})
    if (!this.jsonEnabled()) {
      if (outcome.enabled) {
        this.log(`Cancelled the deletion of key ${label}; it is ${chalk.green('Enabled')} again.`)
      } else {
        this.log(`Cancelled the deletion of key ${label}. It is ${chalk.yellow('Disabled')}: KMS leaves a key Disabled when its deletion is cancelled.`)
        this.log(`To use it again: kmsctl key enable ${plan.ref}`)
      }

      this.note(`Journal entry ${outcome.journalId}.`)
    }

    return result
  }
}
