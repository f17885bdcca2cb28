import {Args, Flags} from '@oclif/core'

import {KmsctlCommand} from '../../cli/base-command.js'
import {tableFlags} from '../../cli/flags.js'
import {partialEntries} from '../../lib/aws/paging.js'
import {type KmsctlError, usageError} from '../../lib/errors.js'
import {type GrantInfo, type KeyFailure, constraintText, listKeyGrants, listRetirableGrants, scanAllGrants} from '../../lib/grants/list.js'
import {validateGrantId, validatePrincipal} from '../../lib/grants/validate.js'
import {resolveKey} from '../../lib/key-ref.js'
import {type Column, formatDate} from '../../lib/output.js'
import {Pacer} from '../../lib/pacing.js'
import {orgFlags, progressReporter, renderSummary, roleFrom, targetsFrom, whereColumns} from '../../cli/org-flags.js'
import {clientsForKeyRefs} from '../../lib/org/credentials.js'
import {type TargetSummary, acrossTargets, anyFailed} from '../../lib/org/run.js'

/** The account ID in an ARN (arn:aws:iam::111122223333:root, a key ARN), for tables. */
function accountOf(arn: string | undefined): string {
  return /:(\d{12}):/.exec(arn ?? '')?.[1] ?? arn ?? ''
}

export interface GrantListResult {
  /** 'key': one key; 'all-keys': every customer-managed key; 'retirable': ListRetirableGrants. */
  scope: 'all-keys' | 'key' | 'retirable'
  grants: GrantInfo[]
  /** Keys whose grants were listed. */
  keysScanned?: number
  /** AWS-managed keys left out of an all-keys scan. */
  awsManagedSkipped?: number
  /** Keys whose grants could not be listed; the exit code is 3 when there are any. */
  failures: KeyFailure[]
  /** Across accounts or regions: each account-region's grants seen, or its failure (exit 3). */
  targets?: TargetSummary[]
}

/** A grant found across accounts and regions: where, then the grant. */
export type OrgGrantInfo = GrantInfo & {account?: string; region?: string}

export default class GrantList extends KmsctlCommand<typeof GrantList> {
  static override args = {
    key: Args.string({description: 'Key ID, key ARN, alias name or alias ARN. Without it: every customer-managed key of the region.'}),
  }

  static override description = `List grants: grant ID, name, grantee, retiring principal, operations, constraints, issuing account and creation date.
With KEY, the grants of that key (every page of ListGrants). Without KEY, or with --all-keys, the grants of every customer-managed key of the region: keys are listed concurrently, paced below the ListGrants quota (100 requests/s), with a progress line. Together with --grantee this answers "what can this principal do with our keys?".
--retirable-by ARN lists the grants that principal may retire, from any key (ListRetirableGrants, 5 requests/s).
Exit code 3 when the grants of some keys could not be listed (they are named on stderr and in the JSON "failures").`

  static override examples = [
    {command: '<%= config.bin %> <%= command.id %> alias/payments', description: 'The grants of one key'},
    {command: '<%= config.bin %> <%= command.id %> --grantee arn:aws:iam::111122223333:role/app', description: 'What can this role do with our keys? (every customer-managed key)'},
    {command: '<%= config.bin %> <%= command.id %> alias/payments --grant-id 0c237476b39f8bc44e45212e08498fbe3151305030726c0590dd8d3e9f3d6a60', description: 'One grant'},
    {command: '<%= config.bin %> <%= command.id %> --retirable-by arn:aws:iam::111122223333:role/ops', description: 'Grants a principal may retire'},
    {command: '<%= config.bin %> <%= command.id %> --all-keys --json', description: 'Every grant in the region as JSON'},
    {command: '<%= config.bin %> <%= command.id %> --grantee arn:aws:iam::111122223333:role/app --org --all-regions --role-name OrganizationAccountAccessRole', description: 'What can this role do with any key of the organisation, in any region?'},
  ]

  static override flags = {
    ...orgFlags,
    ...tableFlags,
    'all-keys': Flags.boolean({description: 'Every customer-managed key of the region (the default without KEY).', exclusive: ['retirable-by']}),
    concurrency: Flags.integer({default: 16, description: 'Most requests in flight at once during an all-keys scan.', max: 256, min: 1}),
    'grant-id': Flags.string({description: 'Only the grant with this ID.'}),
    grantee: Flags.string({description: 'Only grants whose grantee is this principal ARN.'}),
    'retirable-by': Flags.string({description: 'List the grants this principal ARN may retire (ListRetirableGrants), from any key.'}),
  }

  async run(): Promise<GrantListResult> {
    const {args, flags} = this
    if (args.key && flags['all-keys']) throw usageError('Give a KEY or --all-keys, not both.', 'Try this: drop KEY to scan every key, or drop --all-keys')
    if (args.key && flags['retirable-by']) throw usageError('--retirable-by lists grants from every key; it takes no KEY.', `Try this: kmsctl grant list --retirable-by ${flags['retirable-by']}`)
    const grantee = flags.grantee === undefined ? undefined : validatePrincipal(flags.grantee, 'grantee')
    const grantId = flags['grant-id'] === undefined ? undefined : validateGrantId(flags['grant-id'], '--grant-id')
    const retirableBy = flags['retirable-by'] === undefined ? undefined : validatePrincipal(flags['retirable-by'], 'retirable-by')
    const targets = targetsFrom(flags)
    if (targets) {
      if (args.key || retirableBy) throw usageError('Across accounts and regions, grants are searched in every customer-managed key.', 'Try this: kmsctl grant list --grantee ARN --org --role-name NAME (no KEY, no --retirable-by)')
      const progress = this.progress()
      const {outcomes, summaries} = await acrossTargets(
        this.aws,
        targets,
        async ({clients, pacer}) => scanAllGrants(await clients.kms(), {grantId, grantee, pacer}),
        {count: (scan) => ({failed: scan.failures.length, seen: scan.grants.length}), onProgress: progressReporter(progress, 'grants')},
      )
      progress.done()
      const grants: OrgGrantInfo[] = outcomes.flatMap((o) => (o.value?.grants ?? []).map((g) => ({account: o.account, region: o.region, ...g})))
      const failures = outcomes.flatMap((o) => o.value?.failures ?? [])
      const keysScanned = outcomes.reduce((n, o) => n + (o.value?.keysScanned ?? 0), 0)
      const awsManagedSkipped = outcomes.reduce((n, o) => n + (o.value?.awsManagedSkipped ?? 0), 0)
      const result: GrantListResult = {awsManagedSkipped, failures, grants, keysScanned, scope: 'all-keys', targets: summaries}
      if (!this.jsonEnabled()) {
        this.render(result, grantee, true)
        // The closing summary per account-region goes to stderr, also under --csv and --ndjson.
        this.note(renderSummary(summaries, 'grants'))
      }

      for (const f of failures) this.warnLine(`could not list the grants of ${f.keyId}: ${f.message}`)
      // Keys whose grants could not be listed, or a failed account-region: a partial failure (exit 3).
      this.exitWith(failures.length > 0 || anyFailed(summaries) ? 'partial' : 'ok')
      return result
    }

    // A key ARN of another account is read there, through the role (--role-name or KMSCTL_ROLE_NAME).
    const place = args.key ? await clientsForKeyRefs(this.aws, [args.key], roleFrom(flags)) : undefined
    if (place?.role) process.stderr.write(`Through role ${place.role}.\n`)
    const kms = await (place?.clients ?? this.aws).kms()
    const pacer = new Pacer({concurrency: flags.concurrency})

    let result: GrantListResult
    if (retirableBy) {
      const grants = await listRetirableGrants(kms, retirableBy, {grantId, grantee, pacer})
      result = {failures: [], grants, scope: 'retirable'}
    } else if (args.key) {
      const key = await resolveKey(kms, args.key)
      const failures: KeyFailure[] = []
      const grants = await listKeyGrants(kms, key.arn, {grantId, grantee, pacer}).catch((error: KmsctlError) => {
        // A later page failed: what was read is reported, with the failure (exit 3).
        const partial = partialEntries<GrantInfo>(error)
        if (!partial) throw error
        failures.push({code: error.code, keyArn: key.arn, keyId: key.keyId, message: error.message})
        return partial
      })
      for (const g of grants) g.keyId = key.keyId
      result = {failures, grants, keysScanned: 1, scope: 'key'}
    } else {
      const progress = this.progress()
      const scan = await scanAllGrants(kms, {
        grantId,
        grantee,
        onProgress: (done, total, found) => progress.update(`Listing grants: ${done}/${total} keys, ${found} grant${found === 1 ? '' : 's'}`),
        pacer,
      })
      progress.done()
      result = {awsManagedSkipped: scan.awsManagedSkipped, failures: scan.failures, grants: scan.grants, keysScanned: scan.keysScanned, scope: 'all-keys'}
    }

    if (!this.jsonEnabled()) this.render(result, grantee)
    for (const f of result.failures) this.warnLine(f.keyId ? `could not list the grants of ${f.keyId}: ${f.message}` : `could not read ${f.operation ?? 'the key list'}: ${f.message}`)
    this.exitWith(result.failures.length > 0 ? 'partial' : 'ok')
    return result
  }

  private render(r: GrantListResult, grantee: string | undefined, where = false): void {
    const scope = r.scope === 'all-keys' ? ` across ${r.keysScanned} customer-managed key${r.keysScanned === 1 ? '' : 's'}` : ''
    if (r.grants.length === 0) {
      this.note(`No grants match${scope}.`)
      const session = /^arn:(aws[a-z-]*):sts::(\d{12}):assumed-role\/([^/]+)\//.exec(grantee ?? '')
      if (session) this.note(`Grants usually name the role, not a session of it: try --grantee arn:${session[1]}:iam::${session[2]}:role/${session[3]}`)
      return
    }

    // Columns that say nothing are left out: empty for every grant, or the same as the --grantee
    // filter. The JSON always has every field.
    const any = (f: (g: GrantInfo) => unknown) => r.grants.some((g) => Boolean(f(g)))
    const columns: Array<Column<OrgGrantInfo> | false> = [
      ...(where ? whereColumns<OrgGrantInfo>() : []),
      r.scope !== 'key' && {get: (g) => (g.aliases && g.aliases.length > 0 ? g.aliases.join('\n') : g.keyId), header: 'Key', kind: 'name', minWidth: 14},
      {get: (g) => g.grantId, header: 'Grant ID', kind: 'id', minWidth: 9},
      any((g) => g.name) && {get: (g) => g.name ?? '', header: 'Name', kind: 'name', minWidth: 10, priority: 2},
      !grantee && {cut: 'start', get: (g) => shortPrincipal(g.granteePrincipal, g.keyArn), header: 'Grantee', kind: 'name', minWidth: 16},
      any((g) => g.retiringPrincipal) && {cut: 'start', get: (g) => shortPrincipal(g.retiringPrincipal, g.keyArn), header: 'Retiring principal', kind: 'name', minWidth: 12, name: 'retiring', priority: 3},
      {get: (g) => g.operations.join(', '), header: 'Operations', kind: 'text', minWidth: 15},
      any((g) => g.constraints) && {get: (g) => constraintText(g.constraints), header: 'Constraints', kind: 'text', minWidth: 12, priority: 2},
      // The issuing account is news only when some grant was issued by another account than the key's.
      any((g) => accountOf(g.issuingAccount) !== accountOf(g.keyArn)) && {get: (g) => accountOf(g.issuingAccount), header: 'Issuing account', kind: 'fixed', priority: 4},
      {get: (g) => formatDate(g.creationDate), header: 'Created', kind: 'fixed', priority: 5},
    ]
    this.log(this.renderList(r.grants as OrgGrantInfo[], columns.filter((c): c is Column<OrgGrantInfo> => Boolean(c))))
    if (this.rowsOnly()) return
    this.note(`${r.grants.length} grant${r.grants.length === 1 ? '' : 's'}${grantee ? ` of ${grantee}` : ''}${scope}`)
  }
}

/** A principal ARN without the parts every row shares: the partition, and the account when it is the key's. */
function shortPrincipal(arn: string | undefined, keyArn: string | undefined): string {
  if (!arn) return ''
  const account = accountOf(keyArn)
  const m = /^arn:aws[a-z-]*:(?:iam|sts)::(\d{12}):(.+)$/.exec(arn)
  if (!m) return arn
  return m[1] === account ? m[2] : `${m[1]}:${m[2]}`
}
