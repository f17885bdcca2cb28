// STS AssumeRole in the sandbox, with AWS's rules: the role must exist in the target account and
// its trust policy must allow the caller (an account root ARN in the trust policy lets any principal
// of that account whose own policies allow sts:AssumeRole); RoleSessionName 2-64 characters of
// [\w+=,.@-]; DurationSeconds 900 to the role's maximum (1 hour when a role session assumes a role);
// ExternalId when the trust policy requires one. The answer is temporary credentials: an ASIA...
// access key ID, a secret and a session token, and their expiration.
//
// The sandbox keeps no table of sessions: the session token carries who the session is (account,
// role, session name, who assumed it, when it expires), signed with the organisation's session secret,
// so any process on the same sandbox directory recognises it. Requests signed with such credentials
// act as the assumed-role session.
import {createHmac, randomBytes, randomUUID} from 'node:crypto'

import {SandboxError} from '../errors.js'
import {xml} from '../http/protocol.js'
import type {TrailRecord} from '../store/store.js'
import type {OrganizationFile, RoleRecord} from '../organizations/model.js'

export const DEFAULT_DURATION_SECONDS = 3600
export const MIN_DURATION_SECONDS = 900
export const MAX_DURATION_SECONDS = 43_200
/** A role session assuming another role (role chaining) gets one hour at most. */
export const CHAINED_MAX_SECONDS = 3600

const TOKEN_PREFIX = 'KMSCTLSBX1'
const ROLE_ARN = /^arn:aws:iam::(\d{12}):role\/(?:[\u0021-\u007E]*\/)?([\w+=,.@-]{1,64})$/
const SESSION_NAME = /^[\w+=,.@-]*$/
const EXTERNAL_ID = /^[\w+=,.@:/-]*$/

/** Who a session token says the session is. */
export interface SessionClaims {
  /** The session's access key ID (ASIA...). */
  accessKeyId: string
  /** The account of the role. */
  account: string
  /** The principal that called AssumeRole. */
  callerArn: string
  expiresMs: number
  issuedMs: number
  roleName: string
  sessionName: string
}

export interface Caller {
  accountId: string
  arn: string
  /** The caller's IAM permissions (the sandbox's stand-in for identity-based policies). */
  iamAllow: readonly string[]
  /** The built-in administrator, whose IAM allows every action. */
  isAdministrator: boolean
  type: string
}

export interface AssumeRoleInput {
  DurationSeconds?: string
  ExternalId?: string
  Policy?: string
  RoleArn?: string
  RoleSessionName?: string
  SerialNumber?: string
  TokenCode?: string
}

export interface AssumeRoleOutcome {
  claims: SessionClaims
  /** The role's unique ID (AROA...). */
  roleId: string
  roleArn: string
  secretAccessKey: string
  sessionArn: string
  sessionToken: string
}

/** STS's query-protocol errors: Sender faults are HTTP 400, AccessDenied 403. */
export const stsError = (code: string, message: string, status = 400): SandboxError => new SandboxError(code, message, status)

function validation(member: string, value: unknown, constraint: string): SandboxError {
  const shown = value === undefined ? 'null' : `'${String(value)}'`
  return stsError('ValidationError', `1 validation error detected: Value ${shown} at '${member}' failed to satisfy constraint: ${constraint}`)
}

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567'

/** An AWS-looking unique ID: prefix + 16 or 17 characters of [A-Z2-7] from the bytes given. */
function idFrom(prefix: string, bytes: Buffer, length: number): string {
  let out = prefix
  for (let i = 0; i < length; i++) out += ALPHABET[bytes[i % bytes.length] % 32]
  return out
}

/** The role's unique ID (AROA + 17), stable for a role ARN. */
export function roleIdOf(secret: string, roleArn: string): string {
  return idFrom('AROA', createHmac('sha256', secret).update(`role:${roleArn}`).digest(), 17)
}

function sign(secret: string, payload: string): string {
  return createHmac('sha256', secret).update(payload).digest('base64url')
}

/** The secret access key of a session, derived from its access key ID (nothing to store). */
export function secretOf(secret: string, accessKeyId: string): string {
  return createHmac('sha256', secret).update(`secret:${accessKeyId}`).digest('base64').slice(0, 40)
}

export function encodeSessionToken(secret: string, claims: SessionClaims): string {
  const payload = Buffer.from(JSON.stringify(claims)).toString('base64url')
  return `${TOKEN_PREFIX}.${payload}.${sign(secret, payload)}`
}

/** True for a token in the sandbox's session-token format (whether or not it is valid). */
export function isSandboxSessionToken(token: string): boolean {
  return token.startsWith(`${TOKEN_PREFIX}.`)
}

/** The claims of a session token issued by this sandbox, or undefined for any other token. */
export function decodeSessionToken(secret: string, token: string): SessionClaims | undefined {
  const parts = token.split('.')
  if (parts.length !== 3 || parts[0] !== TOKEN_PREFIX) return undefined
  const [, payload, signature] = parts
  if (sign(secret, payload) !== signature) return undefined
  try {
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as SessionClaims
    return typeof claims.account === 'string' && typeof claims.accessKeyId === 'string' ? claims : undefined
  } catch {
    return undefined
  }
}

/** Does the role's trust policy allow this caller? (Root of a trusted account: any principal of it.) */
export function trustAllows(role: RoleRecord, caller: Caller): boolean {
  const sessionRole = /^arn:aws:sts::(\d{12}):assumed-role\/([^/]+)\//.exec(caller.arn)
  const callerRoleArn = sessionRole ? `arn:aws:iam::${sessionRole[1]}:role/${sessionRole[2]}` : undefined
  return role.trust.some((p) => p === `arn:aws:iam::${caller.accountId}:root` || p === caller.arn || (callerRoleArn !== undefined && p === callerRoleArn))
}

function callerMayAssume(caller: Caller): boolean {
  if (caller.isAdministrator || caller.type === 'Root') return true
  return caller.iamAllow.some((a) => a === '*' || a === 'sts:*' || a.toLowerCase() === 'sts:assumerole')
}

/** AssumeRole: validates, checks the role and its trust, and issues the session. */
export function assumeRole(org: OrganizationFile | undefined, input: AssumeRoleInput, caller: Caller, nowMs: number): AssumeRoleOutcome {
  const roleArn = input.RoleArn
  if (roleArn === undefined || roleArn === '') throw validation('roleArn', roleArn, 'Member must not be null')
  if (roleArn.length < 20 || roleArn.length > 2048) throw validation('roleArn', roleArn, 'Member must have length between 20 and 2048')
  const session = input.RoleSessionName
  if (session === undefined || session === '') throw validation('roleSessionName', session, 'Member must not be null')
  if (session.length < 2 || session.length > 64) throw validation('roleSessionName', session, 'Member must have length between 2 and 64')
  if (!SESSION_NAME.test(session)) throw validation('roleSessionName', session, 'Member must satisfy regular expression pattern: [\\w+=,.@-]*')
  if (input.ExternalId !== undefined && (input.ExternalId.length < 2 || input.ExternalId.length > 1224 || !EXTERNAL_ID.test(input.ExternalId))) {
    throw validation('externalId', input.ExternalId, 'Member must have length between 2 and 1224 and satisfy regular expression pattern: [\\w+=,.@:\\/-]*')
  }

  let duration = DEFAULT_DURATION_SECONDS
  if (input.DurationSeconds !== undefined) {
    duration = Number(input.DurationSeconds)
    if (!Number.isInteger(duration) || duration < MIN_DURATION_SECONDS) throw validation('durationSeconds', input.DurationSeconds, `Member must have value greater than or equal to ${MIN_DURATION_SECONDS}`)
    if (duration > MAX_DURATION_SECONDS) throw validation('durationSeconds', input.DurationSeconds, `Member must have value less than or equal to ${MAX_DURATION_SECONDS}`)
  }

  const m = ROLE_ARN.exec(roleArn)
  if (!m) throw stsError('ValidationError', `${roleArn} is invalid`)
  const [, account, roleName] = m
  const denied = () => stsError('AccessDenied', `User: ${caller.arn} is not authorized to perform: sts:AssumeRole on resource: ${roleArn}`, 403)
  // Without an organisation (or without the account or role), the role does not exist: AWS answers
  // that as a refusal, so that the existence of roles in other accounts is not revealed.
  const role = org?.accounts[account]?.status === 'ACTIVE' ? org.accounts[account].roles[roleName] : undefined
  if (!org || !role || !callerMayAssume(caller) || !trustAllows(role, caller)) throw denied()
  if (role.externalId !== undefined && input.ExternalId !== role.externalId) throw denied()
  const chained = caller.type === 'AssumedRole'
  if (chained && input.DurationSeconds !== undefined && duration > CHAINED_MAX_SECONDS) {
    throw stsError('ValidationError', 'The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.')
  }

  if (duration > role.maxSessionDuration) throw stsError('ValidationError', 'The requested DurationSeconds exceeds the MaxSessionDuration set for this role.')
  const accessKeyId = idFrom('ASIA', randomBytes(16), 16)
  const claims: SessionClaims = {
    accessKeyId,
    account,
    callerArn: caller.arn,
    expiresMs: nowMs + duration * 1000,
    issuedMs: nowMs,
    roleName,
    sessionName: session,
  }
  return {
    claims,
    roleArn,
    roleId: roleIdOf(org.sessionSecret, `arn:aws:iam::${account}:role/${roleName}`),
    secretAccessKey: secretOf(org.sessionSecret, accessKeyId),
    sessionArn: `arn:aws:sts::${account}:assumed-role/${roleName}/${session}`,
    sessionToken: encodeSessionToken(org.sessionSecret, claims),
  }
}

export function isoSeconds(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z')
}

/** The AssumeRole answer, as STS writes it. */
export function assumeRoleXml(out: AssumeRoleOutcome, requestId: string): string {
  return (
    `<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">\n` +
    `  <AssumeRoleResult>\n` +
    `    <AssumedRoleUser>\n      <AssumedRoleId>${xml(out.roleId)}:${xml(out.claims.sessionName)}</AssumedRoleId>\n      <Arn>${xml(out.sessionArn)}</Arn>\n    </AssumedRoleUser>\n` +
    `    <Credentials>\n      <AccessKeyId>${out.claims.accessKeyId}</AccessKeyId>\n      <SecretAccessKey>${xml(out.secretAccessKey)}</SecretAccessKey>\n` +
    `      <SessionToken>${xml(out.sessionToken)}</SessionToken>\n      <Expiration>${isoSeconds(out.claims.expiresMs)}</Expiration>\n    </Credentials>\n` +
    `  </AssumeRoleResult>\n` +
    `  <ResponseMetadata>\n    <RequestId>${requestId}</RequestId>\n  </ResponseMetadata>\n` +
    `</AssumeRoleResponse>\n`
  )
}

export interface AssumeRoleRecordInput {
  callerAccount: string
  callerIdentity: Record<string, unknown>
  callerPrincipalId: string
  errorCode?: string
  errorMessage?: string
  eventTimeMs: number
  input: AssumeRoleInput
  outcome?: AssumeRoleOutcome
  region: string
  requestId: string
  sourceIp: string
  userAgent: string
}

/**
 * The CloudTrail records of an AssumeRole call: one in the caller's account, and (when the role's
 * account is another one) one in the role's account naming the caller's account only; both carry
 * the same sharedEventID.
 */
export function assumeRoleRecords(c: AssumeRoleRecordInput): TrailRecord[] {
  const roleArn = c.input.RoleArn ?? ''
  const roleAccount = /^arn:aws:iam::(\d{12}):role\//.exec(roleArn)?.[1]
  const requestParameters: Record<string, unknown> = {roleArn, roleSessionName: c.input.RoleSessionName}
  if (c.input.ExternalId !== undefined) requestParameters.externalId = c.input.ExternalId
  if (c.input.DurationSeconds !== undefined) requestParameters.durationSeconds = Number(c.input.DurationSeconds)
  const responseElements = c.outcome
    ? {
        assumedRoleUser: {arn: c.outcome.sessionArn, assumedRoleId: `${c.outcome.roleId}:${c.outcome.claims.sessionName}`},
        credentials: {accessKeyId: c.outcome.claims.accessKeyId, expiration: new Date(c.outcome.claims.expiresMs).toUTCString(), sessionToken: '***'},
      }
    : null
  const shared = roleAccount && roleAccount !== c.callerAccount ? randomUUID() : undefined
  const record = (recipient: string, identity: Record<string, unknown>): TrailRecord => ({
    eventVersion: '1.08',
    userIdentity: identity,
    eventTime: isoSeconds(c.eventTimeMs),
    eventSource: 'sts.amazonaws.com',
    eventName: 'AssumeRole',
    awsRegion: c.region,
    sourceIPAddress: c.sourceIp,
    userAgent: c.userAgent,
    ...(c.errorCode ? {errorCode: c.errorCode, errorMessage: c.errorMessage ?? ''} : {}),
    requestParameters,
    responseElements: c.errorCode ? null : responseElements,
    requestID: c.requestId,
    eventID: randomUUID(),
    readOnly: true,
    ...(roleAccount ? {resources: [{accountId: roleAccount, type: 'AWS::IAM::Role', ARN: roleArn}]} : {}),
    eventType: 'AwsApiCall',
    managementEvent: true,
    recipientAccountId: recipient,
    ...(shared ? {sharedEventID: shared} : {}),
    eventCategory: 'Management',
  })
  const records = [record(c.callerAccount, c.callerIdentity)]
  if (shared && roleAccount) records.push(record(roleAccount, {type: 'AWSAccount', principalId: c.callerPrincipalId, accountId: c.callerAccount}))
  return records
}
