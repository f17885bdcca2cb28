import {expect} from 'chai'

import {type BodyProblem, MessageBodyError} from '../../../src/lib/data/frames.js'
import {contextMismatches, decryptFailure, printable, suiteInfo, summariseHeader} from '../../../src/lib/data/message.js'
import {KmsctlError} from '../../../src/lib/errors.js'

describe('data message: suites, headers, failures', () => {
  it('names suites, with commitment and signature', () => {
    expect(suiteInfo(0x0578)).to.deep.equal({committing: true, hex: '0x0578', id: 0x0578, name: 'ALG_AES256_GCM_IV12_TAG16_HKDF_SHA512_COMMIT_KEY_ECDSA_P384', signed: true})
    expect(suiteInfo(0x0478)).to.deep.include({committing: true, signed: false})
    expect(suiteInfo(0x0178)).to.deep.include({committing: false, signed: false})
    expect(suiteInfo(0x1234).name).to.equal('unknown suite 0x1234')
  })

  it('summarises a header, keeping the SDK public key out of the context', () => {
    const h = summariseHeader({
      contentType: 2,
      encryptedDataKeys: [{encryptedDataKey: new Uint8Array(184), providerId: 'aws-kms', providerInfo: 'arn:aws:kms:us-east-1:111122223333:key/k'}],
      encryptionContext: {app: 'billing', 'aws-crypto-public-key': 'AkEy'},
      frameLength: 4096,
      messageId: new Uint8Array([1, 2, 255]),
      suiteId: 0x0578,
      version: 2,
    })
    expect(h.encryptionContext).to.deep.equal({app: 'billing'})
    expect(h.signingPublicKey).to.equal('AkEy')
    expect(h.messageId).to.equal('0102ff')
    expect(h.encryptedDataKeys).to.deep.equal([{encryptedSize: 184, keyArn: 'arn:aws:kms:us-east-1:111122223333:key/k', provider: 'aws-kms'}])
  })

  it('lists context mismatches: missing and different values', () => {
    expect(contextMismatches({a: '1', b: '2', c: '3'}, {a: '1', b: 'x'})).to.deep.equal(['b: is "x", expected "2"', 'c: missing'])
    expect(contextMismatches({}, {a: '1'})).to.deep.equal([])
  })

  it('classifies SDK errors by how far decryption got', () => {
    const start = {headerAuthenticated: false, headerRead: false, streamedToStdout: false}
    const read = {...start, headerRead: true}
    const body = {...read, headerAuthenticated: true}
    const cases: Array<[string, typeof start, string, RegExp]> = [
      ['Incomplete Header', start, 'TRUNCATED', /ends inside its header/],
      ['maxEncryptedDataKeys exceeded.', start, 'REFUSED', /--max-encrypted-data-keys/],
      ['Malformed Header', start, 'NOT_A_MESSAGE', /header is malformed \(Malformed Header\)/],
      ['Unsupported state or unable to authenticate data', read, 'AUTHENTICATION_FAILED', /the header does not match its authentication tag/],
      ['Incomplete message', body, 'TRUNCATED', /before its final frame or its signature/],
      ['Invalid Signature', body, 'AUTHENTICATION_FAILED', /signature \(trailer\) does not verify/],
      ['Unsupported state or unable to authenticate data', body, 'AUTHENTICATION_FAILED', /a body frame/],
      ['Encrypted body sequence out of order.', body, 'AUTHENTICATION_FAILED', /body is malformed/],
    ]
    for (const [message, progress, code, text] of cases) {
      const e = decryptFailure(new Error(message), progress)
      expect(e.code, message).to.equal(code)
      expect(e.message, message).to.match(text)
      expect(e.exitCode, message).to.equal(1)
    }

    expect(decryptFailure(new Error('Invalid Signature'), {...body, streamedToStdout: true}).message).to.contain('Output already written to stdout must not be used.')
    // An output that cannot be written is not an authentication failure.
    const full = decryptFailure(new Error('ENOSPC: no space left on device, write'), body)
    expect(full.code).to.equal('FAILED')
    expect(full.message).to.equal('Decryption stopped: ENOSPC: no space left on device, write.')
    const own = new KmsctlError('CONTEXT_MISMATCH', 'x')
    expect(decryptFailure(own, start)).to.equal(own)
  })

  it('names each problem of the body kmsctl reads itself', () => {
    const body = {headerAuthenticated: true, headerRead: true, streamedToStdout: false}
    const cases: Array<[BodyProblem, string, RegExp]> = [
      ['tag', 'AUTHENTICATION_FAILED', /^Authentication failed: a body frame does not match its authentication tag; the message was tampered with or corrupted\.$/],
      ['signature', 'AUTHENTICATION_FAILED', /^Authentication failed: the message signature \(trailer\) does not verify/],
      ['order', 'AUTHENTICATION_FAILED', /^Authentication failed: the frames are out of order \(detail\)/],
      ['malformed', 'AUTHENTICATION_FAILED', /^Authentication failed: the body is malformed \(detail\)/],
      ['truncated-body', 'TRUNCATED', /^The message is truncated: it ends before its final frame \(detail\)\.$/],
      ['truncated-signature', 'TRUNCATED', /^The message is truncated: it ends inside its signature\.$/],
      ['extra-bytes', 'AUTHENTICATION_FAILED', /^The message has bytes added after its end \(detail\)/],
      ['frame-too-large', 'REFUSED', /too large to authenticate before writing it to stdout/],
    ]
    for (const [problem, code, text] of cases) {
      const e = decryptFailure(new MessageBodyError(problem, 'detail'), body)
      expect(e.code, problem).to.equal(code)
      expect(e.message, problem).to.match(text)
      expect(e.exitCode, problem).to.equal(1)
    }

    expect(decryptFailure(new MessageBodyError('tag', 'detail'), {...body, streamedToStdout: true}).message).to.match(/Output already written to stdout must not be used\.$/)
  })

  it('escapes control characters from header text', () => {
    expect(printable('key/a\u0001b\u001b[31m')).to.equal('key/a\\x01b\\x1b[31m')
  })
})
