import type {KMSClient} from '@aws-sdk/client-kms'
import {Args, Flags} from '@oclif/core'

import {KmsctlCommand} from '../../cli/base-command.js'
import {roleFlags, roleFrom} from '../../cli/org-flags.js'
import type {ChangeContext} from '../../lib/journal.js'
import {clientsForPlace} from '../../lib/org/credentials.js'
import {keyIdOf, listKeyGrants} from '../../lib/grants/list.js'
import {type JournalledGrant, type RecreateResult, createRequestFor, grantsFromJournal, recreateGrantsDetailed} from '../../lib/grants/recreate.js'
import {Journal, changeContext, commandLine, newBatchId} from '../../lib/journal.js'
import {chalk, renderTable} from '../../lib/output.js'

export interface GrantRecreateOutcome {
  keyId: string
  /** The revoked grant's ID. */
  oldGrantId: string
  /** The new grant's ID (recreated grants never keep their old ID). */
  newGrantId?: string
  /** The new grant's token, for use before the grant is visible everywhere. */
  grantToken?: string
  granteePrincipal?: string
  operations: string[]
  /** The journal entry that revoked the grant. */
  from: string
  status: 'created' | 'failed' | 'skipped' | 'would-create'
  reason?: string
  error?: {code: string; message: string}
}

export interface GrantRecreateResult {
  dryRun: boolean
  /** Groups the journal entries of the new grants. */
  batch?: string
  results: GrantRecreateOutcome[]
  created: number
  failed: number
  skipped: number
}

export default class GrantRecreate extends KmsctlCommand<typeof GrantRecreate> {
  static override args = {
    id: Args.string({description: 'A journal entry ID (or a unique prefix) of a grant revoke or retire, or the batch ID that grant revoke printed.', required: true}),
  }

  static override description = `Make revoked (or retired) grants again from the definitions kmsctl journalled before removing them.
KMS cannot restore a revoked grant: each recreated grant is a NEW grant with the same key, grantee, operations, constraints, retiring principal and name, and a new grant ID and grant token. Applications that stored the old grant ID or token need the new ones (shown in --json).
Grants whose removal failed, that were already gone, or that were already recreated are skipped, and say why. Like any new grant, a recreated grant can take up to about 5 minutes to be usable everywhere without its token.`

  static override examples = [
    {command: '<%= config.bin %> <%= command.id %> b-20261128T201500Z-3f9a1c', description: 'Recreate every grant a bulk revoke removed'},
    {command: '<%= config.bin %> <%= command.id %> j-20261128T201502Z-a41b07', description: 'Recreate one revoked grant'},
    {command: '<%= config.bin %> <%= command.id %> b-20261128T201500Z-3f9a1c --dry-run', description: 'Show the CreateGrant requests, and send nothing'},
  ]

  static override flags = {
    ...roleFlags,
    'dry-run': Flags.boolean({description: 'Show the CreateGrant requests, and send nothing.'}),
  }

  async run(): Promise<GrantRecreateResult> {
    const journal = new Journal()
    const found = grantsFromJournal(journal, this.args.id.trim())
    // Each grant is made again where it was revoked: its account and region, through the role the
    // journal entry recorded (or the one configured, for an entry of another account without one).
    const role = roleFrom(this.flags)
    const places = new Map<string, {account?: string; kms?: KMSClient; region: string; role?: string; via?: string}>()
    const home = await this.aws.region()
    for (const f of found) {
      const id = `${f.record.account ?? ''}/${f.record.region ?? home}/${f.record.role ?? ''}`
      if (!places.has(id)) places.set(id, {account: f.record.account, region: f.record.region ?? home, role: f.record.role})
    }

    const placeOf = (f: JournalledGrant) => places.get(`${f.record.account ?? ''}/${f.record.region ?? home}/${f.record.role ?? ''}`)!
    for (const p of places.values()) {
      // eslint-disable-next-line no-await-in-loop
      const reached = await clientsForPlace(this.aws, {account: p.account, region: p.region, role: p.role}, role)
      p.kms = await reached.clients.kms()
      p.via = reached.role
      if (reached.role) process.stderr.write(`Account ${p.account}, ${p.region}: through role ${reached.role}.\n`)
    }

    const kmsOf = (f: JournalledGrant) => placeOf(f).kms!

    // A removal whose outcome was never recorded: recreate only if the grant is really gone.
    for (const item of found) {
      if (!item.unfinished || !item.grant || item.skip) continue
      try {
        // eslint-disable-next-line no-await-in-loop
        const still = await listKeyGrants(kmsOf(item), item.grant.KeyId!, {grantId: item.grant.GrantId})
        if (still.length > 0) item.skip = 'the grant still exists (its revoke never completed)'
      } catch {
        this.warnLine(`could not check whether grant ${item.grant.GrantId} still exists; recreating it.`)
      }
    }

    const todo = found.filter((f): f is JournalledGrant & {grant: NonNullable<JournalledGrant['grant']>} => !f.skip && Boolean(f.grant))
    const skipped: GrantRecreateOutcome[] = found
      .filter((f) => f.skip)
      .map((f) => ({
        from: f.record.id,
        granteePrincipal: f.grant?.GranteePrincipal,
        keyId: keyIdOf(f.grant?.KeyId ?? f.record.key?.keyId ?? ''),
        oldGrantId: f.grant?.GrantId ?? String((f.record.request as {GrantId?: string} | undefined)?.GrantId ?? ''),
        operations: [...(f.grant?.Operations ?? [])],
        reason: f.skip,
        status: 'skipped' as const,
      }))
    for (const s of skipped) this.warnLine(`not recreating grant ${s.oldGrantId}: ${s.reason}.`)

    if (this.flags['dry-run']) {
      const planned: GrantRecreateOutcome[] = todo.map((t) => ({
        from: t.record.id,
        granteePrincipal: t.grant.GranteePrincipal,
        keyId: keyIdOf(t.grant.KeyId ?? ''),
        oldGrantId: t.grant.GrantId ?? '',
        operations: [...(t.grant.Operations ?? [])],
        status: 'would-create',
      }))
      if (!this.jsonEnabled()) {
        this.log(`Dry run: would send CreateGrant ${todo.length} time${todo.length === 1 ? '' : 's'}; nothing was sent.`)
        for (const t of todo) this.log(JSON.stringify(createRequestFor(t.grant), null, 2))
      }

      return {created: 0, dryRun: true, failed: 0, results: [...planned, ...skipped], skipped: skipped.length}
    }

    if (todo.length === 0) {
      this.note('Nothing to recreate.')
      return {created: 0, dryRun: false, failed: 0, results: skipped, skipped: skipped.length}
    }

    const batch = todo.length > 1 ? newBatchId() : undefined
    // One run of CreateGrant per place, in the order of the entries.
    const byPlace = new Map<ReturnType<typeof placeOf>, typeof todo>()
    for (const t of todo) byPlace.set(placeOf(t), [...(byPlace.get(placeOf(t)) ?? []), t])
    const ordered: typeof todo = []
    const results: RecreateResult[] = []
    for (const [place, items] of byPlace) {
      const ctx: ChangeContext = {
        ...(await changeContext(this.aws, journal, commandLine(this.id, this.argv), {batch, warn: (m) => this.warnLine(m)})),
        ...(place.account ? {account: place.account} : {}),
        region: place.region,
        ...(place.via ? {role: place.via} : {}),
      }
      // eslint-disable-next-line no-await-in-loop
      results.push(...(await recreateGrantsDetailed(place.kms!, items.map((t) => t.grant), {batch, ctx, reverses: items.map((t) => t.record.id)})))
      ordered.push(...items)
    }

    todo.splice(0, todo.length, ...ordered)
    const outcomes = results.map((r: RecreateResult, i): GrantRecreateOutcome => ({
      error: r.error,
      from: todo[i].record.id,
      grantToken: r.grantToken,
      granteePrincipal: r.source.GranteePrincipal,
      keyId: keyIdOf(r.source.KeyId ?? ''),
      newGrantId: r.grantId,
      oldGrantId: r.source.GrantId ?? '',
      operations: [...(r.source.Operations ?? [])],
      status: r.status,
    }))
    const created = outcomes.filter((o) => o.status === 'created').length
    const failed = outcomes.filter((o) => o.status === 'failed').length
    const out: GrantRecreateResult = {batch, created, dryRun: false, failed, results: [...outcomes, ...skipped], skipped: skipped.length}
    if (!this.jsonEnabled()) {
      this.log(
        renderTable(outcomes, [
          {get: (o) => o.keyId, header: 'Key', kind: 'id', minWidth: 9, priority: 2},
          {get: (o) => o.oldGrantId, header: 'Revoked grant', kind: 'id', minWidth: 9},
          {get: (o) => o.newGrantId ?? '', header: 'New grant ID', kind: 'id', minWidth: 9},
          {cut: 'start', get: (o) => o.granteePrincipal ?? '', header: 'Grantee', kind: 'name', minWidth: 16},
          {get: (o) => (o.status === 'created' ? chalk.green('created') : chalk.red(`failed: ${o.error?.message ?? ''}`)), header: 'Result', kind: 'text', minWidth: 10},
        ]),
      )
      this.note(`${created} recreated, ${failed} failed${skipped.length > 0 ? `, ${skipped.length} skipped` : ''}. Recreated grants have NEW grant IDs and tokens (kmsctl grant recreate ... --json shows the tokens); a new grant can take up to about 5 minutes to be usable everywhere without its token.`)
    }

    this.exitWith({failed, succeeded: created})
    return out
  }
}
