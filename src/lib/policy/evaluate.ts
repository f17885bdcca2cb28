// The key policy evaluator: one implementation for `policy simulate`, the lockout check of
// `policy put`, and the sandbox's enforcement.
//
// HOW TO CALL IT (the sandbox and the commands do the same):
//
//   import {parsePolicy} from '../lib/policy/model.js'
//   import {evaluate, finalDecision} from '../lib/policy/evaluate.js'
//
//   const {policy} = parsePolicy(keyPolicyText)            // parse once per policy version and keep it
//   const result = evaluate(policy!, {
//     principal: 'arn:aws:sts::111122223333:assumed-role/App/session-1', // user, role, session, root, account ID or service principal
//     action: 'kms:Decrypt',                                 // "Decrypt" alone means kms:Decrypt
//     keyArn: 'arn:aws:kms:us-east-1:111122223333:key/…',   // gives the key's account (or pass keyAccount)
//     context: {'kms:EncryptionContext:app': 'web', 'kms:ViaService': 's3.us-east-1.amazonaws.com'},
//   })
//   result.decision   // 'allow' | 'deny' | 'implicit-deny' | 'delegated-to-iam'
//   result.statements // the statements that decided it (the matching Denies, Allows, or root Allows)
//   result.reason     // one line for messages, e.g. AccessDeniedException text or `policy simulate`
//
//   // Combining with IAM (what the sandbox should do): `iamAllows` = does the caller's own IAM
//   // policy allow this action (the sandbox's --iam-allow list for that principal).
//   finalDecision(result, iamAllows)  // 'allow' | 'deny'
//   // Grants: an explicit Deny ('deny') wins over a grant; otherwise a matching grant allows even
//   // when finalDecision says 'deny' (grants need no IAM policy, even across accounts).
//
// Derived condition keys: unless the context already has them, aws:PrincipalArn (the role ARN for an
// assumed-role session), aws:PrincipalAccount, kms:CallerAccount, and kms:EncryptionContextKeys (from
// the kms:EncryptionContext:* keys) are filled in from the principal and the context.
//
// Decisions, in KMS's order: default deny; any matching Deny wins ('deny'); else a matching Allow
// naming the caller (or "*", or its role) allows ('allow'); else a matching Allow naming the
// caller's account root means "IAM policies decide" ('delegated-to-iam', never reported as allowed);
// else 'implicit-deny'. `crossAccount` is true when the caller is not in the key's account: then a
// key policy 'allow' is needed AND the caller's IAM policy in its own account must allow too.
import {globMatch} from '../glob.js'
import {type ConditionResult, PreparedContext, type RequestContext, evaluateCondition} from './conditions.js'
import {type Effect, type Policy, type Statement, arnAccount, statementLabel} from './model.js'
import {type Caller, describeCaller, identityChain, matchPrincipalValue} from './principal.js'

export type Decision = 'allow' | 'delegated-to-iam' | 'deny' | 'implicit-deny'

export interface EvaluationRequest {
  /** The caller: IAM user/role ARN, assumed-role session ARN, root ARN, account ID or service principal. */
  principal: string
  /** "kms:Decrypt" (a bare "Decrypt" means the kms: action). */
  action: string
  /** The key's ARN: the Resource matched, and the key's account when keyAccount is not given. */
  keyArn?: string
  /** The account that owns the key. */
  keyAccount?: string
  /** Condition keys of the request. */
  context?: RequestContext
}

export interface StatementTrace {
  index: number
  sid?: string
  effect: Effect
  /** 'direct': names the caller (or *); 'account': through the caller's account root; 'excluded': by NotPrincipal. */
  principal: 'account' | 'direct' | 'excluded' | 'none'
  action: boolean
  resource: boolean
  conditions: ConditionResult[]
  conditionsMatched: boolean
  /** Principal, action, resource and every condition match. */
  applies: boolean
}

export interface Evaluation {
  decision: Decision
  /** The statements that decided (empty for an implicit deny). */
  statements: StatementTrace[]
  /** Every statement, in document order. */
  trace: StatementTrace[]
  /** The caller is not in the key's account (see above). */
  crossAccount: boolean
  /** One line saying why. */
  reason: string
  /** The condition keys used, including the derived ones. */
  context: RequestContext
  caller: Caller
  action: string
}

export function normaliseAction(action: string): string {
  const a = action.trim()
  return a.includes(':') ? a : `kms:${a}`
}

/** The request context with aws:PrincipalArn, aws:PrincipalAccount, kms:CallerAccount, kms:EncryptionContextKeys filled in. */
export function effectiveContext(caller: Caller, context: RequestContext = {}): RequestContext {
  const out: RequestContext = {...context}
  const present = new Set(Object.keys(context).filter((k) => context[k] !== undefined).map((k) => k.toLowerCase()))
  const setDefault = (key: string, value: RequestContext[string]) => {
    if (value !== undefined && !present.has(key.toLowerCase())) out[key] = value
  }

  if (caller.kind !== 'service' && caller.kind !== 'anonymous') {
    setDefault('aws:PrincipalArn', caller.kind === 'assumed-role' ? caller.roleArn : caller.arn)
    setDefault('aws:PrincipalAccount', caller.account)
    setDefault('kms:CallerAccount', caller.account)
  }

  const ecPrefix = 'kms:encryptioncontext:'
  const ecKeys = Object.keys(context)
    .filter((k) => k.toLowerCase().startsWith(ecPrefix) && context[k] !== undefined)
    .map((k) => k.slice(ecPrefix.length))
  if (ecKeys.length > 0) setDefault('kms:EncryptionContextKeys', ecKeys)
  return out
}

export function traceStatement(st: Statement, caller: Caller, action: string, keyArn: string | undefined, context: PreparedContext | RequestContext): StatementTrace {
  let principal: StatementTrace['principal'] = 'none'
  if (st.principal) {
    if (st.principal.not) {
      const chain = identityChain(caller)
      const excluded = chain.every((test) => st.principal!.values.some((v) => test(v)))
      principal = excluded ? 'excluded' : 'direct'
    } else {
      for (const v of st.principal.values) {
        const m = matchPrincipalValue(v, caller)
        if (m === 'direct') {
          principal = 'direct'
          break
        }

        if (m === 'account') principal = 'account'
      }
    }
  }

  let actionMatch = false
  if (st.action) {
    const any = st.action.values.some((p) => globMatch(p, action, true))
    actionMatch = st.action.not ? !any : any
  }

  let resource = true
  if (st.resource && keyArn) {
    const any = st.resource.values.some((p) => globMatch(p, keyArn))
    resource = st.resource.not ? !any : any
  }

  const conditions = st.conditions.map((c) => evaluateCondition(c, context))
  const conditionsMatched = conditions.every((c) => c.matched)
  const applies = (principal === 'direct' || principal === 'account') && actionMatch && resource && conditionsMatched
  return {action: actionMatch, applies, conditions, conditionsMatched, effect: st.effect, index: st.index, principal, resource, sid: st.sid}
}

export function evaluate(policy: Policy, request: EvaluationRequest): Evaluation {
  const caller = describeCaller(request.principal)
  const action = normaliseAction(request.action)
  const context = effectiveContext(caller, request.context)
  const keyAccount = request.keyAccount ?? (request.keyArn ? arnAccount(request.keyArn) : undefined)
  const crossAccount = Boolean(keyAccount && caller.account && caller.account !== keyAccount) || caller.kind === 'anonymous'
  const prepared = new PreparedContext(context)
  const trace = policy.statements.map((st) => traceStatement(st, caller, action, request.keyArn, prepared))
  const applying = trace.filter((t) => t.applies)
  const base = {action, caller, context, crossAccount, trace}
  const label = (ts: StatementTrace[]) => ts.map((t) => statementLabel(t)).join(', ')

  const denies = applying.filter((t) => t.effect === 'Deny')
  if (denies.length > 0) {
    return {...base, decision: 'deny', reason: `${action} is explicitly denied by ${label(denies)}.`, statements: denies}
  }

  const allows = applying.filter((t) => t.effect === 'Allow' && t.principal === 'direct')
  if (allows.length > 0) {
    const also = crossAccount ? ' (the caller is in another account: its own IAM policy must allow it too)' : ''
    return {...base, decision: 'allow', reason: `${action} is allowed by ${label(allows)}${also}.`, statements: allows}
  }

  const delegated = applying.filter((t) => t.effect === 'Allow' && t.principal === 'account')
  if (delegated.length > 0) {
    return {
      ...base,
      decision: 'delegated-to-iam',
      reason: `${label(delegated)} names the account root for ${action}: the caller's IAM policies decide.`,
      statements: delegated,
    }
  }

  return {...base, decision: 'implicit-deny', reason: `No statement allows ${action} for ${caller.arn} (default deny).`, statements: []}
}

/**
 * The key policy's answer combined with the caller's IAM policy (iamAllows: does the caller's own
 * IAM policy allow the action). Grants are not part of this: see the top of this file.
 */
export function finalDecision(evaluation: Pick<Evaluation, 'crossAccount' | 'decision'>, iamAllows: boolean): 'allow' | 'deny' {
  switch (evaluation.decision) {
    case 'deny':
    case 'implicit-deny': {
      return 'deny'
    }

    case 'delegated-to-iam': {
      return iamAllows ? 'allow' : 'deny'
    }

    case 'allow': {
      return !evaluation.crossAccount || iamAllows ? 'allow' : 'deny'
    }
  }
}
