// Which accounts and regions a command works on, and how it reaches each account: the pure parsing
// and validation of --accounts, --accounts-file, --org, --exclude-accounts, --regions, --all-regions,
// --role-name, --role-arn-template, --external-id and --max-parallel. Bad input is a usage error
// (exit 2) raised before anything is sent. Without any of these flags a command keeps working on the
// caller's account and the one region it resolves, exactly as before.
import {readFileSync} from 'node:fs'

import {usageError} from '../errors.js'
import {splitList} from '../parse.js'

/** The raw flag values, as a command receives them. */
export interface TargetFlagValues {
  accounts?: string[] | string
  accountsFile?: string
  allRegions?: boolean
  excludeAccounts?: string[] | string
  externalId?: string
  maxParallel?: number
  org?: boolean
  regions?: string[] | string
  roleArnTemplate?: string
  roleName?: string
}

export type AccountSelection =
  /** Only the caller's own account (no account flag given). */
  | {kind: 'caller'}
  /** Accounts named on the command line or in a file, in the order given, without duplicates. */
  | {accounts: string[]; exclude: string[]; kind: 'list'}
  /** Every ACTIVE account of the organisation (Organizations ListAccounts), minus the excluded ones. */
  | {exclude: string[]; kind: 'org'}

export type RegionSelection =
  /** The one region the command resolves today (--region, AWS_REGION, the profile). */
  | {kind: 'default'}
  /** The regions enabled in each account (account:ListRegions). */
  | {kind: 'enabled'}
  | {kind: 'list'; regions: string[]}

/** How kmsctl reaches an account other than the caller's: a role assumed from the base credentials. */
export interface RoleSpec {
  externalId?: string
  /** One exact role ARN (the role a journal entry recorded). */
  roleArn?: string
  /** The role's name in every account (--role-name or KMSCTL_ROLE_NAME). */
  roleName?: string
  /** 'arn:aws:iam::{account}:role/Ops' (--role-arn-template). */
  template?: string
}

export interface Targets {
  accounts: AccountSelection
  /** Most account-regions worked on at once. */
  maxParallel: number
  regions: RegionSelection
  role?: RoleSpec
}

export const DEFAULT_MAX_PARALLEL = 8
export const MAX_PARALLEL_LIMIT = 64

/** The placeholder a --role-arn-template must contain. */
export const ACCOUNT_PLACEHOLDER = '{account}'

const ACCOUNT_ID = /^\d{12}$/
const ROLE_NAME = /^[\w+=,.@-]{1,64}$/
const ROLE_ARN = /^arn:aws(?:-cn|-us-gov|-iso|-iso-b|-eusc)?:iam::\d{12}:role\/(?:[\u0021-\u007E]+\/)?[\w+=,.@-]{1,64}$/
const EXTERNAL_ID = /^[\w+=,.@:/-]{2,1224}$/

/**
 * AWS regions by partition (commercial, China, GovCloud, European Sovereign Cloud). A name not here
 * is refused as unknown rather than sent and answered with a connection error per account.
 */
export const KNOWN_REGIONS: readonly string[] = [
  'af-south-1',
  'ap-east-1', 'ap-east-2',
  'ap-northeast-1', 'ap-northeast-2', 'ap-northeast-3',
  'ap-south-1', 'ap-south-2',
  'ap-southeast-1', 'ap-southeast-2', 'ap-southeast-3', 'ap-southeast-4', 'ap-southeast-5', 'ap-southeast-6', 'ap-southeast-7',
  'ca-central-1', 'ca-west-1',
  'eu-central-1', 'eu-central-2',
  'eu-north-1',
  'eu-south-1', 'eu-south-2',
  'eu-west-1', 'eu-west-2', 'eu-west-3',
  'il-central-1',
  'me-central-1', 'me-south-1',
  'mx-central-1',
  'sa-east-1',
  'us-east-1', 'us-east-2',
  'us-west-1', 'us-west-2',
  'cn-north-1', 'cn-northwest-1',
  'us-gov-east-1', 'us-gov-west-1',
  'eusc-de-east-1',
]

const KNOWN = new Set(KNOWN_REGIONS)

/** A 12-digit AWS account ID, else a usage error naming the flag. */
export function parseAccountId(text: string, flag: string): string {
  const v = text.trim()
  if (!ACCOUNT_ID.test(v)) throw usageError(`${flag} "${text}" is not an AWS account ID (12 digits).`, `Try this: ${flag} 111122223333`)
  return v
}

/** A known AWS region name, else a usage error with the nearest known names. */
export function parseRegionName(text: string, flag: string): string {
  const v = text.trim()
  if (KNOWN.has(v)) return v
  const near = nearestRegions(v)
  throw usageError(`${flag} "${text}" is not an AWS region.`, `Try this: ${flag} ${near.length > 0 ? near.join(',') : 'us-east-1,eu-west-1'}`)
}

function nearestRegions(text: string): string[] {
  const prefix = text.toLowerCase().split('-').slice(0, 2).join('-')
  const hits = KNOWN_REGIONS.filter((r) => r.startsWith(prefix))
  if (hits.length > 0) return hits.slice(0, 3)
  const head = text.toLowerCase().split('-')[0]
  return KNOWN_REGIONS.filter((r) => r.startsWith(`${head}-`)).slice(0, 3)
}

/** Account IDs of an --accounts-file: one a line; blank lines and `#` comments (whole-line or trailing) are skipped. */
export function parseAccountsFile(text: string, file: string): string[] {
  const out: string[] = []
  const lines = text.split(/\r?\n/)
  for (const [i, raw] of lines.entries()) {
    const line = raw.replace(/#.*$/, '').trim()
    if (!line) continue
    if (!ACCOUNT_ID.test(line)) {
      throw usageError(`--accounts-file ${file}, line ${i + 1}: "${line}" is not an AWS account ID (12 digits).`, 'Try this: one 12-digit account ID a line; # starts a comment.')
    }

    out.push(line)
  }

  if (out.length === 0) throw usageError(`--accounts-file ${file} names no account.`, 'Try this: one 12-digit account ID a line; # starts a comment.')
  return out
}

function readAccountsFile(file: string, read: (path: string) => string): string[] {
  let text: string
  try {
    text = read(file)
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    throw usageError(`--accounts-file ${file} cannot be read${code ? ` (${code})` : ''}.`, 'Try this: a path to a text file with one account ID a line.')
  }

  return parseAccountsFile(text, file)
}

/** The ARN of the role to assume in an account. */
export function roleArnFor(role: RoleSpec, account: string, partition = 'aws'): string {
  if (role.roleArn) return role.roleArn
  if (role.template) return role.template.replaceAll(ACCOUNT_PLACEHOLDER, account)
  return `arn:${partition}:iam::${account}:role/${role.roleName}`
}

/** The account a key or alias ARN belongs to (undefined for IDs and alias names). */
export function accountOfArn(ref: string): string | undefined {
  return /^arn:aws[a-z-]*:kms:[a-z0-9-]+:(\d{12}):/.exec(ref)?.[1]
}

/** The region a key or alias ARN names (undefined for IDs and alias names). */
export function regionOfArn(ref: string): string | undefined {
  return /^arn:aws[a-z-]*:kms:([a-z0-9-]+):\d{12}:/.exec(ref)?.[1]
}

/** --role-name / --role-arn-template / --external-id, validated; undefined when no role is named. */
export function parseRole(values: Pick<TargetFlagValues, 'externalId' | 'roleArnTemplate' | 'roleName'>, env: NodeJS.ProcessEnv = process.env): RoleSpec | undefined {
  if (values.roleName !== undefined && values.roleArnTemplate !== undefined) {
    throw usageError('--role-name and --role-arn-template both name the role to assume.', 'Try this: give one of them.')
  }

  let role: RoleSpec | undefined
  if (values.roleArnTemplate !== undefined) {
    const template = values.roleArnTemplate.trim()
    if (!template.includes(ACCOUNT_PLACEHOLDER)) {
      throw usageError(`--role-arn-template "${values.roleArnTemplate}" has no ${ACCOUNT_PLACEHOLDER} placeholder, so every account would assume the same role.`, "Try this: --role-arn-template 'arn:aws:iam::{account}:role/Ops'")
    }

    if (!ROLE_ARN.test(template.replaceAll(ACCOUNT_PLACEHOLDER, '111122223333'))) {
      throw usageError(`--role-arn-template "${values.roleArnTemplate}" does not make an IAM role ARN.`, "Try this: --role-arn-template 'arn:aws:iam::{account}:role/Ops'")
    }

    role = {template}
  } else {
    const fromEnv = values.roleName === undefined && env.KMSCTL_ROLE_NAME ? env.KMSCTL_ROLE_NAME : undefined
    const name = (values.roleName ?? fromEnv)?.trim()
    if (name !== undefined) {
      const flag = values.roleName === undefined ? 'KMSCTL_ROLE_NAME' : '--role-name'
      if (!ROLE_NAME.test(name)) {
        throw usageError(`${flag} "${name}" is not an IAM role name (1-64 letters, digits and +=,.@_-).`, 'Try this: --role-name OrganizationAccountAccessRole')
      }

      role = {roleName: name}
    }
  }

  if (values.externalId !== undefined) {
    if (!role) throw usageError('--external-id is given but no role to assume.', 'Try this: add --role-name NAME or --role-arn-template ARN.')
    if (!EXTERNAL_ID.test(values.externalId)) {
      throw usageError('--external-id must be 2 to 1,224 letters, digits and +=,.@:/_-.', 'Try this: --external-id the value the role\'s trust policy expects.')
    }

    role.externalId = values.externalId
  }

  return role
}

/** True when any account or region flag is given: the command fans out over account-regions. */
export function wantsFanOut(values: TargetFlagValues): boolean {
  return (
    splitList(values.accounts).length > 0 ||
    values.accountsFile !== undefined ||
    Boolean(values.org) ||
    splitList(values.regions).length > 0 ||
    Boolean(values.allRegions)
  )
}

/**
 * Validates the target flags. Returns undefined when none is given (the command works as it always
 * has). Naming accounts needs a role to reach them: the user names it (--role-name, --role-arn-template
 * or KMSCTL_ROLE_NAME); no conventional role is assumed silently.
 */
export function parseTargets(values: TargetFlagValues, options: {env?: NodeJS.ProcessEnv; readFile?: (path: string) => string} = {}): Targets | undefined {
  const env = options.env ?? process.env
  const read = options.readFile ?? ((p: string) => readFileSync(p, 'utf8'))
  const exclude = splitList(values.excludeAccounts).map((a) => parseAccountId(a, '--exclude-accounts'))
  const role = parseRole(values, env)
  if (values.maxParallel !== undefined && (!Number.isInteger(values.maxParallel) || values.maxParallel < 1 || values.maxParallel > MAX_PARALLEL_LIMIT)) {
    throw usageError(`--max-parallel ${values.maxParallel} is out of range.`, `Try this: --max-parallel ${DEFAULT_MAX_PARALLEL} (1 to ${MAX_PARALLEL_LIMIT})`)
  }

  if (!wantsFanOut(values)) {
    if (exclude.length > 0) throw usageError('--exclude-accounts needs the accounts to exclude from.', 'Try this: add --org, or --accounts / --accounts-file.')
    if (values.maxParallel !== undefined) throw usageError('--max-parallel needs several account-regions to work on.', 'Try this: add --org, --accounts, --regions or --all-regions.')
    return undefined
  }

  const named = splitList(values.accounts).map((a) => parseAccountId(a, '--accounts'))
  if (values.accountsFile !== undefined) named.push(...readAccountsFile(values.accountsFile, read))
  if (values.org && named.length > 0) {
    throw usageError('--org lists the organisation\'s accounts itself: --accounts and --accounts-file cannot be added to it.', 'Try this: --org --exclude-accounts 111122223333 to leave some out.')
  }

  let accounts: AccountSelection
  if (values.org) accounts = {exclude, kind: 'org'}
  else if (named.length > 0) {
    const unique = [...new Set(named)]
    const excluded = new Set(exclude)
    const kept = unique.filter((a) => !excluded.has(a))
    if (kept.length === 0) throw usageError('--exclude-accounts leaves no account to work on.', 'Try this: exclude fewer accounts.')
    accounts = {accounts: kept, exclude, kind: 'list'}
  } else {
    if (exclude.length > 0) throw usageError('--exclude-accounts needs the accounts to exclude from.', 'Try this: add --org, or --accounts / --accounts-file.')
    accounts = {kind: 'caller'}
  }

  if (accounts.kind !== 'caller' && !role) {
    throw usageError(
      'Working on other accounts needs the role to assume in each: kmsctl never assumes one silently.',
      'Try this: --role-name OrganizationAccountAccessRole (or the role your organisation uses), --role-arn-template, or export KMSCTL_ROLE_NAME.',
    )
  }

  const regionList = splitList(values.regions)
  if (regionList.length > 0 && values.allRegions) throw usageError('--regions and --all-regions both choose the regions.', 'Try this: give one of them.')
  const regions: RegionSelection = values.allRegions
    ? {kind: 'enabled'}
    : regionList.length > 0
      ? {kind: 'list', regions: [...new Set(regionList.map((r) => parseRegionName(r, '--regions')))]}
      : {kind: 'default'}

  return {accounts, maxParallel: values.maxParallel ?? DEFAULT_MAX_PARALLEL, regions, ...(role ? {role} : {})}
}

/**
 * The RoleSessionName kmsctl uses: `kmsctl-<caller>`, where caller is the last part of the caller's
 * ARN (user name, or the session name of an assumed role), cut to STS's 2-64 characters of [\w+=,.@-].
 */
export function sessionNameFor(callerArn: string | undefined): string {
  const last = (callerArn ?? '').split(/[/:]/).pop() ?? ''
  const clean = last.replaceAll(/[^\w+=,.@-]/g, '-')
  const name = clean ? `kmsctl-${clean}` : 'kmsctl'
  return name.slice(0, 64)
}
