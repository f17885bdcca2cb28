import {Args} from '@oclif/core'

import {KmsctlCommand} from '../../cli/base-command.js'
import {KmsctlError} from '../../lib/errors.js'
import {mutationFlags} from '../../cli/flags.js'
import {Journal, journaled} from '../../lib/journal.js'
import {resolveKey} from '../../lib/key-ref.js'
import {type PlannedRequest, formatDate, renderPlannedRequests} from '../../lib/output.js'
import {type RotationStatus, assertCanRotate, getRotationStatus, rotateOnDemand} from '../../lib/rotation.js'

export interface KeyRotateResult {
  keyId: string
  arn: string
  /** The rotation status before the request (automatic setting, any rotation in progress). */
  before: RotationStatus
  dryRun: boolean
  requests: PlannedRequest[]
  journalId?: string
}

export default class KeyRotate extends KmsctlCommand<typeof KeyRotate> {
  static override args = {
    key: Args.string({description: 'Key ID, key ARN, alias name (alias/x) or alias ARN.', required: true}),
  }

  static override description = `Rotate a key's material now (RotateKeyOnDemand), independently of automatic rotation.
KMS limits the number of on-demand rotations per key. New encryption uses the new material; earlier material stays available for decryption. Works for symmetric encryption keys, including imported material once new material is imported; other keys are refused with the reason. See the history with kmsctl key rotations.`

  static override examples = [
    {command: '<%= config.bin %> <%= command.id %> alias/payments', description: 'Rotate now'},
    {command: '<%= config.bin %> <%= command.id %> alias/payments --dry-run', description: 'Show the RotateKeyOnDemand request, send nothing'},
  ]

  static override flags = {...mutationFlags}

  async run(): Promise<KeyRotateResult> {
    const kms = await this.aws.kms()
    const key = await resolveKey(kms, this.args.key)
    assertCanRotate(key, 'on-demand')
    const before = await getRotationStatus(kms, key)
    if (before.onDemandRotationStartDate) {
      throw new KmsctlError('FAILED', `An on-demand rotation of ${key.ref} is already in progress (since ${formatDate(before.onDemandRotationStartDate)}); nothing was sent.`, {
        remedy: `Try this: wait for it to finish (kmsctl key rotation status ${this.args.key}), then run the command again`,
      })
    }

    const requests: PlannedRequest[] = [{input: {KeyId: key.keyId}, operation: 'RotateKeyOnDemand'}]
    const result: KeyRotateResult = {arn: key.arn, before, dryRun: Boolean(this.flags['dry-run']), keyId: key.keyId, requests}
    if (this.flags['dry-run']) {
      if (!this.jsonEnabled()) this.log(renderPlannedRequests(requests))
      return result
    }

    const {entry} = await journaled(
      new Journal(),
      {
        ...(await this.changeContext()),
        action: 'key.rotate',
        before: {currentKeyMaterialId: key.metadata.CurrentKeyMaterialId, enabled: before.enabled, periodDays: before.periodDays},
        key: {arn: key.arn, keyId: key.keyId, ref: this.args.key},
        request: requests,
      },
      () => rotateOnDemand(kms, key),
      () => ({onDemandRotationRequested: true}),
    )
    result.journalId = entry.id
    if (!this.jsonEnabled()) {
      this.log(`On-demand rotation of ${key.ref} started (${key.keyId}).`)
      this.note(`It completes in the background; see kmsctl key rotations ${this.args.key} (journal ${entry.id}).`)
    }

    return result
  }
}
