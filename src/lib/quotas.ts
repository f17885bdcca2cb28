// Published request quotas: the table the client paces by (src/lib/pacing.ts) and the sandbox
// enforces (src/sandbox/limits/quotas.ts). Plain data, no dependencies, so the sandbox may import it.

/**
 * KMS request quotas (requests per second, per account and region) from AWS's published table.
 * Live values come from Service Quotas; --rate overrides them per command.
 */
export const KMS_QUOTAS: Readonly<Record<string, number>> = {
  CancelKeyDeletion: 5,
  ConnectCustomKeyStore: 5,
  CreateAlias: 5,
  CreateGrant: 50,
  CreateKey: 5,
  Decrypt: 5500,
  DeleteAlias: 5,
  DescribeKey: 100,
  DisableKey: 5,
  DisableKeyRotation: 5,
  EnableKey: 5,
  EnableKeyRotation: 5,
  Encrypt: 5500,
  GenerateDataKey: 5500,
  GenerateDataKeyWithoutPlaintext: 5500,
  GenerateMac: 5500,
  GetKeyLastUsage: 100,
  GetKeyPolicy: 30,
  GetKeyRotationStatus: 100,
  GetPublicKey: 5500,
  ListAliases: 100,
  ListGrants: 100,
  ListKeyPolicies: 100,
  ListKeyRotations: 100,
  ListKeys: 100,
  ListResourceTags: 100,
  ListRetirableGrants: 5,
  PutKeyPolicy: 5,
  ReEncrypt: 5500,
  ReplicateKey: 5,
  RetireGrant: 15,
  RevokeGrant: 15,
  RotateKeyOnDemand: 5,
  ScheduleKeyDeletion: 5,
  Sign: 5500,
  TagResource: 5,
  UntagResource: 5,
  UpdateAlias: 5,
  UpdateKeyDescription: 5,
  Verify: 5500,
  VerifyMac: 5500,
}

/** CloudTrail LookupEvents: 2 requests per second per account and region. */
export const LOOKUP_EVENTS_RATE = 2

/** The rate of a KMS operation not in the table (the lowest published one). */
export const KMS_DEFAULT_QUOTA = 5

/** The published rate (requests per second) of a KMS operation. */
export function kmsQuota(operation: string): number {
  return KMS_QUOTAS[operation] ?? KMS_DEFAULT_QUOTA
}
