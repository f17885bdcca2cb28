import {CreateAliasCommand, DeleteAliasCommand, DescribeKeyCommand, ListAliasesCommand, UpdateAliasCommand} from '@aws-sdk/client-kms'
import {expect} from 'chai'

import {applyAliasPlan, keyTypeOf, listAliases, planAliasCreate, planAliasDelete, planAliasUpdate, validateAliasName} from '../../src/lib/aliases.js'
import {KmsctlError} from '../../src/lib/errors.js'
import {mockSdk} from '../helpers/mock-sdk.js'

const A = '11111111-1111-4111-8111-111111111111'
const B = '22222222-2222-4222-8222-222222222222'
const H = '33333333-3333-4333-8333-333333333333'
const arn = (id: string) => `arn:aws:kms:us-east-1:111122223333:key/${id}`
const meta = (id: string, extra: Record<string, unknown> = {}) => ({Arn: arn(id), KeyId: id, KeyManager: 'CUSTOMER', KeySpec: 'SYMMETRIC_DEFAULT', KeyState: 'Enabled', KeyUsage: 'ENCRYPT_DECRYPT', ...extra})
const notFound = () => Object.assign(new Error('not found'), {name: 'NotFoundException'})

async function thrown(p: Promise<unknown>): Promise<KmsctlError> {
  try {
    await p
  } catch (error) {
    return error as KmsctlError
  }

  throw new Error('expected a rejection')
}

describe('aliases', () => {
  const sdk = mockSdk()
  const kms = sdk.kmsClient()
  beforeEach(() => {
    sdk.kms.on(DescribeKeyCommand).rejects(notFound())
    sdk.kms.on(DescribeKeyCommand, {KeyId: A}).resolves({KeyMetadata: meta(A) as never})
    sdk.kms.on(DescribeKeyCommand, {KeyId: B}).resolves({KeyMetadata: meta(B) as never})
    sdk.kms.on(DescribeKeyCommand, {KeyId: H}).resolves({KeyMetadata: meta(H, {KeySpec: 'HMAC_256', KeyUsage: 'GENERATE_VERIFY_MAC'}) as never})
    sdk.kms.on(DescribeKeyCommand, {KeyId: 'alias/app'}).resolves({KeyMetadata: meta(A) as never})
    sdk.kms.on(ListAliasesCommand).resolves({Aliases: [{AliasName: 'alias/app', TargetKeyId: A}], Truncated: false})
  })

  describe('validateAliasName', () => {
    it('accepts valid names unchanged', () => {
      expect(validateAliasName('alias/payments/prod_v2-x')).to.equal('alias/payments/prod_v2-x')
    })

    it('hints at the alias/ prefix for bare names (exit 2)', () => {
      const e = (() => {
        try {
          validateAliasName('payments')
        } catch (error) {
          return error as KmsctlError
        }
      })()!
      expect(e.message).to.equal('NAME "payments" is not an alias name: alias names start with "alias/".')
      expect(e.remedy).to.equal('Try this: alias/payments')
      expect(e.exitCode).to.equal(2)
    })

    it('refuses alias/aws/ names as reserved (exit 2)', () => {
      expect(() => validateAliasName('alias/aws/s3')).to.throw('alias/aws/s3 is under alias/aws/, which is reserved for AWS managed keys.').with.property('code', 'REFUSED')
      expect(() => validateAliasName('alias/aws')).to.throw().with.property('exitCode', 2)
    })

    it('refuses bad characters, empty names, over-long names and ARNs', () => {
      expect(() => validateAliasName('alias/pay ments')).to.throw('has characters KMS does not allow').with.property('exitCode', 2)
      expect(() => validateAliasName('alias/')).to.throw().with.property('exitCode', 2)
      expect(() => validateAliasName('alias/' + 'x'.repeat(251))).to.throw('257 characters long; KMS allows at most 256')
      expect(() => validateAliasName('arn:aws:kms:us-east-1:111122223333:alias/app')).to.throw('is an alias ARN').with.property('remedy', 'Try this: alias/app')
    })
  })

  it('lists every page of aliases, sorted, marking AWS managed ones', async () => {
    sdk.kms.on(ListAliasesCommand).resolvesOnce({
      Aliases: [{AliasName: 'alias/zeta', CreationDate: new Date('2026-01-01T00:00:00Z'), TargetKeyId: A}, {AliasName: 'alias/aws/s3'}],
      NextMarker: 'm1',
      Truncated: true,
    }).resolvesOnce({Aliases: [{AliasName: 'alias/alpha', TargetKeyId: B}], Truncated: false})
    const {aliases} = await listAliases(kms)
    expect(aliases.map((a) => [a.aliasName, a.awsManaged, a.targetKeyId])).to.deep.equal([
      ['alias/alpha', false, B],
      ['alias/aws/s3', true, undefined],
      ['alias/zeta', false, A],
    ])
    expect(aliases[2].creationDate).to.equal('2026-01-01T00:00:00.000Z')
    expect(sdk.kms.commandCalls(ListAliasesCommand)[1].args[0].input).to.deep.include({Marker: 'm1'})
  })

  it('lists the aliases of one key after resolving it, and can leave out AWS managed ones', async () => {
    sdk.kms.on(ListAliasesCommand, {KeyId: A}).resolves({Aliases: [{AliasName: 'alias/app', TargetKeyId: A}, {AliasName: 'alias/aws/x', TargetKeyId: A}], Truncated: false})
    const listing = await listAliases(kms, {customerOnly: true, key: 'alias/app'})
    expect(listing.key).to.deep.equal({arn: arn(A), keyId: A})
    expect(listing.aliases.map((a) => a.aliasName)).to.deep.equal(['alias/app'])
    expect(sdk.kms.commandCalls(ListAliasesCommand)[0].args[0].input).to.deep.include({KeyId: A})
  })

  it('plans a create with the resolved key ID as target', async () => {
    const plan = await planAliasCreate(kms, 'alias/new', 'alias/app')
    expect(plan.requests).to.deep.equal([{input: {AliasName: 'alias/new', TargetKeyId: A}, operation: 'CreateAlias'}])
    expect(plan.unchanged).to.equal(false)
    // Finding the name free takes one DescribeKey: no alias listing for suggestions nobody reads.
    expect(sdk.kms.commandCalls(DescribeKeyCommand).map((c) => c.args[0].input.KeyId)).to.deep.equal(['alias/app', 'alias/new'])
    expect(sdk.kms.commandCalls(ListAliasesCommand)).to.have.length(0)
  })

  it('refuses a create whose name exists, naming update as the fix', async () => {
    const e = await thrown(planAliasCreate(kms, 'alias/app', B))
    expect(e.code).to.equal('ALREADY_EXISTS')
    expect(e.message).to.equal(`alias/app already exists and points at ${A}.`)
    expect(e.remedy).to.equal(`Try this: kmsctl alias update alias/app ${B} (to point it at the new key)`)
  })

  it('a create whose name is taken by a key the caller may not describe is refused too', async () => {
    sdk.kms.on(DescribeKeyCommand, {KeyId: 'alias/hidden'}).rejects(Object.assign(new Error('denied'), {name: 'AccessDeniedException'}))
    const e = await thrown(planAliasCreate(kms, 'alias/hidden', A))
    expect(e.message).to.equal('alias/hidden already exists (it points at a key you may not describe).')
    expect(e.exitCode).to.equal(2)
  })

  it('treats a create that already holds as unchanged', async () => {
    const plan = await planAliasCreate(kms, 'alias/app', A)
    expect(plan.unchanged).to.equal(true)
    expect(plan.requests).to.deep.equal([])
  })

  it('refuses to point an alias at an AWS managed key', async () => {
    sdk.kms.on(DescribeKeyCommand, {KeyId: B}).resolves({KeyMetadata: meta(B, {KeyManager: 'AWS'}) as never})
    const e = await thrown(planAliasCreate(kms, 'alias/new', B))
    expect(e.code).to.equal('REFUSED')
    expect(e.exitCode).to.equal(2)
  })

  it('plans an update with the previous target', async () => {
    const plan = await planAliasUpdate(kms, 'alias/app', B)
    expect(plan.previousTarget).to.deep.equal({arn: arn(A), keyId: A})
    expect(plan.requests).to.deep.equal([{input: {AliasName: 'alias/app', TargetKeyId: B}, operation: 'UpdateAlias'}])
  })

  it('refuses an update between keys of different type or usage', async () => {
    const e = await thrown(planAliasUpdate(kms, 'alias/app', H))
    expect(e.code).to.equal('REFUSED')
    expect(e.message).to.contain('points at a symmetric ENCRYPT_DECRYPT key')
    expect(e.message).to.contain('is a HMAC GENERATE_VERIFY_MAC key')
  })

  it('an update of a missing alias is not found, with suggestions', async () => {
    const e = await thrown(planAliasUpdate(kms, 'alias/ap', B))
    expect(e.code).to.equal('NOT_FOUND')
    expect(e.remedy).to.equal('Did you mean: alias/app?')
  })

  it('plans a delete recording the target', async () => {
    const plan = await planAliasDelete(kms, 'alias/app')
    expect(plan.previousTarget?.keyId).to.equal(A)
    expect(plan.requests).to.deep.equal([{input: {AliasName: 'alias/app'}, operation: 'DeleteAlias'}])
  })

  it('sends exactly the planned request', async () => {
    sdk.kms.on(CreateAliasCommand).resolves({})
    sdk.kms.on(UpdateAliasCommand).resolves({})
    sdk.kms.on(DeleteAliasCommand).resolves({})
    await applyAliasPlan(kms, await planAliasCreate(kms, 'alias/new', A))
    await applyAliasPlan(kms, await planAliasUpdate(kms, 'alias/app', B))
    await applyAliasPlan(kms, await planAliasDelete(kms, 'alias/app'))
    expect(sdk.kms.commandCalls(CreateAliasCommand).map((c) => c.args[0].input)).to.deep.equal([{AliasName: 'alias/new', TargetKeyId: A}])
    expect(sdk.kms.commandCalls(UpdateAliasCommand).map((c) => c.args[0].input)).to.deep.equal([{AliasName: 'alias/app', TargetKeyId: B}])
    expect(sdk.kms.commandCalls(DeleteAliasCommand).map((c) => c.args[0].input)).to.deep.equal([{AliasName: 'alias/app'}])
  })

  it('maps AlreadyExists from KMS (a race) to an update hint', async () => {
    sdk.kms.on(CreateAliasCommand).rejects(Object.assign(new Error('exists'), {name: 'AlreadyExistsException'}))
    const e = await thrown(applyAliasPlan(kms, await planAliasCreate(kms, 'alias/new', A)))
    expect(e.code).to.equal('ALREADY_EXISTS')
    expect(e.remedy).to.contain('kmsctl alias update alias/new KEY')
  })

  it('names key types as KMS groups them', () => {
    expect(keyTypeOf({KeyId: A, KeySpec: 'RSA_2048'})).to.equal('asymmetric')
    expect(keyTypeOf({KeyId: A, KeySpec: 'HMAC_512'})).to.equal('HMAC')
    expect(keyTypeOf({KeyId: A})).to.equal('symmetric')
  })
})
