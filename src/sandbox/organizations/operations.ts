// AWS Organizations in the sandbox (AWS JSON 1.1, X-Amz-Target AWSOrganizationsV20161128.*):
// ListAccounts (paged, from the management account only) and DescribeOrganization (from any account
// of the organisation); and the Account Management API's ListRegions (REST-JSON, POST /listRegions).
import {SandboxError} from '../errors.js'
import {DEFAULT_REGIONS, OPT_IN_REGIONS, type OrganizationFile, accountArn, organizationArn} from './model.js'

export const ORGANIZATIONS_TARGET_PREFIX = 'AWSOrganizationsV20161128.'

const notInUse = () => new SandboxError('AWSOrganizationsNotInUseException', 'Your account is not a member of an organization.')
const denied = () => new SandboxError('AccessDeniedException', 'You don\'t have permissions to access this resource.')

function invalidInput(reason: string, message: string): SandboxError {
  const e = new SandboxError('InvalidInputException', message)
  ;(e as SandboxError & {extra?: Record<string, string>}).extra = {Reason: reason}
  return e
}

function memberOf(org: OrganizationFile | undefined, account: string): OrganizationFile {
  if (!org || !org.accounts[account]) throw notInUse()
  return org
}

function pageToken(offset: number, what: string): string {
  return Buffer.from(JSON.stringify({o: offset, w: what})).toString('base64')
}

function readToken(token: unknown, what: string, invalid: () => SandboxError): number {
  if (token === undefined || token === null) return 0
  try {
    const parsed = JSON.parse(Buffer.from(String(token), 'base64').toString('utf8'))
    if (parsed.w !== what || !Number.isInteger(parsed.o) || parsed.o < 0) throw new Error('mismatch')
    return parsed.o
  } catch {
    throw invalid()
  }
}

/** ListAccounts: every account of the organisation, MaxResults (1-20, default 20) at a time. */
export function listAccounts(org: OrganizationFile | undefined, callerAccount: string, input: Record<string, any>): Record<string, unknown> {
  const o = memberOf(org, callerAccount)
  if (callerAccount !== o.managementAccount) throw denied()
  const max = input.MaxResults ?? 20
  if (typeof max !== 'number' || !Number.isInteger(max) || max < 1 || max > 20) {
    throw invalidInput('INVALID_INPUT', 'You provided a value that does not match the required pattern.')
  }

  const start = readToken(input.NextToken, 'ListAccounts', () => invalidInput('INVALID_PAGINATION_TOKEN', 'You specified an invalid value for nextToken.'))
  const all = Object.values(o.accounts).sort((a, b) => a.joinedAt - b.joinedAt || a.id.localeCompare(b.id))
  const page = all.slice(start, start + max)
  const next = start + max < all.length ? pageToken(start + max, 'ListAccounts') : undefined
  return {
    Accounts: page.map((a) => ({
      Arn: accountArn(o, a.id),
      Email: a.email,
      Id: a.id,
      JoinedMethod: a.joinedMethod,
      JoinedTimestamp: a.joinedAt / 1000,
      Name: a.name,
      State: a.status,
      Status: a.status,
    })),
    ...(next ? {NextToken: next} : {}),
  }
}

/** DescribeOrganization: from any account of the organisation. */
export function describeOrganization(org: OrganizationFile | undefined, callerAccount: string): Record<string, unknown> {
  const o = memberOf(org, callerAccount)
  const management = o.accounts[o.managementAccount]
  return {
    Organization: {
      Arn: organizationArn(o),
      AvailablePolicyTypes: [],
      FeatureSet: 'ALL',
      Id: o.id,
      MasterAccountArn: accountArn(o, o.managementAccount),
      MasterAccountEmail: management?.email ?? '',
      MasterAccountId: o.managementAccount,
    },
  }
}

export const ORGANIZATIONS_OPERATIONS: Record<string, {readOnly: boolean; run: (org: OrganizationFile | undefined, callerAccount: string, input: Record<string, any>) => Record<string, unknown>}> = {
  DescribeOrganization: {readOnly: true, run: (org, caller) => describeOrganization(org, caller)},
  ListAccounts: {readOnly: true, run: listAccounts},
}

// ---- account:ListRegions -------------------------------------------------------------------------

export type RegionOptStatus = 'DISABLED' | 'DISABLING' | 'ENABLED' | 'ENABLED_BY_DEFAULT' | 'ENABLING'
const OPT_STATUSES: readonly RegionOptStatus[] = ['DISABLED', 'DISABLING', 'ENABLED', 'ENABLED_BY_DEFAULT', 'ENABLING']

function accountValidation(message: string): SandboxError {
  return new SandboxError('ValidationException', message)
}

/** Each region and its opt status for an account: the account's regions are enabled, the others disabled. */
export function regionStatuses(org: OrganizationFile | undefined, account: string): Array<{RegionName: string; RegionOptStatus: RegionOptStatus}> {
  const enabled = new Set(org?.accounts[account]?.regions ?? DEFAULT_REGIONS)
  const defaults = new Set(DEFAULT_REGIONS)
  return [...DEFAULT_REGIONS, ...OPT_IN_REGIONS]
    .sort()
    .map((RegionName) => ({RegionName, RegionOptStatus: enabled.has(RegionName) ? (defaults.has(RegionName) ? 'ENABLED_BY_DEFAULT' : 'ENABLED') : 'DISABLED'}))
}

/** ListRegions: the caller's account, or (from the management account) a member named by AccountId. */
export function listRegions(org: OrganizationFile | undefined, callerAccount: string, input: Record<string, any>): Record<string, unknown> {
  let account = callerAccount
  if (input.AccountId !== undefined && input.AccountId !== null) {
    if (typeof input.AccountId !== 'string' || !/^\d{12}$/.test(input.AccountId)) throw accountValidation('AccountId must be a 12-digit account ID.')
    if (input.AccountId !== callerAccount) {
      if (!org || org.managementAccount !== callerAccount) throw new SandboxError('AccessDeniedException', `User is not authorized to access account ${input.AccountId}: the caller must be in the organization's management account.`, 403)
      if (!org.accounts[input.AccountId]) throw accountValidation(`The account ${input.AccountId} is not a member of the organization.`)
      account = input.AccountId
    }
  }

  const max = input.MaxResults ?? 20
  if (typeof max !== 'number' || !Number.isInteger(max) || max < 1 || max > 50) throw accountValidation('MaxResults must be between 1 and 50.')
  const wanted = input.RegionOptStatusContains as unknown
  if (wanted !== undefined && wanted !== null && (!Array.isArray(wanted) || wanted.some((s) => !OPT_STATUSES.includes(s)))) {
    throw accountValidation(`RegionOptStatusContains must be a list of ${OPT_STATUSES.join(', ')}.`)
  }

  const filter = Array.isArray(wanted) && wanted.length > 0 ? new Set(wanted as RegionOptStatus[]) : undefined
  const all = regionStatuses(org, account).filter((r) => !filter || filter.has(r.RegionOptStatus))
  const what = `ListRegions:${account}:${[...(filter ?? [])].sort().join(',')}`
  const start = readToken(input.NextToken, what, () => accountValidation('The NextToken is not valid.'))
  const next = start + max < all.length ? pageToken(start + max, what) : undefined
  return {Regions: all.slice(start, start + max), ...(next ? {NextToken: next} : {})}
}
