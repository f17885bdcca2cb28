// Who is calling: the forms a request's principal takes, and how a key policy's Principal element
// matches it.
//
// An assumed-role session (arn:aws:sts::A:assumed-role/ROLE/SESSION) is matched as its role
// (arn:aws:iam::A:role/[PATH/]ROLE) and as its session ARN, as KMS does. A statement naming the
// account root (arn:aws:iam::A:root, or "A") matches every IAM principal of account A "through the
// account": for an Allow this delegates the decision to A's IAM policies; for a Deny it denies them.
import type {PrincipalValue} from './model.js'

export type CallerKind = 'account' | 'anonymous' | 'assumed-role' | 'federated-user' | 'role' | 'root' | 'service' | 'user' | 'other'

export interface Caller {
  kind: CallerKind
  /** The ARN (or service principal name) as given, trimmed. */
  arn: string
  account?: string
  partition: string
  /** For an assumed-role session: the role's name and its ARN without path. */
  roleName?: string
  roleArn?: string
}

/**
 * Describes a request principal: an IAM user, role, assumed-role session, federated user or root
 * ARN; a 12-digit account ID (treated as that account's root); a service principal such as
 * "logs.amazonaws.com"; or "*" / "anonymous".
 */
export function describeCaller(principal: string): Caller {
  let caller = callerCache.get(principal)
  if (!caller) {
    caller = Object.freeze(parseCaller(principal))
    if (callerCache.size > 1000) callerCache.clear()
    callerCache.set(principal, caller)
  }

  return caller
}

const callerCache = new Map<string, Caller>()

function parseCaller(principal: string): Caller {
  const p = principal.trim()
  if (/^\d{12}$/.test(p)) return {account: p, arn: `arn:aws:iam::${p}:root`, kind: 'root', partition: 'aws'}
  if (p === '*' || p.toLowerCase() === 'anonymous') return {arn: p, kind: 'anonymous', partition: 'aws'}
  const m = /^arn:([\w-]+):(iam|sts)::(\d{12}):(.+)$/.exec(p)
  if (!m) {
    if (!p.startsWith('arn:') && p.includes('.')) return {arn: p, kind: 'service', partition: 'aws'}
    return {arn: p, kind: 'other', partition: 'aws'}
  }

  const [, partition, service, account, resource] = m
  const base = {account, arn: p, partition}
  if (service === 'iam' && resource === 'root') return {...base, kind: 'root'}
  if (service === 'iam' && resource.startsWith('user/')) return {...base, kind: 'user'}
  if (service === 'iam' && resource.startsWith('role/')) {
    return {...base, kind: 'role', roleArn: p, roleName: resource.split('/').pop()}
  }

  if (service === 'sts' && resource.startsWith('assumed-role/')) {
    const parts = resource.split('/')
    const roleName = parts[1]
    return {...base, kind: 'assumed-role', roleArn: `arn:${partition}:iam::${account}:role/${roleName}`, roleName}
  }

  if (service === 'sts' && resource.startsWith('federated-user/')) return {...base, kind: 'federated-user'}
  return {...base, kind: 'other'}
}

/** How one Principal value matches the caller: directly, through the caller's account root, or not. */
export type PrincipalMatch = 'account' | 'direct' | 'none'

export function matchPrincipalValue(value: PrincipalValue, caller: Caller): PrincipalMatch {
  if (value.value === '*') return value.type === 'AWS' || value.type === 'Service' ? 'direct' : 'none'
  if (value.type === 'Service') return caller.kind === 'service' && value.value.toLowerCase() === caller.arn.toLowerCase() ? 'direct' : 'none'
  if (value.type !== 'AWS') return value.value === caller.arn ? 'direct' : 'none'
  if (caller.kind === 'service' || caller.kind === 'anonymous' || !caller.account) return value.value === caller.arn ? 'direct' : 'none'
  const v = value.value
  if (v === `arn:${caller.partition}:iam::${caller.account}:root`) return caller.kind === 'root' ? 'direct' : 'account'
  if (v === caller.arn) return 'direct'
  if (namesCallerRole(v, caller)) return 'direct'
  return 'none'
}

/** True when v is the role of an assumed-role caller (the policy may give a path; the session ARN has only the name). */
function namesCallerRole(v: string, caller: Caller): boolean {
  if (caller.kind !== 'assumed-role' || !caller.roleName) return false
  const rm = /^arn:([\w-]+):iam::(\d{12}):role\/(?:.*\/)?([^/]+)$/.exec(v)
  return Boolean(rm && rm[1] === caller.partition && rm[2] === caller.account && rm[3] === caller.roleName)
}

/** The identities a NotPrincipal must all list to exclude this caller: its account, its role, itself. */
export function identityChain(caller: Caller): Array<(v: PrincipalValue) => boolean> {
  const chain: Array<(v: PrincipalValue) => boolean> = []
  const isWildcard = (v: PrincipalValue) => v.value === '*'
  if (caller.kind === 'service') {
    chain.push((v) => isWildcard(v) || (v.type === 'Service' && v.value.toLowerCase() === caller.arn.toLowerCase()))
    return chain
  }

  if (caller.account && caller.kind !== 'root') chain.push((v) => isWildcard(v) || (v.type === 'AWS' && v.value === `arn:${caller.partition}:iam::${caller.account}:root`))
  if (caller.kind === 'assumed-role') {
    chain.push((v) => isWildcard(v) || (v.type === 'AWS' && namesCallerRole(v.value, caller)))
  }

  chain.push((v) => isWildcard(v) || (v.type === 'AWS' && v.value === caller.arn))
  return chain
}
