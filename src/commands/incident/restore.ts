import {Args, Flags} from '@oclif/core'

import {KmsctlCommand} from '../../cli/base-command.js'
import {interruptOnSigint} from '../../lib/interrupt.js'
import {confirmAction} from '../../lib/confirm.js'
import {usageError} from '../../lib/errors.js'
import {confirmFlags, mutationFlags} from '../../cli/flags.js'
import {type RestoreResult, containEntries, restoreEntries} from '../../lib/incident/restore.js'
import {Journal, changeContext, newBatchId} from '../../lib/journal.js'
import {type Column, renderTable, terminalWidth} from '../../lib/output.js'
import {Pacer} from '../../lib/pacing.js'

/** Grant IDs are 64 hex digits: the table shows the start, the lines under it the whole ID. */
const short = (id: string) => (id.length > 14 ? `${id.slice(0, 12)}…` : id)

export interface IncidentRestoreResult {
  dryRun: boolean
  batch?: string
  interrupted: boolean
  keys: RestoreResult[]
  exitCode: number
}

export default class IncidentRestore extends KmsctlCommand<typeof IncidentRestore> {
  static override args = {
    entry: Args.string({description: 'The journal entry incident contain printed (or its batch ID); several allowed.', required: true}),
  }

  static override description = `Restore keys contained by incident contain, from the snapshot in the journal: put back the key policy (if contain locked it), enable the key (if it was enabled), and recreate the revoked grants with their original parameters (KMS gives them new grant IDs, printed here).
Aliases, tags and rotation were not changed by contain; any difference from the snapshot is reported, not changed.
Exit codes: 0 restored, 1 every key failed, 3 some keys failed.`

  static override examples = [
    {command: '<%= config.bin %> <%= command.id %> j-20261128T101500Z-a1b2c3', description: 'Restore one contained key (type its ID or alias to confirm)'},
    {command: '<%= config.bin %> <%= command.id %> b-20261128T101500Z-d4e5f6 --yes', description: 'Restore every key of a contain batch'},
    {command: '<%= config.bin %> <%= command.id %> j-20261128T101500Z-a1b2c3 --dry-run', description: 'Show what would be put back, send nothing'},
  ]

  static override flags = {
    ...mutationFlags,
    ...confirmFlags,
    confirm: Flags.string({description: 'Confirm without a prompt: the key ID or alias of a single key, or the text asked for several (e.g. "restore 4 keys").'}),
  }

  static override strict = false

  async run(): Promise<IncidentRestoreResult> {
    const {flags} = this
    const ids = this.argvList
    if (ids.length === 0) throw usageError('No journal entry given.', 'Try this: kmsctl journal list --action incident.contain')
    const journalStore = new Journal()
    const records = containEntries(journalStore, ids)
    const kms = await this.aws.kms()
    const pacer = new Pacer({concurrency: 16})

    const plan = await restoreEntries(kms, records, {dryRun: true, pacer})
    const todo = plan.filter((p) => p.status === 'planned')
    if (flags['dry-run'] || todo.length === 0) {
      const result: IncidentRestoreResult = {dryRun: Boolean(flags['dry-run']), exitCode: 0, interrupted: false, keys: plan}
      this.show(result)
      if (flags['dry-run']) this.note('Dry run: nothing was sent.')
      else this.note('Nothing to restore.')
      return result
    }

    if (!this.jsonEnabled()) process.stderr.write(renderTable(plan, this.columns(true), terminalWidth(process.stderr)) + '\n')
    const one = todo.length === 1 ? todo[0] : undefined
    const oneAliases = one ? records.find((r) => r.id === one.entry)?.key?.aliases ?? [] : []
    await confirmAction({
      accepted: one ? [one.key, ...oneAliases, one.arn] : [`restore ${todo.length} keys`],
      action: one ? `restore key ${one.key}${one.alias ? ` (${one.alias})` : ''}` : `restore ${todo.length} keys`,
      confirm: flags.confirm,
      json: this.jsonEnabled(),
      yes: flags.yes,
    })

    const batch = todo.length > 1 ? newBatchId() : undefined
    const journal = await changeContext(this.aws, journalStore, [...this.id!.split(':'), ...this.argv], {batch, warn: (m) => this.warnLine(m)})
    const interrupt = interruptOnSigint(() => process.stderr.write('Interrupted: no new key is started; finishing the key in progress…\n'))
    let keys: RestoreResult[]
    try {
      keys = await restoreEntries(
        kms,
        records.filter((r) => todo.some((t) => t.entry === r.id)),
        {journal, pacer, signal: interrupt.signal},
      )
    } finally {
      interrupt.dispose()
    }

    const result: IncidentRestoreResult = {batch, dryRun: false, exitCode: 0, interrupted: interrupt.signal.aborted, keys}
    this.show(result)
    return result
  }

  private show(result: IncidentRestoreResult): void {
    const failed = result.keys.filter((k) => k.status === 'failed' || k.status === 'partial').length
    const counted = result.dryRun ? 0 : failed
    result.exitCode = this.exitWith({failed: counted, interrupted: result.interrupted, succeeded: result.keys.length - counted})
    if (this.jsonEnabled()) return
    this.log(this.renderList(result.keys, this.columns(result.dryRun)))
    for (const k of result.keys) {
      for (const s of k.steps.filter((x) => x.status === 'failed')) this.warnLine(`${k.alias ?? k.key}: ${s.kind}${s.target ? ` ${s.target}` : ''} failed: ${s.error?.message ?? s.detail}`)
      for (const d of k.drift) this.warnLine(`${k.alias ?? k.key}: ${d}`)
      for (const g of k.newGrants) this.note(`${k.alias ?? k.key}: grant ${g.replaces}${g.name ? ` (${g.name})` : ''} recreated as ${g.grantId}`)
    }
  }

  private columns(dryRun: boolean): Array<Column<RestoreResult>> {
    return [
      {get: (k) => k.alias ?? '', header: 'Alias', kind: 'name'},
      {get: (k) => k.key, header: 'Key ID', kind: 'id', minWidth: 9},
      {get: (k) => k.before, header: 'Now', kind: 'fixed', priority: 3},
      {get: (k) => k.after, header: dryRun ? 'Will be' : 'After', kind: 'fixed'},
      {
        get: (k) =>
          k.steps
            .map((s) => {
              const target = s.target ? ` ${short(s.target)}` : ''
              const created = s.status === 'ok' && s.kind === 'recreate-grant' ? k.newGrants.find((g) => g.replaces === s.target)?.grantId : undefined
              const why = s.detail && s.status !== 'planned' && s.status !== 'ok' ? ` (${s.detail})` : ''
              return `${s.kind}${target}: ${s.status}${created ? ` -> ${short(created)}` : why}`
            })
            .join('; ') || 'nothing to do',
        header: 'Steps',
        kind: 'text',
        minWidth: 16,
        priority: 2,
      },
      {get: (k) => (k.reason ? `${k.status}: ${k.reason}` : k.status), header: 'Status', kind: 'text', minWidth: 10},
      ...(dryRun ? [] : [{get: (k: RestoreResult) => k.journalId ?? '', header: 'Journal entry', kind: 'id' as const, name: 'entry', priority: 2}]),
    ]
  }
}
