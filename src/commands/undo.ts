import {Args, Flags} from '@oclif/core'

import {KmsctlCommand} from '../cli/base-command.js'
import {journalContextFor} from '../lib/bulk.js'
import {confirmAction} from '../lib/confirm.js'
import {ExitCode, KmsctlError, refusal} from '../lib/errors.js'
import {confirmFlags, mutationFlags} from '../cli/flags.js'
import {Journal} from '../lib/journal.js'
import {renderFields} from '../lib/output.js'
import {Pacer} from '../lib/pacing.js'
import {roleFlags, roleFrom} from '../cli/org-flags.js'
import {clientsForPlace} from '../lib/org/credentials.js'
import {type UndoPlan, type UndoResult, findEntry, planUndo, runUndo} from '../lib/undo.js'

export interface UndoCommandResult {
  plan: UndoPlan
  dryRun: boolean
  result?: UndoResult
}

export default class Undo extends KmsctlCommand<typeof Undo> {
  static override args = {
    entry: Args.string({description: 'Journal entry ID (or a unique prefix) of the change to reverse.', required: true}),
  }

  static override summary = 'Reverse one change recorded in the journal (enable a disabled key, put back a policy, recreate revoked grants, ...).'

  static override description = `Reverse one change recorded in the journal, where a reverse exists:
  key disable -> enable, key enable -> disable, policy put/restore -> the policy from before, grant revoke -> the grant recreated (new ID), grant create -> revoke,
  schedule deletion -> cancel it (and enable the key if it was enabled), alias create -> delete, alias update -> point it back, alias delete -> create it again,
  incident contain -> incident restore.
Checks first that the key is still as the change left it; if it is not, says what changed and sends nothing (--force to go ahead). Says plainly what cannot be undone, such as a completed key deletion. The undo is journalled too, so it can itself be undone.`

  static override examples = [
    {command: '<%= config.bin %> <%= command.id %> j-20261128T101500Z-a1b2c3', description: 'Reverse one change (type the key ID or alias to confirm)'},
    {command: '<%= config.bin %> <%= command.id %> j-20261128T101500Z-a1b2c3 --dry-run', description: 'Show what would be sent'},
    {command: '<%= config.bin %> <%= command.id %> j-20261128T101500Z-a1b2c3 --yes --json', description: 'No prompt, JSON result'},
  ]

  static override flags = {
    ...roleFlags,
    ...mutationFlags,
    ...confirmFlags,
    force: Flags.boolean({description: 'Undo even though the key was changed again since (that later change is overwritten).'}),
  }

  async run(): Promise<UndoCommandResult> {
    const {flags} = this
    const journal = new Journal()
    const record = findEntry(journal, this.args.entry)
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
    const ctx = {...(await journalContextFor(place.clients, journal, ['undo', ...this.argv], {warn: (m) => this.warnLine(m)})), ...(place.role ? {role: place.role} : {})}
    const result = await runUndo(kms, journal, plan, ctx, {pacer})
    if (result.status !== 'undone') {
      process.exitCode = result.status === 'partial' ? ExitCode.PARTIAL : ExitCode.FAILED
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
