import {Flags} from '@oclif/core'

import {KmsctlCommand} from '../../cli/base-command.js'
import {entryKey, matchesKey, statusText} from '../../cli/journal-view.js'
import {tableFlags} from '../../cli/flags.js'
import {parseTime, splitList} from '../../lib/parse.js'
import {type JournalRecord, Journal} from '../../lib/journal.js'
import {parseKeyRef} from '../../lib/key-ref.js'
import {type Column, formatDate} from '../../lib/output.js'

export type JournalListResult = JournalRecord[]

export default class JournalList extends KmsctlCommand<typeof JournalList> {
  static override description = `List the changes kmsctl made, oldest first: when, what, on which key, by whom, and the outcome.
The journal is append-only JSON lines under ~/.kmsctl/journal (KMSCTL_HOME moves it); every mutating command writes its entry before it changes anything, so an entry whose status is "unfinished" is a change whose outcome was never recorded (the process stopped). Reads local files only: no AWS call.`

  static override examples = [
    {command: '<%= config.bin %> <%= command.id %> --since 2h', description: 'Changes of the last two hours'},
    {command: '<%= config.bin %> <%= command.id %> --key alias/payments', description: 'Changes to one key (ID, ARN, or an alias recorded with the entries)'},
    {command: '<%= config.bin %> <%= command.id %> --action incident.contain', description: 'Every contained key'},
    {command: '<%= config.bin %> <%= command.id %> --batch b-20261128T101500Z-d4e5f6 --json', description: 'The entries of one bulk command, as JSON'},
  ]

  static override flags = {
    ...tableFlags,
    action: Flags.string({description: 'Only these actions (key.disable, policy.put, incident.contain, ...); comma-separated or repeated.', multiple: true}),
    batch: Flags.string({description: 'Only the entries of this batch (one bulk command).'}),
    key: Flags.string({description: 'Only changes to this key: key ID, key ARN, or an alias recorded with the entry.'}),
    limit: Flags.integer({description: 'Only the most recent N entries.', min: 1}),
    since: Flags.string({description: 'Only changes since then: a duration back from now (2h, 7d) or a date/time (2026-11-01T10:00:00Z).'}),
    status: Flags.string({description: 'Only entries with this outcome.', multiple: true, options: ['ok', 'failed', 'partial', 'skipped', 'unfinished']}),
  }

  async run(): Promise<JournalListResult> {
    const {flags} = this
    const since = flags.since ? parseTime(flags.since, 'since') : undefined
    if (flags.key) parseKeyRef(flags.key)
    const actions = splitList(flags.action)
    let records = new Journal().list({batch: flags.batch, since}).filter((r) => {
      if (flags.key && !matchesKey(r, flags.key)) return false
      if (actions.length > 0 && !actions.includes(r.action)) return false
      if (flags.status && !flags.status.includes(statusText(r))) return false
      return true
    })
    if (flags.limit) records = records.slice(-flags.limit)
    if (!this.jsonEnabled()) {
      if (records.length === 0) {
        this.note('No journal entries match.')
      } else {
        this.log(this.renderList(records, journalColumns()))
        if (!this.rowsOnly()) this.note(`${records.length} entr${records.length === 1 ? 'y' : 'ies'}. Details: kmsctl journal show ENTRY; reverse one: kmsctl undo ENTRY.`)
      }
    }

    return records
  }
}

/** The columns of `journal list`. */
export function journalColumns(): Array<Column<JournalRecord>> {
  return [
    // The entry ID starts with its time (j-20261128T101500Z-...): the Time column goes first.
    {get: (r) => formatDate(r.time), header: 'Time', kind: 'fixed', priority: 3},
    {get: (r) => r.id, header: 'Entry', kind: 'fixed'},
    {get: (r) => r.action + (r.reverses ? ` (undoes ${r.reverses})` : ''), header: 'Action', kind: 'name', minWidth: 10},
    {get: (r) => entryKey(r)?.aliases?.[0] ?? entryKey(r)?.keyId ?? '', header: 'Key', kind: 'name', minWidth: 14},
    {get: (r) => entryKey(r)?.keyId ?? '', header: 'Key ID', kind: 'id', wide: true},
    {get: (r) => statusText(r) + (r.outcome?.error ? `: ${r.outcome.error.message}` : ''), header: 'Status', kind: 'text', minWidth: 8},
    {cut: 'start', get: (r) => (r.caller ?? '').replace(/^arn:aws[a-z-]*:(iam|sts)::/, ''), header: 'Caller', kind: 'name', minWidth: 12, priority: 3},
    {get: (r) => r.batch ?? '', header: 'Batch', kind: 'id', priority: 4},
  ]
}
