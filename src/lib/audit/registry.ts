// The audit's checks: a stable ID, a severity, the group (file) that implements it, a one-line
// reason and the remedy, a kmsctl command where one exists. IDs never change meaning once
// published: baselines, --only/--skip, SARIF rule IDs and JUnit test names all use them.
import {closest} from '../key-ref.js'
import {usageError} from '../errors.js'

export type Severity = 'high' | 'low' | 'medium'

export const SEVERITIES: readonly Severity[] = ['low', 'medium', 'high']

/** low < medium < high. */
export function severityRank(s: Severity): number {
  return SEVERITIES.indexOf(s)
}

export type CheckGroup = 'grants' | 'hygiene' | 'lifecycle' | 'material' | 'policy'

/** What a check needs read about each key; the audit makes only the calls the selected checks need. */
export type Need = 'grants' | 'lastUsage' | 'policy' | 'rotation' | 'tags' | 'trail'

export interface CheckDefinition {
  id: string
  title: string
  severity: Severity
  group: CheckGroup
  /** Why it matters, in one line. */
  reason: string
  /** What to do; `{key}` stands for the key's alias or ID. */
  remedy: string
  /** The kmsctl command that fixes it, when there is one (`{key}` as above). */
  command?: string
  needs: Need[]
  /** The `policy lint` codes this check reports. */
  lintCodes?: string[]
}

const d = (def: CheckDefinition): CheckDefinition => def

export const CHECKS: readonly CheckDefinition[] = [
  // lifecycle
  d({
    command: 'kmsctl key rotation enable {key}',
    group: 'lifecycle',
    id: 'rotation-off',
    needs: ['rotation'],
    reason: 'Automatic rotation is off on a symmetric encryption key with KMS-generated material: old material stays in use for ever.',
    remedy: 'Turn on automatic rotation (every 365 days by default).',
    severity: 'medium',
    title: 'Automatic rotation off',
  }),
  d({
    command: 'kmsctl key schedule-deletion {key} --dry-run',
    group: 'lifecycle',
    id: 'disabled-long',
    needs: ['trail'],
    reason: 'The key has been disabled for longer than --disabled-days: either it is still needed (enable it) or it is not (schedule its deletion).',
    remedy: 'Check nothing still depends on it, then schedule its deletion (or enable it again if it is needed).',
    severity: 'low',
    title: 'Disabled for a long time',
  }),
  d({
    command: 'kmsctl key cancel-deletion {key}',
    group: 'lifecycle',
    id: 'pending-deletion-in-use',
    needs: ['lastUsage', 'trail'],
    reason: 'The key is scheduled for deletion but was used recently: data encrypted under it becomes unreadable for ever once it is deleted.',
    remedy: 'Cancel the deletion, then find who still uses the key (kmsctl trail who {key}).',
    severity: 'high',
    title: 'Pending deletion but still used',
  }),
  d({
    command: 'kmsctl key disable {key}',
    group: 'lifecycle',
    id: 'unused',
    needs: ['lastUsage'],
    reason: 'No cryptographic operation used the key for longer than --unused-days: an unused enabled key is access nobody needs.',
    remedy: 'Disable it for a while (every caller that still needs it shows up in CloudTrail as a failed call), then schedule its deletion.',
    severity: 'low',
    title: 'Unused',
  }),
  d({
    group: 'lifecycle',
    id: 'multi-region',
    needs: [],
    reason: 'A multi-Region key shares its material with replicas in other Regions: a policy or grant mistake in any Region exposes data from all of them.',
    remedy: 'Use single-Region keys unless data really has to be decrypted in several Regions; review each replica\'s policy.',
    severity: 'low',
    title: 'Multi-Region key',
  }),
  // material
  d({
    command: 'kmsctl key create --spec RSA_4096 --usage ENCRYPT_DECRYPT',
    group: 'material',
    id: 'rsa-2048-encryption',
    needs: [],
    reason: 'An RSA encryption key of 2048 bits: encryption keys should be larger (RSA_3072 or RSA_4096).',
    remedy: 'Create a larger RSA key for new data, move callers to it, then retire this one.',
    severity: 'low',
    title: 'RSA 2048 encryption key',
  }),
  // policy
  d({
    command: 'kmsctl policy put {key} --file fixed-policy.json',
    group: 'policy',
    id: 'policy-public',
    lintCodes: ['public-principal'],
    needs: ['policy'],
    reason: 'The key policy allows Principal "*" with no condition limiting who calls (aws:PrincipalOrgID, aws:SourceAccount, kms:CallerAccount, aws:PrincipalArn, ...).',
    remedy: 'Name the principals, or add a condition that limits the callers to your account or organisation.',
    severity: 'high',
    title: 'Policy open to everyone',
  }),
  d({
    command: 'kmsctl policy put {key} --file fixed-policy.json',
    group: 'policy',
    id: 'policy-cross-account',
    lintCodes: ['cross-account'],
    needs: ['policy'],
    reason: 'The key policy allows principals of an account that is neither the key\'s nor listed in --trusted-accounts.',
    remedy: 'Remove the statement, or add the account to --trusted-accounts if the access is intended.',
    severity: 'medium',
    title: 'Cross-account access',
  }),
  d({
    command: 'kmsctl policy put {key} --file fixed-policy.json',
    group: 'policy',
    id: 'policy-admin-to-non-admin',
    lintCodes: ['kms-star-non-root'],
    needs: ['policy'],
    reason: 'The key policy gives kms:* (or key administration: PutKeyPolicy, ScheduleKeyDeletion, DisableKey, ...) to a principal that is not an administrator (the key account\'s root or one of --admin-principals).',
    remedy: 'Give that principal only the actions it needs, or add it to --admin-principals if it really administers keys.',
    severity: 'high',
    title: 'Administration granted to a non-administrator',
  }),
  d({
    command: 'kmsctl policy put {key} --file fixed-policy.json',
    group: 'policy',
    id: 'policy-separation-of-duties',
    lintCodes: ['separation-of-duties'],
    needs: ['policy'],
    reason: 'The same principal can both administer the key and use it: one compromised identity can read the data and cover its tracks.',
    remedy: 'Give administrators and users separate principals.',
    severity: 'medium',
    title: 'No separation of duties',
  }),
  d({
    command: 'kmsctl policy put {key} --file fixed-policy.json',
    group: 'policy',
    id: 'policy-create-grant-unrestricted',
    lintCodes: ['create-grant-unrestricted'],
    needs: ['policy'],
    reason: 'The key policy allows kms:CreateGrant without "Bool": {"kms:GrantIsForAWSResource": "true"}: the principal can hand the key to anyone.',
    remedy: 'Add the kms:GrantIsForAWSResource condition so that only AWS services integrated with KMS create grants.',
    severity: 'medium',
    title: 'CreateGrant not limited to AWS services',
  }),
  d({
    command: 'kmsctl policy put {key} --file fixed-policy.json',
    group: 'policy',
    id: 'policy-deleted-principal',
    needs: ['policy'],
    reason: 'The key policy names a principal by its unique ID (AIDA..., AROA...): KMS shows a principal that way once it has been deleted, and refuses the policy (invalid principals) until it is removed.',
    remedy: 'Remove the principal from the policy (a new principal of the same name is not the same principal).',
    severity: 'medium',
    title: 'Policy names a deleted principal',
  }),
  d({
    command: 'kmsctl policy put {key} --file fixed-policy.json',
    group: 'policy',
    id: 'policy-no-admin',
    lintCodes: ['no-admin'],
    needs: ['policy'],
    reason: 'No statement lets the account root or a named principal change the key policy: nobody could ever change it again.',
    remedy: 'Give the account root (or an administrator role) kms:PutKeyPolicy while you still can.',
    severity: 'high',
    title: 'Nobody can administer the key',
  }),
  d({
    command: 'kmsctl policy lint {key}',
    group: 'policy',
    id: 'policy-malformed',
    lintCodes: ['invalid-json', 'invalid-structure', 'unknown-operator', 'missing-principal', 'too-large', 'invalid-characters', 'missing-action', 'missing-resource', 'resource-not-star'],
    needs: ['policy'],
    reason: 'The key policy has something KMS refuses today (a statement without Action or Resource, a Resource other than "*", ...): the next PutKeyPolicy of it will fail.',
    remedy: 'Fix the statement kmsctl policy lint points at, then put the policy back.',
    severity: 'medium',
    title: 'Policy KMS would refuse',
  }),
  d({
    command: 'kmsctl policy lint {key}',
    group: 'policy',
    id: 'policy-context-never-matches',
    lintCodes: ['context-never-matches'],
    needs: ['policy'],
    reason: 'An encryption-context condition can never be satisfied: the statement silently allows nothing.',
    remedy: 'Fix the condition kmsctl policy lint points at.',
    severity: 'low',
    title: 'Encryption-context condition never matches',
  }),
  d({
    command: 'kmsctl policy lint {key}',
    group: 'policy',
    id: 'policy-unknown-action',
    lintCodes: ['unknown-action'],
    needs: ['policy'],
    reason: 'The key policy names an action that matches no KMS action (a typo allows nothing).',
    remedy: 'Correct the action name.',
    severity: 'low',
    title: 'Unknown action in the policy',
  }),
  d({
    command: 'kmsctl policy lint {key}',
    group: 'policy',
    id: 'policy-lint',
    needs: ['policy'],
    reason: 'Any other finding of kmsctl policy lint.',
    remedy: 'See kmsctl policy lint.',
    severity: 'low',
    title: 'Other policy lint finding',
  }),
  // grants
  d({
    command: 'kmsctl grant revoke {key} {grant}',
    group: 'grants',
    id: 'grant-cross-account',
    needs: ['grants'],
    reason: 'A grant gives the key to a principal of an account that is neither the key\'s nor listed in --trusted-accounts.',
    remedy: 'Revoke the grant if the access is not intended, or add the account to --trusted-accounts.',
    severity: 'medium',
    title: 'Grant to another account',
  }),
  d({
    command: 'kmsctl grant revoke {key} {grant}',
    group: 'grants',
    id: 'grant-deleted-principal',
    needs: ['grants'],
    reason: 'A grant\'s grantee is a unique ID (AIDA..., AROA...) rather than an ARN: the principal it was made for no longer exists.',
    remedy: 'Revoke the grant: nobody can use it, and it counts against the 50,000 grants per key.',
    severity: 'low',
    title: 'Grant to a deleted principal',
  }),
  d({
    command: 'kmsctl grant list {key}',
    group: 'grants',
    id: 'grants-near-quota',
    needs: ['grants'],
    reason: 'The key has nearly 50,000 grants, the per-key quota: the next CreateGrant calls will fail with LimitExceededException.',
    remedy: 'Retire or revoke the grants no longer needed (often leaked grants of a service that never retires them).',
    severity: 'medium',
    title: 'Grants near the per-key quota',
  }),
  // hygiene
  d({
    command: 'kmsctl alias create alias/NAME {key}',
    group: 'hygiene',
    id: 'no-alias',
    needs: [],
    reason: 'The key has no alias: people and code can only refer to it by an opaque ID.',
    remedy: 'Give it an alias that says what it protects.',
    severity: 'low',
    title: 'No alias',
  }),
  d({
    group: 'hygiene',
    id: 'no-description',
    needs: [],
    reason: 'The key has no description: nobody can tell what it protects before disabling or deleting it.',
    remedy: 'Describe it: aws kms update-key-description --key-id {key} --description "..." (kmsctl has no command for this yet).',
    severity: 'low',
    title: 'No description',
  }),
  d({
    group: 'hygiene',
    id: 'missing-tag',
    needs: ['tags'],
    reason: 'The key lacks a tag required by --require-tags (owner by default): nobody knows whom to ask about it.',
    remedy: 'Tag it: aws kms tag-resource --key-id {key} --tags TagKey={subject},TagValue=VALUE (kmsctl has no command for this yet).',
    severity: 'low',
    title: 'Required tag missing',
  }),
  d({
    command: 'kmsctl alias update {alias} NEW_KEY',
    group: 'hygiene',
    id: 'alias-to-unusable-key',
    needs: [],
    reason: 'An alias points at a key that is disabled or pending deletion: every call through the alias fails.',
    remedy: 'Point the alias at a usable key, enable the key, or delete the alias.',
    severity: 'medium',
    title: 'Alias points at an unusable key',
  }),
]

const BY_ID = new Map(CHECKS.map((c) => [c.id, c]))

export function checkById(id: string): CheckDefinition {
  const c = BY_ID.get(id)
  if (!c) throw new Error(`Unknown audit check ${id}`)
  return c
}

/** The check that reports a `policy lint` finding code (policy-lint for codes no check names). */
export function checkForLintCode(code: string): CheckDefinition {
  return CHECKS.find((c) => c.lintCodes?.includes(code)) ?? checkById('policy-lint')
}

/** Validates check IDs given to a flag: an unknown one is a usage error with the closest IDs. */
export function validateCheckIds(ids: readonly string[], flag: string): string[] {
  for (const id of ids) {
    if (BY_ID.has(id)) continue
    const near = closest(id, CHECKS.map((c) => c.id))
    throw usageError(
      `${flag} "${id}" is not an audit check.`,
      near.length > 0 ? `Try this: did you mean ${near.join(' or ')}? (kmsctl audit checks lists them)` : 'Try this: kmsctl audit checks lists the check IDs',
    )
  }

  return [...new Set(ids)]
}

/** The checks to run: --only (default all), minus --skip. */
export function selectChecks(only: readonly string[], skip: readonly string[]): CheckDefinition[] {
  const o = validateCheckIds(only, '--only')
  const s = new Set(validateCheckIds(skip, '--skip'))
  return CHECKS.filter((c) => (o.length === 0 || o.includes(c.id)) && !s.has(c.id))
}

/** Fills a remedy template for one key (and alias or grant, where the template names them). */
export function fillTemplate(text: string, values: {key: string; alias?: string; grant?: string; subject?: string}): string {
  return text.replaceAll('{key}', values.key).replaceAll('{subject}', values.subject ?? 'TAG').replaceAll('{alias}', values.alias ?? 'ALIAS').replaceAll('{grant}', values.grant ?? 'GRANT_ID')
}
