import {DescribeKeyCommand} from '@aws-sdk/client-kms'
import {expect} from 'chai'

import {checkEncryptionKey, checkSigningKey, resolveKeyArns, withPrincipal} from '../../../src/lib/data/keys.js'
import {KmsctlError} from '../../../src/lib/errors.js'
import {mockSdk} from '../../helpers/mock-sdk.js'

const ARN = 'arn:aws:kms:us-east-1:111122223333:key/11111111-1111-4111-8111-111111111111'
const meta = (extra: Record<string, unknown> = {}) => ({Arn: ARN, KeyId: '11111111-1111-4111-8111-111111111111', KeySpec: 'SYMMETRIC_DEFAULT', KeyState: 'Enabled', KeyUsage: 'ENCRYPT_DECRYPT', ...extra}) as never
const denied = () => Object.assign(new Error('User: arn:aws:iam::111122223333:user/x is not authorized'), {name: 'AccessDeniedException'})

function thrown(fn: () => void): KmsctlError {
  try {
    fn()
  } catch (error) {
    return error as KmsctlError
  }

  throw new Error('expected an error')
}

describe('data keys', () => {
  const t = mockSdk()

  it('resolves aliases to key ARNs once each', async () => {
    t.kms.on(DescribeKeyCommand).resolves({KeyMetadata: meta()})
    const keys = await resolveKeyArns(t.kmsClient(), ['alias/a', ARN])
    expect(keys.map((k) => k.arn)).to.deep.equal([ARN])
  })

  it('uses a key ARN as given when DescribeKey is denied; an alias then needs the ARN', async () => {
    t.kms.on(DescribeKeyCommand).rejects(denied())
    expect((await resolveKeyArns(t.kmsClient(), [ARN]))[0]).to.deep.equal({arn: ARN, ref: ARN})
    const e = await resolveKeyArns(t.kmsClient(), ['alias/a']).catch((error: unknown) => error as KmsctlError)
    expect((e as KmsctlError).message).to.equal('Cannot resolve alias/a to a key ARN: kms:DescribeKey is denied.')
  })

  it('refuses keys that cannot encrypt or sign, with the fix', () => {
    const rsa = thrown(() => checkEncryptionKey({arn: ARN, metadata: meta({KeySpec: 'RSA_2048', KeyUsage: 'SIGN_VERIFY'}), ref: 'alias/r'}))
    expect(rsa.exitCode).to.equal(2)
    expect(rsa.message).to.contain('envelope encryption needs a symmetric encryption key')
    const disabled = thrown(() => checkEncryptionKey({arn: ARN, metadata: meta({KeyState: 'Disabled'}), ref: 'alias/d'}))
    expect(disabled.code).to.equal('DISABLED')
    expect(disabled.message).to.equal('Key alias/d is disabled: kms:GenerateDataKey is not allowed.')
    const sym = thrown(() => checkSigningKey({arn: ARN, metadata: meta(), ref: 'alias/s'}))
    expect(sym.message).to.equal('alias/s is a symmetric encryption key: it cannot sign. Signing needs an asymmetric key with KeyUsage SIGN_VERIFY (RSA or ECC).')
    const pending = thrown(() => checkSigningKey({arn: ARN, metadata: meta({KeySpec: 'ECC_NIST_P256', KeyState: 'PendingDeletion', KeyUsage: 'SIGN_VERIFY'}), ref: 'k'}))
    expect(pending.code).to.equal('INVALID_STATE')
    expect(() => checkSigningKey({arn: ARN, metadata: meta({KeySpec: 'ECC_NIST_P256', KeyUsage: 'SIGN_VERIFY'}), ref: 'k'})).to.not.throw()
  })

  it('names the calling principal on access denied', async () => {
    const e = new KmsctlError('ACCESS_DENIED', 'Access denied: you are not allowed to call kms:Decrypt on k.', {remedy: 'kmsctl policy simulate k --principal YOUR_ARN --action kms:Decrypt'})
    const named = await withPrincipal(e, async () => ({arn: 'arn:aws:iam::111122223333:user/ops'}))
    expect(named.message).to.equal('Access denied: you are not allowed to call kms:Decrypt on k (as arn:aws:iam::111122223333:user/ops).')
    expect(named.details).to.deep.equal({principal: 'arn:aws:iam::111122223333:user/ops'})
    expect(named.remedy).to.equal('kmsctl policy simulate k --principal arn:aws:iam::111122223333:user/ops --action kms:Decrypt')
    const other = new KmsctlError('DISABLED', 'x')
    expect(await withPrincipal(other, async () => ({arn: 'a'}))).to.equal(other)
    expect(await withPrincipal(e, async () => {
      throw new Error('sts denied')
    })).to.equal(e)
  })
})
