// The human report of a clock change (shared by `sandbox clock advance` and `sandbox clock set`).
import type {ClockChange} from './clock.js'

export function clockChangeLines(change: ClockChange): string[] {
  const lines = [`${change.dryRun ? 'Would move' : 'Moved'} the sandbox clock from ${change.before.now} to ${change.after.now}.`]
  for (const arn of change.deletedKeys) lines.push(`${change.dryRun ? 'Would delete' : 'Deleted'} ${arn}: its deletion waiting period ended.`)
  for (const r of change.rotatedKeys) lines.push(`${change.dryRun ? 'Would rotate' : 'Rotated'} ${r.keyArn} (${r.rotations} automatic rotation${r.rotations === 1 ? '' : 's'}).`)
  return lines
}
