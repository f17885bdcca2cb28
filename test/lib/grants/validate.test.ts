import {expect} from 'chai'

import {KmsctlError} from '../../../src/lib/errors.js'
import {
  OPERATIONS_BY_KEY_TYPE,
  grantKeyType,
  validateConstraints,
  validateGrantId,
  validateGrantName,
  validateGrantToken,
  validateOperations,
  validatePrincipal,
} from '../../../src/lib/grants/validate.js'

function usage(fn: () => unknown): KmsctlError {
  try {
    fn()
  } catch (error) {
    expect(error).to.be.instanceOf(KmsctlError)
    expect((error as KmsctlError).exitCode).to.equal(2)
    return error as KmsctlError
  }

  throw new Error('expected a usage error')
}

describe('grants/validate', () => {
  describe('grantKeyType', () => {
    it('classifies keys by spec and usage', () => {
      expect(grantKeyType({KeySpec: 'SYMMETRIC_DEFAULT', KeyUsage: 'ENCRYPT_DECRYPT'})).to.equal('symmetric encryption')
      expect(grantKeyType({KeySpec: 'RSA_2048', KeyUsage: 'ENCRYPT_DECRYPT'})).to.equal('asymmetric ENCRYPT_DECRYPT')
      expect(grantKeyType({KeySpec: 'RSA_3072', KeyUsage: 'SIGN_VERIFY'})).to.equal('asymmetric SIGN_VERIFY')
      expect(grantKeyType({KeySpec: 'ECC_NIST_P256', KeyUsage: 'KEY_AGREEMENT'})).to.equal('asymmetric KEY_AGREEMENT')
      expect(grantKeyType({KeySpec: 'HMAC_256', KeyUsage: 'GENERATE_VERIFY_MAC'})).to.equal('HMAC')
      expect(grantKeyType({KeySpec: 'ML_KEM_768', KeyUsage: 'ENCAPSULATE_DECAPSULATE'})).to.equal('asymmetric ENCAPSULATE_DECAPSULATE')
      // Old metadata with only CustomerMasterKeySpec.
      expect(grantKeyType({CustomerMasterKeySpec: 'SYMMETRIC_DEFAULT'})).to.equal('symmetric encryption')
    })
  })

  describe('validateOperations', () => {
    it('accepts comma-separated and repeated values, any case, without duplicates', () => {
      expect(validateOperations(['decrypt,GenerateDataKey', 'Decrypt', ' encrypt '], 'symmetric encryption')).to.deep.equal(['Decrypt', 'GenerateDataKey', 'Encrypt'])
    })

    it('allows the symmetric operations on a symmetric key and refuses Sign', () => {
      expect(validateOperations([...OPERATIONS_BY_KEY_TYPE['symmetric encryption']], 'symmetric encryption')).to.have.length(11)
      const e = usage(() => validateOperations(['Decrypt,Sign,GetPublicKey'], 'symmetric encryption'))
      expect(e.message).to.equal('A grant on a symmetric encryption key cannot allow Sign, GetPublicKey.')
      expect(e.remedy).to.contain('GenerateDataKey')
    })

    it('allows Sign/Verify on a SIGN_VERIFY key and refuses Decrypt', () => {
      expect(validateOperations(['Sign,Verify,GetPublicKey'], 'asymmetric SIGN_VERIFY')).to.deep.equal(['Sign', 'Verify', 'GetPublicKey'])
      expect(usage(() => validateOperations(['Decrypt'], 'asymmetric SIGN_VERIFY')).message).to.contain('cannot allow Decrypt')
    })

    it('allows Encrypt/Decrypt on an asymmetric ENCRYPT_DECRYPT key but no data keys or Sign', () => {
      expect(validateOperations(['Encrypt,Decrypt,ReEncryptFrom,GetPublicKey'], 'asymmetric ENCRYPT_DECRYPT')).to.have.length(4)
      expect(usage(() => validateOperations(['GenerateDataKey'], 'asymmetric ENCRYPT_DECRYPT')).message).to.contain('cannot allow GenerateDataKey')
      expect(usage(() => validateOperations(['Sign'], 'asymmetric ENCRYPT_DECRYPT')).message).to.contain('cannot allow Sign')
    })

    it('allows only DeriveSharedSecret (and common operations) on a KEY_AGREEMENT key', () => {
      expect(validateOperations(['DeriveSharedSecret,DescribeKey'], 'asymmetric KEY_AGREEMENT')).to.deep.equal(['DeriveSharedSecret', 'DescribeKey'])
      expect(usage(() => validateOperations(['Decrypt'], 'asymmetric KEY_AGREEMENT')).message).to.contain('cannot allow Decrypt')
    })

    it('allows GenerateMac/VerifyMac on HMAC keys and refuses Encrypt', () => {
      expect(validateOperations(['GenerateMac,VerifyMac,CreateGrant,RetireGrant,DescribeKey'], 'HMAC')).to.have.length(5)
      expect(usage(() => validateOperations(['Encrypt'], 'HMAC')).message).to.equal('A grant on an HMAC key cannot allow Encrypt.')
    })

    it('refuses unknown operations and no operations', () => {
      expect(usage(() => validateOperations(['Decrpyt'])).message).to.equal('"Decrpyt" is not a grant operation.')
      expect(usage(() => validateOperations(['ReEncrypt'])).remedy).to.contain('ReEncryptFrom,ReEncryptTo')
      expect(usage(() => validateOperations([])).message).to.equal('No operations given.')
      expect(usage(() => validateOperations([' , '])).message).to.equal('No operations given.')
    })
  })

  describe('validateConstraints', () => {
    const eight = Object.fromEntries(Array.from({length: 8}, (_, i) => [`k${i}`, `v${i}`]))

    it('returns no constraint when none is given', () => {
      expect(validateConstraints({}, {}, 'symmetric encryption')).to.equal(undefined)
    })

    it('builds EncryptionContextEquals or EncryptionContextSubset', () => {
      expect(validateConstraints({tenant: 'acme'}, {}, 'symmetric encryption')).to.deep.equal({EncryptionContextEquals: {tenant: 'acme'}})
      expect(validateConstraints({}, {tenant: 'acme', app: 'x'}, 'symmetric encryption')).to.deep.equal({EncryptionContextSubset: {app: 'x', tenant: 'acme'}})
    })

    it('accepts 8 pairs and refuses 9', () => {
      expect(validateConstraints(eight, {}, 'symmetric encryption')?.EncryptionContextEquals).to.deep.equal(eight)
      const e = usage(() => validateConstraints({}, {...eight, k8: 'v8'}, 'symmetric encryption'))
      expect(e.message).to.equal('--context-subset gives 9 pairs; KMS allows at most 8.')
    })

    it('refuses both kinds at once', () => {
      expect(usage(() => validateConstraints({a: '1'}, {b: '2'}, 'symmetric encryption')).message).to.contain('not both')
    })

    it('refuses constraints on asymmetric and HMAC keys', () => {
      for (const t of ['asymmetric ENCRYPT_DECRYPT', 'asymmetric SIGN_VERIFY', 'asymmetric KEY_AGREEMENT', 'HMAC'] as const) {
        expect(usage(() => validateConstraints({a: '1'}, {}, t)).message).to.contain(`not allowed on an ${t} key`)
      }
    })

    it('refuses keys that differ only by case, and values over 384 characters', () => {
      expect(usage(() => validateConstraints({Tenant: 'a', tenant: 'b'}, {})).message).to.contain('not case sensitive')
      expect(usage(() => validateConstraints({a: 'x'.repeat(385)}, {})).message).to.contain('385 characters')
      expect(validateConstraints({a: 'x'.repeat(384)}, {})).to.deep.equal({EncryptionContextEquals: {a: 'x'.repeat(384)}})
    })
  })

  describe('validatePrincipal', () => {
    it('accepts IAM and STS principal ARNs and service principals', () => {
      for (const ok of [
        'arn:aws:iam::111122223333:root',
        'arn:aws:iam::111122223333:role/app',
        'arn:aws:iam::111122223333:role/path/to/app',
        'arn:aws:iam::111122223333:user/alice',
        'arn:aws:sts::111122223333:assumed-role/app/session-1',
        'arn:aws:sts::111122223333:federated-user/bob',
        'arn:aws-us-gov:iam::111122223333:role/app',
        'dynamodb.amazonaws.com',
      ]) {
        expect(validatePrincipal(ok, 'grantee')).to.equal(ok)
      }
    })

    it('refuses an account ID with the root ARN as the fix, and anything else', () => {
      const e = usage(() => validatePrincipal('111122223333', 'grantee'))
      expect(e.remedy).to.equal('Try this: --grantee arn:aws:iam::111122223333:root')
      for (const bad of ['role/app', 'arn:aws:iam::1111:role/app', 'arn:aws:kms:us-east-1:111122223333:key/x', 'arn:aws:iam::111122223333:group/admins', '']) {
        expect(usage(() => validatePrincipal(bad, 'retiring-principal')).message).to.contain('--retiring-principal')
      }
    })
  })

  it('checks grant names, IDs and tokens', () => {
    expect(validateGrantName('app:decrypt/v1_2-x')).to.equal('app:decrypt/v1_2-x')
    expect(usage(() => validateGrantName('has space')).message).to.contain('--name')
    expect(usage(() => validateGrantName('x'.repeat(257))).message).to.contain('--name')
    expect(validateGrantId('a'.repeat(64))).to.equal('a'.repeat(64))
    expect(usage(() => validateGrantId('not-a-grant')).message).to.equal('GRANT_ID "not-a-grant" is not a grant ID.')
    expect(validateGrantToken('AQpAM2Rh+/=')).to.equal('AQpAM2Rh+/=')
    expect(usage(() => validateGrantToken('a b')).message).to.equal('--token is not a grant token.')
  })
})
