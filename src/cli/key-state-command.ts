// The command behind `key disable` and `key enable`: choose keys, show the plan, confirm once,
// send the calls paced at the operation's quota, report per key.
import {Args, Flags} from '@oclif/core'

import {type ReportRow, type StateAction, STATE_ACTIONS, planStateChange} from '../lib/bulk/plan.js'
import {summaryLine} from '../lib/bulk/report.js'
import {runStateChange} from '../lib/bulk/run.js'
import {parseRefList, readRefList, validateSource} from '../lib/bulk/select.js'
import {type Tally, tally} from '../lib/bulk/tally.js'
import {interruptOnSigint} from '../lib/interrupt.js'
import {confirmAction} from '../lib/confirm.js'
import {usageError} from '../lib/errors.js'
import {Journal, changeContext, commandLine, newBatchId} from '../lib/journal.js'
import {renderTable, terminalWidth} from '../lib/output.js'
import {Pacer} from '../lib/pacing.js'
import {parsePairs} from '../lib/parse.js'
import {KmsctlCommand} from './base-command.js'
import {type OrgPlan, type OrgReportRow, missingRefs, placeRefs, planAcross, planByPlace, rowsOf, runAcross, stateSummaries} from '../lib/org/state-change.js'
import type {TargetSummary} from '../lib/org/run.js'
import {DEFAULT_MAX_PARALLEL, type Targets, accountOfArn} from '../lib/org/targets.js'
import {columnFlags, keyListFlags, parseRate} from './flags.js'
import {keyLabel, planColumns, reportColumns, resolveSelection} from './key-selection.js'
import {type OrgFlagValues, orgFlags, progressReporter, renderSummary, roleFrom, targetsFrom, whereColumns} from './org-flags.js'

export interface KeyStateResult {
  action: StateAction
  dryRun: boolean
  /** Groups the journal entries of this run. */
  batch?: string
  /** Why the aliases could not be read, when they could not (the keys are shown by ID). */
  aliasesUnavailable?: string
  interrupted: boolean
  /** One row per key: key, before, after, outcome, reason or error, journal entry. */
  keys: ReportRow[]
  summary: Tally
  exitCode: number
  /** Across accounts or regions: each account-region's keys seen, changed and failed, or its failure. */
  targets?: TargetSummary[]
}

/** Shared by `key disable` and `key enable`. */
export abstract class KeyStateCommand extends KmsctlCommand<typeof KeyStateCommand> {
  static override args = {
    keys: Args.string({description: 'Key IDs, key ARNs or aliases (several allowed); - reads them from stdin.'}),
  }

  static override flags = {
    ...orgFlags,
    ...keyListFlags,
    ...columnFlags,
    rate: Flags.string({description: 'Calls per second (default 5, the KMS quota for DisableKey and EnableKey).'}),
  }
  static override strict = false

  protected abstract readonly action: StateAction
  private aliasesUnavailable?: string

  async run(): Promise<KeyStateResult> {
    const {action} = this
    const spec = STATE_ACTIONS[action]
    const flags = this.flags as unknown as {confirm?: string; 'dry-run'?: boolean; file?: string; rate?: string; 'skip-missing'?: boolean; tag?: string[]; yes?: boolean}
    const argv = this.argvList
    const args = argv.filter((a) => a !== '-')
    const fromStdin = argv.includes('-')
    if (fromStdin && flags.file) throw usageError('Give the list either on stdin (-) or with --file, not both.', 'Try this: --file keys.txt')
    const rate = parseRate(flags.rate, 5)
    const tags = parsePairs(flags.tag, 'tag')
    const list = flags.file ? await readRefList(flags.file) : fromStdin ? await readRefList('-') : undefined
    const source = {listName: list?.name, listText: list?.text, refs: args, tags}
    validateSource(source)
    const orgValues = this.flags as OrgFlagValues
    const fansOut = [orgValues.accounts?.length, orgValues['accounts-file'], orgValues.org, orgValues.regions?.length, orgValues['all-regions']].some(Boolean)
    // --max-parallel also bounds a list of key ARNs spread over several account-regions.
    const targets = targetsFrom(!fansOut && (args.length > 0 || list) ? {...orgValues, 'max-parallel': undefined} : orgValues)
    if (targets) {
      if (args.length > 0 || list) {
        throw usageError(
          'Across accounts and regions (--accounts, --org, --regions), keys are selected by tag; key ARNs already say their account and region.',
          `Try this: kmsctl key ${action} --tag team=payments --org --role-name NAME, or kmsctl key ${action} --file key-arns.txt --role-name NAME`,
        )
      }

      return this.across(targets, tags, rate, flags)
    }

    // Key ARNs of other accounts or regions (a --file gathered across the organisation): each key
    // goes to its own account-region, the other accounts through the role.
    const refs = [...args, ...(list ? parseRefList(list.text, list.name) : [])]
    if (refs.some((r) => accountOfArn(r))) {
      const role = roleFrom(this.flags as never)
      const caller = await this.aws.callerIdentity()
      const home = {account: caller.account, region: await this.aws.region()}
      const groups = placeRefs(refs, home)
      if (groups.length > 1 || groups[0].account !== home.account || groups[0].region !== home.region) {
        const foreign = groups.find((g) => g.account !== home.account)
        if (foreign && !role) {
          throw usageError(
            `${foreign.refs[0]} is in account ${foreign.account}, not the caller's (${home.account}), and no role to assume there is named.`,
            'Try this: --role-name OrganizationAccountAccessRole (the role your organisation uses), --role-arn-template, or export KMSCTL_ROLE_NAME.',
          )
        }

        const maxParallel = (this.flags as {'max-parallel'?: number})['max-parallel'] ?? DEFAULT_MAX_PARALLEL
        const progress = this.progress()
        const plan = await planByPlace(this.aws, role, groups, action, {maxParallel, onProgress: progressReporter(progress, 'keys')})
        progress.done()
        const missing = missingRefs(plan)
        if (missing.length > 0 && !flags['skip-missing']) {
          throw usageError(
            missing.length === 1 ? `No key ${missing[0]}: nothing was sent.` : `${missing.length} references name no key: ${missing.join(', ')}. Nothing was sent.`,
            `Try this: kmsctl key list --accounts ACCOUNT --regions REGION --role-name NAME to find the key, or --skip-missing to go on without ${missing.length === 1 ? 'it' : 'them'}`,
          )
        }

        return this.change(plan, maxParallel, rate, flags)
      }
    }

    const kms = await this.aws.kms()
    const pacer = new Pacer({concurrency: 100, rates: {[spec.operation]: rate}})
    const progress = this.progress()
    // Who is calling (for the journal) is asked while the keys are resolved.
    const batch = newBatchId()
    const journalPromise = flags['dry-run']
      ? undefined
      : changeContext(this.aws, new Journal(), commandLine(this.id, this.argv), {batch, warn: (m) => this.warnLine(m)})
    journalPromise?.catch(() => {})
    const selection = await resolveSelection(kms, source, {pacer, progress, skipMissing: flags['skip-missing'], warn: (m) => this.warnLine(m)})
    this.aliasesUnavailable = selection.aliasesUnavailable
    const plan = planStateChange(action, selection)
    const planned = [...plan.items.map((i) => i.row), ...plan.unresolved]
    const toSend = plan.items.filter((i) => i.send)
    const single = planned.length === 1

    if (flags['dry-run']) {
      const result = this.result([...planned], false, true)
      if (!this.jsonEnabled()) {
        if (single) this.log(`Dry run: would ${spec.verb} ${keyLabel(planned[0])}: ${planned[0].before} -> ${planned[0].after}${toSend.length === 0 ? ` (${planned[0].error?.message ?? planned[0].reason})` : ''}. Nothing was sent.`)
        else {
          this.log(renderTable(planned, planColumns()))
          this.note(summaryLine(action, result.summary, true))
        }
      }

      return result
    }

    if (toSend.length === 0) {
      const result = this.result(planned, false)
      this.render(result)
      return result
    }

    // Several keys: the plan, then one confirmation that names the change (with --yes or --confirm
    // there is no prompt, and the report that follows says it all).
    if (!this.jsonEnabled() && !single && !flags.yes && flags.confirm === undefined) process.stderr.write(renderTable(planned, planColumns(), terminalWidth(process.stderr)) + '\n')
    const one = toSend.length === 1 ? toSend[0].key : undefined
    const changeText = `${spec.verb} ${toSend.length} keys`
    await confirmAction({
      accepted: one ? [one.keyId, ...one.aliases, one.arn] : [changeText],
      action: one ? `${spec.verb} key ${one.keyId}${one.aliases[0] ? ` (${one.aliases[0]})` : ''}` : changeText,
      confirm: flags.confirm,
      json: this.jsonEnabled(),
      yes: flags.yes,
    })

    const journal = await journalPromise
    const interrupt = interruptOnSigint(() => {
      progress.done()
      process.stderr.write('Interrupted: no new calls are sent; waiting for the calls in flight…\n')
    })
    const verbing = action === 'disable' ? 'Disabling keys' : 'Enabling keys'
    let rows: ReportRow[]
    try {
      rows = await runStateChange({
        action,
        items: plan.items,
        journal,
        kms,
        onProgress: (c) => progress.count(verbing, c.done, c.total, `${c.changed} ${spec.target.toLowerCase()}, ${c.failed} failed`),
        pacer,
        signal: interrupt.signal,
        // Enough keys in progress to keep up with the rate at a few hundred ms per call.
        workers: Math.min(200, Math.max(10, Math.ceil(rate * 2))),
      })
    } finally {
      interrupt.dispose()
      progress.done()
    }

    const result = this.result([...rows, ...plan.unresolved], interrupt.signal.aborted, false, batch)
    this.render(result)
    return result
  }

  /** The same change in every account-region the targets name: one plan, one confirmation, parallel runs. */
  private async across(targets: Targets, tags: Record<string, string>, rate: number, flags: {confirm?: string; 'dry-run'?: boolean; yes?: boolean}): Promise<KeyStateResult> {
    const {action} = this
    const spec = STATE_ACTIONS[action]
    const progress = this.progress()
    const plan = await planAcross(this.aws, targets, action, {tags}, progressReporter(progress, 'keys'))
    progress.done()
    return this.change(plan, targets.maxParallel, rate, flags)
  }

  /** Shows the plan of every account-region, confirms once for the whole batch, and sends the calls in parallel. */
  private async change(plan: OrgPlan, maxParallel: number, rate: number, flags: {confirm?: string; 'dry-run'?: boolean; yes?: boolean}): Promise<KeyStateResult> {
    const {action} = this
    const spec = STATE_ACTIONS[action]
    const progress = this.progress()
    const planned = rowsOf(plan.outcomes)
    const where = whereColumns<OrgReportRow>()
    const planSummaries = stateSummaries(plan.outcomes.map((o) => ({...o, value: o.value ? [...o.value.items.map((i) => i.row), ...o.value.unresolved] : undefined})))
    if (flags['dry-run'] || plan.toSend === 0) {
      const result = this.orgResult(planned, planSummaries, false, flags['dry-run'])
      if (!this.jsonEnabled()) {
        this.log(this.renderList(planned, [...where, ...(flags['dry-run'] ? planColumns() : reportColumns())]))
        this.note(renderSummary(planSummaries, 'keys'))
        this.note(summaryLine(action, result.summary, flags['dry-run']))
      }

      return result
    }

    // The plan before the prompt (with --yes or --confirm the report that follows says it all).
    if (!this.jsonEnabled() && !flags.yes && flags.confirm === undefined) {
      process.stderr.write(renderTable(planned, [...where, ...planColumns()], terminalWidth(process.stderr)) + '\n')
      process.stderr.write(renderSummary(planSummaries, 'keys', terminalWidth(process.stderr)) + '\n')
    }

    const accountRegions = new Set(plan.outcomes.filter((o) => o.value?.items.some((i) => i.send)).map((o) => `${o.account}/${o.region}`)).size
    // The text that names the change, as for one region ("disable 40 keys"); the prompt also says where.
    const changeText = `${spec.verb} ${plan.toSend} key${plan.toSend === 1 ? '' : 's'}`
    await confirmAction({
      accepted: [changeText],
      action: `${changeText} in ${accountRegions} account-region${accountRegions === 1 ? '' : 's'}`,
      confirm: flags.confirm,
      json: this.jsonEnabled(),
      yes: flags.yes,
    })
    const batch = newBatchId()
    const journal = await changeContext(this.aws, new Journal(), commandLine(this.id, this.argv), {batch, warn: (m) => this.warnLine(m)})
    const interrupt = interruptOnSigint(() => {
      progress.done()
      process.stderr.write('Interrupted: no new calls are sent; waiting for the calls in flight…\n')
    })
    const verbing = action === 'disable' ? 'Disabling keys' : 'Enabling keys'
    let outcomes
    try {
      outcomes = await runAcross(plan, {
        action,
        journal: {batch, caller: journal.caller, command: journal.command, journal: journal.journal},
        maxParallel,
        onProgress: (done, total, changed, failed) => progress.count(verbing, done, total, `${changed} ${spec.target.toLowerCase()}, ${failed} failed`),
        rate,
        signal: interrupt.signal,
      })
    } finally {
      interrupt.dispose()
      progress.done()
    }

    const rows = rowsOf(outcomes)
    const summaries = stateSummaries(outcomes)
    const result = this.orgResult(rows, summaries, interrupt.signal.aborted, false, batch)
    if (!this.jsonEnabled()) {
      this.log(this.renderList(rows, [...where, ...reportColumns()]))
      this.note(renderSummary(summaries, 'keys'))
      this.note(summaryLine(action, result.summary))
      if (result.summary.changed > 0) this.note(`Undo: kmsctl undo ${batch} reverses the whole batch, each key in its account and region (kmsctl journal list --batch ${batch} lists its entries).`)
      if (result.interrupted) this.note('Interrupted (exit 130): the keys marked "not sent" were not changed.')
      else if (result.exitCode !== 0) this.note(`Exit ${result.exitCode}: ${result.summary.failed} key${result.summary.failed === 1 ? '' : 's'} or account-regions failed.`)
    }

    return result
  }

  /** The result across accounts or regions: a failed account-region is a partial failure (exit 3) beside the keys' own outcomes. */
  private orgResult(rows: OrgReportRow[], summaries: TargetSummary[], interrupted: boolean, dryRun = false, batch?: string): KeyStateResult {
    const t = tally(rows)
    const failedTargets = summaries.some((s) => s.error)
    const allKeysFailed = t.failed > 0 && rows.every((r) => r.outcome === 'failed')
    const exitCode = this.exitWith(interrupted ? 'interrupted' : allKeysFailed ? 'failed' : t.failed > 0 || failedTargets ? 'partial' : 'ok')
    return {action: this.action, batch, dryRun, exitCode, interrupted, keys: rows, summary: t, targets: summaries}
  }

  private render(result: KeyStateResult): void {
    if (this.jsonEnabled()) return
    const {verb} = STATE_ACTIONS[this.action]
    if (result.keys.length === 1) {
      // One key: one line, with the command that reverses it.
      const r = result.keys[0]
      const past = this.action === 'disable' ? 'Disabled' : 'Enabled'
      if (r.outcome === 'changed') this.log(`${past} ${keyLabel(r)}.${r.journalId ? ` Undo: kmsctl undo ${r.journalId}` : ''}`)
      else if (r.outcome === 'failed') this.warnLine(`Could not ${verb} ${keyLabel(r)}: ${r.error?.message ?? r.reason ?? 'failed'}`)
      else if (r.outcome === 'not-sent') this.log(`Not sent (interrupted): ${keyLabel(r)} is still ${r.after}.`)
      else this.log(`${keyLabel(r)}: ${r.reason ?? r.outcome}; nothing to do.`)
      return
    }

    this.log(this.renderList(result.keys, reportColumns()))
    this.note(summaryLine(this.action, result.summary))
    if (result.batch && result.summary.changed > 0) this.note(`Undo: kmsctl undo ${result.batch} reverses the whole batch (kmsctl journal list --batch ${result.batch} lists its entries).`)
    if (result.interrupted) this.note('Interrupted (exit 130): the keys marked "not sent" were not changed.')
    else if (result.exitCode !== 0) this.note(`Exit ${result.exitCode}: ${result.summary.failed} key${result.summary.failed === 1 ? '' : 's'} failed.`)
  }

  private result(keys: ReportRow[], interrupted: boolean, dryRun = false, batch?: string): KeyStateResult {
    const t = tally(keys)
    const exitCode = this.exitWith({failed: t.failed, interrupted, succeeded: t.total - t.failed})
    return {action: this.action, aliasesUnavailable: this.aliasesUnavailable, batch, dryRun, exitCode, interrupted, keys, summary: t}
  }
}
