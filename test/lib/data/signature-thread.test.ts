// The signature of signed suites computed in a thread of its own: what it writes the AWS Encryption
// SDK reads and the other way round, a tampered signature is refused with nothing released, and a
// thread that fails stops the run cleanly (named error, no output, thread terminated).
import {CommitmentPolicy, buildClient} from '@aws-crypto/client-node'
import {CreateKeyCommand} from '@aws-sdk/client-kms'
import {expect} from 'chai'
import {randomBytes} from 'node:crypto'
import {existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {Worker} from 'node:worker_threads'

import {type SignatureThreadChoice, THREAD_THRESHOLD, decryptData, encryptData, useSignatureThread} from '../../../src/lib/data/envelope.js'
import {openInput, openOutput} from '../../../src/lib/data/files.js'
import {SUITES} from '../../../src/lib/data/message.js'
import {HashThread, SLOTS, SLOT_SIZE} from '../../../src/lib/data/signature-thread.js'
import {KmsctlError} from '../../../src/lib/errors.js'
import {sandboxKeyring} from '../../helpers/esdk.js'
import {type Sandbox, newSandbox} from '../../sandbox/helpers.js'

const FRAME = 64 * 1024

describe('data: the signature computed in a thread', function () {
  this.timeout(120_000)
  let sb: Sandbox
  let dir: string
  let a: string
  const kmsFor = async () => sb.kms
  const esdk = buildClient(CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT)
  const keyring = (generatorKeyId: string) => sandboxKeyring(() => sb.kms, generatorKeyId)
  // More than the ring holds, so that the producer is held back and bytes wait in the queue.
  const data = randomBytes(SLOTS * SLOT_SIZE + 3 * FRAME + 123)
  const originalOpen = HashThread.open
  let opened: number

  before(async () => {
    sb = await newSandbox()
    dir = mkdtempSync(join(tmpdir(), 'kmsctl-sigthread-'))
    a = (await sb.kms.send(new CreateKeyCommand({}))).KeyMetadata!.Arn!
    writeFileSync(join(dir, 'plain'), data)
  })

  beforeEach(() => {
    opened = 0
    HashThread.open = (start) => {
      opened++
      return originalOpen.call(HashThread, start)
    }
  })

  afterEach(() => {
    HashThread.open = originalOpen
  })

  async function encrypt(out: string, signatureThread: SignatureThreadChoice): Promise<Buffer> {
    await encryptData(await openInput(join(dir, 'plain')), await openOutput(join(dir, out)), kmsFor, {context: {purpose: 'thread'}, frameLength: FRAME, keyArns: [a], maxEncryptedDataKeys: 10, signatureThread, suite: 'committed-signed'})
    return readFileSync(join(dir, out))
  }

  async function decrypt(name: string, signatureThread: SignatureThreadChoice): Promise<Buffer> {
    await decryptData(await openInput(join(dir, name)), await openOutput(join(dir, `${name}.out`)), kmsFor, {expectContext: {purpose: 'thread'}, expectKeyArns: [a], maxEncryptedDataKeys: 10, signatureThread})
    return readFileSync(join(dir, `${name}.out`))
  }

  it('writes a message the SDK decrypts (signature in DER, length-prefixed, as the SDK writes it)', async () => {
    const written = await encrypt('t.enc', 'always')
    expect(opened).to.equal(1)
    const read = await esdk.decrypt(keyring(a), written)
    expect(read.messageHeader.suiteId).to.equal(SUITES['committed-signed'])
    expect(Buffer.from(read.plaintext).equals(data)).to.equal(true)
    // The trailer: a 2-byte length, then a DER SEQUENCE of that length ending the message.
    const length = findTrailerLength(written)
    expect(written[written.length - length]).to.equal(0x30)
  })

  it('decrypts with the thread what the SDK and the single-thread path wrote, and the other way round', async () => {
    const {result} = await esdk.encrypt(keyring(a), data, {encryptionContext: {purpose: 'thread'}, frameLength: FRAME, suiteId: SUITES['committed-signed'] as never})
    writeFileSync(join(dir, 'sdk.enc'), result)
    expect((await decrypt('sdk.enc', 'always')).equals(data)).to.equal(true)
    expect(opened).to.equal(1)
    await encrypt('single.enc', 'never')
    expect(opened).to.equal(1)
    expect((await decrypt('single.enc', 'always')).equals(data)).to.equal(true)
    await encrypt('threaded.enc', 'always')
    expect((await decrypt('threaded.enc', 'never')).equals(data)).to.equal(true)
  })

  it('refuses a tampered signature as an authentication failure, releasing nothing', async () => {
    const written = readFileSync(join(dir, 't.enc'))
    for (const [name, at] of [
      ['sig-byte.enc', written.length - 5],
      ['body-byte.enc', written.length - SLOT_SIZE],
    ] as const) {
      const bad = Buffer.from(written)
      bad[at] ^= 0x01
      writeFileSync(join(dir, name), bad)
      const error = await decrypt(name, 'always').then(
        () => undefined,
        (error_: unknown) => error_,
      )
      expect(error).to.be.instanceOf(KmsctlError)
      expect((error as KmsctlError).code).to.equal('AUTHENTICATION_FAILED')
      expect((error as KmsctlError).message).to.contain(name === 'sig-byte.enc' ? 'the message signature (trailer) does not verify' : 'a body frame does not match its authentication tag')
      expect(existsSync(join(dir, `${name}.out`))).to.equal(false)
      expect(readdirSync(dir).filter((f) => f.includes(`${name}.out`))).to.deep.equal([])
    }
  })

  it('a thread that fails stops the run: a named error, no output, the thread terminated', async () => {
    let exited = 0
    // A thread that comes up, then fails at the first bytes it is given.
    HashThread.open = () =>
      originalOpen.call(HashThread, () => {
        const w = new Worker(`const {parentPort} = require('node:worker_threads'); parentPort.on('message', (m) => { if ('slot' in m) throw new Error('hash broke') }); parentPort.postMessage({ready: true})`, {eval: true})
        w.once('exit', () => exited++)
        return w
      })
    for (const run of [() => encrypt('fail.enc', 'always'), () => decrypt('t.enc', 'always')]) {
      const error = await run().then(
        () => undefined,
        (error_: unknown) => error_,
      )
      expect(error).to.be.instanceOf(KmsctlError)
      expect((error as KmsctlError).code).to.equal('FAILED')
      expect((error as KmsctlError).message).to.match(/^The signature could not be computed: the signature thread failed: hash broke\./)
    }

    expect(readdirSync(dir).filter((f) => f.startsWith('fail.enc') || f.startsWith('t.enc.out'))).to.deep.equal([])
    await new Promise((resolve) => setImmediate(resolve))
    expect(exited).to.equal(2)
  })

  it('falls back to the main thread when the thread cannot start', async () => {
    HashThread.open = () =>
      originalOpen.call(HashThread, () => new Worker(`throw new Error('no threads here')`, {eval: true}))
    const written = await encrypt('fallback.enc', 'always')
    expect(Buffer.from((await esdk.decrypt(keyring(a), written)).plaintext).equals(data)).to.equal(true)
    expect((await decrypt('fallback.enc', 'always')).equals(data)).to.equal(true)
  })

  it('auto uses no thread for a small input', async () => {
    writeFileSync(join(dir, 'small'), randomBytes(1000))
    await encryptData(await openInput(join(dir, 'small')), await openOutput(join(dir, 'small.enc')), kmsFor, {context: {purpose: 'thread'}, frameLength: FRAME, keyArns: [a], maxEncryptedDataKeys: 10, suite: 'committed-signed'})
    expect(opened).to.equal(0)
  })

  it('auto uses the thread for a large input on a machine with a core to spare; KMSCTL_DATA_THREADS decides over it', () => {
    const saved = process.env.KMSCTL_DATA_THREADS
    try {
      delete process.env.KMSCTL_DATA_THREADS
      const large = {size: THREAD_THRESHOLD}
      expect(useSignatureThread('auto', large, {cores: 2, load: 0.3})).to.equal(true)
      expect(useSignatureThread(undefined, {size: undefined}, {cores: 2, load: 0.3})).to.equal(true)
      expect(useSignatureThread('auto', {size: THREAD_THRESHOLD - 1}, {cores: 2, load: 0.3})).to.equal(false)
      expect(useSignatureThread('auto', large, {cores: 2, load: 1.5})).to.equal(false)
      expect(useSignatureThread('auto', large, {cores: 1, load: 0})).to.equal(false)
      expect(useSignatureThread('never', large, {cores: 8, load: 0})).to.equal(false)
      process.env.KMSCTL_DATA_THREADS = '1'
      expect(useSignatureThread('auto', large, {cores: 2, load: 5})).to.equal(true)
      process.env.KMSCTL_DATA_THREADS = '0'
      expect(useSignatureThread('auto', large, {cores: 8, load: 0})).to.equal(false)
      expect(useSignatureThread('always', {size: 0}, {cores: 1, load: 9})).to.equal(true)
    } finally {
      if (saved === undefined) delete process.env.KMSCTL_DATA_THREADS
      else process.env.KMSCTL_DATA_THREADS = saved
    }
  })
})

/** The length of the signature at the end of a signed message, found from its 2-byte length prefix. */
function findTrailerLength(message: Buffer): number {
  for (let n = 100; n <= 110; n++) if (message.readUInt16BE(message.length - n - 2) === n) return n
  throw new Error('no trailer found')
}
