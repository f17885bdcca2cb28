// A key set up as an incident would find it: a custom policy, three grants (one with constraints),
// two aliases, tags and rotation, in an in-process sandbox with policy enforcement.
import {
  CreateAliasCommand,
  CreateGrantCommand,
  CreateKeyCommand,
  EnableKeyRotationCommand,
  GetKeyPolicyCommand,
  KMSClient,
  ListAliasesCommand,
  ListGrantsCommand,
  ListResourceTagsCommand,
} from '@aws-sdk/client-kms'

import {DEFAULT_PRINCIPAL_ARN, SANDBOX_ACCOUNT} from '../../../src/sandbox/constants.js'
import {grantSignature} from '../../../src/lib/incident/snapshot.js'
import {newSandbox} from '../../sandbox/helpers.js'

export const ADMIN = DEFAULT_PRINCIPAL_ARN
export const APP_ROLE = `arn:aws:iam::${SANDBOX_ACCOUNT}:role/payments-app`
export const BATCH_ROLE = `arn:aws:iam::${SANDBOX_ACCOUNT}:role/batch`

/** The in-process sandbox's KMS client (with the SDK's own send, see newSandbox). */
export async function sandboxKms(): Promise<{dir: string; kms: KMSClient}> {
  const sb = await newSandbox()
  return {dir: sb.dir, kms: sb.kms}
}

export const CUSTOM_POLICY = JSON.stringify({
  Statement: [
    {Action: 'kms:*', Effect: 'Allow', Principal: {AWS: `arn:aws:iam::${SANDBOX_ACCOUNT}:root`}, Resource: '*', Sid: 'Root'},
    {Action: ['kms:Decrypt', 'kms:Encrypt'], Effect: 'Allow', Principal: {AWS: APP_ROLE}, Resource: '*', Sid: 'App'},
  ],
  Version: '2012-10-17',
})

export async function incidentKey(kms: KMSClient, name = 'pay'): Promise<string> {
  const out = await kms.send(new CreateKeyCommand({Description: 'payments', Policy: CUSTOM_POLICY, Tags: [{TagKey: 'team', TagValue: 'payments'}, {TagKey: 'env', TagValue: 'prod'}]}))
  const keyId = out.KeyMetadata!.KeyId!
  await kms.send(new CreateAliasCommand({AliasName: `alias/${name}`, TargetKeyId: keyId}))
  await kms.send(new CreateAliasCommand({AliasName: `alias/${name}-legacy`, TargetKeyId: keyId}))
  await kms.send(new EnableKeyRotationCommand({KeyId: keyId, RotationPeriodInDays: 180}))
  await kms.send(new CreateGrantCommand({GranteePrincipal: APP_ROLE, KeyId: keyId, Name: 'app', Operations: ['Decrypt', 'Encrypt']}))
  await kms.send(
    new CreateGrantCommand({
      Constraints: {EncryptionContextEquals: {tenant: 'acme'}},
      GranteePrincipal: BATCH_ROLE,
      KeyId: keyId,
      Name: 'batch-acme',
      Operations: ['Decrypt'],
      RetiringPrincipal: APP_ROLE,
    }),
  )
  await kms.send(new CreateGrantCommand({GranteePrincipal: BATCH_ROLE, KeyId: keyId, Operations: ['GenerateDataKey']}))
  return keyId
}

/** What "equivalent" means for contain then restore: policy, grants by parameters, aliases, tags. */
export async function keyView(kms: KMSClient, keyId: string): Promise<Record<string, unknown>> {
  const policy = (await kms.send(new GetKeyPolicyCommand({KeyId: keyId, PolicyName: 'default'}))).Policy
  const grants = (await kms.send(new ListGrantsCommand({KeyId: keyId}))).Grants ?? []
  const aliases = ((await kms.send(new ListAliasesCommand({KeyId: keyId}))).Aliases ?? []).map((a) => a.AliasName).sort()
  const tags = ((await kms.send(new ListResourceTagsCommand({KeyId: keyId}))).Tags ?? []).map((t) => `${t.TagKey}=${t.TagValue}`).sort()
  return {aliases, grants: grants.map((g) => grantSignature(g)).sort(), policy: JSON.parse(policy ?? '{}'), tags}
}
