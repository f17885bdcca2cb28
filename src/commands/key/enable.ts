import {KeyStateCommand} from '../../cli/key-state-command.js'

export type {KeyStateResult as KeyEnableResult} from '../../cli/key-state-command.js'

export default class KeyEnable extends KeyStateCommand {
  static override description = `Enable keys: one, many, all keys with a tag, or a list from a file or stdin. Shows the resolved list and asks once for the batch.
Calls are paced at KMS's EnableKey quota (5/s by default, --rate to change) with retry on throttling. AWS-managed keys, keys already enabled and keys pending deletion are reported with the reason. Each change is journaled before it is sent (kmsctl undo reverses it). Ctrl-C stops sending, waits for the calls in flight and prints the report so far.
Exit codes: 0 all done, 1 every key failed, 3 some keys failed, 130 interrupted.`

  static override examples = [
    {command: '<%= config.bin %> <%= command.id %> alias/payments', description: 'Enable one key (type its ID or alias to confirm)'},
    {command: '<%= config.bin %> <%= command.id %> --tag team=payments --yes', description: 'Enable every customer-managed key tagged team=payments'},
    {command: '<%= config.bin %> <%= command.id %> --file keys.txt --dry-run', description: 'Show what would be enabled, send nothing'},
  ]

  protected readonly action = 'enable' as const
}
