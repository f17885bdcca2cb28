import {Args} from '@oclif/core'

import {KmsctlCommand} from '../../cli/base-command.js'
import {tableFlags} from '../../cli/flags.js'
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

  static override flags = {...tableFlags}

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
          this.renderList<RotationEntry>(rotations, [
            {get: (r) => formatDate(r.rotationDate), header: 'Rotated', kind: 'fixed'},
            {get: (r) => r.rotationType ?? '', header: 'Type', kind: 'fixed'},
            {get: (r) => r.state ?? '', header: 'Material state', kind: 'fixed', priority: 2},
            {get: (r) => r.keyMaterialId ?? '', header: 'Key material ID', kind: 'id', minWidth: 9, priority: 3},
          ]),
        )
        this.note(`${rotations.length} rotation${rotations.length === 1 ? '' : 's'}`)
      }
    }

    return {arn: key.arn, keyId: key.keyId, rotations}
  }
}
