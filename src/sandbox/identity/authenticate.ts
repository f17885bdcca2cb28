// Who signed a request: every request must carry a SigV4 Authorization header, as AWS requires. Where
// the sandbox knows the secret of the access key (the default credentials, and principals added with a
// secret), the signature is recomputed with the AWS SDK's own signer (@smithy/signature-v4) and must
// match. Refusals are AWS's: MissingAuthenticationToken (no Authorization), IncompleteSignature (not a
// SigV4 header), InvalidSignature / SignatureDoesNotMatch (a wrong signature).
import {createHash, timingSafeEqual} from 'node:crypto'

import {Hash} from '@smithy/hash-node'
import {HttpRequest} from '@smithy/protocol-http'
import {SignatureV4} from '@smithy/signature-v4'

import {signature} from '../../lib/aws/sigv4.js'
import {SandboxError} from '../errors.js'
import type {SandboxRequest} from '../request.js'

export interface SigV4Authorization {
  accessKeyId: string
  /** YYYYMMDD of the credential scope. */
  date: string
  region: string
  service: string
  signature: string
  signedHeaders: string[]
}

const AUTHORIZATION =
  /^AWS4-HMAC-SHA256 Credential=([A-Za-z0-9]{16,128})\/(\d{8})\/([a-z0-9-]+)\/([a-z0-9-]+)\/aws4_request, ?SignedHeaders=([a-z0-9;_.-]+), ?Signature=([0-9a-f]{64})$/
const AMZ_DATE = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/

/** A SigV4 Authorization header's parts, or undefined when it is not one. */
export function parseAuthorization(header: string | undefined): SigV4Authorization | undefined {
  const m = header === undefined ? null : AUTHORIZATION.exec(header.trim())
  if (!m) return undefined
  const [, accessKeyId, date, region, service, signedHeaders, signature] = m
  return {accessKeyId, date, region, service, signature, signedHeaders: signedHeaders.split(';')}
}

/** The request's SigV4 Authorization, or the error AWS answers when it has none or a malformed one. */
export function readAuthorization(req: SandboxRequest): SigV4Authorization {
  const header = req.headers.authorization
  if (!header) throw new SandboxError('MissingAuthenticationTokenException', 'Missing Authentication Token')
  const auth = parseAuthorization(header)
  if (!auth) {
    throw new SandboxError(
      'IncompleteSignatureException',
      'Authorization header requires \'Credential\', \'Signature\' and \'SignedHeaders\' parameters, in AWS Signature Version 4 form (AWS4-HMAC-SHA256).',
    )
  }

  const {date, signedHeaders: headers} = auth
  if (!headers.includes('host')) throw new SandboxError('IncompleteSignatureException', 'The Host header must be signed.')
  const amzDate = req.headers['x-amz-date']
  if (!amzDate || !AMZ_DATE.test(amzDate) || !headers.includes('x-amz-date')) {
    throw new SandboxError('IncompleteSignatureException', "Authorization header requires existence of a signed 'X-Amz-Date' header.")
  }

  if (!amzDate.startsWith(date)) throw new SandboxError('IncompleteSignatureException', `The credential scope date ${date} does not match the X-Amz-Date ${amzDate}.`)
  return auth
}

const signers = new Map<string, SignatureV4>()

function signerFor(accessKeyId: string, secretAccessKey: string, region: string, service: string): SignatureV4 {
  const key = `${accessKeyId}\n${secretAccessKey}\n${region}\n${service}`
  let signer = signers.get(key)
  if (!signer) {
    signer = new SignatureV4({applyChecksum: false, credentials: {accessKeyId, secretAccessKey}, region, service, sha256: Hash.bind(null, 'sha256')})
    if (signers.size > 100) signers.clear()
    signers.set(key, signer)
  }

  return signer
}

/** Recomputes the request's signature with the secret of its access key; true when it matches. */
export async function signatureMatches(req: SandboxRequest, auth: SigV4Authorization, secretAccessKey: string): Promise<boolean> {
  // A declared payload hash must be the body's (the signer would otherwise trust the header).
  const declared = req.headers['x-amz-content-sha256']
  const bodyHash = createHash('sha256').update(req.body, 'utf8').digest('hex')
  if (declared !== undefined && declared !== bodyHash) return false
  const expected = isRootWithoutQuery(req) ? rootSignature(req, auth, secretAccessKey, bodyHash) : await sdkSignature(req, auth, secretAccessKey)
  return expected.length === auth.signature.length && timingSafeEqual(Buffer.from(expected), Buffer.from(auth.signature))
}

function isRootWithoutQuery(req: SandboxRequest): boolean {
  if ((req.path ?? '/') !== '/') return false
  for (const _ in req.query ?? {}) return false
  return true
}

/**
 * The signature of a request to "/" with no query string (every JSON and query-protocol call: KMS,
 * CloudTrail, STS, Organizations), computed as the SDK's signer computes it (canonical request,
 * string to sign, HMAC with the day's key) without building its request and middleware objects.
 * Other paths go through the SDK's signer (sdkSignature); a test checks that both agree.
 */
export function rootSignature(req: SandboxRequest, auth: SigV4Authorization, secretAccessKey: string, bodyHash: string): string {
  const headers: Record<string, string> = {}
  for (const name of auth.signedHeaders) headers[name] = req.headers[name] ?? ''
  const input = {headers, method: req.method ?? 'POST', path: '/', payloadHash: req.headers['x-amz-content-sha256'] ?? bodyHash, query: ''}
  return signature(input, secretAccessKey, req.headers['x-amz-date'] ?? '', auth.region, auth.service, auth.date).signature
}

/** The signature the SDK's own signer computes for the request. */
export async function sdkSignature(req: SandboxRequest, auth: SigV4Authorization, secretAccessKey: string): Promise<string> {
  const headers: Record<string, string> = {}
  for (const name of auth.signedHeaders) headers[name] = req.headers[name] ?? ''
  const [, y, mo, d, h, mi, s] = AMZ_DATE.exec(req.headers['x-amz-date']!)!
  const signingDate = new Date(Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s)))
  const request = new HttpRequest({body: req.body, headers, hostname: headers.host ?? '', method: req.method ?? 'POST', path: req.path ?? '/', query: req.query ?? {}})
  const signed = await signerFor(auth.accessKeyId, secretAccessKey, auth.region, auth.service).sign(request, {
    signableHeaders: new Set(auth.signedHeaders),
    signingDate,
  })
  return /Signature=([0-9a-f]{64})/.exec(String(signed.headers.authorization))?.[1] ?? ''
}

/** What AWS answers a request whose signature does not match. */
export const signatureMismatch = (): SandboxError =>
  new SandboxError(
    'InvalidSignatureException',
    'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.',
  )
