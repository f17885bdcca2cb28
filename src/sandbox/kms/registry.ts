// Every KMS operation the sandbox implements, by name (the X-Amz-Target after "TrentService."). A new
// operation is added to its resource file's list; a new resource file's list is added here.
import {ALIAS_OPERATIONS} from './aliases.js'
import {CRYPTO_OPERATIONS} from './crypto.js'
import {GRANT_OPERATIONS} from './grants.js'
import {KEY_OPERATIONS} from './keys.js'
import type {OperationSpec} from './operation.js'
import {POLICY_OPERATIONS} from './policy.js'
import {ROTATION_OPERATIONS} from './rotation.js'
import {TAG_OPERATIONS} from './tags.js'

export type {Operation, OperationSpec} from './operation.js'

export const KMS_OPERATIONS: Readonly<Record<string, OperationSpec>> = {
  ...KEY_OPERATIONS,
  ...POLICY_OPERATIONS,
  ...ALIAS_OPERATIONS,
  ...GRANT_OPERATIONS,
  ...ROTATION_OPERATIONS,
  ...TAG_OPERATIONS,
  ...CRYPTO_OPERATIONS,
}
