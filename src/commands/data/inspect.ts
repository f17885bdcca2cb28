import {Args, Flags} from '@oclif/core'

import {KmsctlCommand} from '../../cli/base-command.js'
import {openInput} from '../../lib/data/files.js'
import {type InspectResult, inspectMessage} from '../../lib/data/inspect.js'
import {renderHeader} from '../../lib/data/render.js'

export type DataInspectResult = InspectResult

export default class DataInspect extends KmsctlCommand<typeof DataInspect> {
  static override args = {
    file: Args.string({description: 'Encrypted file (AWS Encryption SDK message), or - for stdin.', required: true}),
  }

  static override description = `Show an encrypted message's header without decrypting it and without calling KMS: the algorithm suite (key commitment, signature), the KMS keys its data key is encrypted under, the encryption context, the frame length and, for a file, the plaintext size, frame count and trailer (read from the frame headers).
Use it to find which --expect-key and --expect-context to pass to data decrypt, or to check a file before handing it over. The header is not authenticated until decryption: a tampered header shows here as written.`

  static override examples = [
    {command: '<%= config.bin %> <%= command.id %> backup.tar.enc', description: 'Which keys and context a file needs'},
    {command: '<%= config.bin %> <%= command.id %> backup.tar.enc --json | jq -r \'.header.encryptedDataKeys[].keyArn\'', description: 'The key ARNs, for a script'},
  ]

  static override flags = {
    'max-encrypted-data-keys': Flags.integer({description: 'Refuse headers with more encrypted data keys than this (default: no limit, since nothing is decrypted).', min: 1}),
  }

  async run(): Promise<DataInspectResult> {
    const input = await openInput(this.args.file)
    const result = await inspectMessage(input, {maxEncryptedDataKeys: this.flags['max-encrypted-data-keys'] ?? false})
    if (!this.jsonEnabled()) {
      this.log(renderHeader(result.header, result.sizes))
      for (const w of result.warnings) this.warnLine(w)
    }

    return result
  }
}
