import {Args} from '@oclif/core'

import {KmsctlCommand} from '../../../cli/base-command.js'
import {renderRotationChange} from '../../../cli/rotation-view.js'
import {mutationFlags} from '../../../cli/flags.js'
import {Journal} from '../../../lib/journal.js'
import {resolveKey} from '../../../lib/key-ref.js'
import {type RotationChangeResult, changeRotation} from '../../../lib/rotation.js'

export type KeyRotationDisableResult = RotationChangeResult

export default class KeyRotationDisable extends KmsctlCommand<typeof KeyRotationDisable> {
  static override args = {
    key: Args.string({description: 'Key ID, key ARN, alias name (alias/x) or alias ARN.', required: true}),
  }

  static override description = `Turn off automatic rotation of a key. Earlier key material stays available for decryption.
Keys that cannot rotate are refused with the reason, and nothing is sent. The previous setting (with its period) is recorded in the journal.`

  static override examples = [
    {command: '<%= config.bin %> <%= command.id %> alias/payments', description: 'Stop rotating'},
    {command: '<%= config.bin %> <%= command.id %> alias/payments --dry-run', description: 'Show the DisableKeyRotation request, send nothing'},
  ]

  static override flags = {...mutationFlags}

  async run(): Promise<KeyRotationDisableResult> {
    const kms = await this.aws.kms()
    const key = await resolveKey(kms, this.args.key)
    const result = await changeRotation(kms, key, {
      context: () => this.changeContext(),
      dryRun: this.flags['dry-run'],
      enable: false,
      journal: new Journal(),
    })
    if (!this.jsonEnabled()) renderRotationChange(result, key.ref, (s) => this.log(s), (s) => this.note(s))
    return result
  }
}
