// Human output of `key rotation enable` and `key rotation disable`.
import {formatDate, renderPlannedRequests} from '../lib/output.js'
import {type RotationChangeResult, rotationSummary} from '../lib/rotation.js'

/** Human output of enable and disable. */
export function renderRotationChange(r: RotationChangeResult, ref: string, log: (s: string) => void, note: (s: string) => void): void {
  if (r.unchanged) {
    note(`Automatic rotation of ${ref} is already ${rotationSummary(r.before)}: nothing to do.`)
    return
  }

  if (r.dryRun) {
    log(renderPlannedRequests(r.requests))
    return
  }

  const after = r.after!
  log(`Automatic rotation of ${ref} is ${rotationSummary(after)}${after.enabled && after.nextRotationDate ? `, next ${formatDate(after.nextRotationDate)}` : ''}.`)
  note(`It was ${rotationSummary(r.before)} (journal ${r.journalId}).`)
}
