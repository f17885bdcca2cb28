import {Args, Flags} from '@oclif/core'

import {KmsctlCommand} from '../../../cli/base-command.js'
import {mutationFlags} from '../../../cli/flags.js'
import {defaultSandboxDir} from '../../../lib/home.js'
import {parseRegionName} from '../../../lib/org/targets.js'
import {splitList} from '../../../lib/parse.js'
import {type AddAccountResult, DEFAULT_ROLE_NAME, addAccount} from '../../../sandbox/organizations/model.js'

export type AccountAddResult = AddAccountResult

export default class SandboxAccountAdd extends KmsctlCommand<typeof SandboxAccountAdd> {
  static override args = {
    id: Args.string({description: 'The 12-digit account ID.', required: true}),
  }

  static override description = `Add a member account to the sandbox organisation (created with the sandbox account as its management account on first use).

As Organizations does for the accounts it creates, the account gets the role ${DEFAULT_ROLE_NAME} (--role-name for another name, --no-role for none), trusting the management account, with administrator access: STS AssumeRole into it from the sandbox administrator returns temporary credentials that act in the new account. Each account has its own keys, aliases, grants, CloudTrail events and request quotas in every region. --regions sets the regions the account has enabled (account:ListRegions); without it, the regions AWS enables by default. A running \`sandbox serve\` sees the change at once.`

  static override examples = [
    {command: '<%= config.bin %> <%= command.id %> 444455556666 --name payments-dev', description: 'A member account with OrganizationAccountAccessRole'},
    {command: '<%= config.bin %> <%= command.id %> 555566667777 --role-name OpsAccess --regions us-east-1,eu-west-1', description: 'Another role name, two enabled regions'},
    {command: '<%= config.bin %> <%= command.id %> 666677778888 --no-role', description: 'An account no role can be assumed into'},
  ]

  static override flags = {
    ...mutationFlags,
    email: Flags.string({description: 'The account\'s e-mail address (default aws+ID@example.com).'}),
    'external-id': Flags.string({description: 'The role\'s trust policy requires this sts:ExternalId.'}),
    name: Flags.string({description: 'The account\'s name (default account-NNNN).'}),
    'no-role': Flags.boolean({description: 'Create no cross-account role.', exclusive: ['role-name', 'external-id']}),
    regions: Flags.string({description: 'Regions the account has enabled, comma-separated (default: the regions AWS enables by default).', multiple: true}),
    'role-name': Flags.string({description: `The cross-account role to create (default ${DEFAULT_ROLE_NAME}).`}),
  }

  async run(): Promise<AccountAddResult> {
    const {args, flags} = this
    const regions = flags.regions ? splitList(flags.regions).map((r) => parseRegionName(r, '--regions')) : undefined
    const result = await addAccount(flags['sandbox-dir'] ?? defaultSandboxDir(), {
      dryRun: flags['dry-run'],
      email: flags.email,
      externalId: flags['external-id'],
      id: args.id,
      name: flags.name,
      noRole: flags['no-role'],
      nowMs: Date.now(),
      regions,
      roleName: flags['role-name'],
    })
    if (!this.jsonEnabled()) {
      const a = result.account
      const verb = result.dryRun ? 'Would add' : result.changed ? 'Added' : 'Already in the organisation:'
      this.log(`${verb} account ${a.id} (${a.name}) to ${result.organizationId}; roles: ${a.roles.length > 0 ? a.roles.join(', ') : 'none'}; regions: ${a.regions.join(', ')}`)
    }

    return result
  }
}
