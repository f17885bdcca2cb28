import {
  DescribeKeyCommand,
  GetKeyRotationStatusCommand,
  ListAliasesCommand,
  ListGrantsCommand,
  ListKeyPoliciesCommand,
  ListKeysCommand,
  ListResourceTagsCommand,
} from '@aws-sdk/client-kms'
import {expect} from 'chai'

import {describeKey, listKeys, partialListing, rotationNotApplicable, rotationText} from '../../src/lib/inventory.js'
import {KmsctlError} from '../../src/lib/errors.js'
import {awsError, mockSdk} from '../helpers/mock-sdk.js'

const acct = '111122223333'
const id = (n: number) => `${String(n).padStart(8, '0')}-0000-4000-8000-000000000000`
const arn = (n: number) => `arn:aws:kms:us-east-1:${acct}:key/${id(n)}`
const meta = (n: number, extra: Record<string, unknown> = {}) => ({
  Arn: arn(n),
  CreationDate: new Date('2026-01-02T03:04:05Z'),
  Description: `key ${n}`,
  KeyId: id(n),
  KeyManager: 'CUSTOMER',
  KeySpec: 'SYMMETRIC_DEFAULT',
  KeyState: 'Enabled',
  KeyUsage: 'ENCRYPT_DECRYPT',
  Origin: 'AWS_KMS',
  ...extra,
})

describe('inventory', () => {
  const sdk = mockSdk()
  beforeEach(() => {
    sdk.kms.on(ListKeysCommand).resolves({Keys: [1, 2, 3, 4].map((n) => ({KeyArn: arn(n), KeyId: id(n)}))})
    sdk.kms.on(ListAliasesCommand).resolves({Aliases: [{AliasName: 'alias/app-web', TargetKeyId: id(1)}, {AliasName: 'alias/app-api', TargetKeyId: id(2)}, {AliasName: 'alias/aws/s3', TargetKeyId: id(4)}]})
    sdk.kms.on(DescribeKeyCommand).callsFake((input: {KeyId: string}) => {
      const n = Number(input.KeyId.slice(0, 8))
      const extra: Record<number, Record<string, unknown>> = {2: {KeyState: 'Disabled'}, 3: {KeySpec: 'RSA_2048', KeyUsage: 'SIGN_VERIFY'}, 4: {KeyManager: 'AWS'}}
      return {KeyMetadata: meta(n, extra[n])}
    })
    sdk.kms.on(GetKeyRotationStatusCommand).resolves({KeyRotationEnabled: true, RotationPeriodInDays: 365})
    sdk.kms.on(ListResourceTagsCommand).callsFake((input: {KeyId: string}) => ({Tags: input.KeyId === id(1) ? [{TagKey: 'team', TagValue: 'web'}] : []}))
  })

  it('lists every key with its aliases, state and rotation, in ListKeys order', async () => {
    const {failures, keys} = await listKeys(sdk.kmsClient())
    expect(failures).to.deep.equal([])
    expect(keys.map((k) => [k.keyId, k.aliases, k.state, k.manager, rotationText(k.rotation)])).to.deep.equal([
      [id(1), ['alias/app-web'], 'Enabled', 'CUSTOMER', 'on (365 d)'],
      [id(2), ['alias/app-api'], 'Disabled', 'CUSTOMER', 'on (365 d)'],
      [id(3), [], 'Enabled', 'CUSTOMER', 'n/a'],
      [id(4), ['alias/aws/s3'], 'Enabled', 'AWS', 'on (365 d)'],
    ])
    // Asymmetric keys cannot rotate: not asked.
    expect(sdk.kms.commandCalls(GetKeyRotationStatusCommand).map((c) => c.args[0].input.KeyId)).to.not.include(id(3))
  })

  it('filters by state, manager, alias glob or prefix, and tags (asking tags of customer keys only)', async () => {
    const kms = sdk.kmsClient()
    expect((await listKeys(kms, {state: ['disabled']})).keys.map((k) => k.keyId)).to.deep.equal([id(2)])
    expect((await listKeys(kms, {manager: ['AWS']})).keys.map((k) => k.keyId)).to.deep.equal([id(4)])
    expect((await listKeys(kms, {alias: 'alias/app-*'})).keys.map((k) => k.keyId)).to.deep.equal([id(1), id(2)])
    expect((await listKeys(kms, {alias: 'app-a'})).keys.map((k) => k.keyId)).to.deep.equal([id(2)])
    const tagged = await listKeys(kms, {tags: {team: 'web'}})
    expect(tagged.keys.map((k) => [k.keyId, k.tags])).to.deep.equal([[id(1), {team: 'web'}]])
    expect(sdk.kms.commandCalls(ListResourceTagsCommand).map((c) => c.args[0].input.KeyId)).to.not.include(id(4))
  })

  it('reports what was read when some reads fail: the failing keys are named, the others listed', async () => {
    sdk.kms.on(DescribeKeyCommand, {KeyId: id(2)}).rejects(awsError('KMSInternalException', 'internal error', 500))
    sdk.kms.on(GetKeyRotationStatusCommand, {KeyId: id(1)}).rejects(awsError('ServiceUnavailableException', 'unavailable', 503))
    sdk.kms.on(ListAliasesCommand).rejects(awsError('AccessDeniedException', 'not allowed: kms:ListAliases'))
    const {failures, keys} = await listKeys(sdk.kmsClient())
    expect(keys.map((k) => [k.keyId, k.aliases])).to.deep.equal([
      [id(3), []],
      [id(4), []],
    ])
    expect(failures.map((f) => [f.keyId, f.operation, f.code]).sort()).to.deep.equal([
      [undefined, 'ListAliases', 'ACCESS_DENIED'],
      [id(1), 'GetKeyRotationStatus', 'AWS_ERROR'],
      [id(2), 'DescribeKey', 'AWS_ERROR'],
    ].sort())
    const err = partialListing(keys, failures)
    expect(err).to.be.instanceOf(KmsctlError)
    expect(err.exitCode).to.equal(3)
    expect(err.message).to.match(/^Listed 2 keys, but 3 reads failed: /)
    expect(err.toJSON().details).to.deep.include({keys})
  })

  it('goes on with the pages of ListKeys read before one failed', async () => {
    sdk.kms
      .on(ListKeysCommand)
      .resolvesOnce({Keys: [{KeyArn: arn(1), KeyId: id(1)}], NextMarker: 'm1', Truncated: true})
      .rejects(awsError('KMSInternalException', 'internal error', 500))
    const {failures, keys} = await listKeys(sdk.kmsClient())
    expect(keys.map((k) => k.keyId)).to.deep.equal([id(1)])
    expect(failures.map((f) => f.operation)).to.deep.equal(['ListKeys'])
  })

  it('fails as a whole when nothing could be listed, or for an expired credential', async () => {
    sdk.kms.on(ListKeysCommand).rejects(awsError('AccessDeniedException', 'not allowed: kms:ListKeys'))
    expect(await listKeys(sdk.kmsClient()).catch((error) => error.code)).to.equal('ACCESS_DENIED')
    sdk.kms.on(ListKeysCommand).resolves({Keys: [{KeyArn: arn(1), KeyId: id(1)}]})
    sdk.kms.on(DescribeKeyCommand).rejects(awsError('ExpiredTokenException', 'The security token included in the request is expired'))
    expect(await listKeys(sdk.kmsClient()).catch((error) => error.code)).to.equal('EXPIRED_TOKEN')
  })

  it('describes one key in full, naming the parts it could not read', async () => {
    sdk.kms.on(ListKeyPoliciesCommand).resolves({PolicyNames: ['default']})
    sdk.kms.on(ListGrantsCommand).rejects(awsError('AccessDeniedException', 'not allowed: kms:ListGrants'))
    sdk.kms.on(ListAliasesCommand, {KeyId: id(1)}).resolves({Aliases: [{AliasName: 'alias/app-web', TargetKeyId: id(1)}]})
    const d = await describeKey(sdk.kmsClient(), id(1))
    expect(d).to.deep.include({aliases: ['alias/app-web'], grantCount: undefined, keyId: id(1), policyNames: ['default'], tags: {team: 'web'}})
    expect(Object.keys(d.unavailable)).to.deep.equal(['ListGrants'])
  })

  it('says why a key cannot rotate', () => {
    expect(rotationNotApplicable(meta(1) as never)).to.equal(undefined)
    expect(rotationNotApplicable(meta(1, {KeySpec: 'HMAC_256'}) as never)).to.equal('HMAC keys cannot rotate')
    expect(rotationNotApplicable(meta(1, {Origin: 'EXTERNAL'}) as never)).to.equal('keys with imported material rotate on demand only')
    expect(rotationNotApplicable(meta(1, {CustomKeyStoreId: 'cks-1'}) as never)).to.equal('keys in a custom key store cannot rotate')
  })
})
