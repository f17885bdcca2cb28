// The KMS reads an audit sends, answered by the SDK mock for a few customer keys: the set-up shared by
// the audit's unit and command tests. Each key is clean unless a test answers otherwise: described,
// a policy granting the account root only, rotation on, no grants, tagged, used recently. A test
// overrides what it varies afterwards with more specific answers (sdk.kms.on(Command, {KeyId})).
import {
  DescribeKeyCommand,
  GetKeyLastUsageCommand,
  GetKeyPolicyCommand,
  GetKeyRotationStatusCommand,
  type KMSClient,
  type KeyMetadata,
  ListAliasesCommand,
  ListGrantsCommand,
  ListKeysCommand,
  ListResourceTagsCommand,
} from '@aws-sdk/client-kms'
import type {AwsClientStub} from 'aws-sdk-client-mock'

export const ACCT = '111122223333'
export const keyId = (n: number): string => `${String(n).padStart(8, '0')}-0000-4000-8000-000000000000`
export const keyArn = (n: number): string => `arn:aws:kms:us-east-1:${ACCT}:key/${keyId(n)}`

/** An enabled symmetric customer key, created now, with a description. */
export function customerKey(n: number): KeyMetadata {
  return {Arn: keyArn(n), CreationDate: new Date(), Description: 'd', KeyId: keyId(n), KeyManager: 'CUSTOMER', KeySpec: 'SYMMETRIC_DEFAULT', KeyState: 'Enabled', Origin: 'AWS_KMS'}
}

/** A key policy that grants the account root everything, and nobody else anything. */
export const ROOT_ONLY_POLICY = JSON.stringify({Statement: [{Action: 'kms:*', Effect: 'Allow', Principal: {AWS: `arn:aws:iam::${ACCT}:root`}, Resource: '*'}]})

export interface AuditReads {
  /** Aliases: [alias name, key number]. */
  aliases: Array<[string, number]>
  /** Keys ListKeys returns (by number). */
  listed: number[]
  /** Keys described as customer keys (default: every listed one). */
  described?: number[]
}

/** Answers every read of the audit for the keys given. */
export function mockAuditReads(kms: AwsClientStub<KMSClient>, reads: AuditReads): void {
  kms.on(ListKeysCommand).resolves({Keys: reads.listed.map((n) => ({KeyArn: keyArn(n), KeyId: keyId(n)})), Truncated: false})
  kms.on(ListAliasesCommand).resolves({Aliases: reads.aliases.map(([AliasName, n]) => ({AliasName, TargetKeyId: keyId(n)})), Truncated: false})
  for (const n of reads.described ?? reads.listed) kms.on(DescribeKeyCommand, {KeyId: keyId(n)}).resolves({KeyMetadata: customerKey(n)})
  kms.on(GetKeyPolicyCommand).resolves({Policy: ROOT_ONLY_POLICY})
  kms.on(GetKeyRotationStatusCommand).resolves({KeyRotationEnabled: true})
  kms.on(ListGrantsCommand).resolves({Grants: [], Truncated: false})
  kms.on(ListResourceTagsCommand).resolves({Tags: [{TagKey: 'owner', TagValue: 'x'}], Truncated: false})
  kms.on(GetKeyLastUsageCommand).resolves({KeyLastUsage: {Operation: 'Decrypt', Timestamp: new Date()}, TrackingStartDate: new Date('2026-01-01T00:00:00Z')})
}
