// A sandbox core called as a signed client would call it (the access key ID in
// the SigV4 Authorization header), without the SDK: fast, and every answer is visible as sent.
import {mkdtempSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {SandboxCore} from '../../src/sandbox/core.js'
import type {CoreOptions} from '../../src/sandbox/core.js'

export const ADMIN = 'AKIAKMSCTLSANDBOX001'
export const READER = 'AKIAEXAMPLEREADER001'
export const APP = 'AKIAEXAMPLEAPPROLE01'
export const PARTNER = 'AKIAEXAMPLEPARTNER01'
export const READER_ARN = 'arn:aws:iam::111122223333:user/reader'
export const APP_SESSION_ARN = 'arn:aws:sts::111122223333:assumed-role/App/worker-1'
export const APP_ROLE_ARN = 'arn:aws:iam::111122223333:role/App'

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
    const authorization = `AWS4-HMAC-SHA256 Credential=${accessKeyId}/20261128/us-east-1/${service}/aws4_request, SignedHeaders=host, Signature=00`
    const out = await this.core.handle({body, headers: {...headers, authorization, 'user-agent': 'realism-test'}, sourceIp: '127.0.0.1'})
    let parsed: any = out.body
    if (out.headers['content-type']?.includes('json')) parsed = out.body ? JSON.parse(out.body) : {}
    return {body: parsed, message: parsed?.message, status: out.status, type: parsed?.__type}
  }
}
