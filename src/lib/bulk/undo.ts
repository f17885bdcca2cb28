// The undo of a key-state change (key disable / key enable, one key or a bulk run): the opposite call.
import {type Reverser, asObject, currentKey} from '../undo/reverser.js'

function keyStateReverser(disabling: boolean): Reverser {
  return {
    after: (_plan, done) => (done(disabling ? 'EnableKey' : 'DisableKey') ? {state: disabling ? 'Enabled' : 'Disabled'} : undefined),
    async plan({base, kms, no, pacer, record}) {
      const keyId = record.key?.keyId ?? ''
      const now = await currentKey(kms, keyId, pacer)
      if (now.gone) return no(`The key ${keyId} no longer exists: a deleted key cannot be enabled or disabled.`)
      const expected = disabling ? 'Disabled' : 'Enabled'
      const beforeState = asObject(record.before).state as string | undefined
      if (now.state === beforeState) return {...no(`Key ${keyId} is already ${now.state}: nothing to undo.`), alreadyReversed: true}
      if (now.state === 'PendingDeletion' || now.state === 'PendingReplicaDeletion') return no(`Key ${keyId} is pending deletion: cancel the deletion first (kmsctl key cancel-deletion ${keyId}).`)
      return {
        ...base,
        action: disabling ? 'key.enable' : 'key.disable',
        before: {state: now.state},
        calls: [{input: {KeyId: keyId}, operation: disabling ? 'EnableKey' : 'DisableKey'}],
        description: `${disabling ? 'Enable' : 'Disable'} key ${keyId} (it was ${beforeState ?? (disabling ? 'Enabled' : 'Disabled')} before ${record.id}).`,
        drift: now.state === expected ? undefined : `key ${keyId} is ${now.state} now, not ${expected} as ${record.id} left it`,
        possible: true,
      }
    },
    text: disabling ? 'enable the key' : 'disable the key',
  }
}

export const keyStateUndo: Record<'key.disable' | 'key.enable', Reverser> = {
  'key.disable': keyStateReverser(true),
  'key.enable': keyStateReverser(false),
}
