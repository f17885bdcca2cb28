import {Flags} from '@oclif/core'

import {KmsctlCommand} from '../../cli/base-command.js'
import {cacheAliases} from '../../cli/completion.js'
import {tableFlags} from '../../cli/flags.js'
import {orgFlags, progressReporter, renderSummary, targetsFrom, whereColumns} from '../../cli/org-flags.js'
import {usageError} from '../../lib/errors.js'
import {type TargetSummary, acrossTargets, anyFailed} from '../../lib/org/run.js'
import type {Targets} from '../../lib/org/targets.js'
import {parsePairs, splitList} from '../../lib/parse.js'
import {type KeySummary, listKeys, partialListing, rotationText} from '../../lib/inventory.js'
import {type Column, chalk, formatDay, formatPairs} from '../../lib/output.js'

/** A key of a listing across accounts and regions: where it is, then the key. */
export type OrgKeySummary = KeySummary & {account: string; region: string}

/** Across accounts or regions (--accounts, --org, --regions, --all-regions): the keys and each account-region's summary. */
export interface OrgKeyListResult {
  keys: OrgKeySummary[]
  targets: TargetSummary[]
}

export type KeyListResult = KeySummary[] | OrgKeyListResult

const STATES = ['Enabled', 'Disabled', 'PendingDeletion', 'PendingImport', 'PendingReplicaDeletion', 'Unavailable', 'Creating', 'Updating']

export default class KeyList extends KmsctlCommand<typeof KeyList> {
  static override description = `List the KMS keys of the region: aliases, state, spec/usage, manager, rotation, multi-Region, creation date and description in one table.
Reads every page of ListKeys and ListAliases, then describes the keys concurrently, paced below KMS's request quotas (DescribeKey, GetKeyRotationStatus, ListResourceTags 100/s).`

  static override examples = [
    {command: '<%= config.bin %> <%= command.id %>', description: 'Every key of the region'},
    {command: '<%= config.bin %> <%= command.id %> --manager CUSTOMER --state Enabled', description: 'Customer-managed keys in use'},
    {command: '<%= config.bin %> <%= command.id %> --tag team=payments --alias "alias/pay-*"', description: 'Keys tagged team=payments whose alias matches a glob'},
    {command: '<%= config.bin %> <%= command.id %> --state PendingDeletion', description: 'Keys about to be deleted, with the date and days left'},
    {command: '<%= config.bin %> <%= command.id %> --json | jq ".[].keyId"', description: 'Full metadata as JSON'},
    {command: '<%= config.bin %> <%= command.id %> --org --all-regions --role-name OrganizationAccountAccessRole --tag team=payments', description: 'Keys tagged team=payments in every account and enabled region of the organisation'},
    {command: '<%= config.bin %> <%= command.id %> --accounts 111122223333,444455556666 --regions us-east-1,eu-west-1 --role-name Ops --json', description: 'Two accounts, two regions, as JSON (each key with its account and region)'},
  ]

  static override flags = {
    ...orgFlags,
    ...tableFlags,
    alias: Flags.string({description: 'Only keys with an alias starting with this prefix, or matching this glob (alias/app-*).'}),
    concurrency: Flags.integer({default: 32, description: 'Most requests in flight at once.', min: 1, max: 256}),
    manager: Flags.string({description: 'Only keys managed by AWS or by you.', multiple: true, options: ['AWS', 'CUSTOMER']}),
    spec: Flags.string({description: 'Only keys of this spec (SYMMETRIC_DEFAULT, RSA_2048, ECC_NIST_P256, HMAC_256, ...); comma-separated or repeated.', multiple: true}),
    state: Flags.string({description: 'Only keys in this state; comma-separated or repeated.', multiple: true}),
    tag: Flags.string({description: 'Only customer-managed keys with this tag (k=v); repeat for several (all must match).', multiple: true}),
  }

  async run(): Promise<KeyListResult> {
    const {flags} = this
    const targets = targetsFrom(flags)
    this.checkColumns(keyColumns([], targets !== undefined))
    const states = splitList(flags.state).map((s) => {
      const match = STATES.find((x) => x.toLowerCase() === s.toLowerCase())
      if (!match) throw usageError(`--state "${s}" is not a key state.`, `Try this: one of ${STATES.join(', ')}`)
      return match
    })
    const tags = parsePairs(flags.tag, 'tag')
    const filters = {alias: flags.alias, concurrency: flags.concurrency, manager: flags.manager, spec: splitList(flags.spec), state: states, tags}
    if (targets) return this.across(targets, filters)
    const kms = await this.aws.kms()
    const progress = this.progress()
    const {failures, keys} = await listKeys(kms, {
      ...filters,
      onProgress: (done, total) => progress.update(`Describing keys: ${done}/${total}`),
    })
    progress.done()
    // The whole region listed: its aliases are remembered for shell completion.
    if (failures.length === 0 && !flags.alias && !flags.manager && !flags.spec && !flags.state && !flags.tag) cacheAliases(await this.aws.region(), keys.flatMap((k) => k.aliases))
    if (!this.jsonEnabled()) this.render(keys)
    if (failures.length > 0) throw partialListing(keys, failures)
    return keys
  }

  private async across(targets: Targets, filters: Parameters<typeof listKeys>[1]): Promise<OrgKeyListResult> {
    const progress = this.progress()
    const {outcomes, summaries} = await acrossTargets(this.aws, targets, async ({clients, pacer}) => listKeys(await clients.kms(), {...filters, pacer}), {
      // Keys that could not be described count as that account-region's failures (exit 3).
      count: (listing) => ({failed: listing.failures.length, seen: listing.keys.length}),
      onProgress: progressReporter(progress, 'keys'),
    })
    progress.done()
    const keys: OrgKeySummary[] = outcomes.flatMap((o) => (o.value?.keys ?? []).map((k) => ({account: o.account, region: o.region, ...k})))
    for (const o of outcomes) for (const f of o.value?.failures ?? []) this.warnLine(`${o.account}/${o.region}: ${f.operation}${f.keyId ? ` on ${f.keyId}` : ""}: ${f.message}`)
    if (!this.jsonEnabled()) {
      this.render(keys, true)
      // The closing summary per account-region goes to stderr, also under --csv and --ndjson.
      this.note(renderSummary(summaries, 'keys'))
    }

    // A failed account-region (or keys it could not describe) is a partial failure: exit 3.
    if (anyFailed(summaries)) this.exitWith('partial')
    return {keys, targets: summaries}
  }

  private render(keys: Array<KeySummary & {account?: string; region?: string}>, where = false): void {
    if (keys.length === 0) {
      this.note('No keys match.')
      return
    }

    this.log(this.renderList(keys, keyColumns(keys, where)))
    if (!where && !this.rowsOnly()) this.note(`${keys.length} key${keys.length === 1 ? '' : 's'}`)
  }
}

/** A key that may carry the account and region it was listed in. */
type WhereKey = KeySummary & {account?: string; region?: string}

const stateText = (k: KeySummary) =>
  k.state === 'Enabled' ? chalk.green(k.state) : k.state === 'PendingDeletion' ? chalk.red(k.state) : k.state === 'Disabled' ? chalk.yellow(k.state) : k.state

/** The columns of `key list`, most valuable first in priority (see Column in src/lib/output.ts). */
export function keyColumns(keys: readonly WhereKey[] = [], where = false): Array<Column<WhereKey>> {
  const pending = keys.some((k) => k.state === 'PendingDeletion' || k.state === 'PendingReplicaDeletion')
  return [
    // Across accounts or regions, where each key is comes first and is never dropped.
    ...(where ? whereColumns<WhereKey>() : []),
    {get: (k) => k.aliases.join('\n'), header: 'Alias', kind: 'name'},
    {get: (k) => k.keyId, header: 'Key ID', kind: 'id', minWidth: 9},
    {get: (k) => k.arn, header: 'ARN', kind: 'id', wide: true},
    {get: stateText, header: 'State', kind: 'fixed'},
    {get: (k) => k.keySpec, header: 'Spec', kind: 'fixed', priority: 4},
    {get: (k) => k.keyUsage, header: 'Usage', kind: 'fixed', wide: true},
    {get: (k) => rotationText(k.rotation), header: 'Rotation', kind: 'fixed', priority: 3},
    {get: (k) => k.manager, header: 'Manager', kind: 'fixed', priority: 6},
    {get: (k) => (k.multiRegion ? 'yes' : 'no'), header: 'Multi-Region', kind: 'fixed', priority: 6},
    {
      get: (k) => (k.deletionDate ? `${formatDay(k.deletionDate)} (${k.daysLeft} d left)` : k.state === 'PendingReplicaDeletion' ? 'after replicas' : ''),
      header: 'Deletion',
      kind: 'fixed',
      wide: !pending,
    },
    {get: (k) => formatDay(k.creationDate), header: 'Created', kind: 'fixed', priority: 5},
    {get: (k) => formatPairs(k.tags ?? {}), header: 'Tags', kind: 'text', wide: true},
    {get: (k) => k.description, header: 'Description', kind: 'text', minWidth: 16, priority: 2},
  ]
}
