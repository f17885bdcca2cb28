// A sandbox core called as a client would call it (a request signed with SigV4 for the access key),
// without the SDK clients: fast, and every answer is visible as sent.
import {mkdtempSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {Hash} from '@smithy/hash-node'
import {HttpRequest} from '@smithy/protocol-http'
import {SignatureV4} from '@smithy/signature-v4'

import {DEFAULT_ACCESS_KEY_ID, DEFAULT_SECRET_ACCESS_KEY} from '../../src/sandbox/constants.js'
import {SandboxCore} from '../../src/sandbox/core.js'
import type {CoreOptions} from '../../src/sandbox/core.js'

export const ADMIN = 'AKIAKMSCTLSANDBOX001'
export const READER = 'AKIAEXAMPLEREADER001'
export const APP = 'AKIAEXAMPLEAPPROLE01'
export const PARTNER = 'AKIAEXAMPLEPARTNER01'
export const READER_ARN = 'arn:aws:iam::111122223333:user/reader'
export const APP_SESSION_ARN = 'arn:aws:sts::111122223333:assumed-role/App/worker-1'
export const APP_ROLE_ARN = 'arn:aws:iam::111122223333:role/App'

/** The secret the sandbox knows for the default access key; other keys sign with any secret. */
export function secretFor(accessKeyId: string): string {
  return accessKeyId === DEFAULT_ACCESS_KEY_ID ? DEFAULT_SECRET_ACCESS_KEY : 'a-secret-the-sandbox-does-not-know'
}

/** The headers of a POST to / signed with SigV4 by the SDK's signer, as a real client sends them. */
export async function signRequest(accessKeyId: string, service: string, headers: Record<string, string>, body: string, secret = secretFor(accessKeyId)): Promise<Record<string, string>> {
  const signer = new SignatureV4({credentials: {accessKeyId, secretAccessKey: secret}, region: 'us-east-1', service, sha256: Hash.bind(null, 'sha256')})
  const request = new HttpRequest({body, headers, hostname: headers.host, method: 'POST', path: '/', protocol: 'http:'})
  const signed = await signer.sign(request)
  return signed.headers as Record<string, string>
}

export interface Answer {
  body: any
  status: number
  type?: string
  message?: string
}

export function newDir(): string {
  return mkdtempSync(join(tmpdir(), 'kmsctl-realism-'))
}

export class Client {
  readonly core: SandboxCore
  readonly dir: string

  constructor(dir = newDir(), options: CoreOptions = {}) {
    this.dir = dir
    this.core = new SandboxCore(dir, options)
  }

  async kms(accessKeyId: string, operation: string, input: Record<string, unknown> = {}): Promise<Answer> {
    return this.send(accessKeyId, 'kms', {'content-type': 'application/x-amz-json-1.1', 'x-amz-target': `TrentService.${operation}`}, JSON.stringify(input))
  }

  async lookup(accessKeyId: string, input: Record<string, unknown> = {}): Promise<Answer> {
    return this.send(
      accessKeyId,
      'cloudtrail',
      {'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.LookupEvents'},
      JSON.stringify(input),
    )
  }

  async sts(accessKeyId: string): Promise<Answer> {
    return this.send(accessKeyId, 'sts', {'content-type': 'application/x-www-form-urlencoded'}, 'Action=GetCallerIdentity&Version=2011-06-15')
  }

  /** Creates a symmetric key as the administrator; returns its ARN. */
  async createKey(input: Record<string, unknown> = {}): Promise<string> {
    const out = await this.kms(ADMIN, 'CreateKey', input)
    if (out.status !== 200) throw new Error(`CreateKey failed: ${out.type}: ${out.message}`)
    return out.body.KeyMetadata.Arn
  }

  private async send(accessKeyId: string, service: string, headers: Record<string, string>, body: string): Promise<Answer> {
    const signed = await signRequest(accessKeyId, service, {...headers, host: '127.0.0.1:4599'}, body)
    const out = await this.core.handle({body, headers: {...signed, 'user-agent': 'realism-test'}, method: 'POST', path: '/', sourceIp: '127.0.0.1'})
    let parsed: any = out.body
    if (out.headers['content-type']?.includes('json')) parsed = out.body ? JSON.parse(out.body) : {}
    return {body: parsed, message: parsed?.message, status: out.status, type: parsed?.__type}
  }
}
