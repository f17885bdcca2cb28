import {Flags} from '@oclif/core'

import {type AliasListing, type AliasRow, listAliases} from '../../lib/aliases.js'
import {KmsctlCommand} from '../../cli/base-command.js'
import {cacheAliases} from '../../cli/completion.js'
import {tableFlags} from '../../cli/flags.js'
import {orgFlags, progressReporter, renderSummary, targetsFrom, whereColumns} from '../../cli/org-flags.js'
import {usageError} from '../../lib/errors.js'
import {type TargetSummary, acrossTargets, anyFailed} from '../../lib/org/run.js'
import {chalk, formatDate} from '../../lib/output.js'

/** An alias found across accounts and regions: where, then the alias. */
export type OrgAliasRow = AliasRow & {account: string; region: string}

/** Across accounts or regions: the aliases and each account-region's summary (exit 3 when some failed). */
export interface OrgAliasListResult {
  aliases: OrgAliasRow[]
  targets: TargetSummary[]
}

export type AliasListResult = AliasListing | OrgAliasListResult

export default class AliasList extends KmsctlCommand<typeof AliasList> {
  static override description = `List the aliases of the region, or of one key: alias name, target key, creation and last update.
AWS managed aliases (alias/aws/*) are marked; the ones of AWS services not used yet in this region have no target key.`

  static override examples = [
    {command: '<%= config.bin %> <%= command.id %>', description: 'Every alias of the region'},
    {command: '<%= config.bin %> <%= command.id %> --key alias/payments', description: 'The aliases of one key (any key reference)'},
    {command: '<%= config.bin %> <%= command.id %> --customer', description: 'Only your aliases, without alias/aws/*'},
    {command: '<%= config.bin %> <%= command.id %> --json', description: 'As JSON'},
    {command: '<%= config.bin %> <%= command.id %> --customer --org --all-regions --role-name OrganizationAccountAccessRole', description: 'Your aliases in every account and enabled region of the organisation'},
  ]

  static override flags = {
    ...orgFlags,
    ...tableFlags,
    customer: Flags.boolean({description: 'Leave out the AWS managed aliases (alias/aws/*).'}),
    key: Flags.string({description: 'Only the aliases of this key: key ID, key ARN, alias name or alias ARN.'}),
  }

  async run(): Promise<AliasListResult> {
    const targets = targetsFrom(this.flags)
    if (targets) {
      if (this.flags.key) throw usageError('--key names one key: across accounts and regions, every alias is listed.', 'Try this: drop --key, or drop the account and region flags.')
      const progress = this.progress()
      const {outcomes, summaries} = await acrossTargets(this.aws, targets, async ({clients}) => listAliases(await clients.kms(), {customerOnly: this.flags.customer}), {
        count: (l) => ({seen: l.aliases.length}),
        onProgress: progressReporter(progress, 'aliases'),
      })
      progress.done()
      const aliases: OrgAliasRow[] = outcomes.flatMap((o) => (o.value?.aliases ?? []).map((a) => ({account: o.account, region: o.region, ...a})))
      if (!this.jsonEnabled()) {
        this.render({aliases}, true)
        // The closing summary per account-region goes to stderr, also under --csv and --ndjson.
        this.note(renderSummary(summaries, 'aliases'))
      }

      // A failed account-region is a partial failure: exit 3.
      if (anyFailed(summaries)) this.exitWith('partial')
      return {aliases, targets: summaries}
    }

    const kms = await this.aws.kms()
    const listing = await listAliases(kms, {customerOnly: this.flags.customer, key: this.flags.key})
    // Every alias of the region: remembered for shell completion.
    if (!this.flags.key) cacheAliases(await this.aws.region(), listing.aliases.map((a) => a.aliasName))
    if (!this.jsonEnabled()) this.render(listing)
    return listing
  }

  private render(listing: Pick<AliasListing, 'aliases' | 'key'>, where = false): void {
    const aliases = listing.aliases as Array<AliasRow & {account?: string; region?: string}>
    if (aliases.length === 0) {
      this.note(listing.key ? `Key ${listing.key.keyId} has no aliases.` : 'No aliases.')
      return
    }

    this.log(
      this.renderList<AliasRow & {account?: string; region?: string}>(aliases, [
        ...(where ? whereColumns<AliasRow & {account?: string; region?: string}>() : []),
        {get: (a) => (a.awsManaged ? `${a.aliasName} ${chalk.dim('(AWS managed)')}` : a.aliasName), header: 'Alias', kind: 'name'},
        {get: (a) => a.targetKeyId ?? chalk.dim('(no key yet)'), header: 'Target key', kind: 'id', minWidth: 9, name: 'key-id'},
        {get: (a) => formatDate(a.creationDate), header: 'Created', kind: 'fixed', priority: 3},
        {get: (a) => formatDate(a.lastUpdatedDate), header: 'Updated', kind: 'fixed', priority: 4},
      ]),
    )
    if (this.rowsOnly()) return
    const managed = aliases.filter((a) => a.awsManaged).length
    this.note(`${aliases.length} alias${aliases.length === 1 ? '' : 'es'}${managed > 0 ? ` (${managed} AWS managed)` : ''}`)
  }
}
