import {CreateAliasCommand, CreateKeyCommand, DescribeKeyCommand, EnableKeyRotationCommand, ListAliasesCommand} from '@aws-sdk/client-kms'
import {expect} from 'chai'
import {mkdtempSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {KmsctlError} from '../../src/lib/errors.js'
import {KEY_SPECS, assertAliasFree, executeCreateKey, planCreateKey, readPolicyFile, resolveSpecUsage, usagesFor} from '../../src/lib/key-create.js'
import {mockSdk} from '../helpers/mock-sdk.js'

const ID = '44444444-4444-4444-8444-444444444444'
const ARN = `arn:aws:kms:us-east-1:111122223333:key/${ID}`

function usage(fn: () => unknown): KmsctlError {
  try {
    fn()
  } catch (error) {
    return error as KmsctlError
  }

  throw new Error('expected an error')
}

describe('key create: spec and usage', () => {
  it('accepts exactly the combinations KMS documents', () => {
    expect(usagesFor('SYMMETRIC_DEFAULT')).to.deep.equal(['ENCRYPT_DECRYPT'])
    expect(usagesFor('RSA_4096')).to.deep.equal(['ENCRYPT_DECRYPT', 'SIGN_VERIFY'])
    expect(usagesFor('ECC_NIST_P384')).to.deep.equal(['SIGN_VERIFY', 'KEY_AGREEMENT'])
    expect(usagesFor('ECC_SECG_P256K1')).to.deep.equal(['SIGN_VERIFY'])
    expect(usagesFor('ECC_NIST_EDWARDS25519')).to.deep.equal(['SIGN_VERIFY'])
    expect(usagesFor('HMAC_384')).to.deep.equal(['GENERATE_VERIFY_MAC'])
    expect(usagesFor('ML_DSA_65')).to.deep.equal(['SIGN_VERIFY'])
    expect(usagesFor('ML_KEM_768')).to.deep.equal(['ENCAPSULATE_DECAPSULATE'])
    expect(usagesFor('SM2')).to.deep.equal(['ENCRYPT_DECRYPT', 'SIGN_VERIFY', 'KEY_AGREEMENT'])
    for (const spec of KEY_SPECS) expect(usagesFor(spec), spec).to.not.be.empty
  })

  it('defaults to a symmetric encryption key', () => {
    expect(resolveSpecUsage(undefined, undefined)).to.deep.equal({spec: 'SYMMETRIC_DEFAULT', usage: 'ENCRYPT_DECRYPT'})
  })

  it('implies the only usage, or KMS default ENCRYPT_DECRYPT for RSA; is case-insensitive', () => {
    expect(resolveSpecUsage('hmac_256', undefined)).to.deep.equal({spec: 'HMAC_256', usage: 'GENERATE_VERIFY_MAC'})
    expect(resolveSpecUsage('ECC_SECG_P256K1', undefined).usage).to.equal('SIGN_VERIFY')
    expect(resolveSpecUsage('RSA_2048', undefined).usage).to.equal('ENCRYPT_DECRYPT')
    expect(resolveSpecUsage('rsa-2048', 'sign_verify')).to.deep.equal({spec: 'RSA_2048', usage: 'SIGN_VERIFY'})
  })

  it('asks for --usage when a NIST curve has two', () => {
    const e = usage(() => resolveSpecUsage('ECC_NIST_P256', undefined))
    expect(e.message).to.equal('--spec ECC_NIST_P256 needs --usage: SIGN_VERIFY or KEY_AGREEMENT.')
    expect(e.exitCode).to.equal(2)
  })

  it('refuses invalid combinations with what KMS accepts', () => {
    let e = usage(() => resolveSpecUsage('RSA_2048', 'KEY_AGREEMENT'))
    expect(e.message).to.equal('--usage KEY_AGREEMENT is not valid for --spec RSA_2048: KMS accepts ENCRYPT_DECRYPT or SIGN_VERIFY.')
    expect(e.remedy).to.equal('Try this: --spec RSA_2048 --usage ENCRYPT_DECRYPT')
    e = usage(() => resolveSpecUsage('ECC_SECG_P256K1', 'KEY_AGREEMENT'))
    expect(e.message).to.contain('KMS accepts SIGN_VERIFY.')
    e = usage(() => resolveSpecUsage(undefined, 'SIGN_VERIFY'))
    expect(e.message).to.contain('not valid for --spec SYMMETRIC_DEFAULT')
    e = usage(() => resolveSpecUsage('SYMMETRIC_DEFAULT', 'GENERATE_VERIFY_MAC'))
    expect(e.remedy).to.contain('--spec HMAC_256')
    e = usage(() => resolveSpecUsage('HMAC_256', 'ENCRYPT_DECRYPT'))
    expect(e.message).to.contain('KMS accepts GENERATE_VERIFY_MAC')
  })

  it('refuses unknown specs and usages, listing the valid ones', () => {
    expect(usage(() => resolveSpecUsage('AES_256', undefined)).remedy).to.contain('SYMMETRIC_DEFAULT, RSA_2048')
    expect(usage(() => resolveSpecUsage(undefined, 'ENCRYPT')).message).to.equal('--usage "ENCRYPT" is not a KMS key usage.')
  })
})

describe('key create: plan', () => {
  it('builds exactly the requests, with placeholders for the new key ID', () => {
    const plan = planCreateKey({alias: 'alias/payments', description: 'Payments', multiRegion: true, rotationDays: 180, tags: {team: 'payments'}})
    expect(plan.requests).to.deep.equal([
      {
        input: {Description: 'Payments', KeySpec: 'SYMMETRIC_DEFAULT', KeyUsage: 'ENCRYPT_DECRYPT', MultiRegion: true, Tags: [{TagKey: 'team', TagValue: 'payments'}]},
        operation: 'CreateKey',
      },
      {input: {AliasName: 'alias/payments', TargetKeyId: '<new key ID>'}, operation: 'CreateAlias'},
      {input: {KeyId: '<new key ID>', RotationPeriodInDays: 180}, operation: 'EnableKeyRotation'},
    ])
  })

  it('the minimal plan is one CreateKey', () => {
    expect(planCreateKey({}).requests).to.deep.equal([{input: {KeySpec: 'SYMMETRIC_DEFAULT', KeyUsage: 'ENCRYPT_DECRYPT'}, operation: 'CreateKey'}])
  })

  it('checks the alias, rotation period and spec before anything else', () => {
    expect(usage(() => planCreateKey({alias: 'payments'})).remedy).to.equal('Try this: alias/payments')
    expect(usage(() => planCreateKey({alias: 'alias/aws/x'})).code).to.equal('REFUSED')
    expect(usage(() => planCreateKey({rotationDays: 89})).message).to.equal("--rotation-days 89 is outside KMS's range of 90..2560 days.")
    expect(usage(() => planCreateKey({rotationDays: 2561})).exitCode).to.equal(2)
    expect(usage(() => planCreateKey({rotationDays: 365, spec: 'RSA_2048'})).message).to.equal(
      '--rotation-days applies to symmetric encryption keys only; RSA_2048 keys cannot rotate automatically.',
    )
    expect(usage(() => planCreateKey({description: 'x'.repeat(8193)})).message).to.contain('at most 8192')
    expect(usage(() => planCreateKey({tags: {'aws:x': 'y'}})).message).to.contain('reserved for AWS')
  })

  describe('policy file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kmsctl-policy-'))
    const file = (name: string, content: string | Buffer) => {
      const p = join(dir, name)
      writeFileSync(p, content)
      return p
    }

    it('sends the policy text as given, and shows it parsed in the plan', () => {
      const text = '{"Version":"2012-10-17","Statement":[]}'
      const plan = planCreateKey({policyFile: file('ok.json', text)})
      expect(plan.createKey.Policy).to.equal(text)
      expect(plan.requests[0].input.Policy).to.deep.equal({Statement: [], Version: '2012-10-17'})
    })

    it('refuses a missing, oversized, non-JSON or non-Latin-1 file', () => {
      expect(usage(() => readPolicyFile(join(dir, 'missing.json'))).message).to.contain('cannot be read')
      expect(usage(() => readPolicyFile(file('big.json', `{"a":"${'x'.repeat(32_770)}"}`))).message).to.contain('bytes; KMS allows at most 32768')
      expect(usage(() => readPolicyFile(file('bad.json', '{"Statement": [}'))).message).to.contain('is not a JSON policy document')
      expect(usage(() => readPolicyFile(file('arr.json', '[]'))).message).to.contain('not a JSON object')
      expect(usage(() => readPolicyFile(file('emoji.json', '{"Sid":"\u{1F511}"}'))).message).to.contain('(U+1F511)')
      expect(readPolicyFile(file('latin.json', '{"Sid":"caf\u00e9"}'))).to.equal('{"Sid":"caf\u00e9"}')
    })
  })
})

describe('key create: execute', () => {
  const sdk = mockSdk()
  const kms = sdk.kmsClient()
  beforeEach(() => {
    sdk.kms.on(CreateKeyCommand).resolves({KeyMetadata: {Arn: ARN, KeyId: ID, KeySpec: 'SYMMETRIC_DEFAULT'} as never})
    sdk.kms.on(CreateAliasCommand).resolves({})
    sdk.kms.on(EnableKeyRotationCommand).resolves({})
  })

  it('creates the key, then the alias and rotation for the new key ID', async () => {
    const out = await executeCreateKey(kms, planCreateKey({alias: 'alias/p', rotationDays: 90}))
    expect(out).to.deep.include({alias: 'alias/p', arn: ARN, keyId: ID})
    expect(out.rotation).to.deep.equal({enabled: true, periodDays: 90})
    expect(out.failed).to.deep.equal([])
    expect(sdk.kms.commandCalls(CreateAliasCommand)[0].args[0].input).to.deep.equal({AliasName: 'alias/p', TargetKeyId: ID})
    expect(sdk.kms.commandCalls(EnableKeyRotationCommand)[0].args[0].input).to.deep.equal({KeyId: ID, RotationPeriodInDays: 90})
  })

  it('keeps going after a failed alias step and reports it', async () => {
    sdk.kms.on(CreateAliasCommand).rejects(Object.assign(new Error('denied'), {name: 'AccessDeniedException'}))
    const out = await executeCreateKey(kms, planCreateKey({alias: 'alias/p', rotationDays: 90}))
    expect(out.alias).to.equal(undefined)
    expect(out.failed.map((s) => [s.operation, s.error?.code])).to.deep.equal([['CreateAlias', 'ACCESS_DENIED']])
    expect(out.rotation).to.deep.equal({enabled: true, periodDays: 90})
  })

  it('a failed CreateKey throws and sends nothing else', async () => {
    sdk.kms.on(CreateKeyCommand).rejects(Object.assign(new Error('The new key policy will not allow you to update the key policy in the future.'), {name: 'MalformedPolicyDocumentException'}))
    try {
      await executeCreateKey(kms, planCreateKey({alias: 'alias/p'}))
      expect.fail('should throw')
    } catch (error) {
      expect((error as KmsctlError).code).to.equal('MALFORMED_POLICY')
    }

    expect(sdk.kms.commandCalls(CreateAliasCommand)).to.have.length(0)
  })

  it('checks that the alias is free before creating the key', async () => {
    sdk.kms.on(DescribeKeyCommand).rejects(Object.assign(new Error('nf'), {name: 'NotFoundException'}))
    sdk.kms.on(ListAliasesCommand).resolves({Aliases: [], Truncated: false})
    await assertAliasFree(kms, 'alias/free')
    expect(sdk.kms.commandCalls(ListAliasesCommand)).to.have.length(0)
    sdk.kms.on(DescribeKeyCommand, {KeyId: 'alias/taken'}).resolves({KeyMetadata: {Arn: ARN, KeyId: ID}})
    try {
      await assertAliasFree(kms, 'alias/taken')
      expect.fail('should throw')
    } catch (error) {
      expect((error as KmsctlError).message).to.equal(`alias/taken already exists (it points at ${ID}); no key was created.`)
      expect((error as KmsctlError).exitCode).to.equal(2)
    }

    sdk.kms.on(DescribeKeyCommand, {KeyId: 'alias/hidden'}).rejects(Object.assign(new Error('denied'), {name: 'AccessDeniedException'}))
    try {
      await assertAliasFree(kms, 'alias/hidden')
      expect.fail('should throw')
    } catch (error) {
      expect((error as KmsctlError).message).to.equal('alias/hidden already exists (it points at a key you may not describe); no key was created.')
    }
  })
})
