import {Flags} from '@oclif/core'

import {KmsctlCommand} from '../../../cli/base-command.js'
import {defaultSandboxDir} from '../../../lib/home.js'
import {parseRegionName} from '../../../lib/org/targets.js'
import {splitList} from '../../../lib/parse.js'
import {SANDBOX_ACCOUNT} from '../../../sandbox/constants.js'
import {DEFAULT_ROLE_NAME, SEED_ACCOUNTS, type SeedResult, seedOrganization} from '../../../sandbox/organizations/model.js'
import {type SeededKey, seedKeys} from '../../../sandbox/organizations/seed-keys.js'

export type OrgSeedResult = SeedResult & {keys: SeededKey[]}

export default class SandboxOrgSeed extends KmsctlCommand<typeof SandboxOrgSeed> {
  static override description = `Create the sandbox's sample organisation: the sandbox account ${SANDBOX_ACCOUNT} as management account and the member accounts ${SEED_ACCOUNTS.map((a) => `${a.id} (${a.name})`).join(', ')}, each with the role ${DEFAULT_ROLE_NAME} trusting the management account. Accounts already there are kept.`

  static override examples = [
    '<%= config.bin %> <%= command.id %>',
    {command: '<%= config.bin %> <%= command.id %> --regions us-east-1,eu-west-1', description: 'Every account with two enabled regions'},
    {command: '<%= config.bin %> <%= command.id %> --regions us-east-1,eu-west-1 --keys 2', description: 'And two sample keys in each account-region (team=payments, team=web)'},
  ]

  static override flags = {
    keys: Flags.integer({description: 'Create this many sample keys in each account-region (tagged team=payments and team=web in turn; the first aliased alias/payments).', max: 100, min: 0}),
    regions: Flags.string({description: 'Regions every account has enabled (default: the regions AWS enables by default).', multiple: true}),
  }

  async run(): Promise<OrgSeedResult> {
    const regions = this.flags.regions ? splitList(this.flags.regions).map((r) => parseRegionName(r, '--regions')) : undefined
    const dir = this.flags['sandbox-dir'] ?? defaultSandboxDir()
    const seeded = await seedOrganization(dir, Date.now(), SEED_ACCOUNTS, regions)
    const keys = this.flags.keys ? await seedKeys(dir, this.flags.keys, Date.now()) : []
    if (!this.jsonEnabled()) {
      this.log(`Organisation ${seeded.organizationId}: ${seeded.accounts.map((a) => `${a.id} (${a.name}${a.management ? ', management' : ''})`).join(', ')}`)
      if (keys.length > 0) this.log(`Created ${keys.length} sample keys in ${new Set(keys.map((k) => `${k.account}/${k.region}`)).size} account-regions.`)
    }

    return {...seeded, keys}
  }
}
