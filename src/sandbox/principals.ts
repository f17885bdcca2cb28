// Who is calling: the principal behind an access key ID. Today every access key is the sandbox's
// administrator (an IAM user in the sandbox account); a later issue maps access keys to other principals.
import {DEFAULT_ACCESS_KEY_ID, DEFAULT_PRINCIPAL_ARN, SANDBOX_ACCOUNT} from './constants.js'

export interface Principal {
  accessKeyId: string
  accountId: string
  arn: string
  /** AIDA... for IAM users. */
  principalId: string
  type: 'AssumedRole' | 'IAMUser' | 'Root'
  userName?: string
  /** CloudTrail's userIdentity for this caller, when it differs from the default shape (see realism/identity.ts). */
  trailIdentity?: Record<string, unknown>
  /** An assumed-role session of the sandbox organisation: its full userIdentity, in any account's trail. */
  sessionIdentity?: Record<string, unknown>
}

export const DEFAULT_PRINCIPAL_ID = 'AIDAKMSCTLSANDBOXADMIN'

export function resolvePrincipal(accessKeyId: string | undefined): Principal {
  return {
    accessKeyId: accessKeyId || DEFAULT_ACCESS_KEY_ID,
    accountId: SANDBOX_ACCOUNT,
    arn: DEFAULT_PRINCIPAL_ARN,
    principalId: DEFAULT_PRINCIPAL_ID,
    type: 'IAMUser',
    userName: DEFAULT_PRINCIPAL_ARN.split('/').pop(),
  }
}
