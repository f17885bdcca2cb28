// Requests signed with the temporary credentials of an assumed role: who the session is (from its
// session token), whether the token is still valid, and the principal the request acts as.
import {SandboxError} from '../errors.js'
import type {OrganizationFile} from '../organizations/model.js'
import {parsePrincipalArn} from './arn.js'
import type {ResolvedPrincipal} from './principals.js'
import {decodeSessionToken, isSandboxSessionToken, roleIdOf, secretOf} from '../sts/assume-role.js'


/** How each protocol says a token is invalid or expired. */
function invalidToken(service: string): SandboxError {
  if (service === 'sts') return new SandboxError('InvalidClientTokenId', 'The security token included in the request is invalid.', 403)
  return new SandboxError('UnrecognizedClientException', 'The security token included in the request is invalid.')
}

function expiredToken(service: string): SandboxError {
  return new SandboxError(service === 'sts' ? 'ExpiredToken' : 'ExpiredTokenException', 'The security token included in the request is expired', service === 'sts' ? 400 : 400)
}

/**
 * The session a request is signed by, or undefined when it carries no sandbox session token (any
 * other token is ignored, as before sessions existed). Throws for a forged, mismatched or expired one.
 */
export function sessionCaller(org: OrganizationFile | undefined, token: string | undefined, accessKeyId: string, service: string, nowMs: number): ResolvedPrincipal | undefined {
  if (!token || !isSandboxSessionToken(token)) return undefined
  const claims = org ? verifiedClaims(org.sessionSecret, token) : undefined
  if (!org || !claims || claims.accessKeyId !== accessKeyId) throw invalidToken(service)
  if (claims.expiresMs <= nowMs) throw expiredToken(service)
  const role = org.accounts[claims.account]?.roles[claims.roleName]
  // A role deleted since: its sessions can no longer act.
  if (!role) throw invalidToken(service)
  const arn = `arn:aws:sts::${claims.account}:assumed-role/${claims.roleName}/${claims.sessionName}`
  const parsed = parsePrincipalArn(arn)
  const roleArn = `arn:aws:iam::${claims.account}:role/${claims.roleName}`
  const roleId = memo(`role\n${org.sessionSecret}\n${roleArn}`, () => roleIdOf(org.sessionSecret, roleArn))
  const principalId = `${roleId}:${claims.sessionName}`
  const identity = {
    type: 'AssumedRole',
    principalId,
    arn,
    accountId: claims.account,
    accessKeyId,
    sessionContext: {
      sessionIssuer: {type: 'Role', principalId: roleId, arn: roleArn, accountId: claims.account, userName: claims.roleName},
      attributes: {creationDate: new Date(claims.issuedMs).toISOString().replace(/\.\d{3}Z$/, 'Z'), mfaAuthenticated: 'false'},
    },
  }
  return {
    iamAllow: [...role.iamAllow],
    isDefault: false,
    parsed,
    principal: {accessKeyId, accountId: claims.account, arn, principalId, sessionIdentity: identity, trailIdentity: identity, type: 'AssumedRole'},
  }
}

/** The secret access key of a sandbox session's credentials (to check its signatures), when the token is one. */
export function sessionSecretOf(org: OrganizationFile | undefined, token: string | undefined, accessKeyId: string): string | undefined {
  if (!org || !token || !isSandboxSessionToken(token)) return undefined
  const claims = verifiedClaims(org.sessionSecret, token)
  return claims && claims.accessKeyId === accessKeyId ? memo(`secret\n${org.sessionSecret}\n${accessKeyId}`, () => secretOf(org.sessionSecret, accessKeyId)) : undefined
}

// A session signs every request with the same token: its claims (checked against the organisation's
// secret), its secret key and its role ID are derived once, not with three HMACs per request. Keys
// include the secret, so a new organisation secret never sees an old answer.
const derived = new Map<string, unknown>()

function memo<T>(key: string, make: () => T): T {
  if (derived.has(key)) return derived.get(key) as T
  const value = make()
  if (derived.size >= 5000) derived.clear()
  derived.set(key, value)
  return value
}

/** decodeSessionToken(), remembered (undefined, for a forged token, too). */
function verifiedClaims(secret: string, token: string): ReturnType<typeof decodeSessionToken> {
  return memo(`token\n${secret}\n${token}`, () => decodeSessionToken(secret, token))
}
