// Signing files with KMS: the file is hashed here, in one streamed pass, and only its digest goes to
// KMS (Sign with MessageType DIGEST). The result is a small JSON document beside the file. Verifying
// hashes the file again and asks KMS (Verify) or, offline, checks the signature with the key's public
// key (GetPublicKey once) and node:crypto.
import type {KMSClient} from '@aws-sdk/client-kms'
import {createHash, createPublicKey} from 'node:crypto'
import type {Readable} from 'node:stream'

import {kmsSdk} from '../aws/sdk.js'
import {KmsctlError, fromAwsError, usageError} from '../errors.js'
import {type DigestAlgorithm, digestAlgorithmOf, verifyDigest} from './digest-sign.js'

export const SIGNATURE_FORMAT = 'kmsctl-signature/1'

/** The signature document: everything needed to verify, nothing secret. */
export interface SignatureDocument {
  format: typeof SIGNATURE_FORMAT
  keyArn: string
  signingAlgorithm: string
  messageType: 'DIGEST'
  digest: {algorithm: 'SHA-256' | 'SHA-384' | 'SHA-512'; hex: string}
  /** Base64 of the signature KMS returned (DER for ECDSA). */
  signature: string
  /** The signed file's name (informational) and size. */
  file?: {name: string; size: number}
  signedAt: string
}

const DIGEST_NAMES: Record<DigestAlgorithm, SignatureDocument['digest']['algorithm']> = {sha256: 'SHA-256', sha384: 'SHA-384', sha512: 'SHA-512'}

/** Hashes a stream; returns the digest and the byte count. */
export async function hashStream(stream: Readable, algorithm: DigestAlgorithm): Promise<{digest: Buffer; size: number}> {
  const hash = createHash(algorithm)
  let size = 0
  for await (const chunk of stream) {
    hash.update(chunk as Buffer)
    size += (chunk as Buffer).length
  }

  return {digest: hash.digest(), size}
}

/** The signing algorithm to use: the one asked for (checked against the key), else the key's first. */
export function chooseSigningAlgorithm(keyAlgorithms: readonly string[] | undefined, asked: string | undefined, keyRef: string): string {
  const supported = (keyAlgorithms ?? []).filter((a) => digestAlgorithmOf(a))
  if (asked) {
    if (!digestAlgorithmOf(asked)) throw usageError(`--algorithm ${asked} is not a signing algorithm kmsctl can use over a digest.`, 'Try this: ECDSA_SHA_256, RSASSA_PSS_SHA_256 or RSASSA_PKCS1_V1_5_SHA_256.')
    if (keyAlgorithms && !keyAlgorithms.includes(asked)) {
      throw usageError(`${keyRef} does not support ${asked}.`, `Try this: --algorithm ${supported[0] ?? keyAlgorithms[0]} (the key supports ${keyAlgorithms.join(', ')}).`)
    }

    return asked
  }

  if (supported.length === 0) throw usageError(`${keyRef} has no signing algorithm kmsctl can use over a digest.`, 'Try this: an RSA_* or ECC_* signing key.')
  return supported[0]
}

export interface SignOptions {
  keyArn: string
  signingAlgorithm: string
  file: {name: string; stream: () => Readable}
  now?: Date
}

export async function signFile(kms: KMSClient, options: SignOptions): Promise<SignatureDocument> {
  const hash = digestAlgorithmOf(options.signingAlgorithm)!
  const {digest, size} = await hashStream(options.file.stream(), hash)
  const {SignCommand} = await kmsSdk()
  let signature: Uint8Array | undefined
  try {
    const out = await kms.send(new SignCommand({KeyId: options.keyArn, Message: digest, MessageType: 'DIGEST', SigningAlgorithm: options.signingAlgorithm as never}))
    signature = out.Signature
  } catch (error) {
    throw fromAwsError(error, {key: options.keyArn, operation: 'Sign'})
  }

  if (!signature) throw new KmsctlError('AWS_ERROR', 'kms:Sign returned no signature.')
  return {
    digest: {algorithm: DIGEST_NAMES[hash], hex: digest.toString('hex')},
    ...(options.file.name === '-' ? {} : {file: {name: options.file.name.split(/[\\/]/).pop()!, size}}),
    format: SIGNATURE_FORMAT,
    keyArn: options.keyArn,
    messageType: 'DIGEST',
    signature: Buffer.from(signature).toString('base64'),
    signedAt: (options.now ?? new Date()).toISOString(),
    signingAlgorithm: options.signingAlgorithm,
  }
}

/** Parses and checks a signature document; a malformed one is a usage error. */
export function parseSignatureDocument(text: string, source: string): SignatureDocument {
  let doc: Partial<SignatureDocument>
  try {
    doc = JSON.parse(text)
  } catch {
    throw usageError(`${source} is not JSON: expected a signature document written by kmsctl data sign.`)
  }

  const hash = typeof doc.signingAlgorithm === 'string' ? digestAlgorithmOf(doc.signingAlgorithm) : undefined
  if (doc?.format !== SIGNATURE_FORMAT || typeof doc.keyArn !== 'string' || !hash || typeof doc.signature !== 'string' || typeof doc.digest?.hex !== 'string') {
    throw usageError(`${source} is not a ${SIGNATURE_FORMAT} document (format, keyArn, signingAlgorithm, digest, signature).`, 'Try this: a file written by kmsctl data sign.')
  }

  if (doc.digest.algorithm !== DIGEST_NAMES[hash]) throw usageError(`${source}: digest algorithm ${doc.digest.algorithm} does not go with ${doc.signingAlgorithm}.`)
  return doc as SignatureDocument
}

export interface VerifyResult {
  valid: boolean
  keyArn: string
  signingAlgorithm: string
  method: 'kms' | 'offline'
  digest: {algorithm: string; hex: string}
  /** Why the signature is not valid. */
  reason?: 'digest-mismatch' | 'signature-invalid'
  file: {name: string; size: number}
}

export async function verifyFile(kms: KMSClient, doc: SignatureDocument, file: {name: string; stream: () => Readable}, options: {offline?: boolean} = {}): Promise<VerifyResult> {
  const hash = digestAlgorithmOf(doc.signingAlgorithm)!
  const {digest, size} = await hashStream(file.stream(), hash)
  const base = {
    digest: {algorithm: DIGEST_NAMES[hash], hex: digest.toString('hex')},
    file: {name: file.name, size},
    keyArn: doc.keyArn,
    method: options.offline ? ('offline' as const) : ('kms' as const),
    signingAlgorithm: doc.signingAlgorithm,
  }
  // The file is not the one that was signed: no need to ask anyone.
  if (digest.toString('hex') !== doc.digest.hex.toLowerCase()) return {...base, reason: 'digest-mismatch', valid: false}
  const signature = Buffer.from(doc.signature, 'base64')
  const sdk = await kmsSdk()
  if (options.offline) {
    let publicKeyDer: Uint8Array | undefined
    try {
      const out = await kms.send(new sdk.GetPublicKeyCommand({KeyId: doc.keyArn}))
      publicKeyDer = out.PublicKey
      if (out.SigningAlgorithms && !out.SigningAlgorithms.includes(doc.signingAlgorithm as never)) {
        throw new KmsctlError('BAD_SIGNATURE', `${doc.keyArn} does not sign with ${doc.signingAlgorithm}.`)
      }
    } catch (error) {
      throw fromAwsError(error, {key: doc.keyArn, operation: 'GetPublicKey'})
    }

    const key = createPublicKey({format: 'der', key: Buffer.from(publicKeyDer!), type: 'spki'})
    const valid = verifyDigest(key, doc.signingAlgorithm, digest, signature)
    return {...base, valid, ...(valid ? {} : {reason: 'signature-invalid'})}
  }

  try {
    const out = await kms.send(
      new sdk.VerifyCommand({KeyId: doc.keyArn, Message: digest, MessageType: 'DIGEST', Signature: signature, SigningAlgorithm: doc.signingAlgorithm as never}),
    )
    return {...base, valid: out.SignatureValid === true, ...(out.SignatureValid ? {} : {reason: 'signature-invalid'})}
  } catch (error) {
    if ((error as Error)?.name === 'KMSInvalidSignatureException') return {...base, reason: 'signature-invalid', valid: false}
    throw fromAwsError(error, {key: doc.keyArn, operation: 'Verify'})
  }
}
