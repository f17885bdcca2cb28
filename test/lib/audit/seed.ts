// A sandbox seeded for the audit: one key per finding the sandbox can produce, and clean keys that
// must raise nothing. Shared by the unit test (in-process sandbox) and the end-to-end test (the
// built CLI against `sandbox serve`). `setClock(daysAgo)` moves the sandbox's clock so that some
// things happen in the past (0 brings it back to real time).
import {
  CreateAliasCommand,
  CreateGrantCommand,
  CreateKeyCommand,
  DisableKeyCommand,
  EnableKeyRotationCommand,
  EncryptCommand,
  type KMSClient,
  PutKeyPolicyCommand,
  ScheduleKeyDeletionCommand,
} from '@aws-sdk/client-kms'

import {SANDBOX_ACCOUNT} from '../../../src/sandbox/constants.js'

export const ACCOUNT = SANDBOX_ACCOUNT
export const TRUSTED_ACCOUNT = '777788889999'
export const OTHER_ACCOUNT = '444455556666'
export const ADMIN_ROLE = `arn:aws:iam::${ACCOUNT}:role/KeyAdmin`
/** The options the seeded sandbox is audited with. */
export const AUDIT_ARGS = ['--trusted-accounts', TRUSTED_ACCOUNT, '--admin-principals', ADMIN_ROLE, '--grant-threshold', '3']

const ROOT = {Action: 'kms:*', Effect: 'Allow', Principal: {AWS: `arn:aws:iam::${ACCOUNT}:root`}, Resource: '*', Sid: 'Root'}
const policy = (...statements: object[]) => JSON.stringify({Statement: [ROOT, ...statements], Version: '2012-10-17'})

export interface SeededKey {
  alias?: string
  keyId: string
  /** The checks the audit must report on this key, exactly. */
  expect: string[]
}

export type Seeded = Record<string, SeededKey>

interface KeySpec {
  alias?: string | false
  description?: string | false
  owner?: false
  rotation?: false
  spec?: 'RSA_2048'
  usage?: 'ENCRYPT_DECRYPT'
  multiRegion?: boolean
  policy?: string
}

/** Creates the audit's sandbox keys; returns them by name with the findings each must raise. */
export async function seedAuditKeys(kms: KMSClient, setClock: (daysAgo: number) => Promise<void>): Promise<Seeded> {
  const make = async (name: string, spec: KeySpec = {}): Promise<{keyId: string; alias?: string}> => {
    const out = await kms.send(
      new CreateKeyCommand({
        Description: spec.description === false ? undefined : (spec.description ?? `audit fixture ${name}`),
        KeySpec: spec.spec ?? 'SYMMETRIC_DEFAULT',
        KeyUsage: spec.usage ?? (spec.spec ? 'SIGN_VERIFY' : 'ENCRYPT_DECRYPT'),
        MultiRegion: spec.multiRegion,
        Policy: spec.policy,
        Tags: spec.owner === false ? [{TagKey: 'team', TagValue: 'audit'}] : [{TagKey: 'owner', TagValue: 'audit-team'}],
      }),
    )
    const keyId = out.KeyMetadata!.KeyId!
    const alias = spec.alias === false ? undefined : (spec.alias ?? `alias/audit-${name}`)
    if (alias) await kms.send(new CreateAliasCommand({AliasName: alias, TargetKeyId: keyId}))
    if (spec.rotation !== false && !spec.spec) await kms.send(new EnableKeyRotationCommand({KeyId: keyId}))
    return {alias, keyId}
  }

  const use = (keyId: string) => kms.send(new EncryptCommand({KeyId: keyId, Plaintext: Buffer.from('x')}))
  const seeded: Seeded = {}
  const add = (name: string, k: {keyId: string; alias?: string}, expect: string[]) => {
    seeded[name] = {...k, expect: expect.sort()}
  }

  // In the past: a key disabled 120 days ago, and one last used 100 days ago.
  await setClock(120)
  const disabled = await make('disabled-long')
  await kms.send(new DisableKeyCommand({KeyId: disabled.keyId}))
  const unused = await make('unused')
  await setClock(100)
  await use(unused.keyId)
  await setClock(0)
  add('disabled-long', disabled, ['disabled-long', 'alias-to-unusable-key'])
  add('unused', unused, ['unused'])

  // Clean keys: nothing to report.
  const clean = await make('clean')
  await use(clean.keyId)
  add('clean', clean, [])
  add('clean-signing', await make('clean-signing', {spec: 'RSA_2048'}), [])
  add('clean-trusted', await make('clean-trusted', {policy: policy({Action: ['kms:Decrypt'], Effect: 'Allow', Principal: {AWS: `arn:aws:iam::${TRUSTED_ACCOUNT}:root`}, Resource: '*', Sid: 'Partner'})}), [])
  add('clean-admin', await make('clean-admin', {policy: policy({Action: ['kms:DisableKey', 'kms:EnableKey', 'kms:PutKeyPolicy'], Effect: 'Allow', Principal: {AWS: ADMIN_ROLE}, Resource: '*', Sid: 'Admins'})}), [])

  // One finding each.
  add('rotation-off', await make('rotation-off', {rotation: false}), ['rotation-off'])
  add('policy-public', await make('policy-public', {policy: policy({Action: 'kms:Decrypt', Effect: 'Allow', Principal: '*', Resource: '*', Sid: 'Anyone'})}), ['policy-public'])
  add(
    'policy-cross-account',
    await make('policy-cross-account', {policy: policy({Action: 'kms:Decrypt', Effect: 'Allow', Principal: {AWS: `arn:aws:iam::${OTHER_ACCOUNT}:role/Reader`}, Resource: '*', Sid: 'Reader'})}),
    ['policy-cross-account'],
  )
  add(
    'policy-admin',
    await make('policy-admin', {policy: policy({Action: ['kms:ScheduleKeyDeletion', 'kms:DisableKey'], Effect: 'Allow', Principal: {AWS: `arn:aws:iam::${ACCOUNT}:role/Developer`}, Resource: '*', Sid: 'Dev'})}),
    ['policy-admin-to-non-admin'],
  )
  add(
    'policy-sod',
    await make('policy-sod', {policy: policy({Action: ['kms:PutKeyPolicy', 'kms:Decrypt'], Effect: 'Allow', Principal: {AWS: ADMIN_ROLE}, Resource: '*', Sid: 'AdminUses'})}),
    ['policy-separation-of-duties'],
  )
  add(
    'policy-create-grant',
    await make('policy-create-grant', {policy: policy({Action: ['kms:CreateGrant', 'kms:Decrypt'], Effect: 'Allow', Principal: {AWS: `arn:aws:iam::${ACCOUNT}:role/App`}, Resource: '*', Sid: 'App'})}),
    ['policy-create-grant-unrestricted'],
  )
  const noAdmin = await make('policy-no-admin')
  await kms.send(
    new PutKeyPolicyCommand({
      BypassPolicyLockoutSafetyCheck: true,
      KeyId: noAdmin.keyId,
      Policy: JSON.stringify({
        Statement: [{Action: ['kms:Describe*', 'kms:Get*', 'kms:List*', 'kms:Encrypt', 'kms:Decrypt'], Effect: 'Allow', Principal: {AWS: `arn:aws:iam::${ACCOUNT}:root`}, Resource: '*', Sid: 'ReadOnly'}],
        Version: '2012-10-17',
      }),
    }),
  )
  add('policy-no-admin', noAdmin, ['policy-no-admin'])

  const crossGrant = await make('grant-cross-account')
  await kms.send(new CreateGrantCommand({GranteePrincipal: `arn:aws:iam::${OTHER_ACCOUNT}:role/Partner`, KeyId: crossGrant.keyId, Operations: ['Decrypt']}))
  await kms.send(new CreateGrantCommand({GranteePrincipal: `arn:aws:iam::${TRUSTED_ACCOUNT}:role/Partner`, KeyId: crossGrant.keyId, Operations: ['Decrypt']}))
  add('grant-cross-account', crossGrant, ['grant-cross-account'])

  const manyGrants = await make('grants-near-quota')
  for (const role of ['a', 'b', 'c']) {
    // eslint-disable-next-line no-await-in-loop
    await kms.send(new CreateGrantCommand({GranteePrincipal: `arn:aws:iam::${ACCOUNT}:role/${role}`, KeyId: manyGrants.keyId, Operations: ['Encrypt']}))
  }

  add('grants-near-quota', manyGrants, ['grants-near-quota'])

  const pending = await make('pending-deletion')
  await use(pending.keyId)
  await kms.send(new ScheduleKeyDeletionCommand({KeyId: pending.keyId, PendingWindowInDays: 7}))
  add('pending-deletion', pending, ['pending-deletion-in-use', 'alias-to-unusable-key'])

  const aliasDisabled = await make('alias-disabled')
  await kms.send(new DisableKeyCommand({KeyId: aliasDisabled.keyId}))
  add('alias-disabled', aliasDisabled, ['alias-to-unusable-key'])

  add('multi-region', await make('multi-region', {multiRegion: true}), ['multi-region'])
  add('rsa-2048-encryption', await make('rsa-2048-encryption', {spec: 'RSA_2048', usage: 'ENCRYPT_DECRYPT'}), ['rsa-2048-encryption'])
  add('no-alias', await make('no-alias', {alias: false}), ['no-alias'])
  add('no-description', await make('no-description', {description: false}), ['no-description'])
  add('no-owner', await make('no-owner', {owner: false}), ['missing-tag'])
  return seeded
}
