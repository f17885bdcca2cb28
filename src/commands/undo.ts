import {Args, Flags} from '@oclif/core'

import {KmsctlCommand} from '../cli/base-command.js'
import {confirmFlags, mutationFlags} from '../cli/flags.js'
import {confirmAction} from '../lib/confirm.js'
import {ExitCode, KmsctlError, refusal, usageError} from '../lib/errors.js'
import {interruptOnSigint} from '../lib/interrupt.js'
import {Journal, changeContext, commandLine, newBatchId} from '../lib/journal.js'
import {renderFields, renderTable} from '../lib/output.js'
import {Pacer} from '../lib/pacing.js'
import {roleFlags, roleFrom} from '../cli/org-flags.js'
import {clientsForPlace} from '../lib/org/credentials.js'
import {
  type BatchUndoRow,
  type BatchUndoTally,
  batchPacerRates,
  originalRate,
  planBatchUndo,
  runBatchUndo,
  tallyBatchUndo,
} from '../lib/undo/batch.js'
import {planUndo, runUndo} from '../lib/undo/registry.js'
import type {UndoPlan, UndoResult} from '../lib/undo/reverser.js'
import {type UndoTarget, findUndoTarget, lastChange} from '../lib/undo/target.js'

/** The result of undoing one entry. */
export interface UndoEntryResult {
  plan: UndoPlan
  dryRun: boolean
  result?: UndoResult
}

/** The result of undoing a batch: one row per entry. */
export interface UndoBatchResult {
  /** The batch reversed. */
  batch: string
  dryRun: boolean
  /** The batch of this undo's own journal entries (undo it to redo the batch). */
  undoBatch?: string
  interrupted: boolean
  entries: BatchUndoRow[]
  summary: BatchUndoTally
  exitCode: number
}

export type UndoCommandResult = UndoBatchResult | UndoEntryResult

export default class Undo extends KmsctlCommand<typeof Undo> {
  static override args = {
    entry: Args.string({description: 'Journal entry ID (or a unique prefix) of the change to reverse, or a batch ID to reverse every entry of a batch.'}),
  }

  static override summary = 'Reverse a change recorded in the journal, or a whole batch (enable disabled keys, put back a policy, recreate revoked grants, ...).'

  static override description = `Reverse one change recorded in the journal, or every entry of a batch, where a reverse exists:
  key disable -> enable, key enable -> disable, policy put/restore -> the policy from before, grant revoke -> the grant recreated (new ID), grant create -> revoke,
  schedule deletion -> cancel it (and enable the key if it was enabled), alias create -> delete, alias update -> point it back, alias delete -> create it again,
  incident contain -> incident restore.
Checks first that the key is still as the change left it; if it is not, says what changed and sends nothing for it (--force to go ahead). Says plainly what cannot be undone, such as a completed key deletion.
With a batch ID (or --last when your last change was a batch), shows the plan for every entry and asks once (type or pass --confirm with the text naming the change, e.g. "undo 20 changes"), reverses them paced like the original command, reports each, skips entries already reversed and refuses entries whose key changed since (exit 3 when some were undone and others failed or were refused).
The undo is journalled too (a batch undo as a batch), so it can itself be undone.`

  static override examples = [
    {command: '<%= config.bin %> <%= command.id %> j-20261128T101500Z-a1b2c3', description: 'Reverse one change (type the key ID or alias to confirm)'},
    {command: '<%= config.bin %> <%= command.id %> b-20261128T101500Z-d4e5f6 --confirm "undo 20 changes"', description: 'Reverse every entry of a batch (20 changes), e.g. a bulk disable'},
    {command: '<%= config.bin %> <%= command.id %> --last --dry-run', description: 'Show how your most recent change or batch would be reversed, send nothing'},
    {command: '<%= config.bin %> <%= command.id %> j-20261128T101500Z-a1b2c3 --yes --json', description: 'No prompt, JSON result'},
  ]

  static override flags = {
    ...roleFlags,
    ...mutationFlags,
    ...confirmFlags,
    confirm: Flags.string({description: 'Confirm without a prompt: the key ID or alias for one entry, the text naming the change for a batch ("undo 20 changes").'}),
    force: Flags.boolean({description: 'Undo even though the key was changed again since (that later change is overwritten).'}),
    last: Flags.boolean({description: 'Reverse your most recent change, or the whole batch it belongs to.'}),
  }

  async run(): Promise<UndoCommandResult> {
    const {flags} = this
    const journal = new Journal()
    let target: UndoTarget
    if (flags.last) {
      if (this.args.entry) throw usageError('Give either an entry or batch ID, or --last, not both.', 'Try this: kmsctl undo --last')
      const caller = await this.aws.callerIdentity().then((id) => id.arn, () => undefined)
      target = lastChange(journal, caller)
    } else {
      if (!this.args.entry) throw usageError('No journal entry or batch given.', 'Try this: kmsctl undo ENTRY_OR_BATCH_ID, or kmsctl undo --last (kmsctl journal list shows the IDs)')
      target = findUndoTarget(journal, this.args.entry)
    }

    return target.kind === 'batch' ? this.undoBatch(journal, target.batch, target.records) : this.undoEntry(journal, target.record)
  }

  private async undoBatch(journal: Journal, batch: string, records: Parameters<typeof planBatchUndo>[3]): Promise<UndoBatchResult> {
    const {flags} = this
    // A batch goes back to where it was made: each account-region of it through the role it recorded.
    const groups = new Map<string, typeof records>()
    for (const r of records) {
      const key = `${r.account ?? ''}/${r.region}/${r.role ?? ''}`
      groups.set(key, [...(groups.get(key) ?? []), r])
    }

    const progress = this.progress()
    progress.update(`Checking ${records.length} entries of ${batch}…`, true)
    const parts = await Promise.all(
      [...groups.values()].map(async (group) => {
        const first = group[0]
        const place = await clientsForPlace(this.aws, {account: first.account, region: first.region, role: first.role}, roleFrom(flags))
        if (place.role) process.stderr.write(`Account ${first.account}, ${first.region}: through role ${place.role}.\n`)
        const kms = await place.clients.kms()
        const plan = await planBatchUndo(kms, journal, batch, group, {force: flags.force, pacer: new Pacer({concurrency: 32})})
        return {group, kms, place, plan}
      }),
    )
    progress.done()
    const plan = {rows: parts.flatMap((p) => p.plan.rows)}
    const todo = plan.rows.filter((r) => r.status === 'planned')
    // The exit code through exitWith: undone entries succeeded; failed and refused ones did not.
    const result = (entries: BatchUndoRow[], dryRun: boolean, interrupted = false, undoBatch?: string): UndoBatchResult => {
      const summary = tallyBatchUndo(entries)
      const exitCode = this.exitWith(dryRun ? 'ok' : {failed: summary.failed + summary.refused, interrupted, succeeded: summary.undone})
      return {batch, dryRun, entries, exitCode, interrupted, summary, undoBatch}
    }

    if (!this.jsonEnabled()) process.stderr.write(renderTable(plan.rows, this.columns()) + '\n')
    if (todo.length === 0) {
      const refused = plan.rows.filter((r) => r.status === 'refused').length
      const reason = refused > 0
        ? `${refused} entr${refused === 1 ? 'y was' : 'ies were'} changed since (named above), and nothing else is left to undo.`
        : 'every entry is already reversed or has nothing to undo.'
      throw new KmsctlError(refused > 0 ? 'REFUSED' : 'UNSUPPORTED', `Batch ${batch} not undone: ${reason}`, {
        details: {batch, entries: plan.rows},
        exitCode: ExitCode.FAILED,
        remedy: refused > 0 ? 'Try this: --force to overwrite the later changes' : `Try this: kmsctl journal list --batch ${batch}`,
      })
    }

    if (flags['dry-run']) {
      this.note(`Dry run: would undo ${todo.length} of ${plan.rows.length} entries of ${batch}. Nothing was sent.`)
      return result(plan.rows, true)
    }

    // Like every bulk action, the confirmation names the change: "undo 8 changes".
    const changeText = `undo ${todo.length} change${todo.length === 1 ? '' : 's'}`
    await confirmAction({
      accepted: [changeText],
      action: `${changeText} of batch ${batch}`,
      confirm: flags.confirm,
      json: this.jsonEnabled(),
      yes: flags.yes,
    })
    const undoBatch = newBatchId()
    const rate = originalRate(records)
    const interrupt = interruptOnSigint(() => {
      progress.done()
      process.stderr.write('Interrupted: no new calls are sent; waiting for the calls in flight…\n')
    })
    let rows: BatchUndoRow[]
    try {
      // Each account-region at its own pace, all of them at once.
      const done = new Map<number, number>()
      const total = todo.length
      const ran = await Promise.all(
        parts.map(async (part, i) => {
          const ctx = {...(await changeContext(part.place.clients, journal, commandLine(this.id, this.argv), {batch: undoBatch, warn: (m) => this.warnLine(m)})), ...(part.place.role ? {role: part.place.role} : {})}
          return runBatchUndo(part.kms, journal, part.plan, ctx, {
            onProgress(d) {
              done.set(i, d)
              progress.update(`Undoing ${batch}: ${[...done.values()].reduce((a, b) => a + b, 0)}/${total}`)
            },
            pacer: new Pacer({concurrency: 32, rates: batchPacerRates(part.plan, rate)}),
            signal: interrupt.signal,
            workers: rate ? Math.min(200, Math.max(10, Math.ceil(rate * 2))) : 10,
          })
        }),
      )
      rows = ran.flat()
    } finally {
      interrupt.dispose()
      progress.done()
    }

    const out = result(rows, false, interrupt.signal.aborted, undoBatch)
    if (!this.jsonEnabled()) {
      this.log(renderTable(rows, this.columns()))
      const t = out.summary
      const parts = [t.skipped && `${t.skipped} skipped`, t.refused && `${t.refused} refused`, t.failed && `${t.failed} failed`, t.notSent && `${t.notSent} not sent (interrupted)`].filter(Boolean)
      this.note(`Undid ${t.undone} of ${t.total} entries of ${batch}${parts.length > 0 ? `; ${parts.join(', ')}` : ''}.`)
      this.note(`Journal batch ${undoBatch} (kmsctl undo ${undoBatch} reverses this undo).`)
      if (out.exitCode !== 0 && !out.interrupted) this.note(`Exit ${out.exitCode}: ${t.failed + t.refused} entr${t.failed + t.refused === 1 ? 'y was' : 'ies were'} not undone.`)
    }

    return out
  }

  private columns() {
    return [
      {get: (r: BatchUndoRow) => r.entry, header: 'Entry', shrink: false},
      {get: (r: BatchUndoRow) => r.action, header: 'Action', shrink: false},
      {get: (r: BatchUndoRow) => r.alias ?? r.key ?? '', header: 'Key'},
      {get: (r: BatchUndoRow) => r.status, header: 'Status', shrink: false},
      {get: (r: BatchUndoRow) => r.error?.message ?? r.detail, header: 'Detail'},
    ]
  }

  private async undoEntry(journal: Journal, record: Parameters<typeof planUndo>[2]): Promise<UndoEntryResult> {
    const {flags} = this
    // Back to where the change was made: its region, and its account through the role it recorded.
    const place = await clientsForPlace(this.aws, {account: record.account, region: record.region, role: record.role}, roleFrom(flags))
    if (place.role) process.stderr.write(`Account ${record.account}, ${record.region}: through role ${place.role}.\n`)
    const kms = await place.clients.kms()
    const pacer = new Pacer()
    const plan = await planUndo(kms, journal, record, {pacer})
    if (!plan.possible) {
      throw new KmsctlError('UNSUPPORTED', plan.reason ?? 'This change cannot be undone.', {details: {entry: record.id}, exitCode: ExitCode.FAILED})
    }

    if (plan.drift && !flags.force) {
      throw refusal(`Not undone: ${plan.drift}.`, `Try this: kmsctl journal list --key ${record.key?.keyId ?? 'KEY'} to see what changed; --force to undo anyway`)
    }

    if (!this.jsonEnabled()) {
      process.stderr.write(
        renderFields([
          ['Undo', `${record.id} (${record.action}, ${record.time})`],
          ['Will', plan.description],
          ['Sends', plan.kind === 'restore' ? 'PutKeyPolicy / EnableKey / CreateGrant as needed' : plan.calls.map((c) => `${c.operation} ${JSON.stringify(c.input)}`).join('\n')],
          ['Warning', plan.drift ? `${plan.drift} (--force given)` : undefined],
        ]) + '\n',
      )
    }

    if (flags['dry-run']) {
      this.note('Dry run: nothing was sent.')
      return {dryRun: true, plan}
    }

    await confirmAction({
      accepted: plan.accepted,
      action: `undo ${record.action} on ${record.key?.aliases?.[0] ?? record.key?.keyId ?? record.id}`,
      confirm: flags.confirm,
      json: this.jsonEnabled(),
      yes: flags.yes,
    })
    const ctx = {...(await changeContext(place.clients, journal, commandLine(this.id, this.argv), {warn: (m) => this.warnLine(m)})), ...(place.role ? {role: place.role} : {})}
    const result = await runUndo(kms, journal, plan, ctx, {pacer, record})
    if (result.status !== 'undone') {
      this.exitWith(result.status === 'partial' ? 'partial' : 'failed')
      this.warnLine(`Undo ${result.status}: ${result.error?.message ?? 'see kmsctl journal show'}`)
    }

    if (!this.jsonEnabled()) {
      if (result.status === 'undone') {
        this.log(`Undone ${record.id}: ${plan.description}${result.grantId ? ` New grant ID: ${result.grantId}.` : ''}`)
        for (const g of result.restore?.newGrants ?? []) this.log(`Grant ${g.replaces} recreated as ${g.grantId}.`)
      }

      if (result.journalId) this.note(`Journal entry ${result.journalId} (kmsctl undo ${result.journalId} reverses it).`)
    }

    return {dryRun: false, plan, result}
  }
}
