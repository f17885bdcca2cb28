// CloudTrail in the sandbox: the record of each KMS call (AWS's shape), LookupEvents with AWS's
// rules, and the export of records as CloudTrail log files in the S3 layout.
import {createHash, randomBytes, randomUUID} from 'node:crypto'
import {mkdirSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {gzipSync} from 'node:zlib'

import {DAY_MS} from './clock.js'
import {SANDBOX_ACCOUNT} from './constants.js'
import {err} from './errors.js'
import type {Principal} from './principals.js'
import type {TrailRecord} from './store.js'

/** Request members that carry data, never written to CloudTrail. */
const SECRET_MEMBERS = new Set(['Plaintext', 'CiphertextBlob', 'Message', 'Signature', 'Mac', 'PublicKey', 'GrantTokens', 'GrantToken'])
/** Maps whose keys are the caller's data, kept verbatim. */
const MAP_MEMBERS = new Set(['EncryptionContext', 'SourceEncryptionContext', 'DestinationEncryptionContext', 'EncryptionContextEquals', 'EncryptionContextSubset'])

function lowerCamel(value: unknown, member = ''): unknown {
  if (MAP_MEMBERS.has(member)) return value
  if (Array.isArray(value)) return value.map((v) => lowerCamel(v))
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {}
    for (const [k, v] of Object.entries(value)) {
      if (SECRET_MEMBERS.has(k)) continue
      out[k.charAt(0).toLowerCase() + k.slice(1)] = lowerCamel(v, k)
    }

    return out
  }

  return value
}

/** requestParameters: the request as sent, lowerCamelCase, without plaintext, ciphertext, messages or tokens. */
export function requestParameters(operation: string, input: Record<string, any>): Record<string, unknown> | null {
  const params = lowerCamel(input) as Record<string, unknown>
  // KMS records the algorithm it used even when the caller left it to the default.
  if (['Encrypt', 'Decrypt'].includes(operation) && params.encryptionAlgorithm === undefined) params.encryptionAlgorithm = 'SYMMETRIC_DEFAULT'
  return Object.keys(params).length > 0 ? params : null
}

export function userIdentity(p: Principal): Record<string, unknown> {
  if (p.trailIdentity) return p.trailIdentity
  if (p.type === 'Root') return {accessKeyId: p.accessKeyId, accountId: p.accountId, arn: p.arn, principalId: p.accountId, type: 'Root'}
  return {
    accessKeyId: p.accessKeyId,
    accountId: p.accountId,
    arn: p.arn,
    principalId: p.principalId,
    type: p.type,
    ...(p.userName ? {userName: p.userName} : {}),
  }
}

export interface CallRecordInput {
  errorCode?: string
  errorMessage?: string
  eventTimeMs: number
  operation: string
  principal: Principal
  readOnly: boolean
  region: string
  requestId: string
  requestInput: Record<string, any>
  resources: string[]
  responseElements: Record<string, unknown> | null
  sourceIp: string
  userAgent: string
}

/** One KMS call as CloudTrail records it (eventVersion 1.11). */
export function kmsRecord(c: CallRecordInput): TrailRecord {
  const record: TrailRecord = {
    eventVersion: '1.11',
    userIdentity: userIdentity(c.principal),
    eventTime: new Date(c.eventTimeMs).toISOString().replace(/\.\d{3}Z$/, 'Z'),
    eventSource: 'kms.amazonaws.com',
    eventName: c.operation,
    awsRegion: c.region,
    sourceIPAddress: c.sourceIp,
    userAgent: c.userAgent,
  }
  if (c.errorCode) {
    record.errorCode = c.errorCode
    record.errorMessage = c.errorMessage ?? ''
  }

  record.requestParameters = requestParameters(c.operation, c.requestInput)
  record.responseElements = c.errorCode ? null : c.responseElements
  record.requestID = c.requestId
  record.eventID = randomUUID()
  record.readOnly = c.readOnly
  if (c.resources.length > 0) record.resources = c.resources.map((arn) => ({accountId: arn.split(':')[4] || SANDBOX_ACCOUNT, type: 'AWS::KMS::Key', ARN: arn}))
  record.eventType = 'AwsApiCall'
  record.managementEvent = true
  record.recipientAccountId = recipientOf(c)
  record.eventCategory = 'Management'
  return record
}

/** The account whose trail records a call: the key's, or the caller's for calls on no key. */
function recipientOf(c: CallRecordInput): string {
  return c.resources[0]?.split(':')[4] || c.principal.accountId || SANDBOX_ACCOUNT
}

/**
 * The records of one KMS call: in the key's account; and, when the caller is in another account,
 * in the caller's account too (with its full identity), both with the same sharedEventID.
 */
export function kmsRecords(c: CallRecordInput): TrailRecord[] {
  const record = kmsRecord(c)
  const recipient = record.recipientAccountId as string
  if (!c.principal.accountId || recipient === c.principal.accountId) {
    if (record.userIdentity?.type === 'AWSAccount' && c.principal.sessionIdentity) record.userIdentity = c.principal.sessionIdentity
    return [record]
  }

  const shared = randomUUID()
  record.userIdentity = {type: 'AWSAccount', principalId: c.principal.principalId, accountId: c.principal.accountId}
  record.sharedEventID = shared
  const own: TrailRecord = {...record, eventID: randomUUID(), recipientAccountId: c.principal.accountId, sharedEventID: shared, userIdentity: c.principal.sessionIdentity ?? fullIdentity(c.principal)}
  return [own, record]
}

function fullIdentity(p: Principal): Record<string, unknown> {
  if (p.trailIdentity && p.trailIdentity.type !== 'AWSAccount') return p.trailIdentity
  const {trailIdentity: _omit, ...rest} = p
  return userIdentity(rest)
}

// ---- LookupEvents --------------------------------------------------------------------------------
const ATTRIBUTE_KEYS = ['AccessKeyId', 'EventId', 'EventName', 'EventSource', 'ReadOnly', 'ResourceName', 'ResourceType', 'Username']

function username(r: TrailRecord): string | undefined {
  const u = r.userIdentity ?? {}
  if (u.userName) return u.userName
  if (u.type === 'Root') return 'root'
  if (u.type === 'AssumedRole' && typeof u.arn === 'string') return u.arn.split('/').pop()
  return undefined
}

function matches(r: TrailRecord, key: string, value: string): boolean {
  switch (key) {
    case 'AccessKeyId': {
      return r.userIdentity?.accessKeyId === value
    }

    case 'EventId': {
      return r.eventID === value
    }

    case 'EventName': {
      return r.eventName === value
    }

    case 'EventSource': {
      return r.eventSource === value
    }

    case 'ReadOnly': {
      return String(r.readOnly) === value
    }

    case 'ResourceName': {
      return Array.isArray(r.resources) && r.resources.some((x: {ARN?: string}) => x.ARN === value)
    }

    case 'ResourceType': {
      return Array.isArray(r.resources) && r.resources.some((x: {type?: string}) => x.type === value)
    }

    case 'Username': {
      return username(r) === value
    }

    default: {
      return false
    }
  }
}

function timeArg(v: unknown, name: string): number | undefined {
  if (v === undefined || v === null) return undefined
  if (typeof v === 'number') return v * 1000
  if (typeof v === 'string' && !Number.isNaN(Date.parse(v))) return Date.parse(v)
  throw err('InvalidTimeRangeException', `${name} is not a valid time.`)
}

export function lookupEvents(records: TrailRecord[], input: Record<string, any>, region: string, nowMs: number, account: string = SANDBOX_ACCOUNT): Record<string, unknown> {
  const attrs = input.LookupAttributes
  if (attrs !== undefined && attrs !== null && !Array.isArray(attrs)) throw err('InvalidLookupAttributesException', 'LookupAttributes must be a list.')
  const list = (attrs ?? []) as Array<{AttributeKey?: string; AttributeValue?: string}>
  if (list.length > 1) throw err('InvalidLookupAttributesException', 'You cannot specify more than one lookup attribute.')
  const attr = list[0]
  if (attr) {
    if (!attr.AttributeKey || !ATTRIBUTE_KEYS.includes(attr.AttributeKey)) {
      throw err('InvalidLookupAttributesException', `The lookup attribute key ${attr.AttributeKey ?? 'null'} is not valid. Valid keys: ${ATTRIBUTE_KEYS.join(', ')}.`)
    }

    if (typeof attr.AttributeValue !== 'string' || attr.AttributeValue.length === 0 || attr.AttributeValue.length > 2000) {
      throw err('InvalidLookupAttributesException', 'The lookup attribute value must be 1 to 2000 characters long.')
    }
  }

  const max = input.MaxResults ?? 50
  if (typeof max !== 'number' || !Number.isInteger(max) || max < 1 || max > 50) {
    throw err('InvalidMaxResultsException', 'MaxResults must be an integer from 1 to 50.')
  }

  const oldest = nowMs - 90 * DAY_MS
  const start = timeArg(input.StartTime, 'StartTime')
  const end = timeArg(input.EndTime, 'EndTime')
  if (start !== undefined && end !== undefined && start > end) throw err('InvalidTimeRangeException', 'Start time must be earlier than or equal to end time.')
  const from = Math.max(oldest, start ?? oldest)
  const to = end ?? Number.POSITIVE_INFINITY
  const category = input.EventCategory
  if (category !== undefined && category !== null && category !== 'insight') throw err('InvalidEventCategoryException', `Event category ${category} is not valid.`)
  const queryHash = createHash('sha256')
    .update(JSON.stringify([attr?.AttributeKey, attr?.AttributeValue, input.StartTime ?? null, input.EndTime ?? null, category ?? null]))
    .digest('hex')
    .slice(0, 16)
  let cursor: {i: number; t: number} | undefined
  if (input.NextToken !== undefined && input.NextToken !== null) {
    try {
      const parsed = JSON.parse(Buffer.from(String(input.NextToken), 'base64').toString('utf8'))
      if (parsed.q !== queryHash || typeof parsed.t !== 'number' || typeof parsed.i !== 'number') throw new Error('mismatch')
      cursor = {i: parsed.i, t: parsed.t}
    } catch {
      throw err('InvalidNextTokenException', 'The NextToken is not valid for this request.')
    }
  }

  if (category === 'insight') return {Events: []}
  const hits: Array<{i: number; r: TrailRecord; t: number}> = []
  for (let i = records.length - 1; i >= 0; i--) {
    const r = records[i]
    if (r.awsRegion !== region) continue
    // Each account's trail holds the events recorded in that account.
    if ((r.recipientAccountId ?? SANDBOX_ACCOUNT) !== account) continue
    const t = Date.parse(r.eventTime)
    if (t < from || t > to) continue
    if (attr && !matches(r, attr.AttributeKey!, attr.AttributeValue!)) continue
    if (cursor && (t > cursor.t || (t === cursor.t && i >= cursor.i))) continue
    hits.push({i, r, t})
  }

  // Newest first; records of the same second in the order they were appended, newest first.
  hits.sort((a, b) => b.t - a.t || b.i - a.i)
  const pageHits = hits.slice(0, max)
  const out: Record<string, unknown> = {Events: pageHits.map(({r}) => lookupEntry(r))}
  if (hits.length > max) {
    const last = pageHits.at(-1)!
    out.NextToken = Buffer.from(JSON.stringify({i: last.i, q: queryHash, t: last.t})).toString('base64')
  }

  return out
}

function lookupEntry(r: TrailRecord): Record<string, unknown> {
  const user = username(r)
  return {
    ...(r.userIdentity?.accessKeyId ? {AccessKeyId: r.userIdentity.accessKeyId} : {}),
    CloudTrailEvent: JSON.stringify(r),
    EventId: r.eventID,
    EventName: r.eventName,
    EventSource: r.eventSource,
    EventTime: Date.parse(r.eventTime) / 1000,
    ReadOnly: String(r.readOnly),
    Resources: Array.isArray(r.resources) ? r.resources.map((x: {ARN: string; type: string}) => ({ResourceName: x.ARN, ResourceType: x.type})) : [],
    ...(user ? {Username: user} : {}),
  }
}

// ---- Export as CloudTrail log files ---------------------------------------------------------------
export interface ExportResult {
  files: string[]
  records: number
}

/**
 * Writes records as CloudTrail delivers them to S3:
 * AWSLogs/<acct>/CloudTrail/<region>/YYYY/MM/DD/<acct>_CloudTrail_<region>_YYYYMMDDTHHmmZ_<16 chars>.json.gz,
 * one file per region and 5-minute delivery window, each {"Records": [...]}.
 */
export function exportTrail(records: TrailRecord[], outDir: string): ExportResult {
  const groups = new Map<string, TrailRecord[]>()
  for (const r of records) {
    const t = new Date(r.eventTime)
    const window = new Date(Math.floor(t.getTime() / 300_000) * 300_000)
    const key = `${r.recipientAccountId ?? SANDBOX_ACCOUNT}|${r.awsRegion}|${window.toISOString()}`
    let g = groups.get(key)
    if (!g) groups.set(key, (g = []))
    g.push(r)
  }

  const files: string[] = []
  for (const [key, group] of groups) {
    const [account, region, iso] = key.split('|')
    const w = new Date(iso)
    const yyyy = String(w.getUTCFullYear())
    const mm = String(w.getUTCMonth() + 1).padStart(2, '0')
    const dd = String(w.getUTCDate()).padStart(2, '0')
    const hh = String(w.getUTCHours()).padStart(2, '0')
    const mi = String(w.getUTCMinutes()).padStart(2, '0')
    const dir = join(outDir, 'AWSLogs', account, 'CloudTrail', region, yyyy, mm, dd)
    mkdirSync(dir, {recursive: true})
    const unique = randomBytes(12).toString('base64').replaceAll(/[^A-Za-z0-9]/g, 'x').slice(0, 16)
    const file = join(dir, `${account}_CloudTrail_${region}_${yyyy}${mm}${dd}T${hh}${mi}Z_${unique}.json.gz`)
    writeFileSync(file, gzipSync(JSON.stringify({Records: group})))
    files.push(file)
  }

  return {files: files.sort(), records: records.length}
}
