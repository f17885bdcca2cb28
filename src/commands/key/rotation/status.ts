import {Args} from '@oclif/core'

import {KmsctlCommand} from '../../../cli/base-command.js'
import {resolveKey} from '../../../lib/key-ref.js'
import {formatDate, renderFields} from '../../../lib/output.js'
import {ROTATION_PERIOD_DEFAULT, type RotationStatus, assertCanRotate, getRotationStatus} from '../../../lib/rotation.js'

export type KeyRotationStatusResult = RotationStatus

export default class KeyRotationStatus extends KmsctlCommand<typeof KeyRotationStatus> {
  static override args = {
    key: Args.string({description: 'Key ID, key ARN, alias name (alias/x) or alias ARN.', required: true}),
  }

  static override description = `Show whether automatic rotation is on for a key, its period and the next rotation date, and any on-demand rotation in progress.
Asymmetric, HMAC and custom key store keys cannot rotate: they are refused with the reason (exit 2).`

  static override examples = [
    '<%= config.bin %> <%= command.id %> alias/payments',
    '<%= config.bin %> <%= command.id %> 1234abcd-12ab-34cd-56ef-1234567890ab --json',
  ]

  async run(): Promise<KeyRotationStatusResult> {
    const kms = await this.aws.kms()
    const key = await resolveKey(kms, this.args.key)
    assertCanRotate(key, 'status')
    const status = await getRotationStatus(kms, key)
    if (!this.jsonEnabled()) {
      this.log(
        renderFields([
          ['Key ID', status.keyId],
          ['Automatic', status.enabled ? `on, every ${status.periodDays ?? ROTATION_PERIOD_DEFAULT} days` : 'off'],
          ['Next rotation', status.enabled ? formatDate(status.nextRotationDate) || '(not reported)' : undefined],
          ['On demand', status.onDemandRotationStartDate ? `in progress since ${formatDate(status.onDemandRotationStartDate)}` : undefined],
          ['Note', status.manager === 'AWS' ? 'AWS managed key: AWS rotates it every year; it cannot be changed.' : status.origin === 'EXTERNAL' ? 'Imported key material: rotates on demand only (kmsctl key rotate).' : undefined],
        ]),
      )
    }

    return status
  }
}
