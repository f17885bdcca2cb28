import {
  CancelKeyDeletionCommand,
  CreateAliasCommand,
  CreateGrantCommand,
  CreateKeyCommand,
  DecryptCommand,
  DeleteAliasCommand,
  DeriveSharedSecretCommand,
  DescribeKeyCommand,
  DisableKeyCommand,
  EnableKeyCommand,
  EnableKeyRotationCommand,
  EncryptCommand,
  GenerateDataKeyCommand,
  GenerateDataKeyWithoutPlaintextCommand,
  GenerateMacCommand,
  GenerateRandomCommand,
  GetKeyLastUsageCommand,
  GetKeyPolicyCommand,
  GetKeyRotationStatusCommand,
  GetPublicKeyCommand,
  ListAliasesCommand,
  ListGrantsCommand,
  ListKeyPoliciesCommand,
  ListKeyRotationsCommand,
  ListKeysCommand,
  ListResourceTagsCommand,
  ListRetirableGrantsCommand,
  PutKeyPolicyCommand,
  ReEncryptCommand,
  ReplicateKeyCommand,
  RetireGrantCommand,
  RevokeGrantCommand,
  RotateKeyOnDemandCommand,
  ScheduleKeyDeletionCommand,
  SignCommand,
  TagResourceCommand,
  UntagResourceCommand,
  UpdateAliasCommand,
  VerifyCommand,
  VerifyMacCommand,
} from '@aws-sdk/client-kms'
import {GetCallerIdentityCommand} from '@aws-sdk/client-sts'
import {expect} from 'chai'
import {createHash, createPublicKey, diffieHellman, generateKeyPairSync, verify as cryptoVerify} from 'node:crypto'

import {resolveKey} from '../../../src/lib/key-ref.js'
import {verifyKey} from '../../../src/lib/verify.js'
import {DEFAULT_PRINCIPAL_ARN, SANDBOX_ACCOUNT} from '../../../src/sandbox/constants.js'
import {defaultKeyPolicy} from '../../../src/sandbox/kms/policy.js'
import {type Sandbox, newSandbox, rejection} from '../helpers.js'

const text = (b: Uint8Array | undefined) => Buffer.from(b ?? []).toString('utf8')

describe('sandbox KMS', () => {
  let sb: Sandbox
  beforeEach(async () => {
    sb = await newSandbox()
  })

  const create = async (input: Record<string, unknown> = {}) => (await sb.kms.send(new CreateKeyCommand(input))).KeyMetadata!

  describe('CreateKey and DescribeKey', () => {
    it('creates a symmetric key with the fields AWS returns and the default key policy', async () => {
      const m = await create({Description: 'd'})
      expect(m.KeyId).to.match(/^[0-9a-f]{8}-[0-9a-f]{4}-/)
      expect(m.Arn).to.equal(`arn:aws:kms:us-east-1:${SANDBOX_ACCOUNT}:key/${m.KeyId}`)
      expect(m).to.include({AWSAccountId: SANDBOX_ACCOUNT, Description: 'd', Enabled: true, KeyManager: 'CUSTOMER', KeySpec: 'SYMMETRIC_DEFAULT', KeyState: 'Enabled', KeyUsage: 'ENCRYPT_DECRYPT', MultiRegion: false, Origin: 'AWS_KMS'})
      expect(m.EncryptionAlgorithms).to.deep.equal(['SYMMETRIC_DEFAULT'])
      expect(m).to.not.have.property('DeletionDate')
      expect(m).to.not.have.property('SigningAlgorithms')
      const policy = await sb.kms.send(new GetKeyPolicyCommand({KeyId: m.KeyId, PolicyName: 'default'}))
      expect(policy.Policy).to.equal(defaultKeyPolicy(SANDBOX_ACCOUNT))
      expect((await sb.kms.send(new ListKeyPoliciesCommand({KeyId: m.KeyId}))).PolicyNames).to.deep.equal(['default'])
    })

    for (const [KeySpec, KeyUsage, field] of [
      ['RSA_2048', 'ENCRYPT_DECRYPT', 'EncryptionAlgorithms'],
      ['RSA_3072', 'SIGN_VERIFY', 'SigningAlgorithms'],
      ['ECC_NIST_P256', 'SIGN_VERIFY', 'SigningAlgorithms'],
      ['ECC_NIST_P384', 'SIGN_VERIFY', 'SigningAlgorithms'],
      ['ECC_NIST_P521', 'SIGN_VERIFY', 'SigningAlgorithms'],
      ['ECC_SECG_P256K1', 'SIGN_VERIFY', 'SigningAlgorithms'],
      ['ECC_NIST_P256', 'KEY_AGREEMENT', 'KeyAgreementAlgorithms'],
      ['HMAC_224', 'GENERATE_VERIFY_MAC', 'MacAlgorithms'],
      ['HMAC_512', 'GENERATE_VERIFY_MAC', 'MacAlgorithms'],
    ] as const) {
      it(`creates ${KeySpec} / ${KeyUsage} keys listing ${field}`, async () => {
        const m = await create({KeySpec, KeyUsage})
        expect(m.KeySpec).to.equal(KeySpec)
        expect(m[field as 'MacAlgorithms']).to.be.an('array').that.is.not.empty
      })
    }

    it('refuses key usages that do not fit the key spec (ValidationException)', async () => {
      for (const input of [{KeySpec: 'ECC_NIST_P256'}, {KeySpec: 'HMAC_256'}, {KeySpec: 'SYMMETRIC_DEFAULT', KeyUsage: 'SIGN_VERIFY'}, {KeySpec: 'ECC_SECG_P256K1', KeyUsage: 'KEY_AGREEMENT'}]) {
        const e = await rejection(sb.kms.send(new CreateKeyCommand(input as never)))
        expect(e.name, JSON.stringify(input)).to.equal('ValidationException')
        expect(e.$metadata?.httpStatusCode).to.equal(400)
      }
    })

    it('refuses KeySpec together with CustomerMasterKeySpec, and unknown enum values', async () => {
      expect((await rejection(sb.kms.send(new CreateKeyCommand({CustomerMasterKeySpec: 'RSA_2048', KeySpec: 'RSA_2048'})))).name).to.equal('ValidationException')
      const e = await rejection(sb.kms.send(new CreateKeyCommand({KeySpec: 'AES_512' as never})))
      expect(e.name).to.equal('ValidationException')
      expect(e.message).to.contain("at 'keySpec' failed to satisfy constraint: Member must satisfy enum value set")
    })

    it('creates multi-Region keys with mrk- IDs and replicates them', async () => {
      const m = await create({MultiRegion: true})
      expect(m.KeyId).to.match(/^mrk-[0-9a-f]{32}$/)
      expect(m.MultiRegionConfiguration).to.deep.include({MultiRegionKeyType: 'PRIMARY'})
      const r = await sb.kms.send(new ReplicateKeyCommand({KeyId: m.Arn, ReplicaRegion: 'eu-west-1', Tags: [{TagKey: 'k', TagValue: 'v'}]}))
      expect(r.ReplicaKeyMetadata!.Arn).to.equal(`arn:aws:kms:eu-west-1:${SANDBOX_ACCOUNT}:key/${m.KeyId}`)
      expect(r.ReplicaKeyMetadata!.MultiRegionConfiguration!.MultiRegionKeyType).to.equal('REPLICA')
      expect(r.ReplicaTags).to.deep.equal([{TagKey: 'k', TagValue: 'v'}])
      expect(r.ReplicaPolicy).to.equal(defaultKeyPolicy(SANDBOX_ACCOUNT))
      const primary = (await sb.kms.send(new DescribeKeyCommand({KeyId: m.KeyId}))).KeyMetadata!
      expect(primary.MultiRegionConfiguration!.ReplicaKeys).to.deep.equal([{Arn: r.ReplicaKeyMetadata!.Arn, Region: 'eu-west-1'}])
      // Ciphertext from the primary decrypts with the replica in its region.
      const ct = await sb.kms.send(new EncryptCommand({KeyId: m.KeyId, Plaintext: Buffer.from('mr')}))
      const pt = await sb.kmsIn('eu-west-1').send(new DecryptCommand({CiphertextBlob: ct.CiphertextBlob}))
      expect(text(pt.Plaintext)).to.equal('mr')
      expect((await rejection(sb.kms.send(new ReplicateKeyCommand({KeyId: m.Arn, ReplicaRegion: 'eu-west-1'})))).name).to.equal('AlreadyExistsException')
      const single = await create()
      expect((await rejection(sb.kms.send(new ReplicateKeyCommand({KeyId: single.KeyId, ReplicaRegion: 'eu-west-1'})))).name).to.equal('UnsupportedOperationException')
    })

    it('a primary with replicas goes to PendingReplicaDeletion without a DeletionDate', async () => {
      const m = await create({MultiRegion: true})
      await sb.kms.send(new ReplicateKeyCommand({KeyId: m.Arn, ReplicaRegion: 'us-west-2'}))
      const out = await sb.kms.send(new ScheduleKeyDeletionCommand({KeyId: m.KeyId, PendingWindowInDays: 7}))
      expect(out.KeyState).to.equal('PendingReplicaDeletion')
      expect(out.DeletionDate).to.equal(undefined)
      const d = (await sb.kms.send(new DescribeKeyCommand({KeyId: m.KeyId}))).KeyMetadata!
      expect(d).to.include({KeyState: 'PendingReplicaDeletion', PendingDeletionWindowInDays: 7})
      expect(d.DeletionDate).to.equal(undefined)
      expect((await rejection(sb.kms.send(new EncryptCommand({KeyId: m.KeyId, Plaintext: Buffer.from('x')})))).name).to.equal('KMSInvalidStateException')
    })

    it('finds keys by ID, ARN, alias name and alias ARN; NotFoundException otherwise', async () => {
      const m = await create()
      await sb.kms.send(new CreateAliasCommand({AliasName: 'alias/app', TargetKeyId: m.KeyId}))
      for (const ref of [m.KeyId, m.Arn, 'alias/app', `arn:aws:kms:us-east-1:${SANDBOX_ACCOUNT}:alias/app`]) {
        expect((await sb.kms.send(new DescribeKeyCommand({KeyId: ref}))).KeyMetadata!.KeyId).to.equal(m.KeyId)
      }

      const missing = await rejection(sb.kms.send(new DescribeKeyCommand({KeyId: '11111111-2222-3333-4444-555555555555'})))
      expect(missing.name).to.equal('NotFoundException')
      expect(missing.message).to.equal(`Key 'arn:aws:kms:us-east-1:${SANDBOX_ACCOUNT}:key/11111111-2222-3333-4444-555555555555' does not exist`)
      expect((await rejection(sb.kms.send(new DescribeKeyCommand({KeyId: 'alias/none'})))).message).to.equal(`Alias arn:aws:kms:us-east-1:${SANDBOX_ACCOUNT}:alias/none is not found.`)
      expect((await rejection(sb.kms.send(new DescribeKeyCommand({KeyId: 'garbage'})))).name).to.equal('NotFoundException')
      expect((await rejection(sb.kms.send(new DescribeKeyCommand({KeyId: ''})))).name).to.equal('ValidationException')
      // Keys are regional.
      expect((await rejection(sb.kmsIn('eu-west-1').send(new DescribeKeyCommand({KeyId: m.KeyId})))).name).to.equal('NotFoundException')
    })
  })

  describe('AWS-managed keys', () => {
    it('creates the key on first use of alias/aws/<service>, and protects it', async () => {
      const m = (await sb.kms.send(new DescribeKeyCommand({KeyId: 'alias/aws/s3'}))).KeyMetadata!
      expect(m.KeyManager).to.equal('AWS')
      const again = (await sb.kms.send(new DescribeKeyCommand({KeyId: 'alias/aws/s3'}))).KeyMetadata!
      expect(again.Arn).to.equal(m.Arn)
      // Its policy allows use only through the service (kms:ViaService), not directly.
      const direct = await rejection(sb.kms.send(new EncryptCommand({KeyId: 'alias/aws/s3', Plaintext: Buffer.from('x')})))
      expect(direct.name).to.equal('AccessDeniedException')
      for (const cmd of [
        new DisableKeyCommand({KeyId: m.KeyId}),
        new ScheduleKeyDeletionCommand({KeyId: m.KeyId}),
        new PutKeyPolicyCommand({KeyId: m.KeyId, Policy: defaultKeyPolicy(SANDBOX_ACCOUNT), PolicyName: 'default'}),
      ]) {
        const e = await rejection(sb.kms.send(cmd as never))
        expect(e.name).to.equal('AccessDeniedException')
        expect(e.message).to.contain(`User: ${DEFAULT_PRINCIPAL_ARN} is not authorized to perform: kms:`)
      }

      expect((await sb.kms.send(new GetKeyRotationStatusCommand({KeyId: m.KeyId}))).KeyRotationEnabled).to.equal(true)
      expect((await rejection(sb.kms.send(new DescribeKeyCommand({KeyId: 'alias/aws/not-a-service'})))).name).to.equal('NotFoundException')
      const aliases = (await sb.kms.send(new ListAliasesCommand({}))).Aliases!
      expect(aliases.map((a) => a.AliasName)).to.deep.equal(['alias/aws/s3'])
    })
  })

  describe('key states', () => {
    it('Disabled keys refuse crypto with DisabledException; DescribeKey still works', async () => {
      const m = await create()
      const ct = await sb.kms.send(new EncryptCommand({KeyId: m.KeyId, Plaintext: Buffer.from('x')}))
      await sb.kms.send(new DisableKeyCommand({KeyId: m.KeyId}))
      const d = (await sb.kms.send(new DescribeKeyCommand({KeyId: m.KeyId}))).KeyMetadata!
      expect(d).to.include({Enabled: false, KeyState: 'Disabled'})
      const e = await rejection(sb.kms.send(new EncryptCommand({KeyId: m.KeyId, Plaintext: Buffer.from('x')})))
      expect(e.name).to.equal('DisabledException')
      expect(e.message).to.equal(`${m.Arn} is disabled.`)
      expect((await rejection(sb.kms.send(new DecryptCommand({CiphertextBlob: ct.CiphertextBlob})))).name).to.equal('DisabledException')
      expect((await rejection(sb.kms.send(new GenerateDataKeyCommand({KeyId: m.KeyId, KeySpec: 'AES_256'})))).name).to.equal('DisabledException')
      await sb.kms.send(new EnableKeyCommand({KeyId: m.KeyId}))
      expect(text((await sb.kms.send(new DecryptCommand({CiphertextBlob: ct.CiphertextBlob}))).Plaintext)).to.equal('x')
    })

    it('ScheduleKeyDeletion: window 7..30 (default 30), then KMSInvalidStateException; cancel leaves it Disabled', async () => {
      const m = await create()
      for (const days of [6, 31]) {
        const e = await rejection(sb.kms.send(new ScheduleKeyDeletionCommand({KeyId: m.KeyId, PendingWindowInDays: days})))
        expect(e.name).to.equal('ValidationException')
        expect(e.message).to.equal(
          `1 validation error detected: Value '${days}' at 'pendingWindowInDays' failed to satisfy constraint: Member must have value ${days < 7 ? 'greater than or equal to 7' : 'less than or equal to 30'}`,
        )
      }

      const out = await sb.kms.send(new ScheduleKeyDeletionCommand({KeyId: m.KeyId}))
      expect(out).to.include({KeyId: m.Arn, KeyState: 'PendingDeletion', PendingWindowInDays: 30})
      const days = (out.DeletionDate!.getTime() - Date.now()) / 86_400_000
      expect(days).to.be.within(29.9, 30.1)
      const e = await rejection(sb.kms.send(new EncryptCommand({KeyId: m.KeyId, Plaintext: Buffer.from('x')})))
      expect(e.name).to.equal('KMSInvalidStateException')
      expect(e.message).to.equal(`${m.Arn} is pending deletion.`)
      expect((await rejection(sb.kms.send(new EnableKeyCommand({KeyId: m.KeyId})))).name).to.equal('KMSInvalidStateException')
      expect((await rejection(sb.kms.send(new ScheduleKeyDeletionCommand({KeyId: m.KeyId})))).name).to.equal('KMSInvalidStateException')
      await sb.kms.send(new CancelKeyDeletionCommand({KeyId: m.KeyId}))
      const d = (await sb.kms.send(new DescribeKeyCommand({KeyId: m.KeyId}))).KeyMetadata!
      expect(d.KeyState).to.equal('Disabled')
      expect(d).to.not.have.property('DeletionDate')
      expect((await rejection(sb.kms.send(new CancelKeyDeletionCommand({KeyId: m.KeyId})))).name).to.equal('KMSInvalidStateException')
    })

    it('deletes the key once the window has passed on the sandbox clock', async () => {
      const m = await create()
      await sb.kms.send(new ScheduleKeyDeletionCommand({KeyId: m.KeyId, PendingWindowInDays: 7}))
      process.env.KMSCTL_SANDBOX_NOW_OFFSET_MS = String(8 * 86_400_000)
      try {
        const later = await newSandbox(sb.dir)
        expect((await rejection(later.kms.send(new DescribeKeyCommand({KeyId: m.KeyId})))).name).to.equal('NotFoundException')
      } finally {
        delete process.env.KMSCTL_SANDBOX_NOW_OFFSET_MS
      }
    })
  })

  describe('key policies', () => {
    const policy = (statement: Record<string, unknown>) => JSON.stringify({Statement: [statement], Version: '2012-10-17'})
    const root = {AWS: `arn:aws:iam::${SANDBOX_ACCOUNT}:root`}

    it('accepts a valid policy and returns it verbatim', async () => {
      const m = await create()
      const p = policy({Action: 'kms:*', Effect: 'Allow', Principal: root, Resource: '*'})
      await sb.kms.send(new PutKeyPolicyCommand({KeyId: m.KeyId, Policy: p, PolicyName: 'default'}))
      expect((await sb.kms.send(new GetKeyPolicyCommand({KeyId: m.KeyId}))).Policy).to.equal(p)
    })

    const malformed: Array<[string, string]> = [
      ['not JSON', '{"Statement": ['],
      ['no Action', policy({Effect: 'Allow', Principal: root, Resource: '*'})],
      ['no Resource', policy({Action: 'kms:*', Effect: 'Allow', Principal: root})],
      ['a Resource other than *', policy({Action: 'kms:*', Effect: 'Allow', Principal: root, Resource: 'arn:aws:kms:us-east-1:111122223333:key/x'})],
      ['a malformed principal', policy({Action: 'kms:*', Effect: 'Allow', Principal: {AWS: 'bob'}, Resource: '*'})],
      ['a bad Effect', policy({Action: 'kms:*', Effect: 'Maybe', Principal: root, Resource: '*'})],
      ['more than 32768 bytes', JSON.stringify({Statement: [{Action: 'kms:*', Effect: 'Allow', Principal: root, Resource: '*', Sid: 'x'.repeat(33_000)}]})],
      ['a lockout', policy({Action: 'kms:Decrypt', Effect: 'Allow', Principal: {AWS: `arn:aws:iam::${SANDBOX_ACCOUNT}:user/other`}, Resource: '*'})],
    ]
    for (const [what, p] of malformed) {
      it(`refuses ${what} with MalformedPolicyDocumentException`, async () => {
        const m = await create()
        const e = await rejection(sb.kms.send(new PutKeyPolicyCommand({KeyId: m.KeyId, Policy: p, PolicyName: 'default'})))
        expect(e.name).to.equal('MalformedPolicyDocumentException')
        if (what === 'a lockout') expect(e.message).to.equal('The new key policy will not allow you to update the key policy in the future.')
      })
    }

    it('skips the lockout check with BypassPolicyLockoutSafetyCheck, and checks it on CreateKey', async () => {
      const lockout = malformed.at(-1)![1]
      const m = await create()
      await sb.kms.send(new PutKeyPolicyCommand({BypassPolicyLockoutSafetyCheck: true, KeyId: m.KeyId, Policy: lockout, PolicyName: 'default'}))
      expect((await rejection(sb.kms.send(new CreateKeyCommand({Policy: lockout}))) ).name).to.equal('MalformedPolicyDocumentException')
      const allowCaller = policy({Action: ['kms:PutKeyPolicy', 'kms:Describe*'], Effect: 'Allow', Principal: {AWS: DEFAULT_PRINCIPAL_ARN}, Resource: '*'})
      await create({Policy: allowCaller})
    })

    it('only knows the policy named default', async () => {
      const m = await create()
      expect((await rejection(sb.kms.send(new GetKeyPolicyCommand({KeyId: m.KeyId, PolicyName: 'other'})))).name).to.equal('NotFoundException')
    })
  })

  describe('aliases', () => {
    it('validates names, reserves alias/aws/, refuses duplicates, and updates and deletes', async () => {
      const a = await create()
      const b = await create()
      for (const [AliasName, type] of [
        ['app', 'ValidationException'],
        ['alias/bad name', 'ValidationException'],
        [`alias/${'x'.repeat(251)}`, 'ValidationException'],
        ['alias/aws/mine', 'NotAuthorizedException'],
      ]) {
        const e = await rejection(sb.kms.send(new CreateAliasCommand({AliasName, TargetKeyId: a.KeyId})))
        expect(e.name, AliasName).to.equal(type)
      }

      await sb.kms.send(new CreateAliasCommand({AliasName: 'alias/app', TargetKeyId: a.KeyId}))
      const dup = await rejection(sb.kms.send(new CreateAliasCommand({AliasName: 'alias/app', TargetKeyId: b.KeyId})))
      expect(dup.name).to.equal('AlreadyExistsException')
      await sb.kms.send(new UpdateAliasCommand({AliasName: 'alias/app', TargetKeyId: b.KeyId}))
      expect((await sb.kms.send(new DescribeKeyCommand({KeyId: 'alias/app'}))).KeyMetadata!.KeyId).to.equal(b.KeyId)
      const listed = (await sb.kms.send(new ListAliasesCommand({KeyId: b.KeyId}))).Aliases!
      expect(listed).to.have.length(1)
      expect(listed[0]).to.include({AliasArn: `arn:aws:kms:us-east-1:${SANDBOX_ACCOUNT}:alias/app`, AliasName: 'alias/app', TargetKeyId: b.KeyId})
      const hmacKey = await create({KeySpec: 'HMAC_256', KeyUsage: 'GENERATE_VERIFY_MAC'})
      expect((await rejection(sb.kms.send(new UpdateAliasCommand({AliasName: 'alias/app', TargetKeyId: hmacKey.KeyId})))).name).to.equal('ValidationException')
      await sb.kms.send(new DeleteAliasCommand({AliasName: 'alias/app'}))
      expect((await rejection(sb.kms.send(new DeleteAliasCommand({AliasName: 'alias/app'})))).name).to.equal('NotFoundException')
    })

    it('allows at most 50 aliases per key (LimitExceededException)', async () => {
      const m = await create()
      for (let i = 0; i < 50; i++) await sb.kms.send(new CreateAliasCommand({AliasName: `alias/a${i}`, TargetKeyId: m.KeyId}))
      expect((await rejection(sb.kms.send(new CreateAliasCommand({AliasName: 'alias/a50', TargetKeyId: m.KeyId})))).name).to.equal('LimitExceededException')
      const page1 = await sb.kms.send(new ListAliasesCommand({Limit: 30}))
      expect(page1.Aliases).to.have.length(30)
      expect(page1.Truncated).to.equal(true)
      const page2 = await sb.kms.send(new ListAliasesCommand({Limit: 30, Marker: page1.NextMarker}))
      expect(page2.Aliases).to.have.length(20)
      expect(page2.Truncated).to.equal(false)
      expect(page2).to.not.have.property('NextMarker')
    })
  })

  describe('paging', () => {
    it('ListKeys: Limit 1..1000, NextMarker only when Truncated, InvalidMarkerException', async () => {
      for (let i = 0; i < 3; i++) await create()
      const first = await sb.kms.send(new ListKeysCommand({Limit: 2}))
      expect(first.Keys).to.have.length(2)
      expect(first.Truncated).to.equal(true)
      const rest = await sb.kms.send(new ListKeysCommand({Limit: 2, Marker: first.NextMarker}))
      expect(rest.Keys).to.have.length(1)
      expect(rest.Truncated).to.equal(false)
      expect(rest.NextMarker).to.equal(undefined)
      expect((await rejection(sb.kms.send(new ListKeysCommand({Limit: 0})))).name).to.equal('ValidationException')
      expect((await rejection(sb.kms.send(new ListKeysCommand({Limit: 1001})))).name).to.equal('ValidationException')
      expect((await rejection(sb.kms.send(new ListKeysCommand({Marker: 'bogus'})))).name).to.equal('InvalidMarkerException')
    })
  })

  describe('grants', () => {
    const grantee = `arn:aws:iam::${SANDBOX_ACCOUNT}:role/app`
    it('creates, lists, retires by token and by id, and revokes', async () => {
      const m = await create()
      const g1 = await sb.kms.send(new CreateGrantCommand({GranteePrincipal: grantee, KeyId: m.KeyId, Operations: ['Decrypt'], RetiringPrincipal: grantee}))
      expect(g1.GrantId).to.match(/^[0-9a-f]{64}$/)
      expect(g1.GrantToken).to.be.a('string').and.not.empty
      const g2 = await sb.kms.send(new CreateGrantCommand({GranteePrincipal: grantee, KeyId: m.KeyId, Operations: ['Encrypt']}))
      const g3 = await sb.kms.send(new CreateGrantCommand({GranteePrincipal: grantee, KeyId: m.KeyId, Operations: ['GenerateDataKey']}))
      const listed = (await sb.kms.send(new ListGrantsCommand({KeyId: m.KeyId}))).Grants!
      expect(listed.map((g) => g.GrantId)).to.deep.equal([g1.GrantId, g2.GrantId, g3.GrantId])
      expect(listed[0]).to.include({GranteePrincipal: grantee, IssuingAccount: `arn:aws:iam::${SANDBOX_ACCOUNT}:root`, KeyId: m.Arn, RetiringPrincipal: grantee})
      expect(listed[1]).to.not.have.property('RetiringPrincipal')
      expect((await sb.kms.send(new ListGrantsCommand({GrantId: g2.GrantId, KeyId: m.KeyId}))).Grants).to.have.length(1)
      expect((await sb.kms.send(new ListRetirableGrantsCommand({RetiringPrincipal: grantee}))).Grants!.map((g) => g.GrantId)).to.deep.equal([g1.GrantId])
      await sb.kms.send(new RetireGrantCommand({GrantToken: g1.GrantToken}))
      await sb.kms.send(new RetireGrantCommand({GrantId: g2.GrantId, KeyId: m.Arn}))
      await sb.kms.send(new RevokeGrantCommand({GrantId: g3.GrantId, KeyId: m.KeyId}))
      expect((await sb.kms.send(new ListGrantsCommand({KeyId: m.KeyId}))).Grants).to.deep.equal([])
      expect((await rejection(sb.kms.send(new RevokeGrantCommand({GrantId: g3.GrantId, KeyId: m.KeyId})))).name).to.equal('NotFoundException')
      expect((await rejection(sb.kms.send(new RetireGrantCommand({GrantToken: 'not-a-token'})))).name).to.equal('InvalidGrantTokenException')
      expect((await rejection(sb.kms.send(new RevokeGrantCommand({GrantId: 'xyz', KeyId: m.KeyId})))).name).to.equal('InvalidGrantIdException')
    })

    it('is idempotent for the same name and parameters', async () => {
      const m = await create()
      const input = {GranteePrincipal: grantee, KeyId: m.KeyId, Name: 'n1', Operations: ['Decrypt' as const]}
      const a = await sb.kms.send(new CreateGrantCommand(input))
      const b = await sb.kms.send(new CreateGrantCommand(input))
      expect(b.GrantId).to.equal(a.GrantId)
      const c = await sb.kms.send(new CreateGrantCommand({...input, Operations: ['Encrypt']}))
      expect(c.GrantId).to.not.equal(a.GrantId)
    })

    it('validates operations per key type and constraints', async () => {
      const sym = await create()
      const signing = await create({KeySpec: 'RSA_2048', KeyUsage: 'SIGN_VERIFY'})
      const mac = await create({KeySpec: 'HMAC_256', KeyUsage: 'GENERATE_VERIFY_MAC'})
      expect((await rejection(sb.kms.send(new CreateGrantCommand({GranteePrincipal: grantee, KeyId: sym.KeyId, Operations: ['Sign']})))).name).to.equal('ValidationException')
      expect((await rejection(sb.kms.send(new CreateGrantCommand({GranteePrincipal: grantee, KeyId: signing.KeyId, Operations: ['Decrypt']})))).name).to.equal('ValidationException')
      await sb.kms.send(new CreateGrantCommand({GranteePrincipal: grantee, KeyId: signing.KeyId, Operations: ['Sign', 'GetPublicKey']}))
      await sb.kms.send(new CreateGrantCommand({GranteePrincipal: grantee, KeyId: mac.KeyId, Operations: ['GenerateMac']}))
      // Encapsulate is a grant operation KMS knows (for ML-KEM keys), not one a symmetric key allows; Frobnicate is none.
      const encapsulate = await rejection(sb.kms.send(new CreateGrantCommand({GranteePrincipal: grantee, KeyId: sym.KeyId, Operations: ['Encapsulate' as never]})))
      expect(encapsulate.message).to.contain('Grant operations Encapsulate are not valid for')
      const unknown = await rejection(sb.kms.send(new CreateGrantCommand({GranteePrincipal: grantee, KeyId: sym.KeyId, Operations: ['Frobnicate' as never]})))
      expect(unknown.message).to.contain('Member must satisfy enum value set').and.to.contain('Decapsulate')
      const ctx = Object.fromEntries(Array.from({length: 9}, (_, i) => [`k${i}`, 'v']))
      expect(
        (await rejection(sb.kms.send(new CreateGrantCommand({Constraints: {EncryptionContextEquals: ctx}, GranteePrincipal: grantee, KeyId: sym.KeyId, Operations: ['Decrypt']})))).name,
      ).to.equal('ValidationException')
      expect(
        (await rejection(sb.kms.send(new CreateGrantCommand({Constraints: {EncryptionContextSubset: {a: 'b'}}, GranteePrincipal: grantee, KeyId: mac.KeyId, Operations: ['GenerateMac']})))).name,
      ).to.equal('ValidationException')
      const ok = await sb.kms.send(new CreateGrantCommand({Constraints: {EncryptionContextSubset: {a: 'b'}}, GranteePrincipal: grantee, KeyId: sym.KeyId, Operations: ['Decrypt']}))
      const g = (await sb.kms.send(new ListGrantsCommand({GrantId: ok.GrantId, KeyId: sym.KeyId}))).Grants![0]
      expect(g.Constraints).to.deep.equal({EncryptionContextSubset: {a: 'b'}})
      expect((await rejection(sb.kms.send(new CreateGrantCommand({GranteePrincipal: 'nobody', KeyId: sym.KeyId, Operations: ['Decrypt']})))).name).to.equal('ValidationException')
      await sb.kms.send(new ScheduleKeyDeletionCommand({KeyId: sym.KeyId}))
      expect((await rejection(sb.kms.send(new CreateGrantCommand({GranteePrincipal: grantee, KeyId: sym.KeyId, Operations: ['Decrypt']})))).name).to.equal('KMSInvalidStateException')
    })
  })

  describe('tags', () => {
    it('tags, overwrites, untags, and refuses aws: keys', async () => {
      const m = await create({Tags: [{TagKey: 'a', TagValue: '1'}]})
      await sb.kms.send(new TagResourceCommand({KeyId: m.KeyId, Tags: [{TagKey: 'a', TagValue: '2'}, {TagKey: 'b', TagValue: ''}]}))
      expect((await sb.kms.send(new ListResourceTagsCommand({KeyId: m.KeyId}))).Tags).to.deep.equal([{TagKey: 'a', TagValue: '2'}, {TagKey: 'b', TagValue: ''}])
      await sb.kms.send(new UntagResourceCommand({KeyId: m.KeyId, TagKeys: ['a']}))
      expect((await sb.kms.send(new ListResourceTagsCommand({KeyId: m.KeyId}))).Tags).to.deep.equal([{TagKey: 'b', TagValue: ''}])
      expect((await rejection(sb.kms.send(new TagResourceCommand({KeyId: m.KeyId, Tags: [{TagKey: 'aws:x', TagValue: 'y'}]})))).name).to.equal('TagException')
    })
  })

  describe('rotation', () => {
    it('enables with 90..2560 days, rotates on demand, and lists rotations; not for asymmetric or HMAC keys', async () => {
      const m = await create()
      for (const days of [89, 2561]) {
        expect((await rejection(sb.kms.send(new EnableKeyRotationCommand({KeyId: m.KeyId, RotationPeriodInDays: days})))).name).to.equal('ValidationException')
      }

      await sb.kms.send(new EnableKeyRotationCommand({KeyId: m.KeyId, RotationPeriodInDays: 90}))
      const status = await sb.kms.send(new GetKeyRotationStatusCommand({KeyId: m.KeyId}))
      expect(status).to.include({KeyId: m.Arn, KeyRotationEnabled: true, RotationPeriodInDays: 90})
      expect(status.NextRotationDate).to.be.instanceOf(Date)
      const before = await sb.kms.send(new EncryptCommand({KeyId: m.KeyId, Plaintext: Buffer.from('old')}))
      await sb.kms.send(new RotateKeyOnDemandCommand({KeyId: m.KeyId}))
      const rotations = (await sb.kms.send(new ListKeyRotationsCommand({KeyId: m.KeyId}))).Rotations!
      expect(rotations).to.have.length(1)
      expect(rotations[0]).to.include({KeyId: m.KeyId, KeyMaterialState: 'CURRENT', RotationType: 'ON_DEMAND'})
      // Old ciphertext still decrypts after rotation; new material is current.
      expect(text((await sb.kms.send(new DecryptCommand({CiphertextBlob: before.CiphertextBlob}))).Plaintext)).to.equal('old')
      const d = (await sb.kms.send(new DescribeKeyCommand({KeyId: m.KeyId}))).KeyMetadata!
      expect(d.CurrentKeyMaterialId).to.equal(rotations[0].KeyMaterialId)
      const rsa = await create({KeySpec: 'RSA_2048', KeyUsage: 'SIGN_VERIFY'})
      expect((await rejection(sb.kms.send(new EnableKeyRotationCommand({KeyId: rsa.KeyId})))).name).to.equal('UnsupportedOperationException')
      const mac = await create({KeySpec: 'HMAC_256', KeyUsage: 'GENERATE_VERIFY_MAC'})
      expect((await rejection(sb.kms.send(new RotateKeyOnDemandCommand({KeyId: mac.KeyId})))).name).to.equal('UnsupportedOperationException')
    })

    it('limits on-demand rotations per key (LimitExceededException)', async () => {
      const m = await create()
      for (let i = 0; i < 10; i++) await sb.kms.send(new RotateKeyOnDemandCommand({KeyId: m.KeyId}))
      expect((await rejection(sb.kms.send(new RotateKeyOnDemandCommand({KeyId: m.KeyId})))).name).to.equal('LimitExceededException')
    })
  })

  describe('key agreement (DeriveSharedSecret)', () => {
    const curves = {ECC_NIST_P256: 'prime256v1', ECC_NIST_P384: 'secp384r1', ECC_NIST_P521: 'secp521r1'} as const
    for (const [spec, curve] of Object.entries(curves)) {
      it(`derives the ECDH shared secret a peer computes on ${spec}`, async () => {
        const m = await create({KeySpec: spec as never, KeyUsage: 'KEY_AGREEMENT'})
        expect(m.KeyAgreementAlgorithms).to.deep.equal(['ECDH'])
        const peer = generateKeyPairSync('ec', {namedCurve: curve})
        const out = await sb.kms.send(
          new DeriveSharedSecretCommand({KeyAgreementAlgorithm: 'ECDH', KeyId: m.KeyId, PublicKey: peer.publicKey.export({format: 'der', type: 'spki'})}),
        )
        const kmsPublic = (await sb.kms.send(new GetPublicKeyCommand({KeyId: m.KeyId}))).PublicKey!
        const expected = diffieHellman({privateKey: peer.privateKey, publicKey: createPublicKey({format: 'der', key: Buffer.from(kmsPublic), type: 'spki'})})
        expect(Buffer.from(out.SharedSecret!).equals(expected)).to.equal(true)
        expect(out).to.deep.include({KeyAgreementAlgorithm: 'ECDH', KeyId: m.Arn, KeyOrigin: 'AWS_KMS'})
      })
    }

    it('refuses what AWS refuses: another curve, a key of another usage, a disabled key, no algorithm', async () => {
      const m = await create({KeySpec: 'ECC_NIST_P256', KeyUsage: 'KEY_AGREEMENT'})
      const p384 = generateKeyPairSync('ec', {namedCurve: 'secp384r1'}).publicKey.export({format: 'der', type: 'spki'})
      const p256 = generateKeyPairSync('ec', {namedCurve: 'prime256v1'}).publicKey.export({format: 'der', type: 'spki'})
      const derive = (KeyId: string, PublicKey: Uint8Array, KeyAgreementAlgorithm = 'ECDH') =>
        rejection(sb.kms.send(new DeriveSharedSecretCommand({KeyAgreementAlgorithm: KeyAgreementAlgorithm as never, KeyId, PublicKey})))
      expect((await derive(m.KeyId!, p384)).name).to.equal('ValidationException')
      expect((await derive(m.KeyId!, Buffer.from('not a key'))).name).to.equal('ValidationException')
      expect((await derive(m.KeyId!, p256, 'DH')).name).to.equal('ValidationException')
      const signing = await create({KeySpec: 'ECC_NIST_P256', KeyUsage: 'SIGN_VERIFY'})
      expect((await derive(signing.KeyId!, p256)).name).to.equal('InvalidKeyUsageException')
      await sb.kms.send(new DisableKeyCommand({KeyId: m.KeyId}))
      expect((await derive(m.KeyId!, p256)).name).to.equal('DisabledException')
    })

    it('lets kmsctl key verify check a KEY_AGREEMENT key end to end', async () => {
      const m = await create({KeySpec: 'ECC_NIST_P384', KeyUsage: 'KEY_AGREEMENT'})
      const report = await verifyKey(sb.kms, await resolveKey(sb.kms, m.KeyId!))
      expect(report.steps.map((st) => [st.step, st.status])).to.deep.equal([
        ['GetPublicKey', 'ok'],
        ['DeriveSharedSecret', 'ok'],
        ['Compare', 'ok'],
      ])
      expect(report.ok).to.equal(true)
    })
  })

  describe('cryptography', () => {
    it('binds the encryption context (wrong context: InvalidCiphertextException)', async () => {
      const m = await create()
      const ct = await sb.kms.send(new EncryptCommand({EncryptionContext: {app: 'a', env: 'prod'}, KeyId: m.KeyId, Plaintext: Buffer.from('s')}))
      const own = await sb.kms.send(new EncryptCommand({EncryptionContext: {app: 'a'}, KeyId: m.KeyId, Plaintext: Buffer.from('secret')}))
      expect(own.EncryptionAlgorithm).to.equal('SYMMETRIC_DEFAULT')
      expect(own.KeyId).to.equal(m.Arn)
      // Context order does not matter.
      expect(text((await sb.kms.send(new DecryptCommand({CiphertextBlob: ct.CiphertextBlob, EncryptionContext: {env: 'prod', app: 'a'}}))).Plaintext)).to.equal('s')
      for (const EncryptionContext of [undefined, {app: 'b'}, {app: 'a', extra: 'x'}] as Array<Record<string, string> | undefined>) {
        expect((await rejection(sb.kms.send(new DecryptCommand({CiphertextBlob: own.CiphertextBlob, EncryptionContext})))).name).to.equal('InvalidCiphertextException')
      }

      const tampered = Buffer.from(own.CiphertextBlob!)
      tampered[tampered.length - 1] ^= 1
      expect((await rejection(sb.kms.send(new DecryptCommand({CiphertextBlob: tampered, EncryptionContext: {app: 'a'}})))).name).to.equal('InvalidCiphertextException')
      const other = await create()
      expect((await rejection(sb.kms.send(new DecryptCommand({CiphertextBlob: own.CiphertextBlob, EncryptionContext: {app: 'a'}, KeyId: other.KeyId})))).name).to.equal('IncorrectKeyException')
      expect((await rejection(sb.kms.send(new EncryptCommand({KeyId: m.KeyId, Plaintext: Buffer.alloc(4097)})))).name).to.equal('ValidationException')
    })

    it('generates data keys that decrypt back, and re-encrypts', async () => {
      const m = await create()
      const dk = await sb.kms.send(new GenerateDataKeyCommand({EncryptionContext: {a: 'b'}, KeyId: m.KeyId, KeySpec: 'AES_256'}))
      expect(dk.Plaintext).to.have.length(32)
      const back = await sb.kms.send(new DecryptCommand({CiphertextBlob: dk.CiphertextBlob, EncryptionContext: {a: 'b'}}))
      expect(Buffer.from(back.Plaintext!).equals(Buffer.from(dk.Plaintext!))).to.equal(true)
      expect((await sb.kms.send(new GenerateDataKeyCommand({KeyId: m.KeyId, NumberOfBytes: 7}))).Plaintext).to.have.length(7)
      const np = await sb.kms.send(new GenerateDataKeyWithoutPlaintextCommand({KeyId: m.KeyId, KeySpec: 'AES_128'}))
      expect(np).to.not.have.property('Plaintext')
      expect((await rejection(sb.kms.send(new GenerateDataKeyCommand({KeyId: m.KeyId})))).name).to.equal('ValidationException')
      expect((await rejection(sb.kms.send(new GenerateDataKeyCommand({KeyId: m.KeyId, KeySpec: 'AES_256', NumberOfBytes: 32})))).name).to.equal('ValidationException')
      const dest = await create()
      const re = await sb.kms.send(new ReEncryptCommand({CiphertextBlob: dk.CiphertextBlob, DestinationKeyId: dest.KeyId, SourceEncryptionContext: {a: 'b'}}))
      expect(re).to.include({KeyId: dest.Arn, SourceKeyId: m.Arn})
      const again = await sb.kms.send(new DecryptCommand({CiphertextBlob: re.CiphertextBlob}))
      expect(Buffer.from(again.Plaintext!).equals(Buffer.from(dk.Plaintext!))).to.equal(true)
      const signing = await create({KeySpec: 'ECC_NIST_P256', KeyUsage: 'SIGN_VERIFY'})
      expect((await rejection(sb.kms.send(new EncryptCommand({KeyId: signing.KeyId, Plaintext: Buffer.from('x')})))).name).to.equal('InvalidKeyUsageException')
      expect((await rejection(sb.kms.send(new GenerateDataKeyCommand({KeyId: signing.KeyId, KeySpec: 'AES_256'})))).name).to.equal('InvalidKeyUsageException')
    })

    it('encrypts with RSA OAEP and decrypts with the KeyId', async () => {
      const m = await create({KeySpec: 'RSA_2048', KeyUsage: 'ENCRYPT_DECRYPT'})
      const ct = await sb.kms.send(new EncryptCommand({EncryptionAlgorithm: 'RSAES_OAEP_SHA_256', KeyId: m.KeyId, Plaintext: Buffer.from('rsa')}))
      const pt = await sb.kms.send(new DecryptCommand({CiphertextBlob: ct.CiphertextBlob, EncryptionAlgorithm: 'RSAES_OAEP_SHA_256', KeyId: m.KeyId}))
      expect(text(pt.Plaintext)).to.equal('rsa')
      expect((await rejection(sb.kms.send(new EncryptCommand({KeyId: m.KeyId, Plaintext: Buffer.from('rsa')})))).name).to.equal('InvalidKeyUsageException')
      expect((await rejection(sb.kms.send(new EncryptCommand({EncryptionAlgorithm: 'RSAES_OAEP_SHA_256', KeyId: m.KeyId, Plaintext: Buffer.alloc(191)})))).name).to.equal('ValidationException')
    })

    it('signs and verifies (RSA and ECC); the public key verifies outside KMS', async () => {
      for (const [KeySpec, alg] of [
        ['RSA_2048', 'RSASSA_PSS_SHA_256'],
        ['RSA_2048', 'RSASSA_PKCS1_V1_5_SHA_384'],
        ['ECC_NIST_P384', 'ECDSA_SHA_384'],
        ['ECC_SECG_P256K1', 'ECDSA_SHA_256'],
      ] as const) {
        const m = await create({KeySpec, KeyUsage: 'SIGN_VERIFY'})
        const s = await sb.kms.send(new SignCommand({KeyId: m.KeyId, Message: Buffer.from('msg'), SigningAlgorithm: alg}))
        const v = await sb.kms.send(new VerifyCommand({KeyId: m.KeyId, Message: Buffer.from('msg'), Signature: s.Signature, SigningAlgorithm: alg}))
        expect(v.SignatureValid).to.equal(true)
        const bad = await rejection(sb.kms.send(new VerifyCommand({KeyId: m.KeyId, Message: Buffer.from('other'), Signature: s.Signature, SigningAlgorithm: alg})))
        expect(bad.name).to.equal('KMSInvalidSignatureException')
        const pub = await sb.kms.send(new GetPublicKeyCommand({KeyId: m.KeyId}))
        expect(pub.SigningAlgorithms).to.include(alg)
        if (alg === 'ECDSA_SHA_384') {
          const key = createPublicKey({format: 'der', key: Buffer.from(pub.PublicKey!), type: 'spki'})
          expect(cryptoVerify('sha384', Buffer.from('msg'), key, Buffer.from(s.Signature!))).to.equal(true)
        }
      }

      const rsa = await create({KeySpec: 'RSA_2048', KeyUsage: 'SIGN_VERIFY'})
      const digest = createHash('sha256').update('m').digest()
      const s = await sb.kms.send(new SignCommand({KeyId: rsa.KeyId, Message: digest, MessageType: 'DIGEST', SigningAlgorithm: 'RSASSA_PKCS1_V1_5_SHA_256'}))
      expect((await sb.kms.send(new VerifyCommand({KeyId: rsa.KeyId, Message: Buffer.from('m'), Signature: s.Signature, SigningAlgorithm: 'RSASSA_PKCS1_V1_5_SHA_256'}))).SignatureValid).to.equal(true)
      expect((await rejection(sb.kms.send(new SignCommand({KeyId: rsa.KeyId, Message: Buffer.from('m'), SigningAlgorithm: 'ECDSA_SHA_256'})))).name).to.equal('InvalidKeyUsageException')
      const sym = await create()
      expect((await rejection(sb.kms.send(new GetPublicKeyCommand({KeyId: sym.KeyId})))).name).to.equal('UnsupportedOperationException')
    })

    it('generates and verifies MACs', async () => {
      const m = await create({KeySpec: 'HMAC_256', KeyUsage: 'GENERATE_VERIFY_MAC'})
      const mac = await sb.kms.send(new GenerateMacCommand({KeyId: m.KeyId, MacAlgorithm: 'HMAC_SHA_256', Message: Buffer.from('m')}))
      expect(mac.Mac).to.have.length(32)
      expect((await sb.kms.send(new VerifyMacCommand({KeyId: m.KeyId, Mac: mac.Mac, MacAlgorithm: 'HMAC_SHA_256', Message: Buffer.from('m')}))).MacValid).to.equal(true)
      expect((await rejection(sb.kms.send(new VerifyMacCommand({KeyId: m.KeyId, Mac: mac.Mac, MacAlgorithm: 'HMAC_SHA_256', Message: Buffer.from('n')})))).name).to.equal('KMSInvalidMacException')
      expect((await rejection(sb.kms.send(new GenerateMacCommand({KeyId: m.KeyId, MacAlgorithm: 'HMAC_SHA_512', Message: Buffer.from('m')})))).name).to.equal('InvalidKeyUsageException')
    })

    it('GetKeyLastUsage reports the last successful cryptographic operation', async () => {
      const m = await create()
      const none = await sb.kms.send(new GetKeyLastUsageCommand({KeyId: m.KeyId}))
      expect(none).to.not.have.property('KeyLastUsage')
      expect(none.KeyCreationDate).to.be.instanceOf(Date)
      await sb.kms.send(new EncryptCommand({KeyId: m.KeyId, Plaintext: Buffer.from('x')}))
      await rejection(sb.kms.send(new DecryptCommand({CiphertextBlob: Buffer.from('junk'), KeyId: m.KeyId})))
      const used = await sb.kms.send(new GetKeyLastUsageCommand({KeyId: m.KeyId}))
      expect(used.KeyLastUsage!.Operation).to.equal('Encrypt')
      expect(used.KeyLastUsage!.CloudTrailEventId).to.match(/^[0-9a-f-]{36}$/)
    })
  })

  describe('GenerateRandom', () => {
    it('returns 1..1024 random bytes', async () => {
      expect((await sb.kms.send(new GenerateRandomCommand({NumberOfBytes: 24}))).Plaintext).to.have.length(24)
      expect((await rejection(sb.kms.send(new GenerateRandomCommand({NumberOfBytes: 1025})))).name).to.equal('ValidationException')
    })
  })

  describe('STS', () => {
    it('GetCallerIdentity names the calling principal', async () => {
      const id = await sb.sts.send(new GetCallerIdentityCommand({}))
      expect(id).to.include({Account: SANDBOX_ACCOUNT, Arn: DEFAULT_PRINCIPAL_ARN})
      expect(id.UserId).to.match(/^AIDA/)
    })
  })
})
