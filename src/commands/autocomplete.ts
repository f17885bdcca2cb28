import {Args, Flags} from '@oclif/core'

import {KmsctlCommand} from '../cli/base-command.js'
import {usageError} from '../lib/errors.js'
import {type CompletionCommand, bashScript, complete, zshScript} from '../cli/completion.js'

export default class Autocomplete extends KmsctlCommand<typeof Autocomplete> {
  static override args = {
    shell: Args.string({description: 'The shell to print the completion script for: bash (default) or zsh.'}),
  }

  static override description = `Print the shell completion script: commands, flags, flag values (--source, --state, --manager, --region, ...) and alias names.
Add eval "$(kmsctl autocomplete bash)" to ~/.bashrc, or eval "$(kmsctl autocomplete zsh)" to ~/.zshrc (after compinit). Alias names come from a cache under KMSCTL_HOME (~/.kmsctl/completion) that kmsctl key list and kmsctl alias list refresh; completing never calls AWS.`

  static override examples = [
    {command: '<%= config.bin %> <%= command.id %> bash >> ~/.bashrc', description: 'Turn completion on for every bash session'},
    {command: '<%= config.bin %> <%= command.id %> zsh >> ~/.zshrc', description: 'Turn it on for every zsh session'},
  ]

  static override flags = {
    complete: Flags.boolean({description: 'Print the candidates for the words after --, one a line (what the scripts call).', hidden: true}),
  }

  static override strict = false

  async run(): Promise<{candidates?: string[]; script?: string}> {
    if (this.flags.complete) {
      const words = this.argvList
      const commands = this.config.commands as unknown as CompletionCommand[]
      const candidates = complete(commands, words.length > 0 ? words : [''])
      if (!this.jsonEnabled()) process.stdout.write(candidates.map((c) => c + '\n').join(''))
      return {candidates}
    }

    const shell = this.args.shell ?? 'bash'
    if (shell !== 'bash' && shell !== 'zsh') throw usageError(`No completion script for "${shell}".`, 'Try this: kmsctl autocomplete bash, or kmsctl autocomplete zsh')
    const script = shell === 'zsh' ? zshScript(this.config.bin) : bashScript(this.config.bin)
    if (!this.jsonEnabled()) process.stdout.write(script)
    return {script}
  }
}
