// The shape of the sandbox's state file (state.json in the sandbox directory).
// Key material lives here in the clear: the sandbox is NOT for protecting real data.

export type KeyState = 'Creating' | 'Disabled' | 'Enabled' | 'PendingDeletion' | 'PendingImport' | 'PendingReplicaDeletion' | 'Unavailable' | 'Updating'

export interface Tag {
  TagKey: string
  TagValue: string
}

export interface KeyMaterial {
  /** 64 hex characters, as KMS's KeyMaterialId. */
  id: string
  createdAt: number
  /** How this material came to be. */
  origin: 'AUTOMATIC' | 'CREATION' | 'ON_DEMAND'
  /** Symmetric and HMAC keys: the secret, base64. */
  secret?: string
  /** Asymmetric keys: PKCS#8 PEM private key. */
  privateKeyPem?: string
}

export interface KeyRecord {
  account: string
  arn: string
  createdAt: number
  deletionDate?: number
  description: string
  keyId: string
  keyManager: 'AWS' | 'CUSTOMER'
  keySpec: string
  keyUsage: string
  /** Oldest first; the last one is current. */
  materials: KeyMaterial[]
  multiRegion: boolean
  /** For multi-region keys: PRIMARY or REPLICA. */
  multiRegionType?: 'PRIMARY' | 'REPLICA'
  onDemandRotations: number
  origin: 'AWS_KMS'
  pendingWindowInDays?: number
  policy: string
  region: string
  rotation: {enabled: boolean; periodDays?: number; nextRotation?: number}
  state: KeyState
  tags: Tag[]
}

export interface AliasRecord {
  arn: string
  createdAt: number
  name: string
  region: string
  targetKeyArn: string
  updatedAt: number
}

export interface GrantRecord {
  constraints?: {EncryptionContextEquals?: Record<string, string>; EncryptionContextSubset?: Record<string, string>}
  createdAt: number
  grantId: string
  granteePrincipal: string
  issuingAccount: string
  keyArn: string
  name?: string
  operations: string[]
  retiringPrincipal?: string
}

export interface SandboxState {
  aliases: Record<string, AliasRecord>
  /** Added to real time by the clock (moved by `kmsctl sandbox clock advance|set`). */
  clockOffsetMs: number
  createdAt: number
  grants: Record<string, GrantRecord>
  keys: Record<string, KeyRecord>
  version: 1
}

export function emptyState(nowMs: number): SandboxState {
  return {aliases: {}, clockOffsetMs: 0, createdAt: nowMs, grants: {}, keys: {}, version: 1}
}
