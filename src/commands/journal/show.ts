import {Args} from '@oclif/core'

import {KmsctlCommand} from '../../cli/base-command.js'
import {entryKey, statusText} from '../../cli/journal-view.js'
import {Journal, type JournalRecord} from '../../lib/journal.js'
import {formatDate, renderFields} from '../../lib/output.js'
import {reverseText} from '../../lib/undo/registry.js'
import {findEntry} from '../../lib/undo/target.js'

export interface JournalShowResult extends JournalRecord {
  /** Entries that reverse this one (undo, restore). */
  reversedBy: string[]
  /** How kmsctl undo would reverse it, in words. */
  undo: string
}

/** Policies are stored as JSON text; shown as JSON values so they read as documents. */
function readable(value: unknown): unknown {
  if (typeof value === 'string' && /^\s*\{/.test(value)) {
    try {
      return JSON.parse(value)
    } catch {
      return value
    }
  }

  if (Array.isArray(value)) return value.map((v) => readable(v))
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, readable(v)]))
  return value
}

export default class JournalShow extends KmsctlCommand<typeof JournalShow> {
  static override args = {
    entry: Args.string({description: 'Journal entry ID, or a unique prefix of one.', required: true}),
  }

  static override description = `Show one journal entry in full: when, who, account, region, the command line, the key, the state it overwrote (before), what was sent, and the outcome (after).
Reads local files only: no AWS call.`

  static override examples = [
    {command: '<%= config.bin %> <%= command.id %> j-20261128T101500Z-a1b2c3', description: 'One entry'},
    {command: '<%= config.bin %> <%= command.id %> j-20261128T1015 --json', description: 'By a unique prefix, as JSON'},
  ]

  async run(): Promise<JournalShowResult> {
    const journal = new Journal()
    const record = findEntry(journal, this.args.entry)
    const reversedBy = journal
      .readAll()
      .filter((r) => r.reverses === record.id)
      .map((r) => r.id)
    const result: JournalShowResult = {...record, reversedBy, undo: reverseText(record.action)}
    if (!this.jsonEnabled()) {
      const k = entryKey(record)
      this.log(
        renderFields([
          ['Entry', record.id],
          ['Time', formatDate(record.time)],
          ['Action', record.action],
          ['Status', statusText(record) + (record.outcome ? ` (${formatDate(record.outcome.time)})` : ' (the outcome was never recorded)')],
          ['Error', record.outcome?.error ? `${record.outcome.error.code}: ${record.outcome.error.message}` : undefined],
          ['Key', k ? [k.keyId, k.arn].filter(Boolean).join('\n') : undefined],
          ['Aliases', k?.aliases?.join(', ')],
          ['Given as', k?.ref && k.ref !== k.keyId ? k.ref : undefined],
          ['Region', record.region],
          ['Account', record.account],
          ['Caller', record.caller],
          ['Command', record.command ? `kmsctl ${record.command.join(' ')}` : undefined],
          ['Batch', record.batch],
          ['Undoes', record.reverses],
          ['Undone by', reversedBy.join(', ') || undefined],
          ['Undo', reverseText(record.action)],
        ]),
      )
      const block = (title: string, value: unknown) => {
        if (value === undefined || value === null) return
        this.log(`\n${title}:\n${JSON.stringify(readable(value), null, 2)}`)
      }

      block('Before', record.before)
      block('Request', record.request)
      block('After', record.outcome?.after)
    }

    return result
  }
}
