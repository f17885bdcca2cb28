import {Flags} from '@oclif/core'

import {KmsctlCommand} from '../../../cli/base-command.js'
import {defaultSandboxDir} from '../../../lib/home.js'
import {parseRegionName} from '../../../lib/org/targets.js'
import {splitList} from '../../../lib/parse.js'
import {SANDBOX_ACCOUNT} from '../../../sandbox/constants.js'
import {DEFAULT_ROLE_NAME, SEED_ACCOUNTS, type SeedResult, seedOrganization} from '../../../sandbox/organizations/model.js'

export type OrgSeedResult = SeedResult

export default class SandboxOrgSeed extends KmsctlCommand<typeof SandboxOrgSeed> {
  static override description = `Create the sandbox's sample organisation: the sandbox account ${SANDBOX_ACCOUNT} as management account and the member accounts ${SEED_ACCOUNTS.map((a) => `${a.id} (${a.name})`).join(', ')}, each with the role ${DEFAULT_ROLE_NAME} trusting the management account. Accounts already there are kept.`

  static override examples = [
    '<%= config.bin %> <%= command.id %>',
    {command: '<%= config.bin %> <%= command.id %> --regions us-east-1,eu-west-1', description: 'Every account with two enabled regions'},
  ]

  static override flags = {
    regions: Flags.string({description: 'Regions every account has enabled (default: the regions AWS enables by default).', multiple: true}),
  }

  async run(): Promise<OrgSeedResult> {
    const regions = this.flags.regions ? splitList(this.flags.regions).map((r) => parseRegionName(r, '--regions')) : undefined
    const result = await seedOrganization(this.flags['sandbox-dir'] ?? defaultSandboxDir(), Date.now(), SEED_ACCOUNTS, regions)
    if (!this.jsonEnabled()) {
      this.log(`Organisation ${result.organizationId}: ${result.accounts.map((a) => `${a.id} (${a.name}${a.management ? ', management' : ''})`).join(', ')}`)
    }

    return result
  }
}
