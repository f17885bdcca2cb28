// The AWS Encryption SDK message as kmsctl shows it: algorithm suites by name, the header's
// encrypted data keys and encryption context, and the errors of a message that fails to decrypt,
// named for what happened (truncated, tampered, wrong key, wrong context).
import {KmsctlError} from '../errors.js'
import {MessageBodyError} from './frames.js'

/** The algorithm suites kmsctl writes: both commit to the data key (key commitment). */
export const SUITES = {
  /** AES-256-GCM, HKDF-SHA512 with key commitment, ECDSA P-384 signature over the whole message (the SDK's default). */
  'committed-signed': 0x0578,
  /** AES-256-GCM, HKDF-SHA512 with key commitment, no signature. */
  committed: 0x0478,
} as const

export type SuiteChoice = keyof typeof SUITES

/** Names of every suite a message can declare (the AWS Encryption SDK's identifiers). */
const SUITE_NAMES: Record<number, string> = {
  0x0014: 'ALG_AES128_GCM_IV12_TAG16',
  0x0046: 'ALG_AES192_GCM_IV12_TAG16',
  0x0078: 'ALG_AES256_GCM_IV12_TAG16',
  0x0114: 'ALG_AES128_GCM_IV12_TAG16_HKDF_SHA256',
  0x0146: 'ALG_AES192_GCM_IV12_TAG16_HKDF_SHA256',
  0x0178: 'ALG_AES256_GCM_IV12_TAG16_HKDF_SHA256',
  0x0214: 'ALG_AES128_GCM_IV12_TAG16_HKDF_SHA256_ECDSA_P256',
  0x0346: 'ALG_AES192_GCM_IV12_TAG16_HKDF_SHA384_ECDSA_P384',
  0x0378: 'ALG_AES256_GCM_IV12_TAG16_HKDF_SHA384_ECDSA_P384',
  0x0478: 'ALG_AES256_GCM_IV12_TAG16_HKDF_SHA512_COMMIT_KEY',
  0x0578: 'ALG_AES256_GCM_IV12_TAG16_HKDF_SHA512_COMMIT_KEY_ECDSA_P384',
}

export interface SuiteInfo {
  id: number
  /** 0x0578 */
  hex: string
  name: string
  committing: boolean
  signed: boolean
}

export function suiteInfo(id: number): SuiteInfo {
  const name = SUITE_NAMES[id] ?? `unknown suite 0x${id.toString(16).padStart(4, '0')}`
  return {committing: name.includes('COMMIT_KEY'), hex: `0x${id.toString(16).padStart(4, '0')}`, id, name, signed: /ECDSA/.test(name)}
}

/** The encryption context key the SDK adds for signed suites (the verification key). */
export const PUBLIC_KEY_CONTEXT = 'aws-crypto-public-key'
/** Context keys starting with this are reserved by the AWS Encryption SDK. */
export const RESERVED_CONTEXT_PREFIX = 'aws-crypto-'

export interface DataKeyEntry {
  /** "aws-kms" for KMS keys. */
  provider: string
  /** For aws-kms: the key ARN that encrypted the data key. */
  keyArn: string
  /** Size of the encrypted data key in bytes. */
  encryptedSize: number
}

export interface HeaderSummary {
  messageId: string
  version: number
  algorithm: SuiteInfo
  encryptedDataKeys: DataKeyEntry[]
  /** The encryption context without the SDK's reserved entries. */
  encryptionContext: Record<string, string>
  /** The signed suites' verification public key (base64), from the reserved context entry. */
  signingPublicKey?: string
  contentType: 'framed' | 'non-framed'
  frameLength: number
}

interface RawHeader {
  contentType: number
  encryptedDataKeys: ReadonlyArray<{encryptedDataKey: Uint8Array; providerId: string; providerInfo: string}>
  encryptionContext: Readonly<Record<string, string>>
  frameLength: number
  messageId: Uint8Array
  suiteId: number
  version: number
}

export function summariseHeader(h: RawHeader): HeaderSummary {
  const context: Record<string, string> = {}
  for (const [k, v] of Object.entries(h.encryptionContext)) if (k !== PUBLIC_KEY_CONTEXT) context[k] = v
  const publicKey = h.encryptionContext[PUBLIC_KEY_CONTEXT]
  return {
    algorithm: suiteInfo(h.suiteId),
    contentType: h.contentType === 2 ? 'framed' : 'non-framed',
    encryptedDataKeys: h.encryptedDataKeys.map((k) => ({encryptedSize: k.encryptedDataKey.byteLength, keyArn: k.providerInfo, provider: k.providerId})),
    encryptionContext: context,
    frameLength: h.frameLength,
    messageId: Buffer.from(h.messageId).toString('hex'),
    ...(publicKey ? {signingPublicKey: publicKey} : {}),
    version: h.version,
  }
}

/** Checks that `actual` holds every pair of `required`; returns the mismatches ("k: missing", "k: is "x""). */
export function contextMismatches(required: Readonly<Record<string, string>>, actual: Readonly<Record<string, string>>): string[] {
  const out: string[] = []
  for (const [k, v] of Object.entries(required)) {
    if (!(k in actual)) out.push(`${k}: missing`)
    else if (actual[k] !== v) out.push(`${k}: is "${actual[k]}", expected "${v}"`)
  }

  return out
}

const GCM_AUTH = /unable to authenticate data|Unsupported state/i

/** Where decryption had got to when it failed; decides what an SDK error means. */
export interface DecryptProgress {
  /** The header was read (its syntax is valid) and handed to the materials manager. */
  headerRead: boolean
  /** The data key was decrypted and the header's authentication tag verified. */
  headerAuthenticated: boolean
  /** Output already written to a stream that cannot be taken back (stdout). */
  streamedToStdout: boolean
}

/** Turns an Encryption SDK error into a KmsctlError that names what happened. */
export function decryptFailure(error: unknown, progress: DecryptProgress): KmsctlError {
  if (error instanceof KmsctlError) return error
  const message = (error as Error)?.message ?? String(error)
  const stdoutNote = progress.streamedToStdout ? ' Output already written to stdout must not be used.' : ''
  const auth = (what: string) =>
    new KmsctlError('AUTHENTICATION_FAILED', `Authentication failed: ${what}; the message was tampered with or corrupted.${stdoutNote}`, {
      cause: error,
      details: {sdkError: firstLine(message)},
      remedy: 'Get an intact copy of the encrypted file; do not use any output of this run.',
    })
  const truncated = (where: string) =>
    new KmsctlError('TRUNCATED', `The message is truncated: it ends ${where}.${stdoutNote}`, {
      cause: error,
      details: {sdkError: firstLine(message)},
      remedy: 'Get the complete encrypted file (compare its size with the original), and do not use any output of this run.',
    })

  if (error instanceof MessageBodyError) {
    switch (error.problem) {
      case 'tag': {
        return auth('a body frame does not match its authentication tag')
      }

      case 'signature': {
        return auth('the message signature (trailer) does not verify')
      }

      case 'order': {
        return auth(`the frames are out of order (${error.message})`)
      }

      case 'malformed': {
        return auth(`the body is malformed (${firstLine(error.message)})`)
      }

      case 'truncated-body': {
        return truncated(`before its final frame (${error.message})`)
      }

      case 'truncated-signature': {
        return truncated('inside its signature')
      }

      case 'extra-bytes': {
        return new KmsctlError('AUTHENTICATION_FAILED', `The message has bytes added after its end (${error.message}); the file was tampered with or corrupted.${stdoutNote}`, {
          cause: error,
          remedy: 'Get an intact copy of the encrypted file; do not use any output of this run.',
        })
      }

      case 'frame-too-large': {
        return new KmsctlError('REFUSED', `The message has a frame too large to authenticate before writing it to stdout: ${error.message}.${stdoutNote}`, {
          cause: error,
          exitCode: 1,
          remedy: 'Decrypt to a file with -o FILE: kmsctl writes it to a temporary file that becomes FILE only once the whole message is authenticated.',
        })
      }
    }
  }

  if (!progress.headerRead) {
    if (/Incomplete Header/.test(message)) return truncated('inside its header (or the input is not an encrypted message at all)')
    if (/maxEncryptedDataKeys exceeded/.test(message)) {
      return new KmsctlError('REFUSED', 'The message has more encrypted data keys than --max-encrypted-data-keys allows.', {
        cause: error,
        exitCode: 1,
        remedy: 'Check where the file comes from; raise --max-encrypted-data-keys only for a sender you trust.',
      })
    }

    if (/commitment|Commitment/.test(message)) {
      return new KmsctlError('REFUSED', 'The message uses an algorithm suite without key commitment; kmsctl decrypts committed messages only.', {
        cause: error,
        exitCode: 1,
        remedy: 'Re-encrypt the data with a current AWS Encryption SDK (or kmsctl data encrypt).',
      })
    }

    return new KmsctlError('NOT_A_MESSAGE', `The message header is malformed (${firstLine(message)}): the file was tampered with or corrupted, or is not an AWS Encryption SDK message.`, {
      cause: error,
      remedy: 'Check that the file is the output of kmsctl data encrypt or another AWS Encryption SDK, and intact (kmsctl data inspect FILE).',
    })
  }

  if (!progress.headerAuthenticated) {
    if (GCM_AUTH.test(message) || /Commitment does not match|commitment/i.test(message)) return auth('the header does not match its authentication tag')
    return auth(`the header could not be authenticated (${firstLine(message)})`)
  }

  if (/Incomplete message|Final frame|Incomplete/i.test(message)) return truncated('before its final frame or its signature')
  if (/Invalid Signature/i.test(message)) return auth('the message signature (trailer) does not verify')
  if (GCM_AUTH.test(message)) return auth('a body frame does not match its authentication tag')
  if (/sequence out of order|AuthTag before frame|Malformed/i.test(message)) return auth(`the body is malformed (${firstLine(message)})`)
  // Not the message's fault: the output could not be written (a full disk, a closed pipe).
  return new KmsctlError('FAILED', `Decryption stopped: ${firstLine(message)}.${stdoutNote}`, {
    cause: error,
    remedy: 'Fix the cause (free space, the reading end of the pipe) and run the command again; do not use any output of this run.',
  })
}

function firstLine(text: string): string {
  return text.split('\n')[0].trim().replace(/\.$/, '')
}

/** Text from a message header, with control characters escaped, for messages on a terminal. */
export function printable(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replaceAll(/[\u0000-\u001f\u007f-\u009f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`)
}
