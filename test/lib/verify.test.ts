import {
  DecapsulateCommand,
  DecryptCommand,
  DeriveSharedSecretCommand,
  EncapsulateCommand,
  EncryptCommand,
  GenerateDataKeyCommand,
  GenerateMacCommand,
  GetPublicKeyCommand,
  SignCommand,
  VerifyCommand,
  VerifyMacCommand,
} from '@aws-sdk/client-kms'
import {expect} from 'chai'
import {createPublicKey, diffieHellman, generateKeyPairSync} from 'node:crypto'

import type {ResolvedKey} from '../../src/lib/key-ref.js'
import {verifyKey, verifyMethod} from '../../src/lib/verify.js'
import {mockSdk} from '../helpers/mock-sdk.js'

const ID = '66666666-6666-4666-8666-666666666666'
const ARN = `arn:aws:kms:us-east-1:111122223333:key/${ID}`
const key = (extra: Record<string, unknown> = {}): ResolvedKey => ({
  arn: ARN,
  keyId: ID,
  metadata: {Arn: ARN, KeyId: ID, KeyManager: 'CUSTOMER', KeySpec: 'SYMMETRIC_DEFAULT', KeyState: 'Enabled', KeyUsage: 'ENCRYPT_DECRYPT', ...extra} as never,
  ref: 'alias/app',
})
const bytes = (n: number, fill: number) => new Uint8Array(n).fill(fill)
/** A clock that advances 5 ms on every reading. */
const ticking = () => {
  let t = 0
  return () => (t += 5)
}

describe('key verify', () => {
  const sdk = mockSdk()
  const kms = sdk.kmsClient()

  it('symmetric: GenerateDataKey then Decrypt with the context, compared in memory', async () => {
    sdk.kms.on(GenerateDataKeyCommand).callsFake(() => ({CiphertextBlob: bytes(184, 7), KeyId: ARN, Plaintext: bytes(32, 9)}))
    sdk.kms.on(DecryptCommand).callsFake(() => ({KeyId: ARN, Plaintext: bytes(32, 9)}))
    const r = await verifyKey(kms, key(), {clock: ticking(), context: {app: 'billing'}})
    expect(r.ok).to.equal(true)
    expect(r.method).to.equal('data-key')
    expect(r.steps.map((s) => [s.step, s.status, s.ms])).to.deep.equal([
      ['GenerateDataKey', 'ok', 5],
      ['Decrypt', 'ok', 5],
      ['Compare', 'ok', undefined],
    ])
    expect(r.totalMs).to.equal(10)
    expect(r.steps[2].detail).to.equal('decrypted data key matches (32 bytes)')
    expect(sdk.kms.commandCalls(GenerateDataKeyCommand)[0].args[0].input).to.deep.equal({EncryptionContext: {app: 'billing'}, KeyId: ID, KeySpec: 'AES_256'})
    const decrypt = sdk.kms.commandCalls(DecryptCommand)[0].args[0].input
    expect(decrypt.EncryptionContext).to.deep.equal({app: 'billing'})
    expect(Buffer.from(decrypt.CiphertextBlob!).equals(Buffer.from(bytes(184, 7)))).to.equal(true)
  })

  it('never puts plaintext in the report', async () => {
    sdk.kms.on(GenerateDataKeyCommand).callsFake(() => ({CiphertextBlob: bytes(16, 1), Plaintext: Buffer.from('SECRET-DATA-KEY-SECRET-DATA-KEY')}))
    sdk.kms.on(DecryptCommand).callsFake(() => ({Plaintext: Buffer.from('SECRET-DATA-KEY-SECRET-DATA-KEY')}))
    const r = await verifyKey(kms, key())
    const text = JSON.stringify(r)
    expect(text).to.not.contain('SECRET')
    expect(text).to.not.contain(Buffer.from('SECRET-DATA-KEY-SECRET-DATA-KEY').toString('base64'))
  })

  it('reports a mismatch as a failed Compare step', async () => {
    sdk.kms.on(GenerateDataKeyCommand).callsFake(() => ({CiphertextBlob: bytes(16, 1), Plaintext: bytes(32, 9)}))
    sdk.kms.on(DecryptCommand).callsFake(() => ({Plaintext: bytes(32, 8)}))
    const r = await verifyKey(kms, key())
    expect(r.ok).to.equal(false)
    expect(r.steps[2]).to.deep.include({status: 'failed', step: 'Compare'})
    expect(r.failure).to.equal('Compare failed: the decrypted data key KMS returned does not match')
  })

  it('a disabled key fails the first step, says so, and skips the rest', async () => {
    sdk.kms.on(GenerateDataKeyCommand).rejects(Object.assign(new Error(`${ARN} is disabled.`), {name: 'DisabledException'}))
    const r = await verifyKey(kms, key({KeyState: 'Disabled'}), {clock: ticking()})
    expect(r.ok).to.equal(false)
    expect(r.steps.map((s) => [s.step, s.status])).to.deep.equal([
      ['GenerateDataKey', 'failed'],
      ['Decrypt', 'skipped'],
      ['Compare', 'skipped'],
    ])
    expect(r.steps[0].error).to.deep.include({awsCode: 'DisabledException', code: 'DISABLED'})
    expect(r.failure).to.equal('GenerateDataKey failed: Key alias/app is disabled: kms:GenerateDataKey is not allowed.')
    expect(sdk.kms.commandCalls(DecryptCommand)).to.have.length(0)
  })

  it('a wrong encryption context fails Decrypt with the context hint', async () => {
    sdk.kms.on(GenerateDataKeyCommand).callsFake(() => ({CiphertextBlob: bytes(16, 1), Plaintext: bytes(32, 9)}))
    sdk.kms.on(DecryptCommand).rejects(Object.assign(new Error(''), {name: 'InvalidCiphertextException'}))
    const r = await verifyKey(kms, key(), {context: {a: 'b'}})
    expect(r.steps[1]).to.deep.include({status: 'failed', step: 'Decrypt'})
    expect(r.steps[1].error?.code).to.equal('INVALID_CIPHERTEXT')
  })

  it('asymmetric SIGN_VERIFY: Sign then Verify with a message-signing algorithm', async () => {
    sdk.kms.on(SignCommand).resolves({Signature: bytes(64, 3)})
    sdk.kms.on(VerifyCommand).resolves({SignatureValid: true})
    const r = await verifyKey(kms, key({KeySpec: 'ECC_NIST_P256', KeyUsage: 'SIGN_VERIFY', SigningAlgorithms: ['ECDSA_SHA_256']}))
    expect(r.ok).to.equal(true)
    expect(r.steps.map((s) => s.step)).to.deep.equal(['Sign', 'Verify'])
    const sign = sdk.kms.commandCalls(SignCommand)[0].args[0].input
    const verify = sdk.kms.commandCalls(VerifyCommand)[0].args[0].input
    expect(sign).to.deep.include({MessageType: 'RAW', SigningAlgorithm: 'ECDSA_SHA_256'})
    expect(Buffer.from(verify.Message!).equals(Buffer.from(sign.Message!))).to.equal(true)
    // Ed25519: the pre-hashed variant is skipped.
    sdk.kms.reset()
    sdk.kms.on(SignCommand).resolves({Signature: bytes(64, 3)})
    sdk.kms.on(VerifyCommand).resolves({SignatureValid: true})
    await verifyKey(kms, key({KeySpec: 'ECC_NIST_EDWARDS25519', KeyUsage: 'SIGN_VERIFY', SigningAlgorithms: ['ED25519_PH_SHA_512', 'ED25519_SHA_512']}))
    expect(sdk.kms.commandCalls(SignCommand)[0].args[0].input.SigningAlgorithm).to.equal('ED25519_SHA_512')
  })

  it('asymmetric SIGN_VERIFY: a rejected signature fails Verify', async () => {
    sdk.kms.on(SignCommand).resolves({Signature: bytes(64, 3)})
    sdk.kms.on(VerifyCommand).rejects(Object.assign(new Error('invalid'), {name: 'KMSInvalidSignatureException'}))
    const r = await verifyKey(kms, key({KeySpec: 'RSA_2048', KeyUsage: 'SIGN_VERIFY', SigningAlgorithms: ['RSASSA_PKCS1_V1_5_SHA_256', 'RSASSA_PSS_SHA_256']}))
    expect(sdk.kms.commandCalls(SignCommand)[0].args[0].input.SigningAlgorithm).to.equal('RSASSA_PSS_SHA_256')
    expect(r.failure).to.equal('Verify failed: KMS rejected the signature it had just made')
  })

  it('asymmetric ENCRYPT_DECRYPT: Encrypt then Decrypt with OAEP SHA-256, compared', async () => {
    let sent: Uint8Array | undefined
    sdk.kms.on(EncryptCommand).callsFake((input: {Plaintext: Uint8Array}) => {
      sent = Uint8Array.from(input.Plaintext)
      return {CiphertextBlob: bytes(256, 2)}
    })
    sdk.kms.on(DecryptCommand).callsFake(() => ({Plaintext: Uint8Array.from(sent!)}))
    const r = await verifyKey(kms, key({EncryptionAlgorithms: ['RSAES_OAEP_SHA_1', 'RSAES_OAEP_SHA_256'], KeySpec: 'RSA_2048', KeyUsage: 'ENCRYPT_DECRYPT'}))
    expect(r.ok).to.equal(true)
    expect(r.steps.map((s) => s.step)).to.deep.equal(['Encrypt', 'Decrypt', 'Compare'])
    expect(sdk.kms.commandCalls(DecryptCommand)[0].args[0].input).to.deep.include({EncryptionAlgorithm: 'RSAES_OAEP_SHA_256', KeyId: ID})
  })

  it('HMAC: GenerateMac then VerifyMac', async () => {
    sdk.kms.on(GenerateMacCommand).resolves({Mac: bytes(32, 4)})
    sdk.kms.on(VerifyMacCommand).resolves({MacValid: true})
    const r = await verifyKey(kms, key({KeySpec: 'HMAC_256', KeyUsage: 'GENERATE_VERIFY_MAC', MacAlgorithms: ['HMAC_SHA_256']}))
    expect(r.ok).to.equal(true)
    expect(r.steps.map((s) => s.step)).to.deep.equal(['GenerateMac', 'VerifyMac'])
    expect(sdk.kms.commandCalls(VerifyMacCommand)[0].args[0].input).to.deep.include({MacAlgorithm: 'HMAC_SHA_256'})
  })

  it('key agreement: DeriveSharedSecret matches a local ECDH with the KMS public key', async () => {
    const kmsPair = generateKeyPairSync('ec', {namedCurve: 'prime256v1'})
    sdk.kms.on(GetPublicKeyCommand).resolves({PublicKey: kmsPair.publicKey.export({format: 'der', type: 'spki'})})
    sdk.kms.on(DeriveSharedSecretCommand).callsFake((input: {PublicKey: Uint8Array}) => ({
      SharedSecret: diffieHellman({privateKey: kmsPair.privateKey, publicKey: createPublicKey({format: 'der', key: Buffer.from(input.PublicKey), type: 'spki'})}),
    }))
    const r = await verifyKey(kms, key({KeyAgreementAlgorithms: ['ECDH'], KeySpec: 'ECC_NIST_P256', KeyUsage: 'KEY_AGREEMENT'}))
    expect(r.steps.map((s) => [s.step, s.status])).to.deep.equal([
      ['GetPublicKey', 'ok'],
      ['DeriveSharedSecret', 'ok'],
      ['Compare', 'ok'],
    ])
  })

  it('ML-KEM: Encapsulate then Decapsulate, compared', async () => {
    sdk.kms.on(EncapsulateCommand).callsFake(() => ({SharedSecret: bytes(32, 5), SharedSecretCiphertextBlob: bytes(1088, 6)}))
    sdk.kms.on(DecapsulateCommand).callsFake(() => ({SharedSecret: bytes(32, 5)}))
    const r = await verifyKey(kms, key({KeySpec: 'ML_KEM_768', KeyUsage: 'ENCAPSULATE_DECAPSULATE'}))
    expect(r.ok).to.equal(true)
    expect(r.method).to.equal('encapsulate')
  })

  it('refuses --context for keys that take no encryption context (exit 2)', () => {
    expect(() => verifyMethod(key({KeySpec: 'RSA_2048', KeyUsage: 'SIGN_VERIFY'}).metadata, {a: 'b'}))
      .to.throw('--context applies to symmetric encryption keys only')
      .with.property('exitCode', 2)
    expect(verifyMethod(key({KeySpec: 'RSA_2048', KeyUsage: 'SIGN_VERIFY'}).metadata, {})).to.equal('sign-verify')
    expect(() => verifyMethod(key({KeySpec: 'SM2', KeyUsage: 'KEY_AGREEMENT'}).metadata)).to.throw('NIST curves only')
  })
})
