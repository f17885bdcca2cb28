// Key material checks: key specs too weak for what the key is used for.
import type {CheckFn} from './check.js'

/** RSA encryption keys of 2048 bits: below the size recommended for encryption keys. */
const rsa2048Encryption: CheckFn = (k) => {
  const m = k.metadata
  if (m.KeySpec !== 'RSA_2048' || m.KeyUsage !== 'ENCRYPT_DECRYPT') return []
  return [{check: 'rsa-2048-encryption', evidence: {keySpec: m.KeySpec, keyUsage: m.KeyUsage}, message: 'RSA_2048 key used for encryption: use RSA_3072 or RSA_4096 for encryption keys.'}]
}

export const materialChecks: Record<string, CheckFn> = {
  'rsa-2048-encryption': rsa2048Encryption,
}
