// Shared test data for the grant tests: keys, ARNs and grant list entries.
import type {GrantListEntry} from '@aws-sdk/client-kms'

export const ACCOUNT = '111122223333'
export const REGION = 'us-east-1'

export function keyId(n: number): string {
  return `${String(n).padStart(8, '0')}-1111-2222-3333-444455556666`
}

export function keyArn(n: number): string {
  return `arn:aws:kms:${REGION}:${ACCOUNT}:key/${keyId(n)}`
}

export function grantId(key: number, n: number): string {
  return `${String(key).padStart(4, '0')}${String(n).padStart(4, '0')}`.padEnd(64, 'a')
}

export const APP = `arn:aws:iam::${ACCOUNT}:role/app`
export const OTHER = `arn:aws:iam::${ACCOUNT}:role/other`
export const OPS = `arn:aws:iam::${ACCOUNT}:role/ops`

export function entry(key: number, n: number, overrides: Partial<GrantListEntry> = {}): GrantListEntry {
  return {
    CreationDate: new Date('2026-11-01T10:00:00Z'),
    GrantId: grantId(key, n),
    GranteePrincipal: APP,
    IssuingAccount: `arn:aws:iam::${ACCOUNT}:root`,
    KeyId: keyArn(key),
    Name: `grant-${key}-${n}`,
    Operations: ['Decrypt', 'GenerateDataKey'],
    ...overrides,
  }
}

export function symmetricMetadata(n: number) {
  return {
    Arn: keyArn(n),
    AWSAccountId: ACCOUNT,
    CreationDate: new Date('2026-10-01T00:00:00Z'),
    Enabled: true,
    KeyId: keyId(n),
    KeyManager: 'CUSTOMER' as const,
    KeySpec: 'SYMMETRIC_DEFAULT' as const,
    KeyState: 'Enabled' as const,
    KeyUsage: 'ENCRYPT_DECRYPT' as const,
  }
}
