// The CloudTrail record of each call to the sandbox, in AWS's shape (eventVersion 1.11).
import {randomUUID} from 'node:crypto'

import {SANDBOX_ACCOUNT} from '../constants.js'
import type {Principal} from '../identity/principals.js'
import type {TrailRecord} from '../store/store.js'

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
  if (c.resources.length > 0) record.resources = c.resources.map((arn) => ({accountId: SANDBOX_ACCOUNT, type: 'AWS::KMS::Key', ARN: arn}))
  record.eventType = 'AwsApiCall'
  record.managementEvent = true
  record.recipientAccountId = SANDBOX_ACCOUNT
  record.eventCategory = 'Management'
  return record
}

/** CloudTrail shows structures with lowerCamelCase member names and dates as strings. */
export function trailShape(value: unknown, parentKey = ''): unknown {
  if (Array.isArray(value)) return value.map((v) => trailShape(v, parentKey))
  if (value && typeof value === 'object') {
    if (/EncryptionContext/i.test(parentKey)) return value
    const out: Record<string, unknown> = {}
    for (const [k, v] of Object.entries(value)) {
      const name = k === 'AWSAccountId' ? 'aWSAccountId' : k.charAt(0).toLowerCase() + k.slice(1)
      out[name] = /Date$/.test(k) && typeof v === 'number' ? new Date(v * 1000).toISOString() : trailShape(v, k)
    }

    return out
  }

  return value
}
