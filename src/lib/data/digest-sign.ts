// Signatures over a precomputed digest, as KMS makes them for Sign/Verify with MessageType DIGEST.
//
// node:crypto signs and verifies messages (it hashes them itself); for a digest it has PKCS#1 v1.5
// through the raw RSA operations only. RSASSA-PSS over a digest is the EMSA-PSS encoding (RFC 8017,
// section 9.1) around the raw RSA operation, and ECDSA over a digest comes from @noble/curves, loaded
// on first use. A signature made over the digest of a file equals the one made over the file itself
// with the same hash, so these verify what KMS signs and what node:crypto signs alike.
import {
  type JsonWebKey,
  type KeyObject,
  constants,
  createHash,
  createPublicKey,
  privateDecrypt,
  privateEncrypt,
  publicDecrypt,
  publicEncrypt,
  randomBytes,
  timingSafeEqual,
} from 'node:crypto'
import {createRequire} from 'node:module'

export type DigestAlgorithm = 'sha256' | 'sha384' | 'sha512'

/** KMS signing algorithms that take MessageType DIGEST, with the hash each one uses. */
export const DIGEST_SIGNING_ALGORITHMS = [
  'RSASSA_PSS_SHA_256',
  'RSASSA_PSS_SHA_384',
  'RSASSA_PSS_SHA_512',
  'RSASSA_PKCS1_V1_5_SHA_256',
  'RSASSA_PKCS1_V1_5_SHA_384',
  'RSASSA_PKCS1_V1_5_SHA_512',
  'ECDSA_SHA_256',
  'ECDSA_SHA_384',
  'ECDSA_SHA_512',
] as const

export function digestAlgorithmOf(signingAlgorithm: string): DigestAlgorithm | undefined {
  const m = /^(RSASSA_PSS|RSASSA_PKCS1_V1_5|ECDSA)_SHA_(256|384|512)$/.exec(signingAlgorithm)
  return m ? (`sha${m[2]}` as DigestAlgorithm) : undefined
}

export function digestBytes(algorithm: DigestAlgorithm): number {
  return Number(algorithm.slice(3)) / 8
}

/** DigestInfo prefixes (RFC 8017, section 9.2, note 1) for PKCS#1 v1.5. */
const DIGEST_INFO: Record<DigestAlgorithm, string> = {
  sha256: '3031300d060960864801650304020105000420',
  sha384: '3041300d060960864801650304020205000430',
  sha512: '3051300d060960864801650304020305000440',
}

/** Signs a digest with a private key the way KMS does for the given signing algorithm. */
export function signDigest(privateKey: KeyObject, signingAlgorithm: string, digest: Buffer): Buffer {
  const hash = checkedHash(signingAlgorithm, digest)
  if (signingAlgorithm.startsWith('RSASSA_PKCS1_V1_5')) {
    return privateEncrypt({key: privateKey, padding: constants.RSA_PKCS1_PADDING}, Buffer.concat([Buffer.from(DIGEST_INFO[hash], 'hex'), digest]))
  }

  if (signingAlgorithm.startsWith('RSASSA_PSS')) {
    const bits = modulusBits(privateKey)
    const em = pssEncode(hash, digest, bits - 1)
    return privateDecrypt({key: privateKey, padding: constants.RSA_NO_PADDING}, leftPad(em, Math.ceil(bits / 8)))
  }

  const {curve, jwk} = ecCurve(privateKey)
  const d = Buffer.from(jwk.d!, 'base64url')
  return Buffer.from(curve.sign(digest, d, {lowS: false, prehash: false}).toDERRawBytes())
}

/** Verifies a signature over a digest with a public (or private) key. False for any mismatch or malformed signature. */
export function verifyDigest(key: KeyObject, signingAlgorithm: string, digest: Buffer, signature: Buffer): boolean {
  const publicKey = key.type === 'private' ? createPublicKey(key) : key
  const hash = checkedHash(signingAlgorithm, digest)
  try {
    if (signingAlgorithm.startsWith('RSASSA_PKCS1_V1_5')) {
      const out = publicDecrypt({key: publicKey, padding: constants.RSA_PKCS1_PADDING}, signature)
      return constantTimeEquals(out, Buffer.concat([Buffer.from(DIGEST_INFO[hash], 'hex'), digest]))
    }

    if (signingAlgorithm.startsWith('RSASSA_PSS')) {
      const bits = modulusBits(publicKey)
      if (signature.length !== Math.ceil(bits / 8)) return false
      const raw = publicEncrypt({key: publicKey, padding: constants.RSA_NO_PADDING}, signature)
      const emLen = Math.ceil((bits - 1) / 8)
      if (raw.subarray(0, raw.length - emLen).some((b) => b !== 0)) return false
      return pssVerify(hash, digest, raw.subarray(raw.length - emLen), bits - 1)
    }

    const {curve, jwk} = ecCurve(publicKey)
    const point = Buffer.concat([Buffer.from([4]), Buffer.from(jwk.x!, 'base64url'), Buffer.from(jwk.y!, 'base64url')])
    return curve.verify(curve.Signature.fromDER(signature), digest, point, {lowS: false, prehash: false})
  } catch {
    return false
  }
}

function checkedHash(signingAlgorithm: string, digest: Buffer): DigestAlgorithm {
  const hash = digestAlgorithmOf(signingAlgorithm)
  if (!hash) throw new Error(`${signingAlgorithm} does not sign a digest.`)
  if (digest.length !== digestBytes(hash)) throw new Error(`A ${hash} digest is ${digestBytes(hash)} bytes, not ${digest.length}.`)
  return hash
}

function modulusBits(key: KeyObject): number {
  const bits = key.asymmetricKeyDetails?.modulusLength
  if (!bits || key.asymmetricKeyType !== 'rsa') throw new Error('Not an RSA key.')
  return bits
}

function leftPad(buf: Buffer, length: number): Buffer {
  return buf.length >= length ? buf : Buffer.concat([Buffer.alloc(length - buf.length), buf])
}

function constantTimeEquals(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b)
}

function mgf1(hash: DigestAlgorithm, seed: Buffer, length: number): Buffer {
  const out: Buffer[] = []
  let size = 0
  for (let counter = 0; size < length; counter++) {
    const c = Buffer.alloc(4)
    c.writeUInt32BE(counter)
    const block = createHash(hash).update(seed).update(c).digest()
    out.push(block)
    size += block.length
  }

  return Buffer.concat(out).subarray(0, length)
}

// EMSA-PSS with MGF1 over the same hash and a salt as long as the digest (what KMS uses).
function pssEncode(hash: DigestAlgorithm, mHash: Buffer, emBits: number): Buffer {
  const hLen = mHash.length
  const sLen = hLen
  const emLen = Math.ceil(emBits / 8)
  if (emLen < hLen + sLen + 2) throw new Error('RSA key too small for PSS with this hash.')
  const salt = randomBytes(sLen)
  const h = createHash(hash).update(Buffer.alloc(8)).update(mHash).update(salt).digest()
  const db = Buffer.concat([Buffer.alloc(emLen - sLen - hLen - 2), Buffer.from([1]), salt])
  const mask = mgf1(hash, h, emLen - hLen - 1)
  for (let i = 0; i < db.length; i++) db[i] ^= mask[i]
  db[0] &= 0xff >> (8 * emLen - emBits)
  return Buffer.concat([db, h, Buffer.from([0xbc])])
}

function pssVerify(hash: DigestAlgorithm, mHash: Buffer, em: Buffer, emBits: number): boolean {
  const hLen = mHash.length
  const sLen = hLen
  const emLen = Math.ceil(emBits / 8)
  if (em.length !== emLen || emLen < hLen + sLen + 2 || em.at(-1) !== 0xbc) return false
  const maskedDb = em.subarray(0, emLen - hLen - 1)
  const h = em.subarray(emLen - hLen - 1, emLen - 1)
  const topMask = 0xff >> (8 * emLen - emBits)
  if ((maskedDb[0] & ~topMask) !== 0) return false
  const mask = mgf1(hash, h, maskedDb.length)
  const db = Buffer.from(maskedDb)
  for (let i = 0; i < db.length; i++) db[i] ^= mask[i]
  db[0] &= topMask
  const ps = emLen - hLen - sLen - 2
  if (db.subarray(0, ps).some((b) => b !== 0) || db[ps] !== 1) return false
  const salt = db.subarray(db.length - sLen)
  const h2 = createHash(hash).update(Buffer.alloc(8)).update(mHash).update(salt).digest()
  return constantTimeEquals(h, h2)
}

interface NobleSignature {
  toDERRawBytes(): Uint8Array
}

interface NobleCurve {
  Signature: {fromDER(bytes: Uint8Array): unknown}
  sign(msgHash: Uint8Array, privateKey: Uint8Array, options: {lowS: boolean; prehash: boolean}): NobleSignature
  verify(signature: unknown, msgHash: Uint8Array, publicKey: Uint8Array, options: {lowS: boolean; prehash: boolean}): boolean
}

const requireModule = createRequire(import.meta.url)

function ecCurve(key: KeyObject): {curve: NobleCurve; jwk: JsonWebKey} {
  if (key.asymmetricKeyType !== 'ec') throw new Error('Not an elliptic-curve key.')
  const jwk = key.export({format: 'jwk'})
  // Loaded on first use: only DIGEST signatures with ECC keys need it.
  const curves = jwk.crv === 'secp256k1' ? requireModule('@noble/curves/secp256k1') : requireModule('@noble/curves/nist')
  const curve = {'P-256': curves.p256, 'P-384': curves.p384, 'P-521': curves.p521, secp256k1: curves.secp256k1}[jwk.crv ?? '']
  if (!curve) throw new Error(`Unsupported curve ${jwk.crv}.`)
  return {curve: curve as NobleCurve, jwk}
}
