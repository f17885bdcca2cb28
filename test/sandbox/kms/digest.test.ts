// Sign/Verify with MessageType DIGEST: the message is the digest, its length must match the
// algorithm's hash, and the signature equals one made over the original message (so node:crypto
// verifies it with the public key from GetPublicKey).
import {CreateKeyCommand, GetPublicKeyCommand, SignCommand, VerifyCommand} from '@aws-sdk/client-kms'
import {expect} from 'chai'
import {constants, createHash, createPublicKey, verify as cryptoVerify} from 'node:crypto'

import {type Sandbox, newSandbox, rejection} from '../helpers.js'

describe('sandbox KMS: Sign/Verify with MessageType DIGEST', () => {
  let sb: Sandbox
  before(async () => {
    sb = await newSandbox()
  })

  const cases = [
    ['RSA_2048', 'RSASSA_PSS_SHA_256'],
    ['RSA_3072', 'RSASSA_PSS_SHA_512'],
    ['RSA_2048', 'RSASSA_PKCS1_V1_5_SHA_384'],
    ['ECC_NIST_P256', 'ECDSA_SHA_256'],
    ['ECC_NIST_P384', 'ECDSA_SHA_384'],
    ['ECC_NIST_P521', 'ECDSA_SHA_512'],
    ['ECC_SECG_P256K1', 'ECDSA_SHA_256'],
  ] as const

  for (const [KeySpec, alg] of cases) {
    it(`${KeySpec} ${alg}: signs the digest, verifies in KMS and with node:crypto over the message`, async () => {
      const {KeyMetadata} = await sb.kms.send(new CreateKeyCommand({KeySpec, KeyUsage: 'SIGN_VERIFY'}))
      const KeyId = KeyMetadata!.KeyId!
      const hash = 'sha' + alg.slice(-3)
      const message = Buffer.from('release-1.2.3.tar.gz contents')
      const digest = createHash(hash).update(message).digest()
      const s = await sb.kms.send(new SignCommand({KeyId, Message: digest, MessageType: 'DIGEST', SigningAlgorithm: alg}))
      expect(s.SigningAlgorithm).to.equal(alg)
      const ok = await sb.kms.send(new VerifyCommand({KeyId, Message: digest, MessageType: 'DIGEST', Signature: s.Signature, SigningAlgorithm: alg}))
      expect(ok.SignatureValid).to.equal(true)
      // The same signature verifies over the raw message (MessageType RAW hashes it).
      const raw = await sb.kms.send(new VerifyCommand({KeyId, Message: message, Signature: s.Signature, SigningAlgorithm: alg}))
      expect(raw.SignatureValid).to.equal(true)
      const other = createHash(hash).update('something else').digest()
      const bad = await rejection(sb.kms.send(new VerifyCommand({KeyId, Message: other, MessageType: 'DIGEST', Signature: s.Signature, SigningAlgorithm: alg})))
      expect(bad.name).to.equal('KMSInvalidSignatureException')

      const pub = await sb.kms.send(new GetPublicKeyCommand({KeyId}))
      const key = createPublicKey({format: 'der', key: Buffer.from(pub.PublicKey!), type: 'spki'})
      const options = alg.startsWith('RSASSA_PSS')
        ? {key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: Number(alg.slice(-3)) / 8}
        : alg.startsWith('RSASSA_PKCS1')
          ? {key, padding: constants.RSA_PKCS1_PADDING}
          : {key}
      expect(cryptoVerify(hash, message, options, Buffer.from(s.Signature!))).to.equal(true)
    })
  }

  it('refuses a digest whose length does not match the algorithm', async () => {
    const {KeyMetadata} = await sb.kms.send(new CreateKeyCommand({KeySpec: 'ECC_NIST_P256', KeyUsage: 'SIGN_VERIFY'}))
    const e = await rejection(
      sb.kms.send(new SignCommand({KeyId: KeyMetadata!.KeyId!, Message: Buffer.alloc(48, 1), MessageType: 'DIGEST', SigningAlgorithm: 'ECDSA_SHA_256'})),
    )
    expect(e.name).to.equal('ValidationException')
    expect(e.message).to.contain('expected 32 bytes')
  })
})
