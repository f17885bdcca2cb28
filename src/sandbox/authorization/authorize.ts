// Authorization of each sandbox KMS request, in KMS's order, with the project's one policy evaluator
// (src/lib/policy/evaluate.ts):
//   1. an explicit Deny in the key policy that applies to the caller wins;
//   2. an Allow naming the caller allows (a caller in another account also needs its IAM allow list);
//   3. an Allow naming the caller's account root delegates to IAM: the caller's `iamAllow` list decides;
//   4. otherwise a grant on the key for the caller and the operation allows (its encryption context
//      constraints must hold);
//   5. otherwise the default deny.
// Operations on no key (CreateKey, ListKeys, ListAliases, ListRetirableGrants) are decided by the
// caller's IAM allow list alone. Denials are AccessDeniedException with AWS's message shape.
import {CONTEXT_CRYPTO_ACTIONS} from '../../lib/policy/actions.js'
import {type Evaluation, evaluate, finalDecision} from '../../lib/policy/evaluate.js'
import type {RequestContext as ConditionContext} from '../../lib/policy/conditions.js'
import {checkLockout} from '../../lib/policy/lockout.js'
import {type Policy, parsePolicy} from '../../lib/policy/model.js'
import {SandboxError} from '../errors.js'
import {parseBlobHeader} from '../kms/material.js'
import type {GrantRecord, KeyRecord, SandboxState} from '../store/state.js'
import {type ResolvedPrincipal, iamAllows} from '../identity/principals.js'

/** What a request brings besides its input: where it came from and when. */
export interface RequestFacts {
  nowMs: number
  region: string
  sourceIp: string
  /** The service the call came through (kms:ViaService), e.g. "s3.us-east-1.amazonaws.com". */
  viaService?: string
}

/** Operations that act on no key: IAM alone decides. */
export const IAM_ONLY_OPERATIONS = new Set(['CreateKey', 'ListAliases', 'ListKeys', 'ListRetirableGrants', 'GenerateRandom', 'CreateCustomKeyStore', 'DescribeCustomKeyStores'])

/** Operations whose grant constraints apply: the cryptographic operations that take an encryption context. */
const CONTEXT_OPERATIONS = new Set(CONTEXT_CRYPTO_ACTIONS.map((a) => a.replace(/^kms:/, '')))

const policyCache = new Map<string, Policy | undefined>()
/** Evaluations of policies without conditions depend on the caller and the action only: kept per policy. */
const unconditionalCache = new WeakMap<Policy, Map<string, Evaluation>>()

/** The parsed key policy (cached by text: policies change rarely, requests often). */
export function parsedPolicy(text: string): Policy | undefined {
  if (policyCache.has(text)) return policyCache.get(text)
  const {policy} = parsePolicy(text)
  if (policyCache.size >= 500) policyCache.clear()
  policyCache.set(text, policy)
  return policy
}

export const accessDenied = (message: string): SandboxError => new SandboxError('AccessDeniedException', message)

function deniedMessage(caller: ResolvedPrincipal, action: string, resource: string, why: 'explicit' | 'identity' | 'resource'): string {
  const head = `User: ${caller.principal.arn} is not authorized to perform: ${action} on resource: ${resource}`
  if (why === 'explicit') return `${head} with an explicit deny in a resource-based policy`
  return `${head} because no ${why === 'identity' ? 'identity' : 'resource'}-based policy allows the ${action} action`
}

/** IAM-only operations: the caller's IAM allow list. Root users are not governed by IAM policies. */
export function authorizeIamOnly(caller: ResolvedPrincipal, action: string): void {
  if (caller.principal.type === 'Root' || iamAllows(caller.iamAllow, action)) return
  throw accessDenied(deniedMessage(caller, action, '*', 'identity'))
}

function callerIamAllows(caller: ResolvedPrincipal, action: string): boolean {
  return caller.principal.type === 'Root' || iamAllows(caller.iamAllow, action)
}

function encryptionContextOf(operation: string, input: Record<string, any>): Record<string, string> | undefined {
  let member = 'EncryptionContext'
  if (operation === 'ReEncryptFrom') member = 'SourceEncryptionContext'
  if (operation === 'ReEncryptTo') member = 'DestinationEncryptionContext'
  if (operation === 'CreateGrant') {
    const c = input.Constraints
    return c?.EncryptionContextEquals ?? c?.EncryptionContextSubset
  }

  const v = input[member]
  return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, string>) : undefined
}

function aliasNameOf(ref: unknown): string | undefined {
  if (typeof ref !== 'string') return undefined
  if (ref.startsWith('alias/')) return ref
  const m = /^arn:aws[a-z-]*:kms:[^:]+:\d{12}:(alias\/.+)$/.exec(ref)
  return m?.[1]
}

/** The condition keys of a request on a key (global aws:* keys and the kms:* keys KMS documents). */
export function conditionContext(
  operation: string,
  input: Record<string, any>,
  key: KeyRecord | undefined,
  state: SandboxState | undefined,
  caller: ResolvedPrincipal,
  facts: RequestFacts,
): ConditionContext {
  const p = caller.principal
  const c: ConditionContext = {
    'aws:CurrentTime': new Date(facts.nowMs).toISOString(),
    'aws:EpochTime': String(Math.floor(facts.nowMs / 1000)),
    'aws:PrincipalType': p.type === 'IAMUser' ? 'User' : p.type === 'Root' ? 'Account' : 'AssumedRole',
    'aws:RequestedRegion': facts.region,
    // KMS is only reachable over TLS: policies written for it expect true, even when the sandbox is spoken to over HTTP.
    'aws:SecureTransport': 'true',
    'aws:SourceIp': facts.sourceIp,
    'aws:userid': p.principalId,
    'kms:GrantIsForAWSResource': facts.viaService ? 'true' : 'false',
  }
  if (p.type === 'IAMUser' && p.userName) c['aws:username'] = p.userName
  if (facts.viaService) c['kms:ViaService'] = facts.viaService
  const ec = encryptionContextOf(operation, input)
  if (ec) for (const [k, v] of Object.entries(ec)) c[`kms:EncryptionContext:${k}`] = String(v)
  if (key) {
    c['kms:KeySpec'] = key.keySpec
    c['kms:KeyUsage'] = key.keyUsage
    c['kms:KeyOrigin'] = key.origin
    c['kms:MultiRegion'] = String(key.multiRegion)
    if (key.multiRegionType) c['kms:MultiRegionKeyType'] = key.multiRegionType
    for (const t of key.tags) c[`aws:ResourceTag/${t.TagKey}`] = t.TagValue
    if (state) {
      const aliases = Object.values(state.aliases)
        .filter((a) => a.targetKeyArn === key.arn)
        .map((a) => a.name)
      if (aliases.length > 0) c['kms:ResourceAliases'] = aliases
    }
  }

  const requestAlias = aliasNameOf(operation === 'ReEncryptTo' ? input.DestinationKeyId : operation === 'ReEncryptFrom' ? input.SourceKeyId : input.KeyId)
  if (requestAlias) c['kms:RequestAlias'] = requestAlias
  const algorithm = operation === 'ReEncryptFrom' ? input.SourceEncryptionAlgorithm : operation === 'ReEncryptTo' ? input.DestinationEncryptionAlgorithm : input.EncryptionAlgorithm
  if (['Encrypt', 'Decrypt', 'ReEncryptFrom', 'ReEncryptTo'].includes(operation)) c['kms:EncryptionAlgorithm'] = typeof algorithm === 'string' ? algorithm : 'SYMMETRIC_DEFAULT'
  if (typeof input.SigningAlgorithm === 'string') c['kms:SigningAlgorithm'] = input.SigningAlgorithm
  if (typeof input.MessageType === 'string') c['kms:MessageType'] = input.MessageType
  if (typeof input.MacAlgorithm === 'string') c['kms:MacAlgorithm'] = input.MacAlgorithm
  if (operation === 'CreateGrant') {
    if (Array.isArray(input.Operations)) c['kms:GrantOperations'] = input.Operations.map(String)
    if (typeof input.GranteePrincipal === 'string') c['kms:GranteePrincipal'] = input.GranteePrincipal
    if (typeof input.RetiringPrincipal === 'string') c['kms:RetiringPrincipal'] = input.RetiringPrincipal
    const constraints = input.Constraints
    if (constraints?.EncryptionContextEquals) c['kms:GrantConstraintType'] = 'EncryptionContextEquals'
    else if (constraints?.EncryptionContextSubset) c['kms:GrantConstraintType'] = 'EncryptionContextSubset'
  }

  if (operation === 'ScheduleKeyDeletion') c['kms:ScheduleKeyDeletionPendingWindowInDays'] = String(input.PendingWindowInDays ?? 30)
  if (operation === 'EnableKeyRotation' && input.RotationPeriodInDays !== undefined) c['kms:RotationPeriodInDays'] = String(input.RotationPeriodInDays)
  if (operation === 'PutKeyPolicy' || operation === 'CreateKey') c['kms:BypassPolicyLockoutSafetyCheck'] = String(Boolean(input.BypassPolicyLockoutSafetyCheck))
  return c
}

/** Does the grant's grantee name this caller? (A role names its sessions; an account root its principals, through IAM.) */
export function granteeMatches(grantee: string, caller: ResolvedPrincipal, action: string): boolean {
  const p = caller.principal
  if (grantee === p.arn) return true
  if (caller.parsed.kind === 'AssumedRole') {
    const m = /^arn:aws[a-z-]*:iam::(\d{12}):role\/(?:.*\/)?([^/]+)$/.exec(grantee)
    if (m && m[1] === p.accountId && m[2] === caller.parsed.name) return true
  }

  const account = /^\d{12}$/.test(grantee) ? grantee : /^arn:aws[a-z-]*:iam::(\d{12}):root$/.exec(grantee)?.[1]
  return account === p.accountId && callerIamAllows(caller, action)
}

/** Do the grant's encryption context constraints hold for this request? (Ignored for operations without one.) */
export function constraintsHold(grant: GrantRecord, operation: string, context: Record<string, string> | undefined): boolean {
  const c = grant.constraints
  if (!c || !CONTEXT_OPERATIONS.has(operation)) return true
  const given = context ?? {}
  if (c.EncryptionContextEquals) {
    const want = c.EncryptionContextEquals
    const keys = Object.keys(want)
    if (keys.length !== Object.keys(given).length) return false
    if (!keys.every((k) => Object.hasOwn(given, k) && given[k] === want[k])) return false
  }

  if (c.EncryptionContextSubset) {
    const want = c.EncryptionContextSubset
    if (!Object.keys(want).every((k) => Object.hasOwn(given, k) && given[k] === want[k])) return false
  }

  return true
}

/** The grant (if any) that lets this caller do this operation on this key. */
export function findGrant(state: SandboxState, key: KeyRecord, caller: ResolvedPrincipal, operation: string, input: Record<string, any>): GrantRecord | undefined {
  const action = `kms:${operation}`
  const context = encryptionContextOf(operation, input)
  for (const g of Object.values(state.grants)) {
    if (g.keyArn !== key.arn || !g.operations.includes(operation)) continue
    if (!granteeMatches(g.granteePrincipal, caller, action)) continue
    if (constraintsHold(g, operation, context)) return g
  }

  return undefined
}

export interface KeyDecision {
  allowed: boolean
  /** How: 'policy' (key policy, with IAM where it delegates), 'grant', or why not. */
  by: 'explicit-deny' | 'grant' | 'identity' | 'policy' | 'resource'
  evaluation?: Evaluation
  grantId?: string
}

/** The decision for one permission (kms:Decrypt, kms:ReEncryptFrom, ...) on one key. */
export function decideOnKey(
  permission: string,
  key: KeyRecord,
  state: SandboxState,
  input: Record<string, any>,
  caller: ResolvedPrincipal,
  facts: RequestFacts,
): KeyDecision {
  const operation = permission.replace(/^kms:/, '')
  const policy = parsedPolicy(key.policy)
  let evaluation: Evaluation | undefined
  if (policy) {
    const unconditional = policy.statements.every((s) => s.conditions.length === 0)
    const memo = unconditional ? unconditionalCache.get(policy) ?? new Map<string, Evaluation>() : undefined
    const memoKey = `${caller.principal.arn} ${permission} ${key.arn}`
    evaluation = memo?.get(memoKey)
    if (!evaluation) {
      evaluation = evaluate(policy, {
        action: permission,
        context: unconditional ? {} : conditionContext(operation, input, key, state, caller, facts),
        keyAccount: key.account,
        keyArn: key.arn,
        principal: caller.principal.arn,
      })
      if (memo) {
        if (memo.size > 2000) memo.clear()
        memo.set(memoKey, evaluation)
        unconditionalCache.set(policy, memo)
      }
    }

    if (evaluation.decision === 'deny') return {allowed: false, by: 'explicit-deny', evaluation}
    if (finalDecision(evaluation, callerIamAllows(caller, permission)) === 'allow') return {allowed: true, by: 'policy', evaluation}
  }

  const grant = findGrant(state, key, caller, operation, input)
  if (grant) return {allowed: true, by: 'grant', evaluation, grantId: grant.grantId}
  const viaIam = evaluation && (evaluation.decision === 'delegated-to-iam' || (evaluation.decision === 'allow' && evaluation.crossAccount))
  return {allowed: false, by: viaIam ? 'identity' : 'resource', evaluation}
}

/** The permissions a request needs on this key (ReEncrypt needs ReEncryptFrom on its source and ReEncryptTo on its destination). */
export function permissionsFor(operation: string, key: KeyRecord, input: Record<string, any>, state: SandboxState): string[] {
  if (operation !== 'ReEncrypt') return [`kms:${operation}`]
  const out: string[] = []
  let isSource = false
  if (typeof input.CiphertextBlob === 'string') {
    const header = parseBlobHeader(Buffer.from(input.CiphertextBlob, 'base64'))
    if (header) isSource = header.keyId === key.keyId
  }

  if (!isSource && typeof input.SourceKeyId === 'string') isSource = refersTo(input.SourceKeyId, key, state)
  const isDestination = typeof input.DestinationKeyId === 'string' && refersTo(input.DestinationKeyId, key, state)
  if (isSource) out.push('kms:ReEncryptFrom')
  if (isDestination || !isSource) out.push('kms:ReEncryptTo')
  return out
}

function refersTo(ref: string, key: KeyRecord, state: SandboxState): boolean {
  if (ref === key.keyId || ref === key.arn) return true
  const alias = aliasNameOf(ref)
  if (!alias) return false
  return Object.values(state.aliases).some((a) => a.name === alias && a.region === key.region && a.targetKeyArn === key.arn)
}

/** The grant a RetireGrant request names (by GrantId, or by the grant ID inside its GrantToken). */
function retiredGrant(state: SandboxState, input: Record<string, any>): GrantRecord | undefined {
  if (typeof input.GrantId === 'string' && state.grants[input.GrantId]) return state.grants[input.GrantId]
  if (typeof input.GrantToken === 'string' && input.GrantToken.startsWith('AQpAM2')) {
    const id = /^([0-9a-f]{64}):/.exec(Buffer.from(input.GrantToken.slice(6), 'base64url').toString('utf8'))?.[1]
    if (id) return state.grants[id]
  }

  return undefined
}

/** Throws AccessDeniedException unless the caller may do `operation` on `key`. */
export function authorizeKeyRequest(
  operation: string,
  key: KeyRecord,
  state: SandboxState,
  input: Record<string, any>,
  caller: ResolvedPrincipal,
  facts: RequestFacts,
): void {
  if (operation === 'RetireGrant') {
    // The retiring principal, or the grantee of a grant that includes RetireGrant, may retire it.
    const grant = retiredGrant(state, input)
    if (grant?.retiringPrincipal && granteeMatches(grant.retiringPrincipal, caller, 'kms:RetireGrant')) return
    if (grant && grant.operations.includes('RetireGrant') && granteeMatches(grant.granteePrincipal, caller, 'kms:RetireGrant')) return
  }

  for (const permission of permissionsFor(operation, key, input, state)) {
    const decision = decideOnKey(permission, key, state, input, caller, facts)
    if (decision.allowed) continue
    const why = decision.by === 'explicit-deny' ? 'explicit' : decision.by === 'identity' ? 'identity' : 'resource'
    throw accessDenied(deniedMessage(caller, permission, key.arn, why))
  }
}

/**
 * The lockout safety check of PutKeyPolicy, CreateKey and ReplicateKey, with the project's lockout check
 * (src/lib/policy/lockout.ts): the new policy must let the caller call kms:PutKeyPolicy again. Where the
 * policy leaves the decision to IAM (the account root, or a caller in another account), the sandbox knows
 * the caller's IAM allow list and decides with it.
 */
export function checkPolicyLockout(policyText: string, keyArn: string | undefined, keyAccount: string, caller: ResolvedPrincipal): void {
  const policy = parsedPolicy(policyText)
  const refuse = () => new SandboxError('MalformedPolicyDocumentException', 'The new key policy will not allow you to update the key policy in the future.')
  if (!policy) throw refuse()
  const check = checkLockout(policy, {callerArn: caller.principal.arn, keyAccount, keyArn})
  if (!check.ok) throw refuse()
  const throughIam = check.evaluation.decision === 'delegated-to-iam' || check.evaluation.crossAccount
  if (throughIam && !callerIamAllows(caller, 'kms:PutKeyPolicy')) throw refuse()
}
