import {Flags} from '@oclif/core'

import {type AliasListing, type AliasRow, listAliases} from '../../lib/aliases.js'
import {KmsctlCommand} from '../../cli/base-command.js'
import {orgFlags, progressReporter, renderSummary, targetsFrom} from '../../cli/org-flags.js'
import {ExitCode, usageError} from '../../lib/errors.js'
import {type TargetSummary, acrossTargets, anyFailed} from '../../lib/org/run.js'
import {chalk, formatDate, renderTable} from '../../lib/output.js'

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
        release: true,
      })
      progress.done()
      const aliases: OrgAliasRow[] = outcomes.flatMap((o) => (o.value?.aliases ?? []).map((a) => ({account: o.account, region: o.region, ...a})))
      if (!this.jsonEnabled()) {
        this.render({aliases}, true)
        this.note(renderSummary(summaries, 'aliases'))
      }

      if (anyFailed(summaries)) process.exitCode = ExitCode.PARTIAL
      return {aliases, targets: summaries}
    }

    const kms = await this.aws.kms()
    const listing = await listAliases(kms, {customerOnly: this.flags.customer, key: this.flags.key})
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
      renderTable<AliasRow & {account?: string; region?: string}>(aliases, [
        ...(where
          ? [
              {get: (a: AliasRow & {account?: string}) => a.account ?? '', header: 'Account', shrink: false},
              {get: (a: AliasRow & {region?: string}) => a.region ?? '', header: 'Region', shrink: false},
            ]
          : []),
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
