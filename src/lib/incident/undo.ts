// The undo of a containment: incident restore from the snapshot in the contain entry (policy,
// state and grants as they were).
import {type Reverser} from '../undo/reverser.js'
import {restoreFromEntry} from './restore.js'

export const incidentUndo: Record<'incident.contain', Reverser> = {
  'incident.contain': {
    async plan({base, kms, no, pacer, record}) {
      const restore = await restoreFromEntry(kms, record, {dryRun: true, pacer})
      if (restore.status !== 'planned') {
        const nothing = `Nothing to restore: ${restore.steps.map((s) => `${s.kind} ${s.detail ?? s.status}`).join('; ') || 'contain changed nothing'}.`
        return restore.reason ? no(`Cannot restore: ${restore.reason}.`) : {...no(nothing), alreadyReversed: true}
      }

      const what = restore.steps
        .filter((s) => s.status === 'planned')
        .map((s) => (s.kind === 'recreate-grant' ? `recreate grant ${s.target}` : s.kind === 'restore-policy' ? 'put back the policy' : 'enable the key'))
      return {
        ...base,
        action: 'incident.restore',
        description: `Restore key ${record.key?.keyId ?? ''} from the snapshot of ${record.id}: ${what.join(', ')}.`,
        kind: 'restore',
        possible: true,
        restore,
      }
    },
    async run({ctx, kms, pacer, plan, record}) {
      const restore = await restoreFromEntry(kms, record, {journal: ctx, pacer})
      return {
        calls: [],
        entry: plan.entry,
        error: restore.status === 'restored' ? undefined : {code: 'FAILED', message: restore.reason ?? restore.steps.find((s) => s.error)?.error?.message ?? 'a step failed'},
        journalId: restore.journalId,
        restore,
        status: restore.status === 'restored' ? 'undone' : restore.status === 'partial' ? 'partial' : 'failed',
      }
    },
    text: 'incident restore: policy, state and grants from the snapshot',
  },
}
