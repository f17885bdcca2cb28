import {Args, Flags} from '@oclif/core'

import {KmsctlCommand} from '../../cli/base-command.js'
import {confirmAction, type ConfirmedBy} from '../../lib/confirm.js'
import {
  type Blocker,
  DEFAULT_DAYS,
  DEFAULT_LOOKBACK,
  type DeletionPreflight,
  blockersError,
  deletionBlockers,
  describeDuration,
  parseLookback,
  runDeletionPreflight,
  validateDays,
} from '../../lib/deletion/preflight.js'
import {daysFromNow, renderPreflight} from '../../lib/deletion/report.js'
import {type ScheduleRequest, scheduleKeyDeletion, scheduleRequest} from '../../lib/deletion/schedule.js'
import {parseKeyRef} from '../../lib/key-ref.js'
import {confirmFlags, mutationFlags} from '../../cli/flags.js'
import {chalk, formatDate} from '../../lib/output.js'
import {DAY_MS} from '../../lib/time.js'

export interface KeyScheduleDeletionResult {
  dryRun: boolean
  scheduled: boolean
  preflight: DeletionPreflight
  /** Checks that --force overrode (empty without --force). */
  forced: Blocker[]
  request: ScheduleRequest
  confirmedBy?: ConfirmedBy
  keyState?: string
  deletionDate?: string
  pendingWindowInDays?: number
  journalId?: string
}

export default class KeyScheduleDeletion extends KmsctlCommand<typeof KeyScheduleDeletion> {
  static override args = {
    key: Args.string({description: 'Key ID, key ARN, alias name (alias/x) or alias ARN.', required: true}),
  }

  static override description = `Schedule a key for deletion, after a pre-flight a person will actually read.

Deleting a KMS key destroys every piece of data encrypted under it, forever. Before anything is sent, kmsctl shows the key's state, manager, description, aliases, tags, grants and their grantees, multi-Region replicas (a primary waits for them: PendingReplicaDeletion), when KMS last saw it used (GetKeyLastUsage), the newest cryptographic calls on it in CloudTrail over --lookback with who and from where, and the date it would be deleted.

Refused (exit 2, nothing sent): AWS managed keys; --days outside 7..30; a key already pending deletion. A key that is still Enabled, or was used inside --lookback (refused calls count too), or whose use could not be checked, is refused unless --force: disable it first and watch CloudTrail.

To confirm, type the key ID or one of its aliases at the prompt; scripts pass the same text with --confirm. --yes alone is not enough, and there is never a prompt without a terminal. The key's state before the change is recorded in the journal. --dry-run runs every check and stops. Cancel within the waiting period with kmsctl key cancel-deletion.`

  static override examples = [
    {command: '<%= config.bin %> <%= command.id %> alias/old-reports --dry-run', description: 'Show the pre-flight and stop'},
    {command: '<%= config.bin %> <%= command.id %> alias/old-reports', description: 'Schedule deletion in 30 days after typing the alias at the prompt'},
    {
      command: '<%= config.bin %> <%= command.id %> 1234abcd-12ab-34cd-56ef-1234567890ab --days 7 --confirm 1234abcd-12ab-34cd-56ef-1234567890ab',
      description: 'In a script: the shortest window, confirmed by repeating the key ID',
    },
    {command: '<%= config.bin %> <%= command.id %> alias/old-reports --lookback 90d --dry-run', description: 'Look for use over the full 90 days CloudTrail keeps'},
    {command: '<%= config.bin %> <%= command.id %> alias/old-reports --force --confirm alias/old-reports', description: 'Schedule even though the key is Enabled or was used recently'},
  ]

  static override flags = {
    ...mutationFlags,
    ...confirmFlags,
    days: Flags.integer({default: DEFAULT_DAYS, description: 'Days KMS waits before deleting the key (7..30).'}),
    force: Flags.boolean({description: 'Schedule even if the key is Enabled, was used inside --lookback, or its use could not be checked.'}),
    lookback: Flags.string({default: DEFAULT_LOOKBACK, description: 'How far back to look for use in CloudTrail (at most 90d).'}),
  }

  async run(): Promise<KeyScheduleDeletionResult> {
    const {args, flags} = this
    // Every input is checked before the first request.
    const days = validateDays(flags.days)
    const lookbackMs = parseLookback(flags.lookback)
    parseKeyRef(args.key)

    const kms = await this.aws.kms()
    const cloudtrail = await this.aws.cloudtrail()
    const preflight = await runDeletionPreflight({cloudtrail, kms}, args.key, {days, lookbackMs})
    const blockers = deletionBlockers(preflight, Boolean(flags.force))
    if (!this.jsonEnabled()) this.log(renderPreflight(preflight))
    if (blockers.some((b) => !b.forced)) throw blockersError(preflight, blockers)
    const forced = blockers.filter((b) => b.forced)
    for (const b of forced) this.warnLine(`--force: ${b.message}.`)

    const request = scheduleRequest(preflight)
    const result: KeyScheduleDeletionResult = {dryRun: Boolean(flags['dry-run']), forced, preflight, request, scheduled: false}
    if (flags['dry-run']) {
      this.note(`\nDry run: would send ScheduleKeyDeletion ${JSON.stringify(request)} after confirmation. Nothing was sent.`)
      return result
    }

    const accepted = [preflight.keyId, ...preflight.aliases, preflight.arn]
    result.confirmedBy = await confirmAction({
      accepted,
      action: `schedule deletion of key ${preflight.keyId}`,
      allowYes: false,
      confirm: flags.confirm,
      json: this.jsonEnabled(),
      summary: chalk.red(
        `\nIn ${days} days${preflight.waitsForReplicas ? ' after its last replica is deleted' : ''}, KMS deletes key ${preflight.keyId} and everything encrypted under it becomes unrecoverable.`,
      ),
      yes: flags.yes,
    })

    // The journal keeps this command's arguments only, without the command's own name.
    const outcome = await scheduleKeyDeletion(kms, preflight, {...(await this.journalContext()), command: this.argv})
    Object.assign(result, {
      deletionDate: outcome.deletionDate,
      journalId: outcome.journalId,
      keyState: outcome.keyState,
      pendingWindowInDays: outcome.pendingWindowInDays,
      scheduled: true,
    })
    if (!this.jsonEnabled()) {
      const when = outcome.deletionDate
        ? `on ${formatDate(outcome.deletionDate)} (${daysFromNow(outcome.deletionDate)})`
        : `${outcome.pendingWindowInDays} days after its last replica is deleted (state ${outcome.keyState})`
      this.log(`\nScheduled deletion of key ${preflight.keyId} ${when}.`)
      this.log(`To keep it, before then: kmsctl key cancel-deletion ${preflight.ref} --enable`)
      this.note(`Journal entry ${outcome.journalId} (waiting period ${describeDuration(outcome.pendingWindowInDays * DAY_MS)}).`)
    }

    return result
  }
}
