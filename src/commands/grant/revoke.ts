import type {KMSClient} from '@aws-sdk/client-kms'
import {Args, Flags} from '@oclif/core'

import {KmsctlCommand} from '../../cli/base-command.js'
import {confirmAction} from '../../lib/confirm.js'
import {KmsctlError, usageError} from '../../lib/errors.js'
import {confirmFlags} from '../../cli/flags.js'
import {type GrantInfo, type KeyFailure} from '../../lib/grants/list.js'
import {type GrantKey, type RevokeResult, keyForGrant, lookupGrant, resultError, revokeGrants, selectGrants} from '../../lib/grants/revoke.js'
import {Journal, newBatchId} from '../../lib/journal.js'
import {validateGrantId, validatePrincipal} from '../../lib/grants/validate.js'
import {type Column, chalk, renderTable} from '../../lib/output.js'
import {Pacer} from '../../lib/pacing.js'
import {RETIRE_VS_REVOKE} from '../../cli/help-text.js'
import {orgFlags, progressReporter, renderSummary, roleFrom, targetsFrom, whereColumns} from '../../cli/org-flags.js'
import type {ChangeContext} from '../../lib/journal.js'
import {changeContext, commandLine} from '../../lib/journal.js'
import {clientsForKeyRefs} from '../../lib/org/credentials.js'
import {type PlacedGrant, planGrantRevokeAcross, runGrantRevokeAcross} from '../../lib/org/grants.js'
import type {TargetSummary} from '../../lib/org/run.js'
import {type Targets, accountOfArn, regionOfArn} from '../../lib/org/targets.js'

export interface GrantRevokeOutcome {
  /** Across accounts or regions: where the grant was. */
  account?: string
  region?: string
  keyId: string
  grantId: string
  granteePrincipal?: string
  status: RevokeResult['status']
  journalId: string
  error?: {code: string; message: string}
}

export interface GrantRevokeResult {
  dryRun: boolean
  /** Groups the journal entries of a bulk revoke: `kmsctl grant recreate BATCH` makes the grants again. */
  batch?: string
  /** The grants selected for revocation, with their full definitions. */
  grants: GrantInfo[]
  results: GrantRevokeOutcome[]
  revoked: number
  failed: number
  alreadyGone: number
  /** Keys whose grants could not be listed during a --grantee scan (they were not searched). */
  keyFailures: KeyFailure[]
  /** Across accounts or regions: each account-region's grants found, revoked and failed, or its failure. */
  targets?: TargetSummary[]
}

export default class GrantRevoke extends KmsctlCommand<typeof GrantRevoke> {
  static override args = {
    key: Args.string({description: 'Key ID, key ARN, alias name or alias ARN. Without it, --grantee searches every customer-managed key.'}),
    grant_id: Args.string({description: 'The grant ID to revoke (omit with --all or --grantee).'}),
  }

  static override description = `Revoke grants: one (KEY GRANT_ID), every grant of a key (KEY --all), or every grant of a principal (--grantee ARN, on one KEY or across every customer-managed key) for incident response.
${RETIRE_VS_REVOKE}
Revoking one grant by its ID does not ask. Bulk revokes show what will be revoked and ask for confirmation: type the grantee ARN (--grantee) or the key ID or alias (--all), or pass --confirm with the same text, or --yes. Without a terminal, --confirm or --yes is required.
Each grant's full definition is written to the journal BEFORE it is revoked; the command prints a batch ID, and kmsctl grant recreate BATCH makes equivalent grants again. Recreated grants get new grant IDs and tokens: KMS cannot bring back a revoked grant itself.
A result line per grant; exit code 3 when some grants were revoked and others failed (or some keys could not be searched), 1 when none could be revoked.`

  static override examples = [
    {command: '<%= config.bin %> <%= command.id %> alias/payments 0c237476b39f8bc44e45212e08498fbe3151305030726c0590dd8d3e9f3d6a60', description: 'Revoke one grant'},
    {command: '<%= config.bin %> <%= command.id %> --grantee arn:aws:iam::111122223333:role/app', description: 'Incident response: revoke every grant this role holds, on every customer-managed key'},
    {command: '<%= config.bin %> <%= command.id %> --grantee arn:aws:iam::111122223333:role/app --dry-run', description: 'Show the grants that would be revoked, and send nothing'},
    {command: '<%= config.bin %> <%= command.id %> alias/payments --all --confirm alias/payments', description: 'Revoke every grant of a key, without a prompt'},
    {command: '<%= config.bin %> grant recreate b-20261128T201500Z-3f9a1c', description: 'Afterwards: make the revoked grants again (new grant IDs)'},
  ]

  static override flags = {
    all: Flags.boolean({description: 'Revoke every grant of KEY.', exclusive: ['grantee']}),
    concurrency: Flags.integer({default: 16, description: 'Most requests in flight at once.', max: 256, min: 1}),
    'dry-run': Flags.boolean({description: 'List the grants that would be revoked and the RevokeGrant requests, and send none.'}),
    grantee: Flags.string({description: 'Revoke the grants whose grantee is this principal ARN (on KEY, or on every customer-managed key).'}),
    ...confirmFlags,
    confirm: Flags.string({description: 'Confirm without a prompt: the grantee ARN (with --grantee), or the key ID or alias (with --all); must match exactly.'}),
    ...orgFlags,
  }

  async run(): Promise<GrantRevokeResult> {
    const {args, flags} = this
    if (args.grant_id !== undefined) {
      if (flags.all || flags.grantee) throw usageError('Give a GRANT_ID, or --all / --grantee, not both.', 'Try this: kmsctl grant revoke KEY GRANT_ID')
      return this.revokeOne(args.key!, validateGrantId(args.grant_id))
    }

    if (flags.all && !args.key) throw usageError('--all revokes every grant of one key: it needs KEY.', 'Try this: kmsctl grant revoke alias/app --all, or --grantee ARN across keys')
    if (!flags.all && !flags.grantee) {
      throw usageError('Nothing selected to revoke.', args.key ? `Try this: kmsctl grant revoke ${args.key} GRANT_ID, or --all, or --grantee ARN` : 'Try this: kmsctl grant revoke KEY GRANT_ID, or --grantee ARN')
    }

    const grantee = flags.grantee === undefined ? undefined : validatePrincipal(flags.grantee, 'grantee')
    const targets = targetsFrom(flags)
    if (targets) {
      if (args.key || !grantee) throw usageError('Across accounts and regions, grants are revoked by --grantee on every customer-managed key.', 'Try this: kmsctl grant revoke --grantee ARN --org --role-name NAME (no KEY)')
      return this.revokeAcross(targets, grantee)
    }

    return this.revokeMany(args.key, grantee)
  }

  /**
   * The KMS client and the journal context for a key: a key ARN of another account goes there
   * through the role (--role-name or KMSCTL_ROLE_NAME), recorded in the journal; any other
   * reference stays in the caller's account and region.
   */
  private async placeOf(ref: string | undefined): Promise<{ctx: () => Promise<ChangeContext>; kms: KMSClient}> {
    const account = ref ? accountOfArn(ref) : undefined
    if (!ref || !account) return {ctx: () => this.journalContext(), kms: await this.aws.kms()}
    const place = await clientsForKeyRefs(this.aws, [ref], roleFrom(this.flags))
    if (place.role) process.stderr.write(`Through role ${place.role}.\n`)
    return {
      ctx: async () => ({
        ...(await changeContext(place.clients, new Journal(), commandLine(this.id, this.argv), {warn: (m) => this.warnLine(m)})),
        ...(place.role ? {account, region: regionOfArn(ref)!, role: place.role} : {}),
      }),
      kms: await place.clients.kms(),
    }
  }

  /** --grantee in every account-region: one plan, one confirmation, the revokes in parallel. */
  private async revokeAcross(targets: Targets, grantee: string): Promise<GrantRevokeResult> {
    const {flags} = this
    const progress = this.progress()
    const plan = await planGrantRevokeAcross(this.aws, targets, grantee, progressReporter(progress, 'grants'))
    progress.done()
    const keyFailures = plan.outcomes.flatMap((o) => o.value?.failures ?? [])
    for (const f of keyFailures) this.warnLine(`could not list the grants of ${f.keyId} (${f.message}); its grants are not revoked.`)
    const failedTargets = plan.summaries.some((s) => s.error)
    const places = new Set(plan.grants.map((g) => `${g.account}/${g.region}`)).size
    const table = (grants: PlacedGrant[]) => renderTable(grants, [...whereColumns<PlacedGrant>(), ...(this.grantColumns() as never[])])
    if (plan.grants.length === 0 || flags['dry-run']) {
      if (!this.jsonEnabled()) {
        if (plan.grants.length > 0) {
          this.log(`Dry run: would revoke ${plan.grants.length} grant${plan.grants.length === 1 ? '' : 's'} of ${grantee} in ${places} account-region${places === 1 ? '' : 's'}; nothing was sent.`)
          this.log(table(plan.grants))
        } else this.note(`No grants of ${grantee} in any account-region: nothing to revoke.`)
        this.note(renderSummary(plan.summaries, 'grants'))
      }

      this.exitWith(keyFailures.length > 0 || failedTargets ? 'partial' : 'ok')
      return {alreadyGone: 0, dryRun: Boolean(flags['dry-run']), failed: 0, grants: plan.grants, keyFailures, results: [], revoked: 0, targets: plan.summaries}
    }

    await confirmAction({
      accepted: [grantee],
      action: `revoke ${plan.grants.length} grant${plan.grants.length === 1 ? '' : 's'} of ${grantee} in ${places} account-region${places === 1 ? '' : 's'}`,
      confirm: flags.confirm,
      json: this.jsonEnabled(),
      summary: `${chalk.bold(`These ${plan.grants.length} grants will be revoked`)} (their definitions are journalled first):\n${table(plan.grants)}\n${renderSummary(plan.summaries, 'grants')}`,
      yes: flags.yes,
    })
    const batch = newBatchId()
    const origin = await changeContext(this.aws, new Journal(), commandLine(this.id, this.argv), {batch, warn: (m) => this.warnLine(m)})
    const revoking = this.progress()
    const {results, summaries} = await runGrantRevokeAcross(plan, {
      batch,
      ctx: {batch, caller: origin.caller, command: origin.command, journal: origin.journal},
      maxParallel: targets.maxParallel,
      onResult: (done, total) => revoking.update(`Revoking: ${done}/${total}`),
    })
    revoking.done()
    const out: GrantRevokeResult = {...this.summarise(plan.grants, results, batch, keyFailures), targets: summaries}
    out.results = out.results.map((o, i) => ({account: results[i].account, region: results[i].region, ...o}))
    if (!this.jsonEnabled()) {
      this.renderResults(out, true)
      this.note(renderSummary(summaries, 'grants'))
    }

    this.exitWith(out.failed > 0 && out.revoked + out.alreadyGone === 0 ? 'failed' : out.failed > 0 || keyFailures.length > 0 || failedTargets ? 'partial' : 'ok')
    return out
  }

  private async revokeOne(ref: string, grantId: string): Promise<GrantRevokeResult> {
    const place = await this.placeOf(ref)
    const {kms} = place
    const key = await keyForGrant(kms, ref)
    const found = await lookupGrant(kms, key, grantId)
    if (this.flags['dry-run']) return this.dryRun([found.grant], [])
    if (!found.readable) this.warnLine(`could not read grant ${grantId} before revoking it (${found.reason}); the journal holds only its ID, so grant recreate cannot remake it.`)
    const ctx = await place.ctx()
    const results = await revokeGrants(kms, [found.grant], {ctx})
    const [r] = results
    if (r.status === 'already-gone') {
      throw new KmsctlError('NOT_FOUND', `Grant ${grantId} does not exist on key ${key.keyId} (already retired or revoked).`, {remedy: `List the key's grants: kmsctl grant list ${key.keyId}`})
    }

    if (r.status === 'failed') throw resultError(r)
    if (!this.jsonEnabled()) {
      this.log(`Revoked grant ${grantId} of key ${key.keyId}.`)
      this.note(`Its definition is in the journal (${r.journalId}): kmsctl grant recreate ${r.journalId} makes an equivalent grant, with a new grant ID.`)
    }

    return this.summarise([found.grant], results, undefined, [])
  }

  private async revokeMany(ref: string | undefined, grantee: string | undefined): Promise<GrantRevokeResult> {
    const {flags} = this
    const place = await this.placeOf(ref)
    const {kms} = place
    const pacer = new Pacer({concurrency: flags.concurrency})
    let key: GrantKey | undefined
    if (ref) key = await keyForGrant(kms, ref)
    const progress = this.progress()
    const selected = await selectGrants(
      kms,
      {all: flags.all, grantee, keyArn: key?.keyArn, keyId: key?.keyId},
      {onProgress: (done, total, found) => progress.update(`Searching grants: ${done}/${total} keys, ${found} found`), pacer},
    )
    progress.done()
    for (const f of selected.failures) this.warnLine(`could not list the grants of ${f.keyId} (${f.message}); its grants are not revoked.`)
    const keyFailures = selected.failures
    const {grants} = selected
    const where = key ? `key ${key.ref}` : `${selected.keysScanned} customer-managed key${selected.keysScanned === 1 ? '' : 's'}`
    if (grants.length === 0) {
      this.note(`No grants${grantee ? ` of ${grantee}` : ''} on ${where}: nothing to revoke.`)
      this.exitWith(keyFailures.length > 0 ? 'partial' : 'ok')
      return {alreadyGone: 0, dryRun: Boolean(flags['dry-run']), failed: 0, grants: [], keyFailures, results: [], revoked: 0}
    }

    if (flags['dry-run']) return this.dryRun(grants, keyFailures)

    const keysTouched = new Set(grants.map((g) => g.keyId)).size
    const action = `revoke ${grants.length} grant${grants.length === 1 ? '' : 's'}${grantee ? ` of ${grantee}` : ''} on ${key ? `key ${key.ref}` : `${keysTouched} key${keysTouched === 1 ? '' : 's'}`}`
    const accepted = grantee ? [grantee] : [...new Set([key!.ref, key!.keyId, key!.keyArn])]
    await confirmAction({
      accepted,
      action,
      confirm: flags.confirm,
      json: this.jsonEnabled(),
      summary: `${chalk.bold(`These ${grants.length} grant${grants.length === 1 ? '' : 's'} will be revoked`)} (their definitions are journalled first):\n${this.grantsTable(grants)}`,
      yes: flags.yes,
    })

    const ctx = await place.ctx()
    const batch = newBatchId()
    const revokeProgress = this.progress()
    const results = await revokeGrants(kms, grants, {
      batch,
      ctx,
      onResult: (_r, done, total) => revokeProgress.update(`Revoking: ${done}/${total}`),
      pacer: new Pacer({concurrency: flags.concurrency}),
    })
    revokeProgress.done()
    const out = this.summarise(grants, results, batch, keyFailures)
    if (!this.jsonEnabled()) this.renderResults(out)
    // Every grant failed: failed. Some grants, or some keys' grant lists, failed: partial.
    this.exitWith(out.failed > 0 && out.revoked + out.alreadyGone === 0 ? 'failed' : out.failed > 0 || keyFailures.length > 0 ? 'partial' : 'ok')
    return out
  }

  private dryRun(grants: GrantInfo[], keyFailures: KeyFailure[]): GrantRevokeResult {
    if (!this.jsonEnabled()) {
      this.log(`Dry run: would revoke ${grants.length} grant${grants.length === 1 ? '' : 's'} (RevokeGrant ${grants.length === 1 ? 'once' : `${grants.length} times`}); nothing was sent.`)
      this.log(this.grantsTable(grants))
    }

    this.exitWith(keyFailures.length > 0 ? 'partial' : 'ok')
    return {alreadyGone: 0, dryRun: true, failed: 0, grants, keyFailures, results: [], revoked: 0}
  }

  private grantsTable(grants: GrantInfo[]): string {
    return renderTable(grants, this.grantColumns())
  }

  private grantColumns(): Array<Column<GrantInfo>> {
    return ([
      {get: (g) => g.aliases?.[0] ?? g.keyId, header: 'Key', kind: 'name', minWidth: 14},
      {get: (g) => g.grantId, header: 'Grant ID', kind: 'id', minWidth: 9},
      {get: (g) => g.name ?? '', header: 'Name', kind: 'name', minWidth: 10, priority: 2},
      {cut: 'start', get: (g) => g.granteePrincipal ?? '', header: 'Grantee', kind: 'name', minWidth: 16},
      {get: (g) => g.operations.join(', '), header: 'Operations', kind: 'text', minWidth: 12},
    ])
  }

  private renderResults(r: GrantRevokeResult, where = false): void {
    const statusText = (o: GrantRevokeOutcome) =>
      o.status === 'revoked' ? chalk.green('revoked') : o.status === 'already-gone' ? 'already gone' : chalk.red(`failed: ${o.error?.message ?? ''}`)
    this.log(
      renderTable(r.results, [
        ...(where ? whereColumns<GrantRevokeOutcome>() : []),
        {get: (o) => o.keyId, header: 'Key', kind: 'id', minWidth: 9, priority: 2},
        {get: (o) => o.grantId, header: 'Grant ID', kind: 'id', minWidth: 9},
        {cut: 'start', get: (o) => o.granteePrincipal ?? '', header: 'Grantee', kind: 'name', minWidth: 16},
        {get: statusText, header: 'Result', kind: 'text', minWidth: 10},
        {get: (o) => o.journalId, header: 'Journal', kind: 'id', name: 'entry', priority: 3},
      ]),
    )
    this.note(`${r.revoked} revoked, ${r.failed} failed${r.alreadyGone > 0 ? `, ${r.alreadyGone} already gone` : ''}.`)
    if (r.revoked > 0 && r.batch) {
      this.note(`To make equivalent grants again (with new grant IDs): kmsctl grant recreate ${r.batch}`)
    }
  }

  private summarise(grants: GrantInfo[], results: RevokeResult[], batch: string | undefined, keyFailures: KeyFailure[]): GrantRevokeResult {
    const outcomes = results.map((r) => ({
      error: r.error ? {code: r.error.code, message: r.error.message} : undefined,
      grantId: r.grant.grantId,
      granteePrincipal: r.grant.granteePrincipal,
      journalId: r.journalId,
      keyId: r.grant.keyId,
      status: r.status,
    }))
    return {
      alreadyGone: results.filter((r) => r.status === 'already-gone').length,
      batch,
      dryRun: false,
      failed: results.filter((r) => r.status === 'failed').length,
      grants,
      keyFailures,
      results: outcomes,
      revoked: results.filter((r) => r.status === 'revoked').length,
    }
  }
}
