// Key policies: the default policy and the AWS-managed key policy as KMS writes them, the checks of a
// new policy (MalformedPolicyDocumentException), and GetKeyPolicy, PutKeyPolicy and ListKeyPolicies.
import {SANDBOX_ACCOUNT} from '../constants.js'
import {err} from '../errors.js'
import {type OpContext, checkLockoutFor} from './context.js'
import {bool, page, str} from './input.js'
import {keyFrom, requireCustomerManaged} from './key-record.js'
import {type Operation, type OperationSpec, keyResponse, spec} from './operation.js'

export const POLICY_MAX_BYTES = 32_768

/** The default key policy, byte for byte as KMS writes it (2-space indent, " : " separators). */
export function defaultKeyPolicy(account: string): string {
  return `{
  "Version" : "2012-10-17",
  "Id" : "key-default-1",
  "Statement" : [ {
    "Sid" : "Enable IAM User Permissions",
    "Effect" : "Allow",
    "Principal" : {
      "AWS" : "arn:aws:iam::${account}:root"
    },
    "Action" : "kms:*",
    "Resource" : "*"
  } ]
}`
}

/** The policy of an AWS-managed key (alias/aws/<service>): use through the service only, read by anyone in the account. */
export function awsManagedKeyPolicy(account: string, region: string, service: string): string {
  return `{
  "Version" : "2012-10-17",
  "Id" : "auto-${service}-2",
  "Statement" : [ {
    "Sid" : "Allow access through ${service} for all principals in the account that are authorized to use ${service}",
    "Effect" : "Allow",
    "Principal" : {
      "AWS" : "*"
    },
    "Action" : [ "kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:CreateGrant", "kms:DescribeKey" ],
    "Resource" : "*",
    "Condition" : {
      "StringEquals" : {
        "kms:CallerAccount" : "${account}",
        "kms:ViaService" : "${service}.${region}.amazonaws.com"
      }
    }
  }, {
    "Sid" : "Allow direct access to key metadata to the account",
    "Effect" : "Allow",
    "Principal" : {
      "AWS" : "arn:aws:iam::${account}:root"
    },
    "Action" : [ "kms:Describe*", "kms:Get*", "kms:List*" ],
    "Resource" : "*"
  } ]
}`
}

const malformed = (message: string) => err('MalformedPolicyDocumentException', message)

interface Statement {
  Action?: unknown
  Condition?: unknown
  Effect?: unknown
  NotAction?: unknown
  NotPrincipal?: unknown
  NotResource?: unknown
  Principal?: unknown
  Resource?: unknown
  Sid?: unknown
}

const IAM_PRINCIPAL = /^arn:aws[a-z-]*:(iam|sts)::\d{12}:(root|user\/[\w+=,.@/-]+|role\/[\w+=,.@/-]+|assumed-role\/[\w+=,.@-]+\/[\w+=,.@-]+|federated-user\/[\w+=,.@-]+)$/
const SERVICE_PRINCIPAL = /^[a-z0-9.-]+\.amazonaws\.com(\.cn)?$/

const asList = (v: unknown): unknown[] => (Array.isArray(v) ? v : v === undefined ? [] : [v])

/** Checks a policy document as KMS does before storing it; throws MalformedPolicyDocumentException. */
export function validatePolicyDocument(policy: string): Statement[] {
  if (Buffer.byteLength(policy, 'utf8') > POLICY_MAX_BYTES) {
    throw malformed(`The key policy exceeds the maximum size of ${POLICY_MAX_BYTES} bytes.`)
  }

  // eslint-disable-next-line no-control-regex
  if (/[^\u0009\u000A\u000D\u0020-\u00FF]/.test(policy)) throw malformed('The key policy contains characters that are not allowed (printable ASCII and Latin-1 only).')
  let doc: any
  try {
    doc = JSON.parse(policy)
  } catch {
    throw malformed('The policy document is not valid JSON.')
  }

  if (!doc || typeof doc !== 'object' || Array.isArray(doc)) throw malformed('The policy document must be a JSON object.')
  if (doc.Version !== undefined && doc.Version !== '2012-10-17' && doc.Version !== '2008-10-17') throw malformed(`The policy Version "${doc.Version}" is not supported.`)
  const statements = asList(doc.Statement) as Statement[]
  if (statements.length === 0) throw malformed('The policy must contain at least one Statement.')
  const sids = new Set<string>()
  for (const [i, s] of statements.entries()) {
    const where = `Statement ${typeof s?.Sid === 'string' && s.Sid ? `"${s.Sid}"` : `#${i + 1}`}`
    if (!s || typeof s !== 'object' || Array.isArray(s)) throw malformed(`${where} must be a JSON object.`)
    if (typeof s.Sid === 'string' && s.Sid) {
      if (sids.has(s.Sid)) throw malformed(`Duplicate Statement Sid "${s.Sid}".`)
      sids.add(s.Sid)
    }

    if (s.Effect !== 'Allow' && s.Effect !== 'Deny') throw malformed(`${where}: Effect must be "Allow" or "Deny".`)
    if (s.Action === undefined && s.NotAction === undefined) throw malformed(`${where} has no Action.`)
    for (const a of [...asList(s.Action), ...asList(s.NotAction)]) {
      if (typeof a !== 'string' || !(a === '*' || /^kms:[A-Za-z*?]+$/.test(a))) throw malformed(`${where}: "${String(a)}" is not a valid KMS action.`)
    }

    if (s.Resource === undefined && s.NotResource === undefined) throw malformed(`${where} has no Resource.`)
    if (s.NotResource !== undefined || asList(s.Resource).some((r) => r !== '*')) throw malformed(`${where}: the only Resource allowed in a key policy is "*".`)
    if (s.Principal === undefined && s.NotPrincipal === undefined) throw malformed(`${where} has no Principal.`)
    validatePrincipal(s.Principal ?? s.NotPrincipal, where)
    if (s.Condition !== undefined && (typeof s.Condition !== 'object' || s.Condition === null || Array.isArray(s.Condition))) {
      throw malformed(`${where}: Condition must be a JSON object.`)
    }
  }

  return statements
}

function validatePrincipal(principal: unknown, where: string): void {
  if (principal === '*') return
  if (!principal || typeof principal !== 'object' || Array.isArray(principal)) throw malformed(`${where} has an invalid Principal.`)
  const entries = Object.entries(principal as Record<string, unknown>)
  if (entries.length === 0) throw malformed(`${where} has an empty Principal.`)
  for (const [type, value] of entries) {
    const values = asList(value)
    if (values.length === 0) throw malformed(`${where} has an empty Principal ${type}.`)
    for (const v of values) {
      if (typeof v !== 'string') throw malformed(`${where} has an invalid Principal ${type}.`)
      if (type === 'AWS') {
        if (v === '*' || /^\d{12}$/.test(v) || IAM_PRINCIPAL.test(v)) continue
        throw malformed(`Policy contains a statement with one or more invalid principals.`)
      } else if (type === 'Service') {
        if (!SERVICE_PRINCIPAL.test(v)) throw malformed(`Policy contains a statement with one or more invalid principals.`)
      } else if (type === 'Federated' || type === 'CanonicalUser') {
        if (!v) throw malformed(`Policy contains a statement with one or more invalid principals.`)
      } else {
        throw malformed(`${where} has an unknown Principal type "${type}".`)
      }
    }
  }
}

function wildcardMatch(pattern: string, value: string): boolean {
  const re = new RegExp('^' + pattern.replaceAll(/[.+^${}()|[\]\\]/g, '\\$&').replaceAll('*', '.*').replaceAll('?', '.') + '$', 'i')
  return re.test(value)
}

function actionMatches(s: Statement, action: string): boolean {
  if (s.NotAction !== undefined) return !asList(s.NotAction).some((a) => wildcardMatch(String(a), action))
  return asList(s.Action).some((a) => wildcardMatch(String(a), action))
}

function principalMatches(s: Statement, callerArn: string, account: string): boolean {
  const matchOne = (p: unknown): boolean => {
    if (p === '*') return true
    const aws = asList((p as {AWS?: unknown})?.AWS)
    return aws.some((v) => v === '*' || v === callerArn || v === account || v === `arn:aws:iam::${account}:root`)
  }

  if (s.NotPrincipal !== undefined) return !matchOne(s.NotPrincipal)
  return matchOne(s.Principal)
}

/**
 * The lockout safety check: the new policy must let the caller call kms:PutKeyPolicy again.
 * An Allow for the caller, the caller's account (root delegation to IAM) or "*" passes; an unconditional
 * Deny for the caller fails.
 */
export function checkLockout(statements: Statement[], callerArn: string, account: string): void {
  let allowed = false
  for (const s of statements) {
    if (!actionMatches(s, 'kms:PutKeyPolicy') || !principalMatches(s, callerArn, account)) continue
    if (s.Effect === 'Deny' && s.Condition === undefined) {
      allowed = false
      break
    }

    if (s.Effect === 'Allow') allowed = true
  }

  if (!allowed) throw malformed('The new key policy will not allow you to update the key policy in the future.')
}

/** Validates a new key policy and, unless bypassed, checks that it does not lock the caller out. */
export function checkPolicy(ctx: OpContext, policy: string, bypass: boolean | undefined, keyArn?: string): void {
  const statements = validatePolicyDocument(policy)
  if (bypass) return
  checkLockoutFor(ctx, policy, keyArn, SANDBOX_ACCOUNT)
}

const GetKeyPolicy: Operation = (input, ctx) => {
  const key = keyFrom(ctx, input)
  const name = str(input, 'PolicyName', {max: 128, pattern: /^[\w]+$/}) ?? 'default'
  if (name !== 'default') throw err('NotFoundException', `No such policy exists: ${name}`)
  return {Policy: key.policy, PolicyName: 'default'}
}

const PutKeyPolicy: Operation = (input, ctx) => {
  const key = keyFrom(ctx, input)
  const name = str(input, 'PolicyName', {max: 128, pattern: /^[\w]+$/}) ?? 'default'
  const policy = str(input, 'Policy', {max: 131_072, required: true})!
  const bypass = bool(input, 'BypassPolicyLockoutSafetyCheck')
  if (name !== 'default') throw err('NotFoundException', `No such policy exists: ${name}`)
  requireCustomerManaged(ctx, key)
  checkPolicy(ctx, policy, bypass, key.arn)
  key.policy = policy
  return keyResponse(ctx, key)
}

const ListKeyPolicies: Operation = (input, ctx) => {
  keyFrom(ctx, input)
  const p = page(['default'], input, 1000, 100)
  return {PolicyNames: p.items, ...(p.NextMarker ? {NextMarker: p.NextMarker} : {}), Truncated: p.Truncated}
}

/** The policy operations, by name. */
export const POLICY_OPERATIONS: Record<string, OperationSpec> = {
  GetKeyPolicy: spec(GetKeyPolicy, false),
  ListKeyPolicies: spec(ListKeyPolicies, false),
  PutKeyPolicy: spec(PutKeyPolicy, true),
}
