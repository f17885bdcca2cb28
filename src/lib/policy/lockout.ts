// The lockout check, done before KMS does it: would the new policy still let the caller call
// kms:PutKeyPolicy? KMS refuses such a policy with "The new key policy will not allow you to update
// the key policy in the future" unless BypassPolicyLockoutSafetyCheck is set; kmsctl refuses it
// first and says which statement took the caller's access away.
//
// The caller is matched as KMS does (an assumed-role session as its role). A decision delegated to
// IAM through the account root passes, with a note: the caller's IAM policy must then allow
// kms:PutKeyPolicy, which kmsctl cannot see.
import type {RequestContext} from './conditions.js'
import {type Evaluation, evaluate} from './evaluate.js'
import {type Policy, statementLabel} from './model.js'

export interface LockoutInput {
  /** The caller's ARN (STS GetCallerIdentity). */
  callerArn: string
  keyArn?: string
  keyAccount?: string
  /** The policy in place now, to say which statement was removed. */
  current?: Policy
  /** Condition keys the caller's requests carry (aws:SourceIp, aws:MultiFactorAuthPresent, ...), when known. */
  context?: RequestContext
}

export interface LockoutCheck {
  ok: boolean
  evaluation: Evaluation
  /** One line: why it passes or why it is refused. */
  message: string
  /** A caveat when it passes only through IAM delegation or across accounts. */
  note?: string
  /** Condition keys the decision needed but the request context did not have. */
  missingKeys: string[]
}

export const LOCKOUT_ACTION = 'kms:PutKeyPolicy'

export function checkLockout(next: Policy, input: LockoutInput): LockoutCheck {
  const request = {action: LOCKOUT_ACTION, context: input.context, keyAccount: input.keyAccount, keyArn: input.keyArn, principal: input.callerArn}
  const evaluation = evaluate(next, request)
  // Keys absent from the request that a failing condition of an Allow for the caller looked at.
  const missingKeys = [
    ...new Set(
      evaluation.trace
        .filter((t) => t.effect === 'Allow' && (t.principal === 'direct' || t.principal === 'account') && t.action && !t.conditionsMatched)
        .flatMap((t) => t.conditions.filter((c) => !c.matched && c.requestValues === undefined).map((c) => c.key)),
    ),
  ]
  const who = input.callerArn
  if (evaluation.decision === 'allow') {
    const names = evaluation.statements.map((s) => statementLabel(s)).join(', ')
    return {
      evaluation,
      message: `The new policy still lets ${who} call kms:PutKeyPolicy (${names}).`,
      note: evaluation.crossAccount ? 'You are in another account than the key: your own IAM policy must allow kms:PutKeyPolicy too.' : undefined,
      missingKeys,
      ok: true,
    }
  }

  if (evaluation.decision === 'delegated-to-iam') {
    const names = evaluation.statements.map((s) => statementLabel(s)).join(', ')
    return {
      evaluation,
      message: `The new policy delegates kms:PutKeyPolicy to IAM through the account root (${names}).`,
      missingKeys,
      note: `Your IAM policy must allow kms:PutKeyPolicy on this key for you to change the policy again; kmsctl cannot check IAM policies.`,
      ok: true,
    }
  }

  let why: string
  if (evaluation.decision === 'deny') {
    why = `${evaluation.statements.map((s) => statementLabel(s)).join(', ')} denies it`
  } else if (input.current) {
    const before = evaluate(input.current, request)
    const granted = before.decision === 'allow' || before.decision === 'delegated-to-iam' ? before.statements : []
    const parts: string[] = []
    for (const g of granted) {
      const now = g.sid === undefined ? undefined : evaluation.trace.find((t) => t.sid === g.sid)
      if (!now) {
        parts.push(`${statementLabel(g)}, which allowed it, is removed`)
        continue
      }

      const failing = now.principal === 'none' || now.principal === 'excluded'
        ? 'no longer names you'
        : now.action
          ? now.conditionsMatched
            ? 'no longer matches'
            : `has a condition you do not meet (${now.conditions.find((c) => !c.matched)?.reason})`
          : 'no longer includes kms:PutKeyPolicy'
      parts.push(`${statementLabel(g)} ${failing}`)
    }

    why = parts.length > 0 ? parts.join('; ') : 'no statement allows it'
  } else {
    why = 'no statement allows it'
  }

  return {
    evaluation,
    message: `The new policy would lock you out: ${who} could no longer call kms:PutKeyPolicy (${why}).`,
    missingKeys,
    ok: false,
  }
}
