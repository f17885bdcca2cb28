// Keys for data commands: every reference (ID, ARN, alias) is resolved to its key ARN first, since
// the Encryption SDK's keyring records and matches data keys by key ARN; a key that cannot do the
// job (not a symmetric encryption key, disabled, pending deletion) is refused before any data moves.
import type {KMSClient, KeyMetadata} from '@aws-sdk/client-kms'

import {KmsctlError, fromAwsError, usageError} from '../errors.js'
import {parseKeyRef, resolveKey} from '../key-ref.js'

export interface DataKeyRef {
  /** As the user wrote it. */
  ref: string
  arn: string
  metadata?: KeyMetadata
}

/**
 * Resolves each reference with DescribeKey. A key ARN whose DescribeKey is denied is used as given
 * (callers may hold kms:Decrypt or kms:GenerateDataKey without kms:DescribeKey); an alias needs it.
 */
export async function resolveKeyArns(kms: KMSClient, refs: readonly string[]): Promise<DataKeyRef[]> {
  const out: DataKeyRef[] = []
  const seen = new Set<string>()
  for (const ref of refs) {
    const parsed = parseKeyRef(ref)
    let key: DataKeyRef
    try {
      const resolved = await resolveKey(kms, ref)
      key = {arn: resolved.arn, metadata: resolved.metadata, ref}
    } catch (error) {
      const e = fromAwsError(error, {key: ref, operation: 'DescribeKey'})
      if (e.code === 'ACCESS_DENIED' && parsed.kind === 'key-arn') key = {arn: parsed.raw, ref}
      else if (e.code === 'ACCESS_DENIED' && parsed.kind !== 'key-arn') {
        throw new KmsctlError('ACCESS_DENIED', `Cannot resolve ${ref} to a key ARN: kms:DescribeKey is denied.`, {
          awsCode: e.awsCode,
          awsMessage: e.awsMessage,
          cause: error,
          remedy: 'Give the key ARN instead (the Encryption SDK matches data keys by key ARN), or ask for kms:DescribeKey.',
        })
      } else throw e
    }

    if (!seen.has(key.arn)) out.push(key)
    seen.add(key.arn)
  }

  return out
}

/** Refuses keys that cannot encrypt data keys (usage, spec, state), naming the fix. */
export function checkEncryptionKey(key: DataKeyRef): void {
  const m = key.metadata
  if (!m) return
  if (m.KeySpec !== 'SYMMETRIC_DEFAULT' || m.KeyUsage !== 'ENCRYPT_DECRYPT') {
    throw usageError(
      `${key.ref} is a ${m.KeySpec} ${m.KeyUsage} key: envelope encryption needs a symmetric encryption key (SYMMETRIC_DEFAULT, ENCRYPT_DECRYPT).`,
      'Try this: kmsctl key list --spec SYMMETRIC_DEFAULT, or kmsctl key create.',
    )
  }

  checkState(key, 'GenerateDataKey')
}

/** Refuses a key that cannot sign with a digest: not SIGN_VERIFY, or symmetric, or disabled. */
export function checkSigningKey(key: DataKeyRef): void {
  const m = key.metadata
  if (!m) return
  if (m.KeyUsage !== 'SIGN_VERIFY') {
    const what = m.KeySpec === 'SYMMETRIC_DEFAULT' ? 'a symmetric encryption key' : `a ${m.KeySpec} ${m.KeyUsage} key`
    throw usageError(
      `${key.ref} is ${what}: it cannot sign. Signing needs an asymmetric key with KeyUsage SIGN_VERIFY (RSA or ECC).`,
      'Try this: kmsctl key create --spec ECC_NIST_P256 --usage SIGN_VERIFY, then sign with that key.',
    )
  }

  if (m.KeySpec?.startsWith('ML_DSA') || m.KeySpec === 'SM2') {
    throw usageError(`${key.ref} is a ${m.KeySpec} key: kmsctl signs file digests with RSA and ECC keys only.`, 'Try this: an RSA_* or ECC_* signing key.')
  }

  checkState(key, 'Sign')
}

function checkState(key: DataKeyRef, operation: string): void {
  const state = key.metadata?.KeyState
  if (!state || state === 'Enabled') return
  if (state === 'Disabled') {
    throw new KmsctlError('DISABLED', `Key ${key.ref} is disabled: kms:${operation} is not allowed.`, {
      details: {keyArn: key.arn, state},
      remedy: `Enable it with kmsctl key enable ${key.ref}, if that is intended.`,
    })
  }

  throw new KmsctlError('INVALID_STATE', `Key ${key.ref} is in state ${state}: kms:${operation} is not allowed.`, {
    details: {keyArn: key.arn, state},
    remedy: state === 'PendingDeletion' ? `Cancel the deletion first: kmsctl key cancel-deletion ${key.ref} --enable` : `See kmsctl key describe ${key.ref}.`,
  })
}

/**
 * Adds the calling principal to an access-denied error (best effort), since "who am I" is the first
 * question when KMS says no.
 */
export async function withPrincipal(error: KmsctlError, caller: () => Promise<{arn: string}>): Promise<KmsctlError> {
  if (error.code !== 'ACCESS_DENIED') return error
  let arn: string | undefined
  try {
    arn = (await caller()).arn
  } catch {
    // The caller's identity is a courtesy here.
  }

  if (!arn || error.message.includes(arn)) return error
  return new KmsctlError('ACCESS_DENIED', error.message.replace(/\.$/, '') + ` (as ${arn}).`, {
    awsCode: error.awsCode,
    awsMessage: error.awsMessage,
    cause: error.cause,
    details: {...error.details, principal: arn},
    remedy: error.remedy?.replace('YOUR_ARN', arn),
  })
}
