import {KmsctlCommand} from '../../../cli/base-command.js'
import {defaultSandboxDir} from '../../../lib/home.js'
import {renderTable} from '../../../lib/output.js'
import {type AccountRow, listAccounts} from '../../../sandbox/organizations/model.js'

export interface AccountListResult {
  accounts: AccountRow[]
}

export default class SandboxAccountList extends KmsctlCommand<typeof SandboxAccountList> {
  static override description = `List the accounts of the sandbox organisation: ID, name, status, the roles other accounts can assume in it, and its enabled regions. The management account comes first.`

  static override examples = ['<%= config.bin %> <%= command.id %>', '<%= config.bin %> <%= command.id %> --json']

  async run(): Promise<AccountListResult> {
    const accounts = listAccounts(this.flags['sandbox-dir'] ?? defaultSandboxDir())
    if (!this.jsonEnabled()) {
      if (accounts.length === 0) this.note('No organisation yet: kmsctl sandbox account add ID, or kmsctl sandbox org seed.')
      else {
        this.log(
          renderTable(accounts, [
            {get: (a) => a.id + (a.management ? ' (management)' : ''), header: 'Account', shrink: false},
            {get: (a) => a.name, header: 'Name'},
            {get: (a) => a.status, header: 'Status', shrink: false},
            {get: (a) => (a.roles.length > 0 ? a.roles.join(', ') : '-'), header: 'Roles'},
            {get: (a) => a.regions.join(', '), header: 'Regions'},
          ]),
        )
      }
    }

    return {accounts}
  }
}
