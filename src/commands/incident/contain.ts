import {Args, Flags} from '@oclif/core'

import {KmsctlCommand} from '../../cli/base-command.js'
import {roleFlags, roleFrom} from '../../cli/org-flags.js'
import {clientsForKeyRefs} from '../../lib/org/credentials.js'
import {readRefList, validateSource} from '../../lib/bulk/select.js'
import {interruptOnSigint} from '../../lib/interrupt.js'
import {confirmAction} from '../../lib/confirm.js'
import {usageError} from '../../lib/errors.js'
import {columnFlags, keyListFlags} from '../../cli/flags.js'
import {resolveSelection} from '../../cli/key-selection.js'
import {parsePairs} from '../../lib/parse.js'
import {type ContainResult, containKeys} from '../../lib/incident/contain.js'
import {assertNoLockout, lockPolicy, normaliseAdmins} from '../../lib/incident/lock-policy.js'
import {Journal, changeContext, commandLine, newBatchId} from '../../lib/journal.js'
import {type Column, renderTable, terminalWidth} from '../../lib/output.js'
import {Pacer} from '../../lib/pacing.js'

export interface IncidentContainResult {
  /** Why the aliases could not be read, when they could not (the keys are shown by ID). */
  aliasesUnavailable?: string
  dryRun: boolean
  batch?: string
  interrupted: boolean
  keys: ContainResult[]
  /** Keys that could not be resolved. */
  unresolved: Array<{ref: string; error: {code: string; message: string}}>
  exitCode: number
}

export default class IncidentContain extends KmsctlCommand<typeof IncidentContain> {
  static override args = {
    keys: Args.string({description: 'Key IDs, key ARNs or aliases (several allowed); - reads them from stdin.'}),
  }

  static override description = `Contain compromised keys in one command: for each key, snapshot everything needed to restore it (state, key policy, grants, aliases, tags, rotation) into the journal, then disable it.
With --revoke-grants also revoke all its grants; with --lock-policy also replace its key policy with one that denies every use and change to everyone except the --admin principals (refused if it would lock you out).
Prints the journal entry of each key: kmsctl incident restore ENTRY puts back what contain changed.
Exit codes: 0 contained, 1 every key failed, 3 some keys failed, 130 interrupted.`

  static override examples = [
    {command: '<%= config.bin %> <%= command.id %> alias/payments', description: 'Snapshot and disable one key'},
    {
      command: '<%= config.bin %> <%= command.id %> alias/payments --revoke-grants --lock-policy --admin arn:aws:iam::111122223333:role/IncidentResponder',
      description: 'Also revoke every grant and lock the policy to the incident responders',
    },
    {command: '<%= config.bin %> <%= command.id %> --tag team=payments --yes --json', description: 'Contain every key tagged team=payments, no prompt, JSON report'},
    {command: '<%= config.bin %> <%= command.id %> alias/payments --revoke-grants --dry-run', description: 'Show what would be snapshotted and changed, send nothing'},
  ]

  static override flags = {
    ...roleFlags,
    ...keyListFlags,
    ...columnFlags,
    admin: Flags.string({dependsOn: ['lock-policy'], description: 'With --lock-policy: a principal ARN that keeps full access (repeatable; must include you).', multiple: true}),
    'lock-policy': Flags.boolean({description: 'Replace the key policy with one that denies all use except to the --admin principals.'}),
    'revoke-grants': Flags.boolean({description: 'Also revoke every grant on the key (restore recreates them).'}),
  }

  static override strict = false

  async run(): Promise<IncidentContainResult> {
    const {flags} = this
    const argv = this.argvList
    const refs = argv.filter((a) => a !== '-')
    const fromStdin = argv.includes('-')
    if (fromStdin && flags.file) throw usageError('Give the list either on stdin (-) or with --file, not both.', 'Try this: --file keys.txt')
    const admins = flags['lock-policy'] ? normaliseAdmins(flags.admin ?? []) : undefined
    const tags = parsePairs(flags.tag, 'tag')
    const list = flags.file ? await readRefList(flags.file) : fromStdin ? await readRefList('-') : undefined
    const source = {listName: list?.name, listText: list?.text, refs, tags}
    validateSource(source)

    // Key ARNs of another account are contained there, through the role configured for it.
    const place = await clientsForKeyRefs(this.aws, refs, roleFrom(flags))
    if (place.role) process.stderr.write(`Through role ${place.role}.\n`)
    const kms = await place.clients.kms()
    const pacer = new Pacer({concurrency: 32})
    const progress = this.progress()
    const selection = await resolveSelection(kms, source, {pacer, progress, skipMissing: flags['skip-missing'], warn: (m) => this.warnLine(m)})
    const unresolved = selection.unresolved.map((u) => ({error: {code: u.error.code, message: u.error.message}, ref: u.ref}))
    const policy = admins ? lockPolicy(admins) : undefined
    const batch = selection.keys.length > 1 ? newBatchId() : undefined
    const journal = {...(await changeContext(place.clients, new Journal(), commandLine(this.id, this.argv), {batch, warn: (m) => this.warnLine(m)})), ...(place.role ? {role: place.role} : {})}
    const actionable = selection.keys.filter((k) => k.manager !== 'AWS')
    if (policy && actionable.length > 0) assertNoLockout(policy, journal.caller, actionable[0].arn)

    const opts = {lock: policy && admins ? {admins, policy} : undefined, pacer, revokeGrants: flags['revoke-grants']}
    if (flags['dry-run']) {
      const keys = await containKeys(kms, selection.keys, {...opts, dryRun: true})
      const result: IncidentContainResult = {aliasesUnavailable: selection.aliasesUnavailable, dryRun: true, exitCode: 0, interrupted: false, keys, unresolved}
      if (!this.jsonEnabled()) {
        this.log(this.renderList(keys, this.columns(true)))
        this.note(`Dry run: nothing was sent.${policy ? `\nThe lock policy would be:\n${policy}` : ''}`)
      }

      this.finish(result, true)
      return result
    }

    if (actionable.length > 0) {
      // Several keys: the plan before the one confirmation (one key: the prompt names it).
      if (!this.jsonEnabled() && selection.keys.length + unresolved.length > 1 && !flags.yes && flags.confirm === undefined) {
        const plan = [
          'snapshot into the journal',
          'disable',
          ...(flags['revoke-grants'] ? ['revoke every grant'] : []),
          ...(admins ? [`lock the policy to ${admins.join(', ')}`] : []),
        ].join(', then ')
        process.stderr.write(
          renderTable(
            selection.keys,
            [
              {get: (k) => k.aliases.join('\n'), header: 'Alias', kind: 'name'},
              {get: (k) => k.keyId, header: 'Key ID', kind: 'id', minWidth: 9},
              {get: (k) => k.state, header: 'State', kind: 'fixed'},
              {get: (k) => (k.manager === 'AWS' ? 'skip: AWS-managed' : plan), header: 'Plan', kind: 'text', minWidth: 16},
            ],
            terminalWidth(process.stderr),
          ) + '\n',
        )
      }

      const one = actionable.length === 1 ? actionable[0] : undefined
      await confirmAction({
        accepted: one ? [one.keyId, ...one.aliases, one.arn] : [`contain ${actionable.length} keys`],
        action: one ? `contain key ${one.keyId}${one.aliases[0] ? ` (${one.aliases[0]})` : ''}` : `contain ${actionable.length} keys`,
        confirm: flags.confirm,
        json: this.jsonEnabled(),
        yes: flags.yes,
      })
    }

    const interrupt = interruptOnSigint(() => process.stderr.write('Interrupted: no new key is started; finishing the keys in progress…\n'))
    let keys: ContainResult[]
    try {
      progress.update(`Containing ${actionable.length} key${actionable.length === 1 ? '' : 's'}…`, true)
      keys = await containKeys(kms, selection.keys, {...opts, journal, signal: interrupt.signal})
    } finally {
      interrupt.dispose()
      progress.done()
    }

    const result: IncidentContainResult = {aliasesUnavailable: selection.aliasesUnavailable, batch, dryRun: false, exitCode: 0, interrupted: interrupt.signal.aborted, keys, unresolved}
    const oneKey = keys.length === 1 && unresolved.length === 0 ? keys[0] : undefined
    if (!this.jsonEnabled() && oneKey?.status === 'contained') {
      // One key: one line, with the command that puts it back.
      const k = oneKey
      const n = k.steps.filter((x) => x.kind === 'revoke-grant').length
      const what = [`${k.before} -> ${k.after}`, ...(n ? [`${k.grantsRevoked}/${n} grants revoked`] : []), ...(k.policyReplaced ? ['policy locked'] : [])].join(', ')
      this.log(`Contained ${k.alias ? `${k.alias} (${k.key})` : k.key}: ${what}.${k.journalId ? ` Restore: kmsctl incident restore ${k.journalId}` : ''}`)
    } else if (!this.jsonEnabled()) {
      this.log(this.renderList(keys, this.columns()))
      for (const k of keys) {
        for (const s of k.steps.filter((x) => x.status === 'failed')) this.warnLine(`${k.alias ?? k.key}: ${s.kind}${s.target ? ` ${s.target}` : ''} failed: ${s.error?.message ?? s.detail}`)
      }

      for (const u of unresolved) this.warnLine(`${u.ref}: ${u.error.message}`)
      const entries = keys.filter((k) => k.journalId)
      if (entries.length > 0) {
        this.note(`Restore with: kmsctl incident restore ${batch && entries.length > 1 ? batch : entries.map((k) => k.journalId).join(' ')}`)
      }
    }

    this.finish(result, false)
    return result
  }

  private finish(result: IncidentContainResult, dryRun: boolean): void {
    const failed = dryRun ? 0 : result.keys.filter((k) => k.status === 'failed' || k.status === 'partial').length + result.unresolved.length
    const total = result.keys.length + result.unresolved.length
    result.exitCode = this.exitWith({failed, interrupted: result.interrupted, succeeded: total - failed})
  }

  private columns(dryRun = false): Array<Column<ContainResult>> {
    return [
      {get: (k) => k.alias ?? '', header: 'Alias', kind: 'name'},
      {get: (k) => k.key, header: 'Key ID', kind: 'id', minWidth: 9},
      {get: (k) => k.before, header: 'Before', kind: 'fixed', priority: 3},
      {get: (k) => k.after, header: 'After', kind: 'fixed'},
      {
        get: (k) => {
          const n = k.steps.filter((s) => s.kind === 'revoke-grant').length
          return dryRun ? (n ? `${n} to revoke` : '') : n ? `${k.grantsRevoked}/${n} revoked` : ''
        },
        header: 'Grants',
        kind: 'fixed',
      },
      {get: (k) => (k.steps.some((s) => s.kind === 'lock-policy') ? (dryRun ? 'to lock' : k.policyReplaced ? 'locked' : 'NOT locked') : ''), header: 'Policy', kind: 'fixed'},
      {get: (k) => (k.reason ? `${k.status}: ${k.reason}` : k.status), header: 'Status', kind: 'text', minWidth: 12},
      {get: (k) => k.journalId ?? '', header: 'Journal entry', kind: 'id', name: 'entry', priority: 2},
    ]
  }
}
