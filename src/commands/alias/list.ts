import {Flags} from '@oclif/core'

import {type AliasListing, type AliasRow, listAliases} from '../../lib/aliases.js'
import {KmsctlCommand} from '../../cli/base-command.js'
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
    customer: Flags.boolean({description: 'Leave out the AWS managed aliases (alias/aws/*).'}),
    key: Flags.string({description: 'Only the aliases of this key: key ID, key ARN, alias name or alias ARN.'}),
  }

  async run(): Promise<AliasListResult> {
    const kms = await this.aws.kms()
    const listing = await listAliases(kms, {customerOnly: this.flags.customer, key: this.flags.key})
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
      renderTable<AliasRow>(aliases, [
        {get: (a) => (a.awsManaged ? `${a.aliasName} ${chalk.dim('(AWS managed)')}` : a.aliasName), header: 'Alias'},
        {get: (a) => a.targetKeyId ?? chalk.dim('(no key yet)'), header: 'Target key', shrink: false},
        {get: (a) => formatDate(a.creationDate), header: 'Created', shrink: false},
        {get: (a) => formatDate(a.lastUpdatedDate), header: 'Updated', shrink: false},
      ]),
    )
    const managed = aliases.filter((a) => a.awsManaged).length
    this.note(`${aliases.length} alias${aliases.length === 1 ? '' : 'es'}${managed > 0 ? ` (${managed} AWS managed)` : ''}`)
  }
}
