import {CreateKeyCommand, SignCommand, VerifyCommand} from '@aws-sdk/client-kms'
import {expect} from 'chai'
import {type KeyObject, createHash, generateKeyPairSync, sign as cryptoSign, verify as cryptoVerify, constants} from 'node:crypto'
import {Readable} from 'node:stream'

import {signDigest, verifyDigest} from '../../../src/lib/data/digest-sign.js'
import {chooseSigningAlgorithm, parseSignatureDocument, signFile, verifyFile} from '../../../src/lib/data/signature.js'
import {KmsctlError} from '../../../src/lib/errors.js'
import {mockSdk} from '../../helpers/mock-sdk.js'
import {newSandbox} from '../../sandbox/helpers.js'

const file = (data: Buffer, name = 'f.bin') => ({name, stream: () => Readable.from([data.subarray(0, 3), data.subarray(3)])})

describe('data signatures', () => {
  describe('over a digest, locally (digest-sign)', () => {
    const message = Buffer.from('release artefact')
    for (const [type, options, alg] of [
      ['rsa', {modulusLength: 2048}, 'RSASSA_PSS_SHA_256'],
      ['rsa', {modulusLength: 2048}, 'RSASSA_PKCS1_V1_5_SHA_512'],
      ['ec', {namedCurve: 'P-384'}, 'ECDSA_SHA_384'],
      ['ec', {namedCurve: 'secp256k1'}, 'ECDSA_SHA_256'],
    ] as const) {
      it(`${alg}: our signature verifies with node:crypto over the message, and the reverse`, () => {
        const {privateKey, publicKey} = generateKeyPairSync(type as 'rsa', options as never) as unknown as {privateKey: KeyObject; publicKey: KeyObject}
        const hash = 'sha' + alg.slice(-3)
        const digest = createHash(hash).update(message).digest()
        const padding = alg.startsWith('RSASSA_PSS') ? {padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: digest.length} : alg.startsWith('RSASSA') ? {padding: constants.RSA_PKCS1_PADDING} : {}
        const ours = signDigest(privateKey, alg, digest)
        expect(cryptoVerify(hash, message, {key: publicKey, ...padding}, ours)).to.equal(true)
        const theirs = cryptoSign(hash, message, {key: privateKey, ...padding})
        expect(verifyDigest(publicKey, alg, digest, theirs)).to.equal(true)
        expect(verifyDigest(publicKey, alg, createHash(hash).update('other').digest(), theirs)).to.equal(false)
        expect(verifyDigest(publicKey, alg, digest, Buffer.from('junk'))).to.equal(false)
      })
    }

    it('refuses a digest of the wrong length', () => {
      const {privateKey} = generateKeyPairSync('ec', {namedCurve: 'P-256'})
      expect(() => signDigest(privateKey, 'ECDSA_SHA_256', Buffer.alloc(48))).to.throw('A sha256 digest is 32 bytes, not 48.')
    })
  })

  it('chooses the signing algorithm: asked (checked against the key) or the key\'s first', () => {
    expect(chooseSigningAlgorithm(['ECDSA_SHA_256'], undefined, 'alias/s')).to.equal('ECDSA_SHA_256')
    expect(chooseSigningAlgorithm(['RSASSA_PSS_SHA_256', 'RSASSA_PKCS1_V1_5_SHA_256'], 'RSASSA_PKCS1_V1_5_SHA_256', 'k')).to.equal('RSASSA_PKCS1_V1_5_SHA_256')
    expect(() => chooseSigningAlgorithm(['ECDSA_SHA_256'], 'ECDSA_SHA_384', 'alias/s')).to.throw('alias/s does not support ECDSA_SHA_384.')
    expect(() => chooseSigningAlgorithm(['ML_DSA_SHAKE_256'], undefined, 'k')).to.throw('k has no signing algorithm kmsctl can use over a digest.')
  })

  it('parses signature documents, refusing malformed ones (usage errors)', () => {
    const good = {digest: {algorithm: 'SHA-256', hex: 'ab'}, format: 'kmsctl-signature/1', keyArn: 'arn', messageType: 'DIGEST', signature: 'AA==', signedAt: 'now', signingAlgorithm: 'ECDSA_SHA_256'}
    expect(parseSignatureDocument(JSON.stringify(good), 's').keyArn).to.equal('arn')
    for (const bad of ['not json', JSON.stringify({...good, format: 'x'}), JSON.stringify({...good, digest: {algorithm: 'SHA-384', hex: 'ab'}})]) {
      const e = (() => {
        try {
          parseSignatureDocument(bad, 's')
        } catch (error) {
          return error as KmsctlError
        }
      })()
      expect(e?.exitCode, bad).to.equal(2)
    }
  })

  describe('with the sandbox', () => {
    it('signs a digest and verifies with KMS and offline; a changed file is a digest mismatch', async () => {
      const sb = await newSandbox()
      const arn = (await sb.kms.send(new CreateKeyCommand({KeySpec: 'ECC_NIST_P256', KeyUsage: 'SIGN_VERIFY'}))).KeyMetadata!.Arn!
      const data = Buffer.from('the file')
      const doc = await signFile(sb.kms, {file: file(data), keyArn: arn, now: new Date('2026-01-02T03:04:05Z'), signingAlgorithm: 'ECDSA_SHA_256'})
      expect(doc).to.deep.include({file: {name: 'f.bin', size: 8}, keyArn: arn, messageType: 'DIGEST', signedAt: '2026-01-02T03:04:05.000Z'})
      expect(doc.digest).to.deep.equal({algorithm: 'SHA-256', hex: createHash('sha256').update(data).digest('hex')})
      expect((await verifyFile(sb.kms, doc, file(data))).valid).to.equal(true)
      expect((await verifyFile(sb.kms, doc, file(data), {offline: true})).valid).to.equal(true)
      const changed = await verifyFile(sb.kms, doc, file(Buffer.from('the filE')))
      expect(changed).to.deep.include({reason: 'digest-mismatch', valid: false})
    })
  })

  describe('with KMS stubbed', () => {
    const t = mockSdk()
    it('sends only the digest (MessageType DIGEST); a KMSInvalidSignatureException is a bad signature, not an error', async () => {
      const data = Buffer.from('x'.repeat(100))
      t.kms.on(SignCommand).resolves({Signature: new Uint8Array([1, 2, 3])})
      const doc = await signFile(t.kmsClient(), {file: file(data), keyArn: 'arn:k', signingAlgorithm: 'RSASSA_PSS_SHA_512'})
      const sent = t.kms.commandCalls(SignCommand)[0].args[0].input
      expect(sent.MessageType).to.equal('DIGEST')
      expect(Buffer.from(sent.Message!).equals(createHash('sha512').update(data).digest())).to.equal(true)
      expect(doc.signature).to.equal('AQID')
      t.kms.on(VerifyCommand).rejects(Object.assign(new Error(''), {name: 'KMSInvalidSignatureException'}))
      expect(await verifyFile(t.kmsClient(), doc, file(data))).to.deep.include({reason: 'signature-invalid', valid: false})
      t.kms.on(VerifyCommand).rejects(Object.assign(new Error('no'), {name: 'AccessDeniedException'}))
      const e = await verifyFile(t.kmsClient(), doc, file(data)).catch((error: unknown) => error as KmsctlError)
      expect((e as KmsctlError).code).to.equal('ACCESS_DENIED')
      expect((e as KmsctlError).message).to.contain('kms:Verify')
    })
  })
})
