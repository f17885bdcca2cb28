// Key policy checks. Every `policy lint` finding becomes an audit finding of the check that names
// its lint code (registry.ts). Two lint rules are re-judged with the audit's options instead:
// cross-account (accounts in --trusted-accounts are fine) and kms-star-non-root (principals in
// --admin-principals may administer); deleted principals are the audit's own.
import {ADMIN_ACTIONS} from '../../policy/actions.js'
import {globMatch} from '../../glob.js'
import {type LintResult, lintPolicyText} from '../../policy/lint.js'
import {type Statement, statementLabel} from '../../policy/model.js'
import {checkForLintCode} from '../registry.js'
import type {KeyFacts, RawFinding} from '../types.js'
import {type CheckFn, UNIQUE_ID, missing, principalAccount} from './check.js'

/** Lint codes the audit judges itself, with its options. */
const REJUDGED = new Set(['cross-account', 'kms-star-non-root'])

const lintCache = new WeakMap<KeyFacts, LintResult>()

function lintOf(k: KeyFacts): LintResult {
  let r = lintCache.get(k)
  if (!r) {
    r = lintPolicyText(k.policyText ?? '', {keyAccount: k.account})
    lintCache.set(k, r)
  }

  return r
}

function allows(st: Statement): boolean {
  return st.effect === 'Allow' && Boolean(st.principal) && Boolean(st.action)
}

function matchesAction(st: Statement, action: string): boolean {
  const any = st.action!.values.some((p) => globMatch(p, action, true))
  return st.action!.not ? !any : any
}

/** Lint calls a unique ID an invalid principal; in a stored policy it is a deleted one (policy-deleted-principal). */
function deletedPrincipalLint(f: {code: string; message: string}): boolean {
  return f.code === 'invalid-principal' && /\bA(?:IDA|ROA|GPA)[A-Z0-9]{12,}\b/.test(f.message)
}

/** The lint findings a check reports. */
function fromLint(checkId: string): CheckFn {
  return (k) => {
    const why = missing(k, 'GetKeyPolicy', k.policyText)
    if (why) return why
    return lintOf(k)
      .findings.filter((f) => !REJUDGED.has(f.code) && !deletedPrincipalLint(f) && checkForLintCode(f.code).id === checkId)
      .map(
        (f): RawFinding => ({
          check: checkId,
          evidence: {lintCode: f.code, lintSeverity: f.severity, sid: f.sid, statement: f.statement},
          message: f.message,
          subject: `${f.code}:${f.sid ?? f.statement ?? ''}:${f.message}`,
        }),
      )
  }
}

const crossAccount: CheckFn = (k, o) => {
  const why = missing(k, 'GetKeyPolicy', k.policyText)
  if (why) return why
  const policy = lintOf(k).policy
  if (!policy) return []
  const trusted = new Set([k.account, ...o.trustedAccounts])
  const out: RawFinding[] = []
  for (const st of policy.statements.filter(allows)) {
    if (st.principal!.not) continue
    for (const v of st.principal!.values) {
      const account = v.type === 'AWS' ? principalAccount(v.value) : undefined
      if (!account || trusted.has(account)) continue
      out.push({
        check: 'policy-cross-account',
        evidence: {account, principal: v.value, sid: st.sid, statement: st.index},
        message: `${cap(statementLabel(st))} allows ${v.value} of account ${account} (${actionsText(st)}); the key is in ${k.account}.`,
        subject: v.value,
      })
    }
  }

  return out
}

const adminToNonAdmin: CheckFn = (k, o) => {
  const why = missing(k, 'GetKeyPolicy', k.policyText)
  if (why) return why
  const policy = lintOf(k).policy
  if (!policy) return []
  const admins = new Set([`arn:aws:iam::${k.account}:root`, ...o.adminPrincipals])
  const out: RawFinding[] = []
  for (const st of policy.statements.filter(allows)) {
    const all = st.action!.not || st.action!.values.some((a) => a === '*' || a.toLowerCase() === 'kms:*')
    const admin = all ? [] : ADMIN_ACTIONS.filter((a) => matchesAction(st, a))
    if (!all && admin.length === 0) continue
    const what = all ? (st.action!.not ? 'every action but ' + st.action!.values.join(', ') : 'kms:*') : admin.join(', ')
    const principals = st.principal!.not ? ['everyone but ' + st.principal!.values.map((v) => v.value).join(', ')] : st.principal!.values.filter((v) => !admins.has(v.value)).map((v) => (v.type === 'AWS' ? v.value : `${v.type}:${v.value}`))
    for (const p of principals) {
      // Another account's root is that account's administrators: still not ours.
      out.push({
        check: 'policy-admin-to-non-admin',
        evidence: {actions: all ? ['kms:*'] : admin, principal: p, sid: st.sid, statement: st.index},
        message: `${cap(statementLabel(st))} allows ${what} to ${p}, which is not an administrator (the account root${o.adminPrincipals.length > 0 ? ' or --admin-principals' : ''}).`,
        subject: p,
      })
    }
  }

  return out
}

const deletedPrincipal: CheckFn = (k) => {
  const why = missing(k, 'GetKeyPolicy', k.policyText)
  if (why) return why
  const policy = lintOf(k).policy
  if (!policy) return []
  const out: RawFinding[] = []
  for (const st of policy.statements) {
    for (const v of st.principal?.values ?? []) {
      if (v.type !== 'AWS' || !UNIQUE_ID.test(v.value)) continue
      out.push({
        check: 'policy-deleted-principal',
        evidence: {principalId: v.value, sid: st.sid, statement: st.index},
        message: `${cap(statementLabel(st))} (${st.effect}) names ${v.value}, the unique ID KMS shows for a principal that was deleted.`,
        subject: v.value,
      })
    }
  }

  return out
}

function actionsText(st: Statement): string {
  const a = st.action!
  const list = a.values.length > 3 ? `${a.values.slice(0, 3).join(', ')}, ...` : a.values.join(', ')
  return a.not ? `every action but ${list}` : list
}

function cap(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1)
}

export const policyChecks: Record<string, CheckFn> = {
  'policy-admin-to-non-admin': adminToNonAdmin,
  'policy-context-never-matches': fromLint('policy-context-never-matches'),
  'policy-create-grant-unrestricted': fromLint('policy-create-grant-unrestricted'),
  'policy-cross-account': crossAccount,
  'policy-deleted-principal': deletedPrincipal,
  'policy-lint': fromLint('policy-lint'),
  'policy-malformed': fromLint('policy-malformed'),
  'policy-no-admin': fromLint('policy-no-admin'),
  'policy-public': fromLint('policy-public'),
  'policy-separation-of-duties': fromLint('policy-separation-of-duties'),
  'policy-unknown-action': fromLint('policy-unknown-action'),
}

