// Lint rules for key policies. Each finding has a severity, a stable code and the statement it
// points at. Errors are what KMS refuses or what makes the key unmanageable; warnings are risky
// but accepted.
//
//   code                       severity  what
//   invalid-json               error     the text is not JSON
//   invalid-structure          error     not a policy: missing Statement, bad Effect, unknown element, ...
//   unknown-operator           error     a condition operator IAM does not define
//   missing-principal          error     a statement without Principal/NotPrincipal
//   too-large                  error     over 32,768 bytes
//   invalid-characters         error     characters KMS refuses (outside printable ASCII/Latin-1, tab, LF, CR)
//   missing-action             error     a statement without Action/NotAction
//   missing-resource           error     a statement without Resource
//   resource-not-star          error     a Resource other than "*"
//   invalid-principal          error     a principal that is no account, IAM/STS ARN or service name
//   invalid-action             error     an action that is not "*" or "service:Action"
//   duplicate-sid              error     two statements with the same Sid
//   no-statement               error     an empty Statement list
//   public-principal           error     Allow to Principal "*" with no condition restricting who calls
//   no-admin                   error     nobody (account root or a named principal) can call kms:PutKeyPolicy
//   kms-star-non-root          warning   kms:* (or NotAction) allowed to a principal other than the account root
//   separation-of-duties       warning   a principal can both administer and use the key
//   create-grant-unrestricted  warning   kms:CreateGrant without kms:GrantIsForAWSResource
//   cross-account              warning   a principal of another account
//   context-never-matches      warning   an encryption-context condition no request can satisfy
//   unknown-action             warning   an action that matches no KMS action
import {ADMIN_ACTIONS, ENCRYPTION_CONTEXT_ACTIONS, KMS_ACTIONS, USAGE_ACTIONS} from './actions.js'
import {globMatch} from '../glob.js'
import {matchOne} from './conditions.js'
import {evaluate} from './evaluate.js'
import {type Condition, type Policy, type PrincipalValue, type Problem, type Statement, arnAccount, isNegatedOperator, isRootArn, parseOperator, parsePolicy, statementLabel} from './model.js'

export type Finding = Problem

export interface LintOptions {
  /** The account that owns the key; inferred from the policy's account-root statements when absent. */
  keyAccount?: string
}

export interface LintResult {
  findings: Finding[]
  errors: number
  warnings: number
  policy?: Policy
  /** The key's account the rules used (given or inferred). */
  keyAccount?: string
}

/** Principal keys that restrict who can call, for the public-principal rule. */
const RESTRICTING_KEYS = new Set(
  [
    'kms:CallerAccount',
    'kms:ViaService',
    'aws:PrincipalAccount',
    'aws:PrincipalArn',
    'aws:PrincipalOrgID',
    'aws:PrincipalOrgPaths',
    'aws:PrincipalServiceName',
    'aws:SourceAccount',
    'aws:SourceArn',
    'aws:SourceIp',
    'aws:SourceOrgID',
    'aws:SourceVpc',
    'aws:SourceVpce',
    'aws:userid',
    'aws:username',
  ].map((k) => k.toLowerCase()),
)

/** The codes of the findings KMS itself refuses with MalformedPolicyDocumentException (the rest are advice). */
export const KMS_REFUSED_CODES: ReadonlySet<string> = new Set([
  'duplicate-sid',
  'invalid-action',
  'invalid-characters',
  'invalid-json',
  'invalid-principal',
  'invalid-structure',
  'missing-action',
  'missing-principal',
  'missing-resource',
  'no-statement',
  'resource-not-star',
  'too-large',
  'unknown-operator',
])

/** What KMS would refuse in this policy text, first problem first (empty when KMS accepts it). */
export function kmsRefusals(text: string): Finding[] {
  return lintPolicyText(text).findings.filter((f) => KMS_REFUSED_CODES.has(f.code))
}

const IAM_PRINCIPAL = /^arn:aws[a-z-]*:(iam|sts)::\d{12}:(root|user\/[\w+=,.@/-]+|role\/[\w+=,.@/-]+|assumed-role\/[\w+=,.@-]+\/[\w+=,.@-]+|federated-user\/[\w+=,.@-]+)$/
const SERVICE_PRINCIPAL = /^[a-z0-9.-]+\.amazonaws\.com(\.cn)?$/
const ACTION = /^(\*|[a-zA-Z0-9-]+:[A-Za-z0-9*?]+)$/

function validPrincipal(v: PrincipalValue): boolean {
  if (v.type === 'AWS') return v.value === '*' || IAM_PRINCIPAL.test(v.value)
  if (v.type === 'Service') return SERVICE_PRINCIPAL.test(v.value)
  return v.value.length > 0
}

export function lintPolicyText(text: string, options: LintOptions = {}): LintResult {
  const parsed = parsePolicy(text)
  const findings: Finding[] = [...parsed.problems]
  let keyAccount = options.keyAccount
  if (parsed.policy) {
    keyAccount ??= inferKeyAccount(parsed.policy)
    findings.push(...lintPolicy(parsed.policy, keyAccount))
  }

  return {
    errors: findings.filter((f) => f.severity === 'error').length,
    findings,
    keyAccount,
    policy: parsed.policy,
    warnings: findings.filter((f) => f.severity === 'warning').length,
  }
}

/** The one account whose root the policy allows kms:* or kms:PutKeyPolicy, if there is exactly one. */
export function inferKeyAccount(policy: Policy): string | undefined {
  const accounts = new Set<string>()
  for (const st of policy.statements) {
    if (st.effect !== 'Allow' || !st.principal || st.principal.not || !actionsMatch(st, 'kms:PutKeyPolicy')) continue
    for (const v of st.principal.values) if (v.type === 'AWS' && isRootArn(v.value)) accounts.add(arnAccount(v.value)!)
  }

  return accounts.size === 1 ? [...accounts][0] : undefined
}

export function lintPolicy(policy: Policy, keyAccount?: string): Finding[] {
  const out: Finding[] = []
  const at = (st: Statement, severity: Finding['severity'], code: string, message: string) =>
    out.push({code, message: `${capitalise(statementLabel(st))}: ${message}`, severity, sid: st.sid, statement: st.index})

  if (policy.statements.length === 0) out.push({code: 'no-statement', message: 'The policy has no statement; KMS rejects an empty Statement list.', severity: 'error'})
  const sids = new Set<string>()
  for (const st of policy.statements) {
    if (st.sid) {
      if (sids.has(st.sid)) at(st, 'error', 'duplicate-sid', `has the same Sid as an earlier statement; KMS rejects duplicate Sids.`)
      sids.add(st.sid)
    }

    for (const v of st.principal?.values ?? []) {
      if (!validPrincipal(v)) at(st, 'error', 'invalid-principal', `principal ${v.type === 'AWS' ? v.value : `${v.type}:${v.value}`} is not an account ID, an IAM or STS ARN, or a service name; KMS rejects it.`)
    }

    if (!st.action) at(st, 'error', 'missing-action', 'has no Action; KMS rejects statements without one.')
    if (st.resource) {
      const others = st.resource.not ? ['NotResource'] : st.resource.values.filter((r) => r !== '*')
      if (others.length > 0) at(st, 'error', 'resource-not-star', `Resource must be "*" in a key policy (the statement applies to this key), not ${others.map((r) => JSON.stringify(r)).join(', ')}.`)
    } else {
      at(st, 'error', 'missing-resource', 'has no Resource; KMS rejects statements without one (use "Resource": "*").')
    }

    if (st.action) {
      for (const a of st.action.values) {
        if (!ACTION.test(a)) at(st, 'error', 'invalid-action', `action ${JSON.stringify(a)} is not "*" or "service:Action"; KMS rejects it.`)
        else if (!KMS_ACTIONS.some((k) => globMatch(a, k, true))) at(st, 'warning', 'unknown-action', `action ${a} matches no KMS action.`)
      }
    }

    if (st.effect !== 'Allow' || !st.principal) continue
    const nonRoot = st.principal.not || st.principal.values.some((v) => !(v.type === 'AWS' && isRootArn(v.value)))
    const isPublic = !st.principal.not && st.principal.values.some((v) => v.value === '*')
    if (isPublic && !st.conditions.some((c) => restricts(c))) {
      at(st, 'error', 'public-principal', 'allows Principal "*" with no condition on who calls (kms:CallerAccount, aws:PrincipalOrgID, kms:ViaService, aws:SourceVpce, ...): anyone with an AWS account could use the key.')
    }

    if (nonRoot && st.action) {
      if (st.action.not) at(st, 'warning', 'kms-star-non-root', `NotAction allows every other KMS action to ${principalsText(st)}.`)
      else if (st.action.values.some((a) => a === '*' || a.toLowerCase() === 'kms:*')) at(st, 'warning', 'kms-star-non-root', `allows kms:* to ${principalsText(st)}; grant only the actions needed.`)
    }

    if (nonRoot && actionsMatch(st, 'kms:CreateGrant') && !st.conditions.some((c) => c.key.toLowerCase() === 'kms:grantisforawsresource' && parseOperator(c.operator)?.base === 'Bool' && c.values.includes('true'))) {
      at(st, 'warning', 'create-grant-unrestricted', `allows kms:CreateGrant to ${principalsText(st)} without "Bool": {"kms:GrantIsForAWSResource": "true"}: they can give the key to anyone.`)
    }

    if (keyAccount && !st.principal.not) {
      for (const v of st.principal.values) {
        const acct = v.type === 'AWS' ? arnAccount(v.value) : undefined
        if (acct && acct !== keyAccount) at(st, 'warning', 'cross-account', `allows ${v.value} of account ${acct}, not the key's account ${keyAccount}.`)
      }
    }
  }

  for (const st of policy.statements) out.push(...contextNeverMatches(st))
  out.push(...separationOfDuties(policy))
  const admin = noAdmin(policy, keyAccount)
  if (admin) out.push(admin)
  return out
}

function restricts(c: Condition): boolean {
  const op = parseOperator(c.operator)
  if (!op || op.ifExists || op.base === 'Null' || isNegatedOperator(op.base) || op.set === 'ForAllValues') return false
  if (c.values.some((v) => v === '*')) return false
  return RESTRICTING_KEYS.has(c.key.toLowerCase())
}

function actionsMatch(st: Statement, action: string): boolean {
  if (!st.action) return false
  const any = st.action.values.some((p) => globMatch(p, action, true))
  return st.action.not ? !any : any
}

function principalsText(st: Statement): string {
  const p = st.principal!
  return `${p.not ? 'everyone but ' : ''}${p.values.map((v) => (v.type === 'AWS' ? v.value : `${v.type}:${v.value}`)).join(', ')}`
}

/** Principals (named, not root, not "*") that some Allow lets administer the key and some Allow lets use it. */
function separationOfDuties(policy: Policy): Finding[] {
  const allows = policy.statements.filter((s) => s.effect === 'Allow' && s.principal && !s.principal.not && s.action)
  const names = new Set<string>()
  for (const st of allows) for (const v of st.principal!.values) if (v.type === 'AWS' && v.value !== '*' && !isRootArn(v.value)) names.add(v.value)
  const out: Finding[] = []
  for (const name of [...names].sort()) {
    const mine = allows.filter((s) => s.principal!.values.some((v) => v.type === 'AWS' && v.value === name))
    const admin = ADMIN_ACTIONS.filter((a) => mine.some((s) => actionsMatch(s, a)))
    const usage = USAGE_ACTIONS.filter((a) => mine.some((s) => actionsMatch(s, a)))
    if (admin.length > 0 && usage.length > 0) {
      const first = mine.find((s) => ADMIN_ACTIONS.some((a) => actionsMatch(s, a)))!
      out.push({
        code: 'separation-of-duties',
        message: `${name} can both administer the key (${admin.slice(0, 2).join(', ')}${admin.length > 2 ? ', ...' : ''}) and use it (${usage.slice(0, 2).join(', ')}${usage.length > 2 ? ', ...' : ''}); give administrators and users separate principals.`,
        severity: 'warning',
        sid: first.sid,
        statement: first.index,
      })
    }
  }

  return out
}

/** No Allow lets the key account's root or a named principal call kms:PutKeyPolicy (checked with the evaluator, so Denies count). */
function noAdmin(policy: Policy, keyAccount?: string): Finding | undefined {
  const candidates = new Set<string>()
  if (keyAccount) candidates.add(`arn:aws:iam::${keyAccount}:root`)
  for (const st of policy.statements) {
    if (st.effect !== 'Allow' || !st.principal || st.principal.not) continue
    for (const v of st.principal.values) if (v.type === 'AWS' && v.value !== '*' && v.value.startsWith('arn:')) candidates.add(v.value)
  }

  for (const principal of candidates) {
    // A root principal stands for a user of that account, whose IAM policy then decides.
    const asked = isRootArn(principal) ? principal.replace(/:root$/, ':user/administrator') : principal
    const r = evaluate(policy, {action: 'kms:PutKeyPolicy', keyAccount: keyAccount ?? arnAccount(principal), principal: asked})
    if (r.decision === 'allow' || r.decision === 'delegated-to-iam') return undefined
  }

  return {
    code: 'no-admin',
    message: `No statement lets the account root${keyAccount ? ` (${keyAccount})` : ''} or a named principal call kms:PutKeyPolicy: nobody could change this policy again.`,
    severity: 'error',
  }
}

const EC_PREFIX = 'kms:encryptioncontext:'

/** Encryption-context conditions that no request can satisfy. */
function contextNeverMatches(st: Statement): Finding[] {
  const out: Finding[] = []
  const at = (message: string) => out.push({code: 'context-never-matches', message: `${capitalise(statementLabel(st))}: ${message}`, severity: 'warning', sid: st.sid, statement: st.index})
  const ecConditions = st.conditions.filter((c) => c.key.toLowerCase().startsWith(EC_PREFIX) || c.key.toLowerCase() === 'kms:encryptioncontextkeys')
  if (ecConditions.length === 0) return out
  const required = (c: Condition) => {
    const op = parseOperator(c.operator)
    return Boolean(op && !op.ifExists && op.base !== 'Null' && !isNegatedOperator(op.base) && op.set !== 'ForAllValues')
  }

  for (const c of ecConditions) {
    if (c.key.toLowerCase() === EC_PREFIX) at(`condition ${c.operator} ${c.key} names no encryption context key.`)
  }

  if (st.action && !st.action.not && ecConditions.some((c) => required(c)) && !ENCRYPTION_CONTEXT_ACTIONS.some((a) => actionsMatch(st, a))) {
    at(`requires an encryption context, but none of its actions (${st.action.values.join(', ')}) takes one.`)
  }

  // Null "true" (the key must be absent) together with a condition that needs it present.
  for (const n of ecConditions.filter((c) => parseOperator(c.operator)?.base === 'Null' && c.values.every((v) => v.toLowerCase() === 'true'))) {
    const clash = ecConditions.find((c) => c !== n && required(c) && c.key.toLowerCase() === n.key.toLowerCase())
    if (clash) at(`${n.key} must be absent (Null) and present (${clash.operator}) at once.`)
  }

  // Two string conditions on the same context key whose values cannot both hold.
  const stringOps = new Set(['StringEquals', 'StringLike', 'StringEqualsIgnoreCase'])
  const byKey = new Map<string, Condition[]>()
  for (const c of ecConditions) {
    const op = parseOperator(c.operator)
    if (!op || op.set || op.ifExists || !stringOps.has(op.base) || !c.key.toLowerCase().startsWith(EC_PREFIX)) continue
    byKey.set(c.key.toLowerCase(), [...(byKey.get(c.key.toLowerCase()) ?? []), c])
  }

  for (const conds of byKey.values()) {
    const exact = conds.find((c) => parseOperator(c.operator)!.base === 'StringEquals')
    if (!exact || conds.length < 2) continue
    const others = conds.filter((c) => c !== exact)
    const possible = exact.values.filter((v) => others.every((o) => o.values.some((pv) => matchOne(parseOperator(o.operator)!.base, pv, v))))
    if (possible.length === 0) at(`${exact.key} cannot equal ${exact.values.join(' or ')} and also satisfy ${others.map((o) => `${o.operator} ${o.values.join(' or ')}`).join(', ')}.`)
  }

  // ForAllValues:StringEquals on kms:EncryptionContextKeys limits the keys; a required kms:EncryptionContext:K outside that list can never be present.
  for (const keys of ecConditions.filter((c) => c.key.toLowerCase() === 'kms:encryptioncontextkeys' && /^ForAllValues:StringEquals(IgnoreCase)?$/.test(c.operator))) {
    const allowed = new Set(keys.values.map((v) => v.toLowerCase()))
    for (const c of ecConditions) {
      if (!required(c) || !c.key.toLowerCase().startsWith(EC_PREFIX)) continue
      const name = c.key.slice(EC_PREFIX.length)
      if (name && !allowed.has(name.toLowerCase())) at(`${c.key} is required, but ${keys.operator} kms:EncryptionContextKeys allows only ${keys.values.join(', ')}.`)
    }
  }

  return out
}

function capitalise(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1)
}
