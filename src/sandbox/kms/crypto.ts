// Cryptographic operations: Encrypt, Decrypt, ReEncrypt, GenerateDataKey(WithoutPlaintext), Sign,
// Verify, GenerateMac, VerifyMac, DeriveSharedSecret, GetPublicKey and GenerateRandom, with real
// cryptography over the key material of material.ts.
import {randomBytes} from 'node:crypto'

import {err} from '../errors.js'
import type {KeyRecord} from '../store/state.js'
import {type OpContext, authorize} from './context.js'
import {blob, context, dryRun, grantTokens, int, oneOf, str} from './input.js'
import {currentMaterial, findKey, keyFrom, requireUsable, requireUsage} from './key-record.js'
import {
  decryptSymmetric,
  deriveSharedSecret,
  digestLength,
  encryptSymmetric,
  encryptionAlgorithms,
  hmac,
  isAsymmetric,
  keyAgreementAlgorithms,
  macAlgorithms,
  macEquals,
  parseBlobHeader,
  publicKeyDer,
  rsaDecrypt,
  rsaEncrypt,
  rsaMaxPlaintext,
  signMessage,
  signingAlgorithms,
  verifyMessage,
} from './material.js'
import {type Operation, type OperationSpec, b64, spec} from './operation.js'

function encryptionAlgorithmFor(key: KeyRecord, requested: string | undefined): string {
  const allowed = encryptionAlgorithms(key) ?? []
  const algorithm = requested ?? 'SYMMETRIC_DEFAULT'
  if (!allowed.includes(algorithm)) {
    throw err('InvalidKeyUsageException', `${key.arn} does not support the encryption algorithm ${algorithm}. Supported: ${allowed.join(', ')}.`)
  }

  return algorithm
}

const ENCRYPTION_ALGORITHMS = ['SYMMETRIC_DEFAULT', 'RSAES_OAEP_SHA_1', 'RSAES_OAEP_SHA_256', 'SM2PKE']
const SIGNING_ALGORITHMS = [
  'RSASSA_PSS_SHA_256', 'RSASSA_PSS_SHA_384', 'RSASSA_PSS_SHA_512', 'RSASSA_PKCS1_V1_5_SHA_256', 'RSASSA_PKCS1_V1_5_SHA_384',
  'RSASSA_PKCS1_V1_5_SHA_512', 'ECDSA_SHA_256', 'ECDSA_SHA_384', 'ECDSA_SHA_512', 'SM2DSA', 'ML_DSA_SHAKE_256',
]
const MAC_ALGORITHMS = ['HMAC_SHA_224', 'HMAC_SHA_256', 'HMAC_SHA_384', 'HMAC_SHA_512']

function encryptWith(key: KeyRecord, algorithm: string, plaintext: Buffer, ctxMap: Record<string, string> | undefined): Buffer {
  if (algorithm === 'SYMMETRIC_DEFAULT') return encryptSymmetric(key.keyId, currentMaterial(key), plaintext, ctxMap)
  if (ctxMap && Object.keys(ctxMap).length > 0) throw err('ValidationException', 'EncryptionContext is not supported with asymmetric KMS keys.')
  const max = rsaMaxPlaintext(key.keySpec, algorithm)
  if (plaintext.length > max) throw err('ValidationException', `Plaintext is too long for ${key.keySpec} with ${algorithm}: at most ${max} bytes.`)
  return rsaEncrypt(currentMaterial(key), algorithm, plaintext)
}

/** Decrypts a blob for Decrypt and ReEncrypt; returns the key and plaintext. */
function decryptBlob(
  ctx: OpContext,
  input: Record<string, any>,
  blobMember: string,
  keyMember: string,
  ctxMember: string,
  algMember: string,
): {algorithm: string; key: KeyRecord; materialId?: string; plaintext: Buffer} {
  const ciphertext = blob(input, blobMember, {max: 6144, required: true})!
  const ctxMap = context(input, ctxMember)
  const algorithm = oneOf(input, algMember, ENCRYPTION_ALGORITHMS) ?? 'SYMMETRIC_DEFAULT'
  const keyRef = str(input, keyMember, {max: 2048})
  const header = parseBlobHeader(ciphertext)
  const requested = keyRef === undefined ? undefined : findKey(ctx, keyRef, {aliases: true})
  if (algorithm === 'SYMMETRIC_DEFAULT') {
    if (!header) throw err('InvalidCiphertextException', '')
    let key: KeyRecord
    try {
      key = findKey(ctx, header.keyId)
    } catch {
      throw err('InvalidCiphertextException', '')
    }

    if (requested && requested.arn !== key.arn) throw err('IncorrectKeyException', 'The key ID in the request does not identify a KMS key that can perform this operation.')
    authorize(ctx, key, input)
    requireUsable(key)
    const material = key.materials.find((m) => m.id === header.materialId)
    const plaintext = material ? decryptSymmetric(ciphertext, material, ctxMap) : undefined
    if (!plaintext) throw err('InvalidCiphertextException', '')
    return {algorithm, key, materialId: material!.id, plaintext}
  }

  if (!requested) throw err('ValidationException', 'KeyId is required when decrypting with an asymmetric KMS key (EncryptionAlgorithm is not SYMMETRIC_DEFAULT).')
  authorize(ctx, requested, input)
  requireUsable(requested)
  requireUsage(requested, 'ENCRYPT_DECRYPT', 'Decrypt')
  encryptionAlgorithmFor(requested, algorithm)
  const plaintext = rsaDecrypt(currentMaterial(requested), algorithm, ciphertext)
  if (!plaintext) throw err('InvalidCiphertextException', '')
  return {algorithm, key: requested, plaintext}
}

function dataKeyLength(input: Record<string, any>): number {
  const spec = oneOf(input, 'KeySpec', ['AES_256', 'AES_128'])
  const bytes = int(input, 'NumberOfBytes', 1, 1024)
  if (spec !== undefined && bytes !== undefined) throw err('ValidationException', 'KeySpec and NumberOfBytes cannot both be specified.')
  if (spec === undefined && bytes === undefined) throw err('ValidationException', 'Please specify either number of bytes or key spec.')
  return bytes ?? (spec === 'AES_128' ? 16 : 32)
}

function symmetricKeyFor(ctx: OpContext, input: Record<string, any>, operation: string): KeyRecord {
  const key = keyFrom(ctx, input, {aliases: true})
  requireUsable(key)
  if (key.keySpec !== 'SYMMETRIC_DEFAULT') throw err('InvalidKeyUsageException', `${key.arn} is not a symmetric encryption KMS key: ${operation} needs one.`)
  return key
}

const Encrypt: Operation = (input, ctx) => {
  const key = keyFrom(ctx, input, {aliases: true})
  const plaintext = blob(input, 'Plaintext', {max: 4096, required: true})!
  const ctxMap = context(input, 'EncryptionContext')
  const algIn = oneOf(input, 'EncryptionAlgorithm', ENCRYPTION_ALGORITHMS)
  grantTokens(input)
  requireUsable(key)
  requireUsage(key, 'ENCRYPT_DECRYPT', 'Encrypt')
  const algorithm = encryptionAlgorithmFor(key, algIn)
  dryRun(input)
  const ciphertext = encryptWith(key, algorithm, plaintext, ctxMap)
  return {CiphertextBlob: b64(ciphertext), EncryptionAlgorithm: algorithm, KeyId: key.arn}
}

const Decrypt: Operation = (input, ctx) => {
  grantTokens(input)
  const {algorithm, key, materialId, plaintext} = decryptBlob(ctx, input, 'CiphertextBlob', 'KeyId', 'EncryptionContext', 'EncryptionAlgorithm')
  if (input.Recipient !== undefined) throw err('UnsupportedOperationException', 'Recipient (Nitro Enclaves attestation) is not supported by the kmsctl sandbox.')
  dryRun(input)
  return {EncryptionAlgorithm: algorithm, KeyId: key.arn, ...(materialId ? {KeyMaterialId: materialId} : {}), Plaintext: b64(plaintext)}
}

const ReEncrypt: Operation = (input, ctx) => {
  grantTokens(input)
  const source = decryptBlob(ctx, input, 'CiphertextBlob', 'SourceKeyId', 'SourceEncryptionContext', 'SourceEncryptionAlgorithm')
  const dest = keyFrom(ctx, input, {aliases: true, member: 'DestinationKeyId'})
  const destCtx = context(input, 'DestinationEncryptionContext')
  const destAlgIn = oneOf(input, 'DestinationEncryptionAlgorithm', ENCRYPTION_ALGORITHMS)
  requireUsable(dest)
  requireUsage(dest, 'ENCRYPT_DECRYPT', 'ReEncrypt')
  const destAlg = encryptionAlgorithmFor(dest, destAlgIn)
  dryRun(input)
  const ciphertext = encryptWith(dest, destAlg, source.plaintext, destCtx)
  return {
    CiphertextBlob: b64(ciphertext),
    DestinationEncryptionAlgorithm: destAlg,
    ...(destAlg === 'SYMMETRIC_DEFAULT' ? {DestinationKeyMaterialId: currentMaterial(dest).id} : {}),
    KeyId: dest.arn,
    SourceEncryptionAlgorithm: source.algorithm,
    SourceKeyId: source.key.arn,
    ...(source.materialId ? {SourceKeyMaterialId: source.materialId} : {}),
  }
}

const GenerateDataKey: Operation = (input, ctx) => {
  const key = symmetricKeyFor(ctx, input, 'GenerateDataKey')
  const length = dataKeyLength(input)
  const ctxMap = context(input, 'EncryptionContext')
  grantTokens(input)
  if (input.Recipient !== undefined) throw err('UnsupportedOperationException', 'Recipient (Nitro Enclaves attestation) is not supported by the kmsctl sandbox.')
  dryRun(input)
  const plaintext = randomBytes(length)
  return {
    CiphertextBlob: b64(encryptSymmetric(key.keyId, currentMaterial(key), plaintext, ctxMap)),
    KeyId: key.arn,
    KeyMaterialId: currentMaterial(key).id,
    Plaintext: b64(plaintext),
  }
}

const GenerateDataKeyWithoutPlaintext: Operation = (input, ctx) => {
  const key = symmetricKeyFor(ctx, input, 'GenerateDataKeyWithoutPlaintext')
  const length = dataKeyLength(input)
  const ctxMap = context(input, 'EncryptionContext')
  grantTokens(input)
  dryRun(input)
  return {
    CiphertextBlob: b64(encryptSymmetric(key.keyId, currentMaterial(key), randomBytes(length), ctxMap)),
    KeyId: key.arn,
    KeyMaterialId: currentMaterial(key).id,
  }
}

function signingInput(input: Record<string, any>, ctx: OpContext, operation: string) {
  const key = keyFrom(ctx, input, {aliases: true})
  const message = blob(input, 'Message', {max: 4096, required: true})!
  const messageType = oneOf(input, 'MessageType', ['RAW', 'DIGEST', 'EXTERNAL_MU']) ?? 'RAW'
  const algorithm = oneOf(input, 'SigningAlgorithm', SIGNING_ALGORITHMS, true)!
  grantTokens(input)
  requireUsable(key)
  requireUsage(key, 'SIGN_VERIFY', operation)
  const allowed = signingAlgorithms(key) ?? []
  if (!allowed.includes(algorithm)) throw err('InvalidKeyUsageException', `${key.arn} does not support the signing algorithm ${algorithm}. Supported: ${allowed.join(', ')}.`)
  if (messageType === 'EXTERNAL_MU') throw err('UnsupportedOperationException', 'MessageType EXTERNAL_MU is only for ML-DSA keys.')
  if (messageType === 'DIGEST' && message.length !== digestLength(algorithm)) {
    throw err('ValidationException', `Digest is invalid length for algorithm ${algorithm}: expected ${digestLength(algorithm)} bytes.`)
  }

  return {algorithm, key, message, messageType}
}

const Sign: Operation = (input, ctx) => {
  const {algorithm, key, message, messageType} = signingInput(input, ctx, 'Sign')
  dryRun(input)
  return {KeyId: key.arn, Signature: b64(signMessage(currentMaterial(key), algorithm, message, messageType)), SigningAlgorithm: algorithm}
}

const Verify: Operation = (input, ctx) => {
  const {algorithm, key, message, messageType} = signingInput(input, ctx, 'Verify')
  const signature = blob(input, 'Signature', {max: 6144, required: true})!
  dryRun(input)
  if (!verifyMessage(currentMaterial(key), algorithm, message, messageType, signature)) throw err('KMSInvalidSignatureException', '')
  return {KeyId: key.arn, SignatureValid: true, SigningAlgorithm: algorithm}
}

function macInput(input: Record<string, any>, ctx: OpContext, operation: string) {
  const key = keyFrom(ctx, input, {aliases: true})
  const message = blob(input, 'Message', {max: 4096, required: true})!
  const algorithm = oneOf(input, 'MacAlgorithm', MAC_ALGORITHMS, true)!
  grantTokens(input)
  requireUsable(key)
  requireUsage(key, 'GENERATE_VERIFY_MAC', operation)
  const allowed = macAlgorithms(key) ?? []
  if (!allowed.includes(algorithm)) throw err('InvalidKeyUsageException', `${key.arn} does not support the MAC algorithm ${algorithm}. Supported: ${allowed.join(', ')}.`)
  return {algorithm, key, message}
}

const GenerateMac: Operation = (input, ctx) => {
  const {algorithm, key, message} = macInput(input, ctx, 'GenerateMac')
  dryRun(input)
  return {KeyId: key.arn, Mac: b64(hmac(currentMaterial(key), algorithm, message)), MacAlgorithm: algorithm}
}

const VerifyMac: Operation = (input, ctx) => {
  const {algorithm, key, message} = macInput(input, ctx, 'VerifyMac')
  const mac = blob(input, 'Mac', {max: 6144, required: true})!
  dryRun(input)
  if (!macEquals(hmac(currentMaterial(key), algorithm, message), mac)) throw err('KMSInvalidMacException', '')
  return {KeyId: key.arn, MacAlgorithm: algorithm, MacValid: true}
}

const GetPublicKey: Operation = (input, ctx) => {
  const key = keyFrom(ctx, input, {aliases: true})
  grantTokens(input)
  requireUsable(key)
  if (!isAsymmetric(key.keySpec)) throw err('UnsupportedOperationException', `${key.arn} is not an asymmetric KMS key: it has no public key.`)
  const enc = encryptionAlgorithms(key)
  const sign = signingAlgorithms(key)
  const agree = keyAgreementAlgorithms(key)
  return {
    CustomerMasterKeySpec: key.keySpec,
    ...(enc ? {EncryptionAlgorithms: enc} : {}),
    ...(agree ? {KeyAgreementAlgorithms: agree} : {}),
    KeyId: key.arn,
    KeySpec: key.keySpec,
    KeyUsage: key.keyUsage,
    PublicKey: b64(publicKeyDer(currentMaterial(key))),
    ...(sign ? {SigningAlgorithms: sign} : {}),
  }
}

/** ECDH with the private key of a KEY_AGREEMENT key (ECC_NIST_P256, P384, P521) and the peer's public key. */
const DeriveSharedSecret: Operation = (input, ctx) => {
  const key = keyFrom(ctx, input, {aliases: true})
  const algorithm = oneOf(input, 'KeyAgreementAlgorithm', ['ECDH'], true)!
  const publicKey = blob(input, 'PublicKey', {max: 8192, required: true})!
  grantTokens(input)
  if (input.Recipient !== undefined) throw err('UnsupportedOperationException', 'Recipient (Nitro Enclaves attestation) is not supported by the kmsctl sandbox.')
  requireUsable(key)
  requireUsage(key, 'KEY_AGREEMENT', 'DeriveSharedSecret')
  dryRun(input)
  const secret = deriveSharedSecret(currentMaterial(key), key.keySpec, publicKey)
  if (!secret) {
    throw err('ValidationException', `PublicKey must be a DER-encoded X.509 SubjectPublicKeyInfo of an elliptic curve key on the curve of ${key.arn} (${key.keySpec}).`)
  }

  return {KeyAgreementAlgorithm: algorithm, KeyId: key.arn, KeyOrigin: key.origin, SharedSecret: b64(secret)}
}

const GenerateRandom: Operation = (input) => {
  const bytes = int(input, 'NumberOfBytes', 1, 1024)
  if (input.CustomKeyStoreId !== undefined) throw err('UnsupportedOperationException', 'Custom key stores are not supported by the kmsctl sandbox.')
  if (input.Recipient !== undefined) throw err('UnsupportedOperationException', 'Recipient (Nitro Enclaves attestation) is not supported by the kmsctl sandbox.')
  if (bytes === undefined) throw err('ValidationException', 'NumberOfBytes is required.')
  return {Plaintext: b64(randomBytes(bytes))}
}

/** The crypto operations, by name. */
export const CRYPTO_OPERATIONS: Record<string, OperationSpec> = {
  Decrypt: spec(Decrypt, false),
  DeriveSharedSecret: spec(DeriveSharedSecret, false),
  Encrypt: spec(Encrypt, false),
  GenerateDataKey: spec(GenerateDataKey, false),
  GenerateDataKeyWithoutPlaintext: spec(GenerateDataKeyWithoutPlaintext, false),
  GenerateMac: spec(GenerateMac, false),
  GenerateRandom: spec(GenerateRandom, false),
  GetPublicKey: spec(GetPublicKey, false),
  ReEncrypt: spec(ReEncrypt, false),
  Sign: spec(Sign, false),
  Verify: spec(Verify, false),
  VerifyMac: spec(VerifyMac, false),
}
