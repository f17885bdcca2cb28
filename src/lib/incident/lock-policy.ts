// The key policy `incident contain --lock-policy` puts in place: every use and every change of the
// key is denied to everyone but the incident's administrators. It must never lock those
// administrators out, so it passes the same lockout check as `policy put` before it is sent.
import {usageError, refusal} from '../errors.js'
import {checkLockout} from '../policy/lockout.js'
import {parsePolicy} from '../policy/model.js'
import {describeCaller} from '../policy/principal.js'

export const LOCK_POLICY_ID = 'kmsctl-incident-lock'

const ADMIN_ARN = /^arn:aws[a-z-]*:iam::\d{12}:(root|user\/.+|role\/.+)$/

/** Checks --admin values: IAM user, role or account root ARNs (an account ID means its root). */
export function normaliseAdmins(values: readonly string[]): string[] {
  const out: string[] = []
  for (const raw of values) {
    const v = raw.trim()
    if (/^\d{12}$/.test(v)) {
      out.push(`arn:aws:iam::${v}:root`)
      continue
    }

    if (/^arn:aws[a-z-]*:sts::\d{12}:assumed-role\//.test(v)) {
      const caller = describeCaller(v)
      throw usageError(`--admin "${v}" is a role session; a key policy names the role.`, `Try this: --admin ${caller.roleArn} (add its path if the role has one)`)
    }

    if (!ADMIN_ARN.test(v)) {
      throw usageError(`--admin "${v}" is not an IAM user, role or account root ARN.`, 'Try this: --admin arn:aws:iam::111122223333:role/IncidentResponder')
    }

    out.push(v)
  }

  if (out.length === 0) throw usageError('--lock-policy needs at least one --admin.', 'Try this: --lock-policy --admin arn:aws:iam::111122223333:role/IncidentResponder')
  return [...new Set(out)]
}

/**
 * The lock policy: the administrators keep every KMS permission on the key; an explicit Deny
 * covers every other principal (matched on aws:PrincipalArn, so a role's sessions count as the role).
 */
export function lockPolicy(admins: readonly string[]): string {
  const list = [...admins]
  return JSON.stringify(
    {
      Id: LOCK_POLICY_ID,
      Statement: [
        {
          Action: 'kms:*',
          Effect: 'Allow',
          Principal: {AWS: list.length === 1 ? list[0] : list},
          Resource: '*',
          Sid: 'IncidentAdministratorsOnly',
        },
        {
          Action: 'kms:*',
          Condition: {ArnNotEquals: {'aws:PrincipalArn': list.length === 1 ? list[0] : list}},
          Effect: 'Deny',
          Principal: {AWS: '*'},
          Resource: '*',
          Sid: 'DenyEveryoneElseDuringIncident',
        },
      ],
      Version: '2012-10-17',
    },
    null,
    2,
  )
}

/**
 * The lockout check of the lock policy: the caller must still be able to call kms:PutKeyPolicy
 * (KMS refuses the policy otherwise, and restore would be impossible). Throws a refusal (exit 2)
 * that names the --admin to add.
 */
export function assertNoLockout(policyText: string, callerArn: string | undefined, keyArn: string): void {
  if (!callerArn) {
    throw refusal('Cannot check that the lock policy keeps you able to manage the key: the caller is unknown (STS GetCallerIdentity failed).', 'Try this: check your credentials (aws sts get-caller-identity), then run the command again')
  }

  const {policy} = parsePolicy(policyText)
  if (!policy) throw new Error('The lock policy does not parse.')
  const check = checkLockout(policy, {callerArn, keyArn})
  if (check.ok && check.evaluation.decision === 'allow') return
  const caller = describeCaller(callerArn)
  const suggestion = caller.kind === 'assumed-role' ? caller.roleArn : callerArn
  throw refusal(`The lock policy would lock you out: ${callerArn} is not one of the --admin principals, so KMS would refuse the policy and restore could not undo it.`, `Try this: add --admin ${suggestion}`)
}
