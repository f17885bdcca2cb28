// The message body codec on its own: frames written and read back over a reused buffer, the frame
// layout of the AWS Encryption SDK, and every way a body can be damaged. A fixed AES key stands in
// for the derived data key (what the SDK's getCipher / getDecipher would use).
import {expect} from 'chai'
import {createCipheriv, createDecipheriv, createHash, randomBytes} from 'node:crypto'
import {Readable} from 'node:stream'

import {type ByteSource, streamSource} from '../../../src/lib/data/files.js'
import {type BodySdk, type DecryptingMessage, type EncryptingMessage, MessageBodyError, OutputBatch, WRITE_BATCH, bodySdk, decryptBody, encryptBody, encryptFrame} from '../../../src/lib/data/frames.js'
import {BufferedReader} from '../../../src/lib/data/reader.js'

const key = randomBytes(32)
const messageId = randomBytes(32)

/** A source over bytes that gives at most `step` bytes per read (frame headers then straddle reads). */
function bytesSource(bytes: Buffer, step = Number.POSITIVE_INFINITY): ByteSource {
  let at = 0
  return {
    close: async () => {},
    async read(buffer, offset, length) {
      const n = Math.min(length, step, bytes.length - at)
      bytes.copy(buffer, offset, at, at + n)
      at += n
      return n
    },
  }
}

/** Output into memory, recording each write. */
function memoryOutput() {
  const writes: Buffer[] = []
  return {
    bytes: () => Buffer.concat(writes),
    write: async (chunks: readonly Uint8Array[]) => {
      writes.push(Buffer.concat(chunks.map((c) => Buffer.from(c.buffer, c.byteOffset, c.byteLength))))
    },
    writes,
  }
}

class Hash {
  readonly hash = createHash('sha384')
  update(data: Uint8Array) {
    this.hash.update(data)
  }
}

describe('data frames: the message body over a reused buffer', () => {
  let sdk: BodySdk
  const frameLength = 1000
  const header = {contentType: 2, frameLength, messageId} as never
  const suite = {ivLength: 12, tagLength: 128} as never

  before(async () => {
    sdk = await bodySdk()
  })

  function encrypting(signer?: Hash): EncryptingMessage {
    return {getCipher: (iv) => createCipheriv('aes-256-gcm', key, iv), messageHeader: header, signer, suite}
  }

  function decrypting(verify?: DecryptingMessage['verify']): DecryptingMessage {
    return {
      getDecipher: (iv) => createDecipheriv('aes-256-gcm', key, iv),
      headerInfo: {algorithmSuite: {ivLength: 12, tagLength: 128}, messageHeader: {contentType: 2, frameLength, messageId}} as never,
      verify,
    }
  }

  async function encrypt(plaintext: Buffer, signer?: Hash): Promise<Buffer> {
    const out = memoryOutput()
    const batch = new OutputBatch(out)
    const n = await encryptBody(sdk, new BufferedReader(bytesSource(plaintext, 777), Math.max(frameLength, 4096)), batch, encrypting(signer))
    await batch.flush(true)
    expect(n).to.equal(plaintext.length)
    return out.bytes()
  }

  async function decrypt(body: Buffer, options: {step?: number; capacity?: number; verify?: DecryptingMessage['verify']; holdLimit?: number; temporary?: boolean} = {}): Promise<Buffer> {
    const out = memoryOutput()
    const reader = new BufferedReader(bytesSource(body, options.step), options.capacity ?? 64)
    await decryptBody(sdk, reader, new OutputBatch(out), decrypting(options.verify), {holdLimit: options.holdLimit ?? 1 << 20, unverifiedToTemporary: options.temporary ?? false})
    return out.bytes()
  }

  async function problem(p: Promise<unknown>): Promise<string> {
    const error = await p.then(
      () => undefined,
      (error_: unknown) => error_,
    )
    expect(error, 'expected a failure').to.be.instanceOf(MessageBodyError)
    return (error as MessageBodyError).problem
  }

  // Frame sizes: 4 + 12 + content + 16 for a regular frame; 4 + 4 + 12 + 4 + content + 16 for the final one.
  const regular = 4 + 12 + frameLength + 16
  const final = (n: number) => 24 + n + 16

  for (const [label, size, frames] of [
    ['0 B', 0, 0],
    ['1 B', 1, 0],
    ['exactly one frame', frameLength, 1],
    ['one frame + 1 B', frameLength + 1, 1],
    ['many frames', 7 * frameLength + 123, 7],
  ] as const) {
    it(`${label}: ${frames} regular frame(s) and a final frame of the rest; decrypts through reads that straddle frames`, async () => {
      const plaintext = randomBytes(size)
      const body = await encrypt(plaintext)
      const rest = size - frames * frameLength
      expect(body.length).to.equal(frames * regular + final(rest))
      for (let i = 0; i < frames; i++) expect(body.readUInt32BE(i * regular), `frame ${i + 1}`).to.equal(i + 1)
      const last = frames * regular
      expect(body.readUInt32BE(last)).to.equal(0xff_ff_ff_ff)
      expect(body.readUInt32BE(last + 4)).to.equal(frames + 1)
      // The IV is the sequence number, big-endian, in its last 4 bytes.
      expect(body.subarray(last + 8, last + 20).toString('hex')).to.equal('0'.repeat(16) + (frames + 1).toString(16).padStart(8, '0'))
      expect(body.readUInt32BE(last + 20)).to.equal(rest)
      for (const step of [1, 7, 1 << 20]) expect((await decrypt(body, {step})).equals(plaintext), `reads of ${step}`).to.equal(true)
    })
  }

  it('a frame is the SDK\'s: AES-GCM under the frame IV with the SDK\'s body AAD', async () => {
    const plaintext = randomBytes(10)
    const [bodyHeader, cipherText, tag] = encryptFrame(sdk, encrypting(), 1, plaintext, true)
    const iv = Buffer.from(bodyHeader).subarray(8, 20)
    const aad = Buffer.concat([messageId, Buffer.from('AWSKMSEncryptionClient Final Frame'), Buffer.from([0, 0, 0, 1]), Buffer.from([0, 0, 0, 0, 0, 0, 0, 10])])
    const d = createDecipheriv('aes-256-gcm', key, iv).setAAD(aad).setAuthTag(Buffer.from(tag))
    expect(Buffer.concat([d.update(Buffer.from(cipherText)), d.final()]).equals(plaintext)).to.equal(true)
  })

  it('accepts a final frame as long as a whole frame (as other SDKs write it)', async () => {
    const plaintext = randomBytes(2 * frameLength)
    const body = Buffer.concat([...encryptFrame(sdk, encrypting(), 1, plaintext.subarray(0, frameLength), false), ...encryptFrame(sdk, encrypting(), 2, plaintext.subarray(frameLength), true)])
    expect((await decrypt(body)).equals(plaintext)).to.equal(true)
  })

  it('signs every byte of the body in order, and verifies the trailer', async () => {
    const plaintext = randomBytes(3 * frameLength + 5)
    const signer = new Hash()
    const body = await encrypt(plaintext, signer)
    const digest = signer.hash.digest()
    expect(digest.equals(createHash('sha384').update(body).digest())).to.equal(true)
    // A stand-in signature: the trailer carries the body's digest; "verify" compares it.
    const verifier = () => {
      const h = createHash('sha384')
      return {awsCryptoVerify: (sig: Uint8Array) => h.digest().equals(Buffer.from(sig)), update: (d: Uint8Array) => h.update(d)}
    }

    const trailer = Buffer.concat([Buffer.from([0, digest.length]), digest])
    expect((await decrypt(Buffer.concat([body, trailer]), {verify: verifier()})).equals(plaintext)).to.equal(true)
    const bad = Buffer.from(trailer)
    bad[10] ^= 1
    expect(await problem(decrypt(Buffer.concat([body, bad]), {verify: verifier()}))).to.equal('signature')
    expect(await problem(decrypt(Buffer.concat([body, trailer.subarray(0, 20)]), {verify: verifier()}))).to.equal('truncated-signature')
    expect(await problem(decrypt(body, {verify: verifier()}))).to.equal('truncated-signature')
    expect(await problem(decrypt(Buffer.concat([body, trailer, Buffer.from('x')]), {verify: verifier()}))).to.equal('extra-bytes')
  })

  it('names each kind of damage: a flipped byte in a frame header, content, tag or final frame; truncation; reordering; extra bytes', async () => {
    const body = await encrypt(randomBytes(3 * frameLength + 5))
    const flipped = (at: number) => {
      const b = Buffer.from(body)
      b[at] ^= 1
      return b
    }

    expect(await problem(decrypt(flipped(regular + 500)))).to.equal('tag') // content of frame 2
    expect(await problem(decrypt(flipped(regular - 3)))).to.equal('tag') // tag of frame 1
    expect(await problem(decrypt(flipped(regular + 10)))).to.equal('tag') // IV of frame 2
    expect(await problem(decrypt(flipped(3 * regular + 30)))).to.equal('tag') // content of the final frame
    expect(await problem(decrypt(flipped(3 * regular + 20)))).to.equal('malformed') // final frame length above the frame length
    expect(await problem(decrypt(flipped(3 * regular + 23)))).to.equal('tag') // final frame length changed (it is in the AAD)
    expect(await problem(decrypt(flipped(regular + 3)))).to.equal('order') // sequence number of frame 2
    const swapped = Buffer.concat([body.subarray(regular, 2 * regular), body.subarray(0, regular), body.subarray(2 * regular)])
    expect(await problem(decrypt(swapped))).to.equal('order')
    for (const cut of [0, 10, regular, regular + 100, body.length - 1]) expect(await problem(decrypt(body.subarray(0, cut))), `cut at ${cut}`).to.equal('truncated-body')
    expect(await problem(decrypt(Buffer.concat([body, Buffer.from([0])])))).to.equal('extra-bytes')
    // Frames dropped from the end, the final frame left: out of order.
    expect(await problem(decrypt(Buffer.concat([body.subarray(0, regular), body.subarray(3 * regular)])))).to.equal('order')
  })

  it('releases a frame only once its tag verifies: nothing of a frame with a bad tag is written', async () => {
    const frame1 = encryptFrame(sdk, encrypting(), 1, randomBytes(frameLength), false)
    const frame2 = encryptFrame(sdk, encrypting(), 2, randomBytes(frameLength), true)
    const bad = Buffer.concat(frame2)
    bad[bad.length - 1] ^= 1
    const out = memoryOutput()
    const reader = new BufferedReader(bytesSource(Buffer.concat([...frame1, bad])), 64)
    const error = await decryptBody(sdk, reader, new OutputBatch(out), decrypting(), {holdLimit: 1 << 20, unverifiedToTemporary: false}).catch((error_: unknown) => error_)
    expect((error as MessageBodyError).problem).to.equal('tag')
    // Frame 1 (authenticated) is below a write batch, so it was still gathered: nothing written at all.
    expect(out.bytes().length).to.equal(0)
  })

  it('a frame above the hold limit is refused for stdout, and streamed to a temporary file', async () => {
    const plaintext = randomBytes(3 * frameLength)
    const body = await encrypt(plaintext)
    expect(await problem(decrypt(body, {holdLimit: 500}))).to.equal('frame-too-large')
    expect((await decrypt(body, {holdLimit: 500, temporary: true})).equals(plaintext)).to.equal(true)
  })

  it('writes in batches: small frames are gathered, never one write per frame', async () => {
    const out = memoryOutput()
    const batch = new OutputBatch(out)
    const plaintext = randomBytes(3 * WRITE_BATCH)
    await encryptBody(sdk, new BufferedReader(bytesSource(plaintext), 4096), batch, encrypting())
    await batch.flush(true)
    expect(out.writes.length).to.be.within(3, 4)
    expect((await decrypt(out.bytes(), {capacity: 1 << 20})).equals(plaintext)).to.equal(true)
  })

  it('reads stdin-like streams through the same buffer (chunks of any size)', async () => {
    const plaintext = randomBytes(5 * frameLength + 1)
    const body = await encrypt(plaintext)
    const chunks = [body.subarray(0, 3), body.subarray(3, 2000), body.subarray(2000)]
    const out = memoryOutput()
    const reader = new BufferedReader(streamSource(Readable.from(chunks)), 256)
    await decryptBody(sdk, reader, new OutputBatch(out), decrypting(), {holdLimit: 1 << 20, unverifiedToTemporary: false})
    expect(out.bytes().equals(plaintext)).to.equal(true)
    expect(reader.bytesRead).to.equal(body.length)
  })
})

describe('data reader: BufferedReader', () => {
  it('fills to at least n bytes, moves what is left to the front, grows for a large n up to its limit', async () => {
    const bytes = Buffer.from('0123456789abcdefghij')
    const reader = new BufferedReader(bytesSource(bytes, 3), 8, 16)
    expect(await reader.fill(5)).to.be.at.least(5)
    expect(reader.take(5).toString()).to.equal('01234')
    expect(await reader.fill(6)).to.be.at.least(6)
    expect(reader.take(6).toString()).to.equal('56789a')
    expect(await reader.fill(9)).to.be.at.least(9)
    expect(reader.capacity).to.equal(16)
    expect(reader.take(100).toString()).to.equal('bcdefghij')
    expect(await reader.fill(1)).to.equal(0)
    expect(reader.ended).to.equal(true)
    expect(reader.bytesRead).to.equal(20)
    const small = new BufferedReader(bytesSource(bytes), 4, 8)
    const e = await small.fill(9).catch((error: unknown) => error)
    expect(e).to.be.instanceOf(RangeError)
  })
})
