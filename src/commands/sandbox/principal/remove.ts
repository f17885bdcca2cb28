import {Args} from '@oclif/core'

import {KmsctlCommand} from '../../../cli/base-command.js'
import {mutationFlags} from '../../../cli/flags.js'
import {defaultSandboxDir} from '../../../lib/home.js'
import {SANDBOX_ACCOUNT} from '../../../sandbox/constants.js'
import {type RemovePrincipalResult, removePrincipal} from '../../../sandbox/identity/principals.js'

export type PrincipalRemoveResult = RemovePrincipalResult

export default class SandboxPrincipalRemove extends KmsctlCommand<typeof SandboxPrincipalRemove> {
  static override args = {
    accessKeyId: Args.string({description: 'The access key ID to forget.', required: true}),
  }

  static override description = `Forget an access key: requests signed with it act as the sandbox administrator again.`

  static override examples = ['<%= config.bin %> sandbox principal remove AKIAEXAMPLEREADER001', '<%= config.bin %> sandbox principal remove AKIAEXAMPLEREADER001 --dry-run']

  static override flags = {...mutationFlags}

  async run(): Promise<PrincipalRemoveResult> {
    const dir = this.flags['sandbox-dir'] ?? defaultSandboxDir()
    const result = await removePrincipal(dir, this.args.accessKeyId, SANDBOX_ACCOUNT, this.flags['dry-run'])
    if (!this.jsonEnabled()) process.stdout.write(`${result.dryRun ? 'Would remove' : 'Removed'} ${result.removed.accessKeyId} (${result.removed.arn})\n`)
    return result
  }
}
