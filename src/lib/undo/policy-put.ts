// The undo of a key policy change (policy put, policy restore): put back the policy from before.
import {fromAwsError} from '../errors.js'
import {getPolicy, samePolicy} from '../incident/snapshot.js'
import {type Reverser, asObject, currentKey} from './reverser.js'

const policyReverser: Reverser = {
  after: (plan) => ({policy: plan.calls[0].input.Policy}),
  async plan({base, kms, no, pacer, record}) {
    const keyId = record.key?.keyId ?? ''
    const previous = asObject(record.before).policy
    if (typeof previous !== 'string') return no('The entry does not hold the previous policy, so it cannot be put back.')
    const now = await currentKey(kms, keyId, pacer)
    if (now.gone) return no(`The key ${keyId} no longer exists: its policy went with it.`)
    const current = await getPolicy(kms, keyId, pacer).catch((error) => {
      throw fromAwsError(error, {key: keyId, operation: 'GetKeyPolicy'})
    })
    if (samePolicy(current, previous)) return {...no(`The policy of ${keyId} is already the one from before ${record.id}: nothing to undo.`), alreadyReversed: true}
    const put = asObject(record.request).Policy ?? asObject(record.request).policy
    return {
      ...base,
      action: 'policy.put',
      before: {policy: current, policyName: 'default'},
      calls: [{input: {KeyId: keyId, Policy: previous, PolicyName: 'default'}, operation: 'PutKeyPolicy'}],
      description: `Put back the key policy of ${keyId} from before ${record.id}.`,
      drift: typeof put === 'string' && !samePolicy(current, put) ? `the policy of ${keyId} was changed again after ${record.id}; undo would overwrite that change too` : undefined,
      possible: true,
    }
  },
  text: 'put back the policy from before',
}

export const policyUndo: Record<'policy.put' | 'policy.restore', Reverser> = {
  'policy.put': policyReverser,
  'policy.restore': policyReverser,
}
