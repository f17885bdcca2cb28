import {Args} from '@oclif/core'

import {KmsctlCommand} from '../../cli/base-command.js'
import {resolveKey} from '../../lib/key-ref.js'
import {formatDate, renderTable} from '../../lib/output.js'
import {type RotationEntry, assertCanRotate, listRotations} from '../../lib/rotation.js'

export interface KeyRotationsResult {
  keyId: string
  arn: string
  rotations: RotationEntry[]
}

export default class KeyRotations extends KmsctlCommand<typeof KeyRotations> {
  static override args = {
    key: Args.string({description: 'Key ID, key ARN, alias name (alias/x) or alias ARN.', required: true}),
  }

  static override description = `The rotation history of a key: each completed rotation (automatic or on demand) with its date and key material, from every page of ListKeyRotations.`

  static override examples = [
    '<%= config.bin %> <%= command.id %> alias/payments',
    '<%= config.bin %> <%= command.id %> alias/payments --json',
  ]

  async run(): Promise<KeyRotationsResult> {
    const kms = await this.aws.kms()
    const key = await resolveKey(kms, this.args.key)
    assertCanRotate(key, 'history')
    const rotations = await listRotations(kms, key)
    if (!this.jsonEnabled()) {
      if (rotations.length === 0) {
        this.note(`${key.ref} has not been rotated yet.`)
      } else {
        this.log(
          renderTable<RotationEntry>(rotations, [
            {get: (r) => formatDate(r.rotationDate), header: 'Rotated', shrink: false},
            {get: (r) => r.rotationType ?? '', header: 'Type', shrink: false},
            {get: (r) => r.state ?? '', header: 'Material state'},
            {get: (r) => r.keyMaterialId ?? '', header: 'Key material ID'},
          ]),
        )
        this.note(`${rotations.length} rotation${rotations.length === 1 ? '' : 's'}`)
      }
    }

    return {arn: key.arn, keyId: key.keyId, rotations}
  }
}
