// Who is calling: the sandbox's principals. A map, kept in the sandbox directory (principals.json), from the access key
// ID a request is signed with to the principal it acts as (an IAM user, an assumed-role session or an
// account root, in the sandbox account or another one) and the KMS actions its IAM policies would allow.
// The sandbox has no IAM: `iamAllow` stands for the caller's identity-based policies.
//
// The default administrator (the access key kmsctl --sandbox signs with) is an IAM user of the sandbox
// account with kms:*; an access key not in the map acts as that administrator. Every request must be
// signed (identity/authenticate.ts); the signature is checked where the sandbox knows the secret: the
// default credentials, and principals added with one. A running server sees
// changes at once: the file is re-read whenever it changes on disk.
import {readFileSync} from 'node:fs'
import {join} from 'node:path'

import lockfile from 'proper-lockfile'

import {usageError} from '../../lib/errors.js'
import {KMS_ACTIONS} from '../../lib/policy/actions.js'
import {globMatch} from '../../lib/glob.js'
import {DEFAULT_ACCESS_KEY_ID, DEFAULT_PRINCIPAL_ARN, DEFAULT_SECRET_ACCESS_KEY} from '../constants.js'
import {SandboxError} from '../errors.js'
import {fileSignature} from '../store/signature.js'
import {makePrivateDir, writeAtomic} from '../store/store.js'
import {type ParsedArn, parsePrincipalArn, principalFor} from './arn.js'

/** A caller as requests, CloudTrail and STS see it. */
export interface Principal {
  accessKeyId: string
  accountId: string
  arn: string
  /** AIDA... for IAM users, AROA...:SESSION for assumed roles, the account ID for root. */
  principalId: string
  type: 'AssumedRole' | 'IAMUser' | 'Root'
  userName?: string
  /** CloudTrail's userIdentity for this caller (see identity/arn.ts). */
  trailIdentity?: Record<string, unknown>
  /** An assumed-role session of the sandbox organisation: its full userIdentity, in any account's trail. */
  sessionIdentity?: Record<string, unknown>
}

/** The fixed principal ID of the default administrator. */
export const DEFAULT_PRINCIPAL_ID = 'AIDAKMSCTLSANDBOXADMIN'

export const PRINCIPALS_FILE = 'principals.json'
const PRINCIPALS_LOCK = 'principals.lock'
export const ADMIN_IAM_ALLOW: readonly string[] = ['kms:*']

export interface PrincipalEntry {
  arn: string
  /** KMS actions the principal's IAM policies allow (wildcards as in IAM: kms:*, kms:Describe*). */
  iamAllow: string[]
  /** ISO time it was added (the session's creation time for an assumed role). */
  addedAt: string
  /** Calls come through this AWS service (kms:ViaService), e.g. "s3.us-east-1.amazonaws.com". */
  viaService?: string
  /** When set, requests signed with this access key must carry a valid SigV4 signature made with it. */
  secretAccessKey?: string
}

export interface PrincipalsFile {
  principals: Record<string, PrincipalEntry>
  version: 1
}

/** A caller as enforcement sees it. */
export interface ResolvedPrincipal {
  iamAllow: readonly string[]
  /** True when the access key is not in the map (or is the default one): the default administrator. */
  isDefault: boolean
  parsed: ParsedArn
  principal: Principal
  viaService?: string
}

export function principalsPath(dir: string): string {
  return join(dir, PRINCIPALS_FILE)
}

export function readPrincipalsFile(dir: string): PrincipalsFile {
  let text: string
  try {
    text = readFileSync(principalsPath(dir), 'utf8')
  } catch {
    return {principals: {}, version: 1}
  }

  const parsed = JSON.parse(text) as PrincipalsFile
  if (!parsed || parsed.version !== 1 || typeof parsed.principals !== 'object') {
    throw new Error(`${PRINCIPALS_FILE} in the sandbox directory is not a kmsctl principals file (version 1).`)
  }

  return parsed
}

/** Does the principal's IAM allow list allow this action? (IAM matches action names case-insensitively.) */
export function iamAllows(iamAllow: readonly string[], action: string): boolean {
  return iamAllow.some((pattern) => globMatch(pattern, action, true))
}

const ACCESS_KEY_ID = /^[A-Z0-9]{16,128}$/

export function validateAccessKeyId(id: string): string {
  const v = id.trim()
  if (!ACCESS_KEY_ID.test(v)) {
    throw usageError(`"${id}" is not an access key ID (16 to 128 upper-case letters and digits).`, 'Try this: AKIAEXAMPLEREADER001')
  }

  return v
}

/** A secret access key: 16 to 128 printable characters without spaces. */
export function validateSecretAccessKey(secret: string): string {
  if (!/^[\x21-\x7e]{16,128}$/.test(secret)) {
    throw usageError('The secret access key must be 16 to 128 printable characters without spaces.', 'Try this: --secret-access-key "$AWS_SECRET_ACCESS_KEY" (the secret the client signs with)')
  }

  return secret
}

function withoutSecret(entry: PrincipalEntry): PrincipalEntry {
  const {secretAccessKey: _secret, ...rest} = entry
  return rest
}

const VIA_SERVICE = /^[a-z0-9-]+\.[a-z]{2}(-[a-z]+)+-\d+\.amazonaws\.com$/

export function validateViaService(text: string): string {
  const v = text.trim()
  if (!VIA_SERVICE.test(v)) throw usageError(`--via-service "${text}" is not a service endpoint name.`, 'Try this: --via-service s3.us-east-1.amazonaws.com')
  return v
}

/** "s3.us-east-1.amazonaws.com" -> "s3.amazonaws.com", as CloudTrail's invokedBy names a service. */
export function serviceHost(viaService: string): string {
  return `${viaService.split('.')[0]}.amazonaws.com`
}

/** The S3 actions the sandbox's S3 checks. */
export const S3_ACTIONS = ['s3:GetObject', 's3:ListAllMyBuckets', 's3:ListBucket', 's3:PutObject'] as const

/** Normalises --iam-allow values ("Decrypt" -> "kms:Decrypt"); each must name at least one KMS action, or one of S3_ACTIONS. */
export function normaliseIamAllow(values: readonly string[]): string[] {
  const out: string[] = []
  for (const raw of values) {
    const v = raw.trim()
    if (!v) continue
    const action = v === '*' ? '*' : v.includes(':') ? v : `kms:${v}`
    const s3 = /^s3:[A-Za-z*?]+$/i.test(action) && S3_ACTIONS.some((a) => globMatch(action, a, true))
    if (!s3 && (!/^(\*|kms:[A-Za-z*?]+)$/i.test(action) || !KMS_ACTIONS.some((a) => globMatch(action, a, true)))) {
      throw usageError(`--iam-allow "${raw}" names no KMS action.`, 'Try this: --iam-allow kms:Decrypt,kms:DescribeKey (wildcards: kms:*, kms:Describe*; S3: s3:ListBucket, s3:GetObject, s3:PutObject)')
    }

    if (!out.includes(action)) out.push(action)
  }

  return out
}

/** Reads the map and answers who an access key is, re-reading the file only when it changed. */
export class PrincipalDirectory {
  readonly dir: string
  private cache?: {file: PrincipalsFile; signature: string}
  private readonly resolved = new Map<string, ResolvedPrincipal>()

  constructor(dir: string) {
    this.dir = dir
  }

  /** The secret the sandbox knows for an access key (the default credentials, or a principal's), if any. */
  secretOf(accessKeyId: string): string | undefined {
    const entry = this.file().principals[accessKeyId]
    return entry?.secretAccessKey ?? (accessKeyId === DEFAULT_ACCESS_KEY_ID ? DEFAULT_SECRET_ACCESS_KEY : undefined)
  }

  resolve(accessKeyId: string): ResolvedPrincipal {
    const file = this.file()
    const key = accessKeyId || DEFAULT_ACCESS_KEY_ID
    let hit = this.resolved.get(key)
    if (hit) return hit
    const entry = file.principals[key]
    if (entry) {
      let parsed: ParsedArn
      try {
        parsed = parsePrincipalArn(entry.arn)
      } catch {
        // A hand-edited file: refuse the caller rather than guess who it is.
        throw new SandboxError('AccessDeniedException', `The sandbox maps ${key} to "${entry.arn}", which is not a principal it can act as: fix it with kmsctl sandbox principal add --replace.`)
      }

      const isAdminArn = entry.arn === DEFAULT_PRINCIPAL_ARN
      const principal = principalFor(parsed, {accessKeyId: key, principalId: isAdminArn ? DEFAULT_PRINCIPAL_ID : undefined, sessionCreatedMs: Date.parse(entry.addedAt) || 0})
      // A call made by an AWS service on the principal's behalf names the service in invokedBy.
      if (entry.viaService && principal.trailIdentity) principal.trailIdentity = {...principal.trailIdentity, invokedBy: serviceHost(entry.viaService)}
      hit = {iamAllow: entry.iamAllow, isDefault: false, parsed, principal, ...(entry.viaService ? {viaService: entry.viaService} : {})}
    } else {
      const parsed = parsePrincipalArn(DEFAULT_PRINCIPAL_ARN)
      hit = {iamAllow: ADMIN_IAM_ALLOW, isDefault: true, parsed, principal: principalFor(parsed, {accessKeyId: key, principalId: DEFAULT_PRINCIPAL_ID})}
    }

    if (this.resolved.size > 1000) this.resolved.clear()
    this.resolved.set(key, hit)
    return hit
  }

  private file(): PrincipalsFile {
    const signature = fileSignature(principalsPath(this.dir))

    if (this.cache?.signature === signature) return this.cache.file
    let file: PrincipalsFile
    try {
      file = readPrincipalsFile(this.dir)
    } catch {
      // A damaged file: keep what was read before rather than fail every request.
      file = this.cache?.file ?? {principals: {}, version: 1}
    }

    this.cache = {file, signature}
    this.resolved.clear()
    return file
  }
}

async function withPrincipalsLock<T>(dir: string, fn: (file: PrincipalsFile) => {result: T; write: boolean}): Promise<T> {
  makePrivateDir(dir)
  const release = await lockfile.lock(dir, {
    lockfilePath: join(dir, PRINCIPALS_LOCK),
    realpath: false,
    retries: {factor: 1.3, maxTimeout: 100, minTimeout: 5, randomize: true, retries: 100},
    stale: 4000,
  })
  try {
    const file = readPrincipalsFile(dir)
    const {result, write} = fn(file)
    if (write) writeAtomic(principalsPath(dir), JSON.stringify(file, null, 2) + '\n')
    return result
  } finally {
    await release().catch(() => {})
  }
}

export interface PrincipalRow {
  accessKeyId: string
  accountId: string
  arn: string
  /** True for the built-in administrator row (not stored in the file). */
  builtIn: boolean
  /** True when the principal is in another account than the sandbox's. */
  crossAccount: boolean
  iamAllow: string[]
  type: string
  /** True when the sandbox knows the access key's secret and checks each request's signature with it. */
  verifiesSignature: boolean
  viaService?: string
}

function row(accessKeyId: string, entry: Pick<PrincipalEntry, 'arn' | 'iamAllow' | 'secretAccessKey' | 'viaService'>, builtIn: boolean, sandboxAccount: string): PrincipalRow {
  const parsed = parsePrincipalArn(entry.arn)
  return {
    accessKeyId,
    accountId: parsed.accountId,
    arn: entry.arn,
    builtIn,
    crossAccount: parsed.accountId !== sandboxAccount,
    iamAllow: [...entry.iamAllow],
    type: parsed.kind,
    verifiesSignature: Boolean(entry.secretAccessKey) || accessKeyId === DEFAULT_ACCESS_KEY_ID,
    ...(entry.viaService ? {viaService: entry.viaService} : {}),
  }
}

export function listPrincipals(dir: string, sandboxAccount: string): PrincipalRow[] {
  const file = readPrincipalsFile(dir)
  const rows: PrincipalRow[] = []
  if (!file.principals[DEFAULT_ACCESS_KEY_ID]) rows.push(row(DEFAULT_ACCESS_KEY_ID, {arn: DEFAULT_PRINCIPAL_ARN, iamAllow: [...ADMIN_IAM_ALLOW]}, true, sandboxAccount))
  for (const [id, entry] of Object.entries(file.principals).sort(([a], [b]) => a.localeCompare(b))) rows.push(row(id, entry, false, sandboxAccount))
  return rows
}

export interface AddPrincipalInput {
  accessKeyId: string
  arn: string
  dryRun?: boolean
  iamAllow: string[]
  nowMs: number
  /** Replace an existing mapping of the same access key. */
  replace?: boolean
  /** The access key's secret: requests signed with the access key must then carry a valid signature. */
  secretAccessKey?: string
  viaService?: string
}

export interface AddPrincipalResult {
  /** What the access key mapped to before (when replaced). */
  previous?: PrincipalEntry
  principal: PrincipalRow
  /** False when the same mapping already existed. */
  changed: boolean
  dryRun: boolean
}

export async function addPrincipal(dir: string, input: AddPrincipalInput, sandboxAccount: string): Promise<AddPrincipalResult> {
  const accessKeyId = validateAccessKeyId(input.accessKeyId)
  const parsed = parsePrincipalArn(input.arn)
  const iamAllow = normaliseIamAllow(input.iamAllow)
  const viaService = input.viaService === undefined ? undefined : validateViaService(input.viaService)
  const secretAccessKey = input.secretAccessKey === undefined ? undefined : validateSecretAccessKey(input.secretAccessKey)
  const entry: PrincipalEntry = {
    addedAt: new Date(input.nowMs).toISOString(),
    arn: parsed.arn,
    iamAllow,
    ...(secretAccessKey ? {secretAccessKey} : {}),
    ...(viaService ? {viaService} : {}),
  }
  return withPrincipalsLock(dir, (file) => {
    const previous = file.principals[accessKeyId]
    const same =
      previous &&
      previous.arn === entry.arn &&
      JSON.stringify(previous.iamAllow) === JSON.stringify(entry.iamAllow) &&
      previous.viaService === entry.viaService &&
      previous.secretAccessKey === entry.secretAccessKey
    if (previous && !same && !input.replace) {
      throw usageError(`Access key ${accessKeyId} already acts as ${previous.arn}.`, `Try this: add --replace to change it, or remove it first: kmsctl sandbox principal remove ${accessKeyId}`)
    }

    const result: AddPrincipalResult = {
      changed: !same,
      dryRun: Boolean(input.dryRun),
      principal: row(accessKeyId, entry, false, sandboxAccount),
      // What it acted as before, never its secret.
      ...(previous && !same ? {previous: withoutSecret(previous)} : {}),
    }
    if (!same && !input.dryRun) file.principals[accessKeyId] = entry
    return {result, write: !same && !input.dryRun}
  })
}

export interface RemovePrincipalResult {
  dryRun: boolean
  removed: PrincipalRow
}

export async function removePrincipal(dir: string, accessKeyId: string, sandboxAccount: string, dryRun = false): Promise<RemovePrincipalResult> {
  const id = validateAccessKeyId(accessKeyId)
  return withPrincipalsLock(dir, (file) => {
    const entry = file.principals[id]
    if (!entry) {
      const builtIn = id === DEFAULT_ACCESS_KEY_ID ? ' (the built-in administrator cannot be removed)' : ''
      throw usageError(`No principal with access key ${id}${builtIn}.`, 'Try this: kmsctl sandbox principal list')
    }

    const removed = row(id, entry, false, sandboxAccount)
    if (!dryRun) delete file.principals[id]
    return {result: {dryRun, removed}, write: !dryRun}
  })
}
