import {Args, Flags} from '@oclif/core'

import {KmsctlCommand} from '../../../cli/base-command.js'
import {renderRotationChange} from '../../../cli/rotation-view.js'
import {mutationFlags} from '../../../cli/flags.js'
import {Journal} from '../../../lib/journal.js'
import {resolveKey} from '../../../lib/key-ref.js'
import {formatDate, renderPlannedRequests} from '../../../lib/output.js'
import {ROTATION_PERIOD_MAX, ROTATION_PERIOD_MIN, type RotationChangeResult, changeRotation, rotationSummary, validateRotationPeriod} from '../../../lib/rotation.js'

export type KeyRotationChangeResult = RotationChangeResult

export default class KeyRotationEnable extends KmsctlCommand<typeof KeyRotationEnable> {
  static override args = {
    key: Args.string({description: 'Key ID, key ARN, alias name (alias/x) or alias ARN.', required: true}),
  }

  static override description = `Turn on automatic rotation of a symmetric encryption key, optionally with a period of ${ROTATION_PERIOD_MIN}..${ROTATION_PERIOD_MAX} days (KMS's default is 365).
Keys that cannot rotate automatically (asymmetric, HMAC, imported material, AWS managed, custom key store, multi-Region replicas) are refused with the reason, and nothing is sent. The previous setting is recorded in the journal.`

  static override examples = [
    {command: '<%= config.bin %> <%= command.id %> alias/payments', description: 'Rotate every 365 days'},
    {command: '<%= config.bin %> <%= command.id %> alias/payments --period-days 180', description: 'Rotate every 180 days (also changes the period of a key that already rotates)'},
    {command: '<%= config.bin %> <%= command.id %> alias/payments --period-days 90 --dry-run', description: 'Show the EnableKeyRotation request, send nothing'},
  ]

  static override flags = {
    ...mutationFlags,
    'period-days': Flags.integer({description: `Days between rotations, ${ROTATION_PERIOD_MIN}..${ROTATION_PERIOD_MAX} (KMS's default 365).`}),
  }

  async run(): Promise<KeyRotationChangeResult> {
    if (this.flags['period-days'] !== undefined) validateRotationPeriod(this.flags['period-days'])
    const kms = await this.aws.kms()
    const key = await resolveKey(kms, this.args.key)
    const result = await changeRotation(kms, key, {
      context: () => this.changeContext(),
      dryRun: this.flags['dry-run'],
      enable: true,
      journal: new Journal(),
      periodDays: this.flags['period-days'],
    })
    if (!this.jsonEnabled()) renderRotationChange(result, key.ref, (s) => this.log(s), (s) => this.note(s))
    return result
  }
}
