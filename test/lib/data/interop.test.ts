// kmsctl and the AWS Encryption SDK for JavaScript read each other's messages, for every shape of
// body (empty, one byte, exactly a frame, a frame and a byte, many frames), both suites kmsctl
// writes, one and two keys; and damaged messages are refused whatever part is damaged. KMS is the
// in-process sandbox, for kmsctl and for the SDK alike.
import {CommitmentPolicy, buildClient} from '@aws-crypto/client-node'
import {CreateKeyCommand} from '@aws-sdk/client-kms'
import {expect} from 'chai'
import {randomBytes} from 'node:crypto'
import {existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {decryptData, encryptData} from '../../../src/lib/data/envelope.js'
import {openInput, openOutput} from '../../../src/lib/data/files.js'
import {SUITES, type SuiteChoice} from '../../../src/lib/data/message.js'
import {KmsctlError} from '../../../src/lib/errors.js'
import {sandboxKeyring} from '../../helpers/esdk.js'
import {type Sandbox, newSandbox} from '../../sandbox/helpers.js'

const FRAME = 4096

describe('data interop with the AWS Encryption SDK', function () {
  this.timeout(120_000)
  let sb: Sandbox
  let dir: string
  let a: string
  let b: string
  const kmsFor = async () => sb.kms
  const esdk = buildClient(CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT)
  const keyring = (generatorKeyId: string, keyIds: string[] = []) => sandboxKeyring(() => sb.kms, generatorKeyId, keyIds)

  before(async () => {
    sb = await newSandbox()
    dir = mkdtempSync(join(tmpdir(), 'kmsctl-interop-'))
    a = (await sb.kms.send(new CreateKeyCommand({}))).KeyMetadata!.Arn!
    b = (await sb.kms.send(new CreateKeyCommand({}))).KeyMetadata!.Arn!
  })

  async function kmsctlEncrypt(name: string, data: Buffer, suite: SuiteChoice, keyArns: string[]): Promise<Buffer> {
    writeFileSync(join(dir, name), data)
    await encryptData(await openInput(join(dir, name)), await openOutput(join(dir, `${name}.enc`)), kmsFor, {context: {purpose: 'interop'}, frameLength: FRAME, keyArns, maxEncryptedDataKeys: 10, suite})
    return readFileSync(join(dir, `${name}.enc`))
  }

  async function kmsctlDecrypt(name: string, expectKeyArns: string[]): Promise<Buffer> {
    await decryptData(await openInput(join(dir, name)), await openOutput(join(dir, `${name}.out`)), kmsFor, {expectContext: {purpose: 'interop'}, expectKeyArns, maxEncryptedDataKeys: 10})
    return readFileSync(join(dir, `${name}.out`))
  }

  const sizes: Array<[string, number]> = [
    ['0 B', 0],
    ['1 B', 1],
    ['exactly one frame', FRAME],
    ['one frame + 1 B', FRAME + 1],
    ['many frames', 9 * FRAME + 77],
  ]
  let n = 0
  for (const suite of ['committed', 'committed-signed'] as const) {
    for (const [label, size] of sizes) {
      for (const keys of [1, 2]) {
        it(`${suite}, ${label}, ${keys} key(s): the SDK decrypts what kmsctl wrote, kmsctl what the SDK wrote`, async () => {
          const data = randomBytes(size)
          const arns = keys === 1 ? [a] : [a, b]
          const name = `m${n++}`
          const written = await kmsctlEncrypt(name, data, suite, arns)
          // The SDK, with a keyring of the last key only: any key of the message opens it.
          const read = await esdk.decrypt(keyring(arns.at(-1)!), written)
          expect(Buffer.from(read.plaintext).equals(data)).to.equal(true)
          expect(read.messageHeader.suiteId).to.equal(SUITES[suite])
          expect(read.messageHeader.frameLength).to.equal(FRAME)
          expect(read.messageHeader.encryptedDataKeys.map((k) => k.providerInfo)).to.deep.equal(arns)
          expect(read.messageHeader.encryptionContext).to.include({purpose: 'interop'})

          const {result} = await esdk.encrypt(keyring(arns[0], arns.slice(1)), data, {encryptionContext: {purpose: 'interop'}, frameLength: FRAME, suiteId: SUITES[suite] as never})
          writeFileSync(join(dir, `${name}.sdk`), result)
          expect((await kmsctlDecrypt(`${name}.sdk`, [arns.at(-1)!])).equals(data)).to.equal(true)
        })
      }
    }
  }

  it('a message of exactly N frames ends with an empty final frame, as the SDK writes it (same length)', async () => {
    const data = randomBytes(3 * FRAME)
    const ours = await kmsctlEncrypt('exact', data, 'committed', [a])
    const {result} = await esdk.encrypt(keyring(a), data, {encryptionContext: {purpose: 'interop'}, frameLength: FRAME, suiteId: SUITES.committed as never})
    expect(ours.length).to.equal(result.length)
  })

  it('decrypts a non-framed message (which other SDKs can write), one the SDK also reads', async () => {
    const serialize = await import('@aws-crypto/serialize')
    const materials = await import('@aws-crypto/material-management-node')
    const data = randomBytes(10_000)
    const cmm = new materials.NodeDefaultCryptographicMaterialsManager(keyring(a))
    const material = await cmm.getEncryptionMaterials({
      commitmentPolicy: materials.CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT,
      encryptionContext: {purpose: 'interop'},
      suite: new materials.NodeAlgorithmSuite(SUITES.committed as never),
    })
    const {getCipherInfo, dispose} = materials.getEncryptHelper(material)
    const messageId = randomBytes(32)
    const {getCipher, keyCommitment} = getCipherInfo(messageId) as unknown as {getCipher: (iv: Uint8Array) => import('node:crypto').CipherGCM; keyCommitment: Uint8Array}
    const s = serialize.serializeFactory((t: string) => Buffer.from(t), {utf8Sorting: true})
    const built = s.buildMessageHeader({encryptedDataKeys: material.encryptedDataKeys, encryptionContext: material.encryptionContext, frameLength: 0, messageId, suite: material.suite, suiteData: keyCommitment})
    const header = {...built, contentType: serialize.ContentType.NO_FRAMING}
    const rawHeader = Buffer.from(s.serializeMessageHeader(header as never))
    const headerIv = s.headerAuthIv(12)
    const auth = getCipher(headerIv).setAAD(rawHeader)
    auth.update(Buffer.alloc(0))
    auth.final()
    const iv = s.nonFramedBodyIv(12)
    const aad = serialize.aadFactory((t: string) => Buffer.from(t)).messageAAD(messageId, serialize.ContentAADString.NON_FRAMED_STRING_ID, 1, data.length)
    const body = getCipher(iv).setAAD(Buffer.from(aad))
    const cipherText = Buffer.concat([body.update(data), body.final()])
    const length = Buffer.alloc(8)
    length.writeBigUInt64BE(BigInt(data.length))
    const message = Buffer.concat([rawHeader, serialize.serializeMessageHeaderAuth({headerAuthTag: auth.getAuthTag(), headerIv, messageHeader: header as never}), iv, length, cipherText, body.getAuthTag()])
    dispose()
    expect(Buffer.from((await esdk.decrypt(keyring(a), message)).plaintext).equals(data)).to.equal(true)
    writeFileSync(join(dir, 'nonframed.sdk'), message)
    expect((await kmsctlDecrypt('nonframed.sdk', [a])).equals(data)).to.equal(true)
  })

  describe('damaged messages are refused, the output never appears', () => {
    let signed: Buffer
    let unsigned: Buffer
    let headerLength: number
    before(async () => {
      signed = await kmsctlEncrypt('victim-s', randomBytes(5 * FRAME + 100), 'committed-signed', [a])
      unsigned = await kmsctlEncrypt('victim-u', randomBytes(5 * FRAME + 100), 'committed', [a])
      const {messageHeader} = await esdk.decrypt(keyring(a), unsigned)
      expect(messageHeader.frameLength).to.equal(FRAME)
      // The header ends where the first frame (sequence number 1, then its IV) starts.
      headerLength = unsigned.indexOf(Buffer.from([0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]))
      expect(headerLength).to.be.greaterThan(100)
    })

    async function refused(bytes: Buffer): Promise<KmsctlError> {
      const name = `bad${n++}`
      writeFileSync(join(dir, name), bytes)
      const error = await kmsctlDecrypt(name, [a]).catch((error_: unknown) => error_)
      expect(error).to.be.instanceOf(KmsctlError)
      expect(existsSync(join(dir, `${name}.out`))).to.equal(false)
      expect(readdirSync(dir).filter((f) => f.includes(`${name}.out`))).to.deep.equal([])
      return error as KmsctlError
    }

    const flip = (buf: Buffer, at: number) => {
      const copy = Buffer.from(buf)
      copy[at] ^= 0x01
      return copy
    }

    it('header: a byte of the header tag, of the message ID', async () => {
      for (const [what, at] of [
        ['header tag', headerLength - 1],
        ['message ID', 5],
      ] as const) {
        const e = await refused(flip(unsigned, at))
        expect(e.code, what).to.equal('AUTHENTICATION_FAILED')
        expect(e.message, what).to.contain('Authentication failed: the header does not match its authentication tag')
      }
    })

    it('body: a byte of a regular frame, of the final frame, of a tag', async () => {
      const finalFrame = headerLength + 5 * (4 + 12 + FRAME + 16)
      for (const [what, at] of [
        ['frame 2 content', headerLength + FRAME + 500],
        ['final frame content', finalFrame + 30],
        ['final frame tag', unsigned.length - 2],
      ] as const) {
        const e = await refused(flip(unsigned, at))
        expect(e.code, what).to.equal('AUTHENTICATION_FAILED')
        expect(e.message, what).to.equal('Authentication failed: a body frame does not match its authentication tag; the message was tampered with or corrupted.')
      }
    })

    it('signature: a byte of the signature changed, the signature cut short, the trailer dropped', async () => {
      const e = await refused(flip(signed, signed.length - 5))
      expect(e.code).to.equal('AUTHENTICATION_FAILED')
      expect(e.message).to.contain('the message signature (trailer) does not verify')
      const cut = await refused(signed.subarray(0, signed.length - 10))
      expect(cut.code).to.equal('TRUNCATED')
      expect(cut.message).to.equal('The message is truncated: it ends inside its signature.')
      const dropped = await refused(signed.subarray(0, findTrailer(signed)))
      expect(dropped.code).to.equal('TRUNCATED')
      expect(dropped.message).to.equal('The message is truncated: it ends inside its signature.')
    })

    it('truncated anywhere: inside the header, a frame, the final frame; and bytes added after the end', async () => {
      const inHeader = await refused(unsigned.subarray(0, 50))
      expect(inHeader.message).to.equal('The message is truncated: it ends inside its header (or the input is not an encrypted message at all).')
      for (const cut of [headerLength + 10, headerLength + 3 * FRAME, unsigned.length - 1]) {
        const e = await refused(unsigned.subarray(0, cut))
        expect(e.code, `cut at ${cut}`).to.equal('TRUNCATED')
        expect(e.message, `cut at ${cut}`).to.match(/^The message is truncated: it ends before its final frame/)
      }

      const added = await refused(Buffer.concat([unsigned, Buffer.from('more')]))
      expect(added.code).to.equal('AUTHENTICATION_FAILED')
      expect(added.message).to.match(/^The message has bytes added after its end/)
      const addedSigned = await refused(Buffer.concat([signed, Buffer.from('more')]))
      expect(addedSigned.message).to.match(/^The message has bytes added after its end/)
    })
  })
})

/** Where the signature trailer starts: its 2-byte length covers the rest (a DER P-384 signature is 102 to 104 bytes). */
function findTrailer(message: Buffer): number {
  for (let start = message.length - 2 - 64; start > message.length - 2 - 110; start--) {
    if (message.readUInt16BE(start) === message.length - start - 2) return start
  }

  throw new Error('no trailer')
}
