// The undo of a scheduled deletion: cancel it, and enable the key again if it was enabled. A
// completed deletion cannot be undone.
import {type Reverser, type UndoCall, asObject, currentKey} from '../undo/reverser.js'

export const deletionUndo: Record<'key.schedule-deletion', Reverser> = {
  'key.schedule-deletion': {
    after: (_plan, done) => ({state: done('EnableKey') ? 'Enabled' : done('CancelKeyDeletion') ? 'Disabled' : 'PendingDeletion'}),
    async plan({base, kms, no, pacer, record}) {
      const keyId = record.key?.keyId ?? ''
      const wasEnabled = asObject(record.before).state === 'Enabled' || asObject(record.before).enabled === true
      const now = await currentKey(kms, keyId, pacer)
      if (now.gone) return no(`The key ${keyId} was deleted: a completed deletion cannot be undone. Data encrypted under it can no longer be decrypted.`)
      if (now.state !== 'PendingDeletion' && now.state !== 'PendingReplicaDeletion') {
        return {...no(`The deletion of ${keyId} was already cancelled (the key is ${now.state}): nothing to undo.`), alreadyReversed: true}
      }

      const calls: UndoCall[] = [{input: {KeyId: keyId}, operation: 'CancelKeyDeletion'}]
      if (wasEnabled) calls.push({input: {KeyId: keyId}, operation: 'EnableKey'})
      return {
        ...base,
        action: 'key.cancel-deletion',
        before: {state: now.state},
        calls,
        description: `Cancel the deletion of ${keyId}${wasEnabled ? ' and enable it again (it was Enabled before)' : ' (it stays Disabled, as it was before)'}.`,
        possible: true,
      }
    },
    text: 'cancel the deletion (and enable the key if it was enabled); impossible once the key is deleted',
  },
}
