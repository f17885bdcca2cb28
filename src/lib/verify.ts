// Proving that a key works end to end, the way applications use it: a data key round trip for
// symmetric encryption keys (GenerateDataKey, then Decrypt of the returned ciphertext, compared in
// memory), Sign/Verify or Encrypt/Decrypt for asymmetric keys by usage, GenerateMac/VerifyMac for
// HMAC keys, DeriveSharedSecret checked against a local ECDH for key agreement keys, and
// Encapsulate/Decapsulate for ML-KEM keys. Each step reports its outcome and latency; secret
// values (data keys, plaintexts, shared secrets) never leave this module and are zeroed after use.
import type {KMSClient, KeyMetadata} from '@aws-sdk/client-kms'

import {createPublicKey, diffieHellman, generateKeyPairSync, randomBytes, timingSafeEqual} from 'node:crypto'
import {performance} from 'node:perf_hooks'

import {kmsSdk} from './aws/sdk.js'
import {fromAwsError, usageError} from './errors.js'
import type {ResolvedKey} from './key-ref.js'

export type VerifyMethod = 'data-key' | 'encapsulate' | 'encrypt-decrypt' | 'key-agreement' | 'mac' | 'sign-verify'

export interface VerifyStep {
  /** The KMS operation, or "Compare" for the in-memory check. */
  step: string
  status: 'failed' | 'ok' | 'skipped'
  /** Latency of the call in milliseconds (absent when skipped). */
  ms?: number
  /** What was checked or used (algorithm, sizes): never a secret. */
  detail?: string
  error?: {code: string; message: string; awsCode?: string}
}

export interface VerifyReport {
  ref: string
  keyId: string
  arn: string
  keySpec: string
  keyUsage: string
  state: string
  method: VerifyMethod
  /** The encryption context used (symmetric keys), as given with --context. */
  encryptionContext?: Record<string, string>
  ok: boolean
  steps: VerifyStep[]
  /** Total of the step latencies, in milliseconds. */
  totalMs: number
  /** One sentence on the first failure. */
  failure?: string
}

export interface VerifyOptions {
  /** Encryption context for symmetric keys (k=v pairs). */
  context?: Record<string, string>
  /** Monotonic clock in ms, injected for tests. */
  clock?: () => number
}

const NIST_CURVES: Record<string, string> = {ECC_NIST_P256: 'prime256v1', ECC_NIST_P384: 'secp384r1', ECC_NIST_P521: 'secp521r1'}

/** How a key is checked, from its spec and usage; a usage error when kmsctl cannot check it or the flags do not apply. */
export function verifyMethod(m: KeyMetadata, context?: Record<string, string>): VerifyMethod {
  const spec = m.KeySpec ?? m.CustomerMasterKeySpec ?? 'SYMMETRIC_DEFAULT'
  const usage = m.KeyUsage ?? 'ENCRYPT_DECRYPT'
  let method: VerifyMethod
  if (spec === 'SYMMETRIC_DEFAULT') method = 'data-key'
  else if (usage === 'GENERATE_VERIFY_MAC') method = 'mac'
  else if (usage === 'SIGN_VERIFY') method = 'sign-verify'
  else if (usage === 'ENCRYPT_DECRYPT') method = 'encrypt-decrypt'
  else if (usage === 'ENCAPSULATE_DECAPSULATE') method = 'encapsulate'
  else if (usage === 'KEY_AGREEMENT') {
    if (!NIST_CURVES[spec]) throw usageError(`kmsctl key verify cannot check ${spec} key agreement keys (NIST curves only).`, 'Try this: kmsctl key describe KEY')
    method = 'key-agreement'
  } else {
    throw usageError(`kmsctl key verify does not know how to check a ${spec} ${usage} key.`, 'Try this: kmsctl key describe KEY')
  }

  if (context && Object.keys(context).length > 0 && method !== 'data-key') {
    throw usageError(
      `--context applies to symmetric encryption keys only; ${m.KeyId ?? 'this key'} is a ${spec} ${usage} key, which KMS uses without an encryption context.`,
      'Try this: leave out --context',
    )
  }

  return method
}

interface StepResult {
  detail?: string
  /** A false check (e.g. a mismatch) fails the step with this message. */
  mismatch?: string
}

/**
 * Runs the checks of the key's method and reports each step. Never throws for a failing step:
 * a failure (key disabled, access denied, mismatch) is reported in the step and `ok` is false.
 */
export async function verifyKey(kms: KMSClient, key: ResolvedKey, options: VerifyOptions = {}): Promise<VerifyReport> {
  const m = key.metadata
  const context = options.context && Object.keys(options.context).length > 0 ? options.context : undefined
  const method = verifyMethod(m, context)
  const clock = options.clock ?? (() => performance.now())
  const sdk = await kmsSdk()
  const steps: VerifyStep[] = []
  let failed = false

  /** Runs one step unless an earlier one failed; the callback returns its detail or a mismatch. */
  const step = async (name: string, fn: () => Promise<StepResult | void>, timed = true): Promise<boolean> => {
    if (failed) {
      steps.push({status: 'skipped', step: name})
      return false
    }

    const start = clock()
    try {
      const r = (await fn()) ?? {}
      const ms = timed ? round(clock() - start) : undefined
      if (r.mismatch) {
        failed = true
        steps.push({detail: r.detail, error: {code: 'MISMATCH', message: r.mismatch}, ms, status: 'failed', step: name})
        return false
      }

      steps.push({detail: r.detail, ms, status: 'ok', step: name})
      return true
    } catch (error) {
      failed = true
      const e = fromAwsError(error, {key: key.ref, operation: name})
      steps.push({error: {awsCode: e.awsCode, code: e.code, message: explain(e.awsCode, e.message)}, ms: round(clock() - start), status: 'failed', step: name})
      return false
    }
  }

  const compare = (a: Uint8Array | undefined, b: Uint8Array | undefined, what: string): StepResult => {
    const same = Boolean(a && b && a.length === b.length && timingSafeEqual(a, b))
    return same ? {detail: `${what} matches (${a!.length} bytes)`} : {detail: `${what} compared in memory`, mismatch: `the ${what} KMS returned does not match`}
  }

  const wipe = (...buffers: Array<Uint8Array | undefined>) => {
    for (const b of buffers) b?.fill(0)
  }

  switch (method) {
    case 'data-key': {
      let plaintext: Uint8Array | undefined
      let blob: Uint8Array | undefined
      let decrypted: Uint8Array | undefined
      try {
        await step('GenerateDataKey', async () => {
          const out = await kms.send(new sdk.GenerateDataKeyCommand({EncryptionContext: context, KeyId: key.keyId, KeySpec: 'AES_256'}))
          plaintext = out.Plaintext
          blob = out.CiphertextBlob
          return {detail: `AES_256 data key, ${blob?.length ?? 0}-byte ciphertext`}
        })
        await step('Decrypt', async () => {
          const out = await kms.send(new sdk.DecryptCommand({CiphertextBlob: blob, EncryptionContext: context, KeyId: key.keyId}))
          decrypted = out.Plaintext
          return {detail: 'ciphertext of the data key'}
        })
        await step('Compare', async () => compare(plaintext, decrypted, 'decrypted data key'), false)
      } finally {
        wipe(plaintext, decrypted)
      }

      break
    }

    case 'encrypt-decrypt': {
      const algorithm = pick(m.EncryptionAlgorithms, ['RSAES_OAEP_SHA_256', 'SM2PKE', 'RSAES_OAEP_SHA_1'])
      const plaintext = randomBytes(32)
      let blob: Uint8Array | undefined
      let decrypted: Uint8Array | undefined
      try {
        await step('Encrypt', async () => {
          blob = (await kms.send(new sdk.EncryptCommand({EncryptionAlgorithm: algorithm as never, KeyId: key.keyId, Plaintext: plaintext}))).CiphertextBlob
          return {detail: `${algorithm}, 32 random bytes`}
        })
        await step('Decrypt', async () => {
          decrypted = (await kms.send(new sdk.DecryptCommand({CiphertextBlob: blob, EncryptionAlgorithm: algorithm as never, KeyId: key.keyId}))).Plaintext
          return {detail: algorithm}
        })
        await step('Compare', async () => compare(plaintext, decrypted, 'decrypted plaintext'), false)
      } finally {
        wipe(plaintext, decrypted)
      }

      break
    }

    case 'sign-verify': {
      // Pre-hashed Ed25519 signs a digest, not a message: use a message-signing algorithm.
      const algorithm = pick(
        (m.SigningAlgorithms ?? []).filter((a) => a !== 'ED25519_PH_SHA_512'),
        ['RSASSA_PSS_SHA_256', 'ECDSA_SHA_256', 'ECDSA_SHA_384', 'ECDSA_SHA_512', 'ED25519_SHA_512', 'ML_DSA_SHAKE_256', 'SM2DSA'],
      )
      const message = randomBytes(32)
      let signature: Uint8Array | undefined
      await step('Sign', async () => {
        signature = (await kms.send(new sdk.SignCommand({KeyId: key.keyId, Message: message, MessageType: 'RAW', SigningAlgorithm: algorithm as never}))).Signature
        return {detail: `${algorithm}, 32-byte message`}
      })
      await step('Verify', async () => {
        const out = await kms.send(
          new sdk.VerifyCommand({KeyId: key.keyId, Message: message, MessageType: 'RAW', Signature: signature, SigningAlgorithm: algorithm as never}),
        )
        return out.SignatureValid ? {detail: 'signature valid'} : {mismatch: 'KMS did not confirm the signature'}
      })
      break
    }

    case 'mac': {
      const algorithm = pick(m.MacAlgorithms, [])
      const message = randomBytes(32)
      let mac: Uint8Array | undefined
      await step('GenerateMac', async () => {
        mac = (await kms.send(new sdk.GenerateMacCommand({KeyId: key.keyId, MacAlgorithm: algorithm as never, Message: message}))).Mac
        return {detail: `${algorithm}, 32-byte message`}
      })
      await step('VerifyMac', async () => {
        const out = await kms.send(new sdk.VerifyMacCommand({KeyId: key.keyId, Mac: mac, MacAlgorithm: algorithm as never, Message: message}))
        return out.MacValid ? {detail: 'MAC valid'} : {mismatch: 'KMS did not confirm the MAC'}
      })
      break
    }

    case 'key-agreement': {
      const curve = NIST_CURVES[m.KeySpec ?? '']
      const local = generateKeyPairSync('ec', {namedCurve: curve})
      let kmsPublic: Uint8Array | undefined
      let kmsSecret: Uint8Array | undefined
      let localSecret: Buffer | undefined
      try {
        await step('GetPublicKey', async () => {
          kmsPublic = (await kms.send(new sdk.GetPublicKeyCommand({KeyId: key.keyId}))).PublicKey
          return {detail: `${m.KeySpec} public key`}
        })
        await step('DeriveSharedSecret', async () => {
          const publicKey = local.publicKey.export({format: 'der', type: 'spki'})
          kmsSecret = (await kms.send(new sdk.DeriveSharedSecretCommand({KeyAgreementAlgorithm: 'ECDH', KeyId: key.keyId, PublicKey: publicKey}))).SharedSecret
          return {detail: 'ECDH with a one-time local key pair'}
        })
        await step(
          'Compare',
          async () => {
            localSecret = diffieHellman({privateKey: local.privateKey, publicKey: createPublicKey({format: 'der', key: Buffer.from(kmsPublic!), type: 'spki'})})
            return compare(localSecret, kmsSecret, 'shared secret')
          },
          false,
        )
      } finally {
        wipe(kmsSecret, localSecret)
      }

      break
    }

    case 'encapsulate': {
      let secret: Uint8Array | undefined
      let blob: Uint8Array | undefined
      let decapsulated: Uint8Array | undefined
      try {
        await step('Encapsulate', async () => {
          const out = await kms.send(new sdk.EncapsulateCommand({EncapsulationAlgorithm: 'ML_KEM', KeyId: key.keyId}))
          secret = out.SharedSecret
          blob = out.SharedSecretCiphertextBlob
          return {detail: `ML_KEM, ${blob?.length ?? 0}-byte ciphertext`}
        })
        await step('Decapsulate', async () => {
          decapsulated = (await kms.send(new sdk.DecapsulateCommand({EncapsulationAlgorithm: 'ML_KEM', KeyId: key.keyId, SharedSecretCiphertextBlob: blob}))).SharedSecret
          return {detail: 'ciphertext of the shared secret'}
        })
        await step('Compare', async () => compare(secret, decapsulated, 'shared secret'), false)
      } finally {
        wipe(secret, decapsulated)
      }

      break
    }
  }

  const firstFailure = steps.find((s) => s.status === 'failed')
  return {
    arn: key.arn,
    encryptionContext: context,
    failure: firstFailure ? `${firstFailure.step} failed: ${firstFailure.error?.message}` : undefined,
    keyId: key.keyId,
    keySpec: m.KeySpec ?? m.CustomerMasterKeySpec ?? '',
    keyUsage: m.KeyUsage ?? '',
    method,
    ok: !firstFailure,
    ref: key.ref,
    state: m.KeyState ?? '',
    steps,
    totalMs: round(steps.reduce((t, s) => t + (s.ms ?? 0), 0)),
  }
}

function pick(available: readonly string[] | undefined, preferred: readonly string[]): string {
  const list = available ?? []
  return preferred.find((p) => list.includes(p)) ?? list[0] ?? preferred[0]
}

function round(ms: number): number {
  return Math.round(ms * 10) / 10
}

/** The message for a failed step: KMS's own words where kmsctl's are not clearer. */
function explain(awsCode: string | undefined, message: string): string {
  if (awsCode === 'KMSInvalidSignatureException') return 'KMS rejected the signature it had just made'
  if (awsCode === 'KMSInvalidMacException') return 'KMS rejected the MAC it had just made'
  return message
}
