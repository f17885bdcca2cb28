// Envelope encryption through the in-process sandbox (real SDK serialisation, real cryptography,
// no network): what is sent to KMS, what is refused before anything is sent, and what is written.
import {CreateKeyCommand, DisableKeyCommand} from '@aws-sdk/client-kms'
import {expect} from 'chai'
import {randomBytes} from 'node:crypto'
import {mkdtempSync, readFileSync, readdirSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {decryptData, encryptData} from '../../../src/lib/data/envelope.js'
import {openInput, openOutput} from '../../../src/lib/data/files.js'
import {KmsctlError} from '../../../src/lib/errors.js'
import {type Sandbox, newSandbox} from '../../sandbox/helpers.js'

describe('data envelope: encryptData / decryptData', function () {
  this.timeout(60_000)
  let sb: Sandbox
  let dir: string
  let a: string
  let b: string
  const kmsFor = async () => sb.kms

  before(async () => {
    sb = await newSandbox()
    dir = mkdtempSync(join(tmpdir(), 'kmsctl-envelope-'))
    a = (await sb.kms.send(new CreateKeyCommand({}))).KeyMetadata!.Arn!
    b = (await sb.kms.send(new CreateKeyCommand({}))).KeyMetadata!.Arn!
  })

  async function encrypt(name: string, data: Buffer, keyArns: string[], context: Record<string, string> = {}) {
    writeFileSync(join(dir, name), data)
    const r = await encryptData(await openInput(join(dir, name)), await openOutput(join(dir, `${name}.enc`)), kmsFor, {
      context,
      frameLength: 4096,
      keyArns,
      maxEncryptedDataKeys: 10,
      suite: 'committed-signed',
    })
    return r
  }

  async function decrypt(name: string, options: Partial<Parameters<typeof decryptData>[3]> = {}) {
    return decryptData(await openInput(join(dir, `${name}.enc`)), await openOutput(join(dir, `${name}.out`)), kmsFor, {
      expectContext: {},
      expectKeyArns: [a],
      maxEncryptedDataKeys: 10,
      ...options,
    })
  }

  async function failure(p: Promise<unknown>): Promise<KmsctlError> {
    try {
      await p
    } catch (error) {
      expect(error).to.be.instanceOf(KmsctlError)
      return error as KmsctlError
    }

    throw new Error('expected a failure')
  }

  it('GenerateDataKey under the first key and Encrypt under the second, with the context; decrypts with either', async () => {
    const data = randomBytes(10_000)
    const r = await encrypt('two', data, [a, b], {app: 'billing'})
    expect(r.kms.calls.map((c) => `${c.operation}:${c.keyId}`)).to.deep.equal([`GenerateDataKey:${a}`, `Encrypt:${b}`])
    expect(r.header.encryptedDataKeys.map((k) => k.keyArn)).to.deep.equal([a, b])
    expect(r.header.encryptionContext).to.deep.equal({app: 'billing'})
    expect(r.header.signingPublicKey).to.be.a('string')
    expect(r.bytesIn).to.equal(10_000)

    const withB = await decrypt('two', {expectContext: {app: 'billing'}, expectKeyArns: [b]})
    expect(withB.decryptedWith).to.equal(b)
    // Strict: only the expected key's data key is sent to KMS.
    expect(withB.kms.calls.map((c) => `${c.operation}:${c.keyId}`)).to.deep.equal([`Decrypt:${b}`])
    expect(readFileSync(join(dir, 'two.out')).equals(data)).to.equal(true)
  })

  it('refuses a context mismatch and an unexpected key before any call to KMS, and writes nothing', async () => {
    await encrypt('ctx', Buffer.from('x'), [a], {app: 'billing'})
    const ctx = await failure(decrypt('ctx', {expectContext: {app: 'payroll'}}))
    expect(ctx.code).to.equal('CONTEXT_MISMATCH')
    expect(ctx.details).to.deep.include({mismatches: ['app: is "billing", expected "payroll"']})
    const key = await failure(decrypt('ctx', {expectKeyArns: [b]}))
    expect(key.code).to.equal('NO_MATCHING_KEY')
    expect(key.details).to.deep.equal({expected: [b], messageKeys: [a]})
    expect(readdirSync(dir).filter((f) => f.startsWith('ctx.out') || f.startsWith('.ctx.out'))).to.deep.equal([])
  })

  it('names a disabled key (the AWS error of the call, not the SDK summary)', async () => {
    const c = (await sb.kms.send(new CreateKeyCommand({}))).KeyMetadata!.Arn!
    await encrypt('dis', Buffer.from('y'), [c])
    await sb.kms.send(new DisableKeyCommand({KeyId: c}))
    const e = await failure(decrypt('dis', {expectKeyArns: [c]}))
    expect(e.code).to.equal('DISABLED')
    expect(e.message).to.equal(`Key ${c} is disabled: kms:Decrypt is not allowed.`)
    const enc = await failure(encrypt('dis2', Buffer.from('y'), [c]))
    expect(enc.code).to.equal('DISABLED')
    expect(enc.message).to.contain('kms:GenerateDataKey')
  })

  it('tampering: header tag, body, trailer, and a truncated file each fail with their own message', async () => {
    await encrypt('t', randomBytes(20_000), [a])
    const original = readFileSync(join(dir, 't.enc'))
    const cases: Array<[string, (buf: Buffer) => Buffer, string, RegExp]> = [
      ['body', (buf) => flip(buf, 5000), 'AUTHENTICATION_FAILED', /a body frame does not match its authentication tag/],
      ['trailer', (buf) => flip(buf, buf.length - 5), 'AUTHENTICATION_FAILED', /the message signature \(trailer\) does not verify/],
      ['truncated', (buf) => buf.subarray(0, buf.length - 9000), 'TRUNCATED', /truncated/],
      ['not a message', () => Buffer.from('hello, world'), 'NOT_A_MESSAGE', /The message header is malformed/],
    ]
    for (const [label, change, code, message] of cases) {
      writeFileSync(join(dir, 't.enc'), change(Buffer.from(original)))
      const e = await failure(decrypt('t'))
      expect(e.code, label).to.equal(code)
      expect(e.message, label).to.match(message)
    }

    expect(readdirSync(dir).filter((f) => f.includes('t.out'))).to.deep.equal([])
  })

  it('with requireSigned, refuses an unsigned message before any call to KMS', async () => {
    writeFileSync(join(dir, 'unsigned'), 'u')
    await encryptData(await openInput(join(dir, 'unsigned')), await openOutput(join(dir, 'unsigned.enc')), kmsFor, {
      context: {},
      frameLength: 4096,
      keyArns: [a],
      maxEncryptedDataKeys: 10,
      suite: 'committed',
    })
    const e = await failure(decrypt('unsigned', {requireSigned: true}))
    expect(e.code).to.equal('REFUSED')
    expect(e.message).to.equal('The message is not signed (ALG_AES256_GCM_IV12_TAG16_HKDF_SHA512_COMMIT_KEY) and --require-signature was given. Nothing was decrypted.')
    expect((await decrypt('two', {expectKeyArns: [b], requireSigned: true})).bytesOut).to.equal(10_000)
  })

  it('refuses more data keys than maxEncryptedDataKeys', async () => {
    await encrypt('many', Buffer.from('z'), [a, b])
    const e = await failure(decrypt('many', {maxEncryptedDataKeys: 1}))
    expect(e.code).to.equal('REFUSED')
    expect(e.exitCode).to.equal(1)
  })
})

function flip(buf: Buffer, at: number): Buffer {
  buf[at] ^= 1
  return buf
}
