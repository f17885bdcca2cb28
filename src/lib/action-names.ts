// Checking a KMS action name typed by the user (policy simulate --action): a name that matches no
// KMS action is most likely a typo, so it is named with the closest real actions.
import {globMatch} from './glob.js'
import {closest} from './key-ref.js'
import {KMS_ACTIONS} from './policy/actions.js'

/**
 * A warning for a kms: action that no KMS action matches (wildcards allowed), with a did-you-mean;
 * undefined when the action is known or not a KMS action at all.
 */
export function unknownActionWarning(action: string): string | undefined {
  if (!action.toLowerCase().startsWith('kms:')) return undefined
  if (KMS_ACTIONS.some((known) => globMatch(action, known, true))) return undefined
  const suggestions = closest(action, KMS_ACTIONS, 1)
  return `${action} is not a KMS action, so no statement can allow it${suggestions.length > 0 ? `; did you mean ${suggestions.join(', ')}?` : '.'}`
}
