// The sandbox's organisation, kept in the sandbox directory (organization.json): the management
// account (the sandbox account), its member accounts and, in each, the IAM roles other accounts may
// assume (as Organizations does for the accounts it creates: OrganizationAccountAccessRole, trusting
// the management account). Also the enabled regions of each account, for account:ListRegions, and the
// secret that signs the temporary credentials STS hands out. A running server sees changes at once:
// the file is re-read whenever it changes on disk.
import {createHash, randomBytes} from 'node:crypto'
import {mkdirSync, readFileSync} from 'node:fs'
import {join} from 'node:path'

import lockfile from 'proper-lockfile'

import {usageError} from '../../lib/errors.js'
import {SANDBOX_ACCOUNT} from '../constants.js'
import {fileSignature} from '../store/signature.js'
import {writeAtomic} from '../store/store.js'

export const ORGANIZATION_FILE = 'organization.json'
const ORGANIZATION_LOCK = 'organization.lock'

/** Organizations' conventional cross-account role, created in each account the organisation adds. */
export const DEFAULT_ROLE_NAME = 'OrganizationAccountAccessRole'

/** Regions every sandbox account has enabled by default (account:ListRegions ENABLED_BY_DEFAULT). */
export const DEFAULT_REGIONS: readonly string[] = [
  'ap-northeast-1', 'ap-northeast-2', 'ap-northeast-3', 'ap-south-1', 'ap-southeast-1', 'ap-southeast-2',
  'ca-central-1', 'eu-central-1', 'eu-north-1', 'eu-west-1', 'eu-west-2', 'eu-west-3',
  'sa-east-1', 'us-east-1', 'us-east-2', 'us-west-1', 'us-west-2',
]

/** Opt-in regions (DISABLED until enabled). */
export const OPT_IN_REGIONS: readonly string[] = [
  'af-south-1', 'ap-east-1', 'ap-south-2', 'ap-southeast-3', 'ap-southeast-4', 'ca-west-1', 'eu-central-2', 'eu-south-1',
  'eu-south-2', 'il-central-1', 'me-central-1', 'me-south-1', 'mx-central-1',
]

export interface RoleRecord {
  /** Principals the trust policy allows to assume the role: account root ARNs (the whole account) or principal ARNs. */
  trust: string[]
  /** IAM actions the role's policies allow (AdministratorAccess for the organisation's role: "*"). */
  iamAllow: string[]
  /** Required sts:ExternalId, when the trust policy has that condition. */
  externalId?: string
  maxSessionDuration: number
  createdAt: number
}

export interface AccountRecord {
  id: string
  name: string
  email: string
  status: 'ACTIVE' | 'PENDING_CLOSURE' | 'SUSPENDED'
  joinedMethod: 'CREATED' | 'INVITED'
  joinedAt: number
  roles: Record<string, RoleRecord>
  /** Regions this account works in: when absent, every region enabled by default. */
  regions?: string[]
}

export interface OrganizationFile {
  accounts: Record<string, AccountRecord>
  createdAt: number
  /** o-xxxxxxxxxx */
  id: string
  managementAccount: string
  /** Signs the session tokens of assumed roles (the sandbox is not for real data: this is no secret of value). */
  sessionSecret: string
  version: 1
}

export function organizationPath(dir: string): string {
  return join(dir, ORGANIZATION_FILE)
}

export function readOrganizationFile(dir: string): OrganizationFile | undefined {
  let text: string
  try {
    text = readFileSync(organizationPath(dir), 'utf8')
  } catch {
    return undefined
  }

  const parsed = JSON.parse(text) as OrganizationFile
  if (!parsed || parsed.version !== 1 || typeof parsed.accounts !== 'object') {
    throw new Error(`${ORGANIZATION_FILE} in the sandbox directory is not a kmsctl organisation file (version 1).`)
  }

  return parsed
}

const ID_ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789'

function organizationId(): string {
  const bytes = randomBytes(10)
  return 'o-' + [...bytes].map((b) => ID_ALPHABET[b % ID_ALPHABET.length]).join('')
}

export function newOrganization(nowMs: number, management = SANDBOX_ACCOUNT): OrganizationFile {
  return {
    accounts: {
      [management]: {email: `management+${management}@example.com`, id: management, joinedAt: nowMs, joinedMethod: 'CREATED', name: 'Management', roles: {}, status: 'ACTIVE'},
    },
    createdAt: nowMs,
    id: organizationId(),
    managementAccount: management,
    sessionSecret: randomBytes(32).toString('hex'),
    version: 1,
  }
}

/** The organisation's role in a new account: trusting the management account, administrator access. */
export function organizationRole(management: string, nowMs: number): RoleRecord {
  return {createdAt: nowMs, iamAllow: ['*'], maxSessionDuration: 3600, trust: [`arn:aws:iam::${management}:root`]}
}

/** Reads the organisation, re-reading the file only when it changed on disk. */
export class OrganizationSource {
  readonly dir: string
  private cache?: {file: OrganizationFile | undefined; signature: string}

  constructor(dir: string) {
    this.dir = dir
  }

  current(): OrganizationFile | undefined {
    const signature = fileSignature(organizationPath(this.dir))
    if (this.cache?.signature === signature) return this.cache.file
    let file: OrganizationFile | undefined
    try {
      file = readOrganizationFile(this.dir)
    } catch {
      file = this.cache?.file
    }

    this.cache = {file, signature}
    return file
  }
}

async function withOrganizationLock<T>(dir: string, fn: (file: OrganizationFile | undefined) => {file?: OrganizationFile; result: T}): Promise<T> {
  mkdirSync(dir, {recursive: true})
  const release = await lockfile.lock(dir, {
    lockfilePath: join(dir, ORGANIZATION_LOCK),
    realpath: false,
    retries: {factor: 1.3, maxTimeout: 100, minTimeout: 5, randomize: true, retries: 100},
    stale: 4000,
  })
  try {
    const {file, result} = fn(readOrganizationFile(dir))
    if (file) writeAtomic(organizationPath(dir), JSON.stringify(file, null, 2) + '\n')
    return result
  } finally {
    await release().catch(() => {})
  }
}

export interface AccountRow {
  id: string
  name: string
  email: string
  status: string
  management: boolean
  roles: string[]
  regions: string[]
}

function accountRow(org: OrganizationFile, a: AccountRecord): AccountRow {
  return {
    email: a.email,
    id: a.id,
    management: a.id === org.managementAccount,
    name: a.name,
    regions: a.regions ?? [...DEFAULT_REGIONS],
    roles: Object.keys(a.roles).sort(),
    status: a.status,
  }
}

export function listAccounts(dir: string): AccountRow[] {
  const org = readOrganizationFile(dir)
  if (!org) return []
  return Object.values(org.accounts)
    .sort((a, b) => (a.id === org.managementAccount ? -1 : b.id === org.managementAccount ? 1 : a.joinedAt - b.joinedAt || a.id.localeCompare(b.id)))
    .map((a) => accountRow(org, a))
}

export interface AddAccountInput {
  id: string
  name?: string
  email?: string
  /** The role created in the account (default OrganizationAccountAccessRole); none when `noRole`. */
  roleName?: string
  noRole?: boolean
  regions?: string[]
  externalId?: string
  dryRun?: boolean
  nowMs: number
}

export interface AddAccountResult {
  account: AccountRow
  /** False when an identical account already existed. */
  changed: boolean
  dryRun: boolean
  organizationId: string
}

const ACCOUNT_ID = /^\d{12}$/
const ROLE_NAME = /^[\w+=,.@-]{1,64}$/

/** Adds a member account (creating the organisation on first use), with its cross-account role. */
export async function addAccount(dir: string, input: AddAccountInput): Promise<AddAccountResult> {
  const id = input.id.trim()
  if (!ACCOUNT_ID.test(id)) throw usageError(`"${input.id}" is not an AWS account ID (12 digits).`, 'Try this: kmsctl sandbox account add 444455556666 --name payments')
  const roleName = input.roleName?.trim() ?? DEFAULT_ROLE_NAME
  if (!ROLE_NAME.test(roleName)) throw usageError(`--role-name "${roleName}" is not an IAM role name.`, `Try this: --role-name ${DEFAULT_ROLE_NAME}`)
  if (input.name !== undefined && (input.name.trim().length === 0 || input.name.length > 50)) throw usageError('--name must be 1 to 50 characters.', 'Try this: --name payments-prod')
  return withOrganizationLock(dir, (current) => {
    const org = current ?? newOrganization(input.nowMs)
    if (id === org.managementAccount) throw usageError(`${id} is the management account of the sandbox organisation.`, 'Try this: another 12-digit account ID.')
    const existing = org.accounts[id]
    const name = input.name?.trim() ?? existing?.name ?? `account-${id.slice(-4)}`
    const record: AccountRecord = {
      email: input.email ?? existing?.email ?? `aws+${id}@example.com`,
      id,
      joinedAt: existing?.joinedAt ?? input.nowMs,
      joinedMethod: 'CREATED',
      name,
      roles: {...existing?.roles},
      status: existing?.status ?? 'ACTIVE',
      ...(input.regions ? {regions: [...input.regions]} : existing?.regions ? {regions: existing.regions} : {}),
    }
    if (!input.noRole && !record.roles[roleName]) {
      record.roles[roleName] = {...organizationRole(org.managementAccount, input.nowMs), ...(input.externalId ? {externalId: input.externalId} : {})}
    }

    const changed = !existing || JSON.stringify(existing) !== JSON.stringify(record)
    const next: OrganizationFile = {...org, accounts: {...org.accounts, [id]: record}}
    const result = {account: accountRow(next, record), changed, dryRun: Boolean(input.dryRun), organizationId: org.id}
    return {file: changed && !input.dryRun ? next : undefined, result}
  })
}

export interface SeedResult {
  accounts: AccountRow[]
  organizationId: string
}

/** The seeded organisation of the tests and the walkthrough: three member accounts. */
export const SEED_ACCOUNTS: ReadonlyArray<{id: string; name: string}> = [
  {id: '222233334444', name: 'payments-prod'},
  {id: '444455556666', name: 'payments-dev'},
  {id: '555566667777', name: 'analytics'},
]

export async function seedOrganization(dir: string, nowMs: number, accounts = SEED_ACCOUNTS, regions?: string[]): Promise<SeedResult> {
  let organizationId = ''
  for (const a of accounts) {
    // eslint-disable-next-line no-await-in-loop
    organizationId = (await addAccount(dir, {id: a.id, name: a.name, nowMs, ...(regions ? {regions} : {})})).organizationId
  }

  if (regions) await setManagementRegions(dir, regions)
  return {accounts: listAccounts(dir), organizationId}
}

/** The regions the management account has enabled. */
export async function setManagementRegions(dir: string, regions: string[]): Promise<void> {
  await withOrganizationLock(dir, (current) => {
    const org = current ?? newOrganization(Date.now())
    const management = org.accounts[org.managementAccount]
    return {file: {...org, accounts: {...org.accounts, [org.managementAccount]: {...management, regions: [...regions]}}}, result: undefined}
  })
}

/** An account's ARN as Organizations names it. */
export function accountArn(org: OrganizationFile, account: string): string {
  return `arn:aws:organizations::${org.managementAccount}:account/${org.id}/${account}`
}

export function organizationArn(org: OrganizationFile): string {
  return `arn:aws:organizations::${org.managementAccount}:organization/${org.id}`
}

/** A digest of a string, for stable IDs derived from names. */
export function digest(text: string): string {
  return createHash('sha256').update(text).digest('hex')
}
