import {Flags} from '@oclif/core'

import {type AliasListing, type AliasRow, listAliases} from '../../lib/aliases.js'
import {KmsctlCommand} from '../../cli/base-command.js'
import {cacheAliases} from '../../cli/completion.js'
import {tableFlags} from '../../cli/flags.js'
import {chalk, formatDate, renderTable} from '../../lib/output.js'

export type AliasListResult = AliasListing

export default class AliasList extends KmsctlCommand<typeof AliasList> {
  static override description = `List the aliases of the region, or of one key: alias name, target key, creation and last update.
AWS managed aliases (alias/aws/*) are marked; the ones of AWS services not used yet in this region have no target key.`

  static override examples = [
    {command: '<%= config.bin %> <%= command.id %>', description: 'Every alias of the region'},
    {command: '<%= config.bin %> <%= command.id %> --key alias/payments', description: 'The aliases of one key (any key reference)'},
    {command: '<%= config.bin %> <%= command.id %> --customer', description: 'Only your aliases, without alias/aws/*'},
    {command: '<%= config.bin %> <%= command.id %> --json', description: 'As JSON'},
  ]

  static override flags = {
    ...tableFlags,
    customer: Flags.boolean({description: 'Leave out the AWS managed aliases (alias/aws/*).'}),
    key: Flags.string({description: 'Only the aliases of this key: key ID, key ARN, alias name or alias ARN.'}),
  }

  async run(): Promise<AliasListResult> {
    const kms = await this.aws.kms()
    const listing = await listAliases(kms, {customerOnly: this.flags.customer, key: this.flags.key})
    // Every alias of the region: remembered for shell completion.
    if (!this.flags.key) cacheAliases(await this.aws.region(), listing.aliases.map((a) => a.aliasName))
    if (!this.jsonEnabled()) this.render(listing)
    return listing
  }

  private render(listing: AliasListing): void {
    const {aliases} = listing
    if (aliases.length === 0) {
      this.note(listing.key ? `Key ${listing.key.keyId} has no aliases.` : 'No aliases.')
      return
    }

    this.log(
      this.renderList<AliasRow>(aliases, [
        {get: (a) => (a.awsManaged ? `${a.aliasName} ${chalk.dim('(AWS managed)')}` : a.aliasName), header: 'Alias', kind: 'name'},
        {get: (a) => a.targetKeyId ?? chalk.dim('(no key yet)'), header: 'Target key', kind: 'id', minWidth: 9, name: 'key-id'},
        {get: (a) => formatDate(a.creationDate), header: 'Created', kind: 'fixed', priority: 3},
        {get: (a) => formatDate(a.lastUpdatedDate), header: 'Updated', kind: 'fixed', priority: 4},
      ]),
    )
    if (this.flags.csv) return
    const managed = aliases.filter((a) => a.awsManaged).length
    this.note(`${aliases.length} alias${aliases.length === 1 ? '' : 'es'}${managed > 0 ? ` (${managed} AWS managed)` : ''}`)
  }
}
