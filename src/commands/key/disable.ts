import {KeyStateCommand} from '../../cli/key-state-command.js'

export type {KeyStateResult as KeyDisableResult} from '../../cli/key-state-command.js'

export default class KeyDisable extends KeyStateCommand {
  static override description = `Disable keys: one, many, all keys with a tag, or a list from a file or stdin. Shows the resolved list and asks once for the batch.
Calls are paced at KMS's DisableKey quota (5/s by default, --rate to change) with retry on throttling. AWS-managed keys, keys already disabled and keys pending deletion are reported with the reason. Each change is journaled before it is sent (kmsctl undo reverses it). Ctrl-C stops sending, waits for the calls in flight and prints the report so far.
Exit codes: 0 all done, 1 every key failed, 3 some keys failed, 130 interrupted.`

  static override examples = [
    {command: '<%= config.bin %> <%= command.id %> alias/payments', description: 'Disable one key (type its ID or alias to confirm)'},
    {command: '<%= config.bin %> <%= command.id %> --tag team=payments --yes', description: 'Disable every customer-managed key tagged team=payments, without a prompt'},
    {command: '<%= config.bin %> <%= command.id %> --file compromised.txt --dry-run', description: 'Show what would be disabled, send nothing'},
    {command: 'cut -f1 keys.tsv | <%= config.bin %> <%= command.id %> - --yes --json', description: 'Keys from stdin, JSON report'},
  ]

  protected readonly action = 'disable' as const
}
