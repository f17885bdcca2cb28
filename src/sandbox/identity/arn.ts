// Who a principal ARN is, as STS and CloudTrail describe it: the principal ID (AIDA... for IAM users,
// AROA...:SESSION for assumed roles, the account ID for root) and the CloudTrail userIdentity block
// (IAMUser, AssumedRole with sessionContext.sessionIssuer, Root, or AWSAccount when the caller is in
// another account than the sandbox's, as the key owner's trail shows a cross-account call).
import {createHash} from 'node:crypto'

import {usageError} from '../../lib/errors.js'
import {SANDBOX_ACCOUNT} from '../constants.js'
import type {Principal} from './principals.js'

export type PrincipalKind = 'AssumedRole' | 'IAMUser' | 'Root'

export interface ParsedArn {
  accountId: string
  arn: string
  kind: PrincipalKind
  /** IAM user name, or the role name of an assumed-role session. */
  name?: string
  /** Assumed-role sessions: the role's ARN and the session name. */
  roleArn?: string
  sessionName?: string
}

const USER = /^arn:aws:iam::(\d{12}):user\/((?:[\w+=,.@-]+\/)*)([\w+=,.@-]{1,64})$/
const ROOT = /^arn:aws:iam::(\d{12}):root$/
const SESSION = /^arn:aws:sts::(\d{12}):assumed-role\/([\w+=,.@-]{1,64})\/([\w+=,.@-]{2,64})$/
const ROLE = /^arn:aws:iam::(\d{12}):role\//

export const ARN_FORMS = 'arn:aws:iam::ACCOUNT:user/NAME, arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION or arn:aws:iam::ACCOUNT:root'

/** Reads a caller ARN; throws a usage error naming the accepted forms. */
export function parsePrincipalArn(arn: string): ParsedArn {
  const text = arn.trim()
  let m = USER.exec(text)
  if (m) return {accountId: m[1], arn: text, kind: 'IAMUser', name: m[3]}
  m = ROOT.exec(text)
  if (m) return {accountId: m[1], arn: text, kind: 'Root'}
  m = SESSION.exec(text)
  if (m) return {accountId: m[1], arn: text, kind: 'AssumedRole', name: m[2], roleArn: `arn:aws:iam::${m[1]}:role/${m[2]}`, sessionName: m[3]}
  if (ROLE.test(text)) {
    throw usageError(`${text} is a role, which cannot sign requests itself: requests come from a session of it.`, `Try this: arn:aws:sts::${text.split(':')[4]}:assumed-role/${text.split('/').pop()}/my-session`)
  }

  throw usageError(`"${text}" is not a principal the sandbox can act as.`, `Try this: ${ARN_FORMS}`)
}

/** A stable, AWS-looking unique ID (prefix + 17 characters of [A-Z2-7]) derived from the ARN. */
export function uniqueId(prefix: 'AIDA' | 'AROA', seed: string): string {
  const digest = createHash('sha256').update(seed).digest()
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567'
  let out = prefix
  for (let i = 0; i < 17; i++) out += alphabet[digest[i] % 32]
  return out
}

export interface IdentityOptions {
  accessKeyId: string
  /** The fixed principal ID of the default administrator. */
  principalId?: string
  /** When the session was created (assumed roles), for sessionContext.attributes.creationDate. */
  sessionCreatedMs?: number
}

/** The principal as the request core sees it, with its CloudTrail userIdentity. */
export function principalFor(parsed: ParsedArn, options: IdentityOptions): Principal {
  const {accessKeyId} = options
  if (parsed.kind === 'Root') {
    return withTrail({accessKeyId, accountId: parsed.accountId, arn: parsed.arn, principalId: parsed.accountId, type: 'Root'}, parsed, options)
  }

  if (parsed.kind === 'IAMUser') {
    const principalId = options.principalId ?? uniqueId('AIDA', parsed.arn)
    return withTrail({accessKeyId, accountId: parsed.accountId, arn: parsed.arn, principalId, type: 'IAMUser', userName: parsed.name}, parsed, options)
  }

  const roleId = uniqueId('AROA', parsed.roleArn!)
  const principalId = options.principalId ?? `${roleId}:${parsed.sessionName}`
  return withTrail({accessKeyId, accountId: parsed.accountId, arn: parsed.arn, principalId, type: 'AssumedRole'}, parsed, options)
}

function withTrail(p: Principal, parsed: ParsedArn, options: IdentityOptions): Principal {
  return {...p, trailIdentity: trailIdentity(p, parsed, options)}
}

/** CloudTrail's userIdentity for a call by this principal, as recorded in the sandbox account's trail. */
export function trailIdentity(p: Principal, parsed: ParsedArn, options: IdentityOptions): Record<string, unknown> {
  if (p.accountId !== SANDBOX_ACCOUNT) {
    // A call from another account: the key owner's trail names the calling account and principal ID only.
    return {type: 'AWSAccount', principalId: p.principalId, accountId: p.accountId}
  }

  if (p.type === 'Root') return {type: 'Root', principalId: p.accountId, arn: p.arn, accountId: p.accountId, accessKeyId: p.accessKeyId}
  if (p.type === 'IAMUser') {
    return {type: 'IAMUser', principalId: p.principalId, arn: p.arn, accountId: p.accountId, accessKeyId: p.accessKeyId, userName: p.userName}
  }

  const created = new Date(options.sessionCreatedMs ?? 0).toISOString().replace(/\.\d{3}Z$/, 'Z')
  return {
    type: 'AssumedRole',
    principalId: p.principalId,
    arn: p.arn,
    accountId: p.accountId,
    accessKeyId: p.accessKeyId,
    sessionContext: {
      sessionIssuer: {type: 'Role', principalId: p.principalId.split(':')[0], arn: parsed.roleArn, accountId: p.accountId, userName: parsed.name},
      attributes: {creationDate: created, mfaAuthenticated: 'false'},
    },
  }
}
