// Real cryptography with node:crypto, over key material kept in the sandbox state.
// The sandbox is NOT for protecting real data: its key material sits in a file in the clear.
import {
  type KeyObject,
  createCipheriv,
  createDecipheriv,
  createHash,
  createHmac,
  createPrivateKey,
  createPublicKey,
  diffieHellman,
  generateKeyPairSync,
  privateDecrypt,
  publicEncrypt,
  randomBytes,
  sign as cryptoSign,
  timingSafeEqual,
  verify as cryptoVerify,
  constants as cryptoConstants,
} from 'node:crypto'

import {signDigest, verifyDigest} from '../../lib/data/digest-sign.js'
import {err} from '../errors.js'
import type {KeyMaterial, KeyRecord} from '../store/state.js'

export const SYMMETRIC_SPECS = ['SYMMETRIC_DEFAULT']
export const RSA_SPECS = ['RSA_2048', 'RSA_3072', 'RSA_4096']
export const ECC_SPECS = ['ECC_NIST_P256', 'ECC_NIST_P384', 'ECC_NIST_P521', 'ECC_SECG_P256K1']
export const HMAC_SPECS = ['HMAC_224', 'HMAC_256', 'HMAC_384', 'HMAC_512']
export const ALL_SPECS = [...SYMMETRIC_SPECS, ...RSA_SPECS, ...ECC_SPECS, ...HMAC_SPECS]

const CURVES: Record<string, string> = {
  ECC_NIST_P256: 'prime256v1',
  ECC_NIST_P384: 'secp384r1',
  ECC_NIST_P521: 'secp521r1',
  ECC_SECG_P256K1: 'secp256k1',
}

const HMAC_BYTES: Record<string, number> = {HMAC_224: 28, HMAC_256: 32, HMAC_384: 48, HMAC_512: 64}

export const isAsymmetric = (spec: string): boolean => RSA_SPECS.includes(spec) || ECC_SPECS.includes(spec)
export const isHmac = (spec: string): boolean => HMAC_SPECS.includes(spec)

/** Key usages KMS accepts for each key spec (the first is the default when KeyUsage is omitted). */
export function usagesFor(spec: string): string[] {
  if (spec === 'SYMMETRIC_DEFAULT') return ['ENCRYPT_DECRYPT']
  if (RSA_SPECS.includes(spec)) return ['ENCRYPT_DECRYPT', 'SIGN_VERIFY']
  if (spec === 'ECC_SECG_P256K1') return ['SIGN_VERIFY']
  if (ECC_SPECS.includes(spec)) return ['SIGN_VERIFY', 'KEY_AGREEMENT']
  if (HMAC_SPECS.includes(spec)) return ['GENERATE_VERIFY_MAC']
  return []
}

export function encryptionAlgorithms(key: Pick<KeyRecord, 'keySpec' | 'keyUsage'>): string[] | undefined {
  if (key.keyUsage !== 'ENCRYPT_DECRYPT') return undefined
  if (key.keySpec === 'SYMMETRIC_DEFAULT') return ['SYMMETRIC_DEFAULT']
  return ['RSAES_OAEP_SHA_1', 'RSAES_OAEP_SHA_256']
}

export function signingAlgorithms(key: Pick<KeyRecord, 'keySpec' | 'keyUsage'>): string[] | undefined {
  if (key.keyUsage !== 'SIGN_VERIFY') return undefined
  if (RSA_SPECS.includes(key.keySpec)) {
    return ['RSASSA_PKCS1_V1_5_SHA_256', 'RSASSA_PKCS1_V1_5_SHA_384', 'RSASSA_PKCS1_V1_5_SHA_512', 'RSASSA_PSS_SHA_256', 'RSASSA_PSS_SHA_384', 'RSASSA_PSS_SHA_512']
  }

  if (key.keySpec === 'ECC_NIST_P384') return ['ECDSA_SHA_384']
  if (key.keySpec === 'ECC_NIST_P521') return ['ECDSA_SHA_512']
  return ['ECDSA_SHA_256']
}

export function macAlgorithms(key: Pick<KeyRecord, 'keySpec'>): string[] | undefined {
  if (!isHmac(key.keySpec)) return undefined
  return [`HMAC_SHA_${key.keySpec.slice(5)}`]
}

export function keyAgreementAlgorithms(key: Pick<KeyRecord, 'keyUsage'>): string[] | undefined {
  return key.keyUsage === 'KEY_AGREEMENT' ? ['ECDH'] : undefined
}

export function newMaterialId(): string {
  return randomBytes(32).toString('hex')
}

/** New key material for a key spec. */
export function generateMaterial(spec: string, createdAt: number, origin: KeyMaterial['origin']): KeyMaterial {
  const id = newMaterialId()
  if (spec === 'SYMMETRIC_DEFAULT') return {createdAt, id, origin, secret: randomBytes(32).toString('base64')}
  if (isHmac(spec)) return {createdAt, id, origin, secret: randomBytes(HMAC_BYTES[spec]).toString('base64')}
  if (RSA_SPECS.includes(spec)) {
    const {privateKey} = generateKeyPairSync('rsa', {modulusLength: Number(spec.slice(4))})
    return {createdAt, id, origin, privateKeyPem: privateKey.export({format: 'pem', type: 'pkcs8'}) as string}
  }

  if (ECC_SPECS.includes(spec)) {
    const {privateKey} = generateKeyPairSync('ec', {namedCurve: CURVES[spec]})
    return {createdAt, id, origin, privateKeyPem: privateKey.export({format: 'pem', type: 'pkcs8'}) as string}
  }

  throw err('UnsupportedOperationException', `KeySpec ${spec} is not supported by the kmsctl sandbox.`)
}

const privateKeys = new Map<string, KeyObject>()
function privateKeyOf(material: KeyMaterial): KeyObject {
  let k = privateKeys.get(material.id)
  if (!k) {
    k = createPrivateKey(material.privateKeyPem!)
    privateKeys.set(material.id, k)
  }

  return k
}

/** DER SubjectPublicKeyInfo, as GetPublicKey returns it. */
export function publicKeyDer(material: KeyMaterial): Buffer {
  return createPublicKey(privateKeyOf(material)).export({format: 'der', type: 'spki'}) as Buffer
}

// ---- Symmetric ciphertext blobs -------------------------------------------------------------------
// Layout: "KS" 0x01 | len(keyId) | keyId | materialId (32 bytes) | iv (12) | tag (16) | ciphertext.
// The header (through materialId) and the canonical encryption context are the AES-GCM AAD.
const MAGIC = Buffer.from([0x4b, 0x53, 0x01])

export interface BlobHeader {
  keyId: string
  materialId: string
}

export function canonicalContext(context: Record<string, string> | undefined): Buffer {
  if (!context) return Buffer.alloc(0)
  const entries = Object.keys(context)
    .sort()
    .map((k) => [k, context[k]])
  return Buffer.from(JSON.stringify(entries), 'utf8')
}

export function encryptSymmetric(keyId: string, material: KeyMaterial, plaintext: Buffer, context?: Record<string, string>): Buffer {
  const header = Buffer.concat([MAGIC, Buffer.from([keyId.length]), Buffer.from(keyId, 'ascii'), Buffer.from(material.id, 'hex')])
  const iv = randomBytes(12)
  const cipher = createCipheriv('aes-256-gcm', Buffer.from(material.secret!, 'base64'), iv)
  cipher.setAAD(Buffer.concat([header, canonicalContext(context)]))
  const body = Buffer.concat([cipher.update(plaintext), cipher.final()])
  return Buffer.concat([header, iv, cipher.getAuthTag(), body])
}

/** Reads the key and material a symmetric blob names, or undefined if it is not a sandbox blob. */
export function parseBlobHeader(blob: Buffer): (BlobHeader & {headerLength: number}) | undefined {
  if (blob.length < MAGIC.length + 1 || !blob.subarray(0, 3).equals(MAGIC)) return undefined
  const len = blob[3]
  const headerLength = 4 + len + 32
  if (blob.length < headerLength + 28) return undefined
  return {headerLength, keyId: blob.subarray(4, 4 + len).toString('ascii'), materialId: blob.subarray(4 + len, headerLength).toString('hex')}
}

/** Decrypts a symmetric blob; undefined when the tag does not verify (wrong context or tampered). */
export function decryptSymmetric(blob: Buffer, material: KeyMaterial, context?: Record<string, string>): Buffer | undefined {
  const header = parseBlobHeader(blob)
  if (!header) return undefined
  const h = header.headerLength
  try {
    const decipher = createDecipheriv('aes-256-gcm', Buffer.from(material.secret!, 'base64'), blob.subarray(h, h + 12))
    decipher.setAAD(Buffer.concat([blob.subarray(0, h), canonicalContext(context)]))
    decipher.setAuthTag(blob.subarray(h + 12, h + 28))
    return Buffer.concat([decipher.update(blob.subarray(h + 28)), decipher.final()])
  } catch {
    return undefined
  }
}

// ---- RSA encryption ----------------------------------------------------------------------------
const OAEP_HASH: Record<string, string> = {RSAES_OAEP_SHA_1: 'sha1', RSAES_OAEP_SHA_256: 'sha256'}

/** Largest plaintext for RSA OAEP: k - 2*hLen - 2. */
export function rsaMaxPlaintext(spec: string, algorithm: string): number {
  const k = Number(spec.slice(4)) / 8
  const hLen = algorithm === 'RSAES_OAEP_SHA_1' ? 20 : 32
  return k - 2 * hLen - 2
}

export function rsaEncrypt(material: KeyMaterial, algorithm: string, plaintext: Buffer): Buffer {
  return publicEncrypt({key: createPublicKey(privateKeyOf(material)), oaepHash: OAEP_HASH[algorithm], padding: cryptoConstants.RSA_PKCS1_OAEP_PADDING}, plaintext)
}

export function rsaDecrypt(material: KeyMaterial, algorithm: string, ciphertext: Buffer): Buffer | undefined {
  try {
    return privateDecrypt({key: privateKeyOf(material), oaepHash: OAEP_HASH[algorithm], padding: cryptoConstants.RSA_PKCS1_OAEP_PADDING}, ciphertext)
  } catch {
    return undefined
  }
}

// ---- Signing -----------------------------------------------------------------------------------
export function signingHash(algorithm: string): string {
  return 'sha' + algorithm.slice(-3)
}

export function digestLength(algorithm: string): number {
  return Number(algorithm.slice(-3)) / 8
}

function signOptions(material: KeyMaterial, algorithm: string, forVerify: boolean) {
  const key = forVerify ? createPublicKey(privateKeyOf(material)) : privateKeyOf(material)
  if (algorithm.startsWith('RSASSA_PSS')) {
    return {key, padding: cryptoConstants.RSA_PKCS1_PSS_PADDING, saltLength: digestLength(algorithm)}
  }

  if (algorithm.startsWith('RSASSA_PKCS1')) return {key, padding: cryptoConstants.RSA_PKCS1_PADDING}
  return {dsaEncoding: 'der' as const, key}
}

export function signMessage(material: KeyMaterial, algorithm: string, message: Buffer, messageType: string): Buffer {
  const hash = signingHash(algorithm)
  if (messageType === 'RAW') return cryptoSign(hash, message, signOptions(material, algorithm, false))
  // DIGEST: the message is already the hash.
  return signDigest(privateKeyOf(material), algorithm, message)
}

export function verifyMessage(material: KeyMaterial, algorithm: string, message: Buffer, messageType: string, signature: Buffer): boolean {
  const hash = signingHash(algorithm)
  try {
    if (messageType === 'RAW') return cryptoVerify(hash, message, signOptions(material, algorithm, true), signature)
    return verifyDigest(privateKeyOf(material), algorithm, message, signature)
  } catch {
    return false
  }
}

// ---- Key agreement ---------------------------------------------------------------------------------
/**
 * ECDH between the key's private key and a peer's public key (DER SubjectPublicKeyInfo on the key's
 * curve): the raw shared secret, as DeriveSharedSecret returns it. Undefined when the public key is not
 * an EC public key on that curve.
 */
export function deriveSharedSecret(material: KeyMaterial, keySpec: string, peerSpki: Buffer): Buffer | undefined {
  let peer: KeyObject
  try {
    peer = createPublicKey({format: 'der', key: peerSpki, type: 'spki'})
  } catch {
    return undefined
  }

  if (peer.asymmetricKeyType !== 'ec' || peer.asymmetricKeyDetails?.namedCurve !== CURVES[keySpec]) return undefined
  return diffieHellman({privateKey: privateKeyOf(material), publicKey: peer})
}

// ---- HMAC --------------------------------------------------------------------------------------
export function hmac(material: KeyMaterial, algorithm: string, message: Buffer): Buffer {
  return createHmac('sha' + algorithm.slice(-3), Buffer.from(material.secret!, 'base64')).update(message).digest()
}

export function macEquals(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b)
}

export function sha256Hex(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex')
}

