// data inspect reads the header with the SDK's deserializer and walks the frame headers; it never
// calls KMS (no client is even given to it).
import {CreateKeyCommand} from '@aws-sdk/client-kms'
import {expect} from 'chai'
import {randomBytes} from 'node:crypto'
import {mkdtempSync, readFileSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {encryptData} from '../../../src/lib/data/envelope.js'
import {openInput, openOutput} from '../../../src/lib/data/files.js'
import {inspectMessage} from '../../../src/lib/data/inspect.js'
import {KmsctlError} from '../../../src/lib/errors.js'
import {newSandbox} from '../../sandbox/helpers.js'

describe('data inspect', function () {
  this.timeout(30_000)
  let dir: string
  let arn: string
  before(async () => {
    const sb = await newSandbox()
    dir = mkdtempSync(join(tmpdir(), 'kmsctl-inspect-'))
    arn = (await sb.kms.send(new CreateKeyCommand({}))).KeyMetadata!.Arn!
    for (const [name, suite] of [
      ['signed', 'committed-signed'],
      ['plain', 'committed'],
    ] as const) {
      writeFileSync(join(dir, name), randomBytes(10_000))
      await encryptData(await openInput(join(dir, name)), await openOutput(join(dir, `${name}.enc`)), async () => sb.kms, {
        context: {team: 'ops'},
        frameLength: 4096,
        keyArns: [arn],
        maxEncryptedDataKeys: 10,
        suite,
      })
    }
  })

  it('reads the header and sizes of a signed message', async () => {
    const r = await inspectMessage(await openInput(join(dir, 'signed.enc')))
    expect(r.header.algorithm.hex).to.equal('0x0578')
    expect(r.header.encryptedDataKeys.map((k) => k.keyArn)).to.deep.equal([arn])
    expect(r.header.encryptionContext).to.deep.equal({team: 'ops'})
    expect(r.header.frameLength).to.equal(4096)
    // 10,000 bytes in frames of 4,096: two full frames and a final one of 1,808.
    expect(r.sizes.frames).to.equal(3)
    expect(r.sizes.plaintext).to.equal(10_000)
    expect(r.sizes.header! + r.sizes.body! + r.sizes.trailer!).to.equal(r.sizes.total)
    expect(r.sizes.trailer).to.be.within(100, 106)
    expect(r.warnings).to.deep.equal([])
  })

  it('an unsigned message has no trailer', async () => {
    const r = await inspectMessage(await openInput(join(dir, 'plain.enc')))
    expect(r.header.algorithm.signed).to.equal(false)
    expect(r.sizes.trailer).to.equal(0)
    expect(r.header.signingPublicKey).to.equal(undefined)
  })

  it('warns about a truncated body; refuses a truncated header', async () => {
    const buf = readFileSync(join(dir, 'signed.enc'))
    writeFileSync(join(dir, 'cut.enc'), buf.subarray(0, buf.length - 3000))
    const r = await inspectMessage(await openInput(join(dir, 'cut.enc')))
    expect(r.warnings).to.have.length(1)
    expect(r.warnings[0]).to.match(/truncated/)
    writeFileSync(join(dir, 'head.enc'), buf.subarray(0, 50))
    const e = await inspectMessage(await openInput(join(dir, 'head.enc'))).catch((error: unknown) => error)
    expect(e).to.be.instanceOf(KmsctlError)
    expect((e as KmsctlError).code).to.equal('TRUNCATED')
  })
})
