import {KmsctlCommand} from '../../../cli/base-command.js'
import {tableFlags} from '../../../cli/flags.js'
import {defaultSandboxDir} from '../../../lib/home.js'
import {SANDBOX_ACCOUNT} from '../../../sandbox/constants.js'
import {type PrincipalRow, listPrincipals} from '../../../sandbox/identity/principals.js'

export interface PrincipalListResult {
  principals: PrincipalRow[]
}

export default class SandboxPrincipalList extends KmsctlCommand<typeof SandboxPrincipalList> {
  static override description = `List the sandbox's principals: access key ID, who it acts as, and what its IAM policies allow.

The first row is the built-in administrator, which every access key not listed acts as.`

  static override examples = ['<%= config.bin %> sandbox principal list', '<%= config.bin %> sandbox principal list --json']

  static override flags = {...tableFlags}

  async run(): Promise<PrincipalListResult> {
    const principals = listPrincipals(this.flags['sandbox-dir'] ?? defaultSandboxDir(), SANDBOX_ACCOUNT)
    if (!this.jsonEnabled()) {
      process.stdout.write(
        this.renderList(principals, [
          {get: (p) => p.accessKeyId + (p.builtIn ? ' (default)' : ''), header: 'Access key ID', kind: 'fixed'},
          {get: (p) => p.type + (p.crossAccount ? ' (other account)' : ''), header: 'Type', kind: 'fixed', priority: 3},
          {cut: 'start', get: (p) => p.arn, header: 'Principal', kind: 'name', minWidth: 16},
          {get: (p) => (p.iamAllow.length > 0 ? p.iamAllow.join(', ') : '-') + (p.viaService ? ` via ${p.viaService}` : ''), header: 'IAM allows', kind: 'text', minWidth: 10},
          {get: (p) => (p.verifiesSignature ? 'checked' : 'not checked'), header: 'Signature', kind: 'fixed', priority: 3},
        ]) + '\n',
      )
    }

    return {principals}
  }
}
