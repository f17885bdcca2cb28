// data encrypt / decrypt / inspect / sign / verify: the built CLI against `kmsctl sandbox serve` over
// HTTP (the real SDK, the real wire), and messages exchanged with the AWS Encryption SDK itself.
import {CloudTrailClient, LookupEventsCommand} from '@aws-sdk/client-cloudtrail'
import {KMS} from '@aws-sdk/client-kms'
import {buildClient, CommitmentPolicy, KmsKeyringNode} from '@aws-crypto/client-node'
import {expect} from 'chai'
import {spawn} from 'node:child_process'
import {createHash, randomBytes} from 'node:crypto'
import {existsSync, mkdtempSync, readFileSync, readdirSync, statSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {DEFAULT_ACCESS_KEY_ID, DEFAULT_SECRET_ACCESS_KEY, SANDBOX_REGION} from '../../src/sandbox/constants.js'
import {runAws} from '../helpers/awscli.js'
import {binRun, json, runCli} from '../helpers/cli.js'
import {type SandboxServer, startSandboxServer} from '../helpers/sandbox-server.js'

const LIMITED_KEY_ID = 'AKIAEXAMPLEDATAUSER1'
const LIMITED_ARN = 'arn:aws:iam::111122223333:user/data-reader'

describe('e2e: data encrypt, decrypt, inspect, sign, verify', function () {
  this.timeout(300_000)
  let server: SandboxServer
  let work: string
  let keyA: string
  let keyB: string
  let keyC: string
  let arnA: string
  let arnB: string
  let signEcc: string
  let signRsa: string
  const kmsctl = (...args: string[]) => runCli(args, {env: server.env, timeoutMs: 240_000})
  const path = (name: string) => join(work, name)

  /** Runs a shell pipeline of kmsctl commands (binary-safe stdin/stdout). */
  function shell(script: string): Promise<{code: number | null; stderr: string}> {
    return new Promise((resolve, reject) => {
      const child = spawn('bash', ['-o', 'pipefail', '-c', script], {cwd: work, env: {...process.env, ...server.env, KMSCTL: `${process.execPath} ${binRun}`, NODE_OPTIONS: ''}, stdio: ['ignore', 'ignore', 'pipe']})
      let stderr = ''
      child.stderr.setEncoding('utf8').on('data', (d: string) => {
        stderr += d
      })
      child.on('error', reject)
      child.on('close', (code) => resolve({code, stderr}))
    })
  }

  function sha(file: string): string {
    return createHash('sha256').update(readFileSync(file)).digest('hex')
  }

  function leftovers(): string[] {
    return readdirSync(work).filter((f) => f.endsWith('.part'))
  }

  before(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kmsctl-data-sbx-'))
    // A principal IAM allows to describe keys and nothing else (the default key policy delegates to IAM).
    const added = await runCli(['sandbox', 'principal', 'add', LIMITED_KEY_ID, LIMITED_ARN, '--iam-allow', 'kms:DescribeKey', '--sandbox-dir', dir])
    expect(added.code, added.stderr).to.equal(0)
    server = await startSandboxServer({dir})
    work = mkdtempSync(join(tmpdir(), 'kmsctl-data-work-'))
    const create = async (...args: string[]) => json(await kmsctl('key', 'create', ...args, '--json'))
    const a = await create('--alias', 'alias/data-a')
    const b = await create('--alias', 'alias/data-b')
    const c = await create('--alias', 'alias/data-c')
    ;[keyA, keyB, keyC] = [a.keyId, b.keyId, c.keyId]
    ;[arnA, arnB] = [a.arn, b.arn]
    signEcc = (await create('--spec', 'ECC_NIST_P256', '--usage', 'SIGN_VERIFY', '--alias', 'alias/data-sign')).keyId
    signRsa = (await create('--spec', 'RSA_2048', '--usage', 'SIGN_VERIFY')).keyId
    expect([keyA, keyB, keyC, signEcc, signRsa].every(Boolean)).to.equal(true)
  })

  after(async () => {
    await server?.stop()
  })

  describe('round trips', () => {
    for (const [label, size] of [
      ['0 B', 0],
      ['1 B', 1],
      ['1 MiB', 1024 * 1024],
      ['1 MiB + 1 B, frames of 64 KiB', 1024 * 1024 + 1],
    ] as const) {
      it(`${label}: encrypt, inspect, decrypt to a file (mode 0600), identical`, async () => {
        const name = `rt-${size}`
        writeFileSync(path(name), randomBytes(size))
        const frame = label.includes('64 KiB') ? ['--frame-length', String(64 * 1024)] : ['--algorithm', 'committed-signed']
        const enc = json(await kmsctl('data', 'encrypt', path(name), '--key', 'alias/data-a', '--context', 'app=billing', '--context', 'env=test', '-o', path(`${name}.enc`), ...frame, '--json'))
        expect(enc.bytesIn).to.equal(size)
        expect(enc.keys).to.deep.equal([arnA])
        expect(enc.encryptionContext).to.deep.equal({app: 'billing', env: 'test'})
        expect(enc.algorithm).to.deep.include(label.includes('64 KiB') ? {committing: true, hex: '0x0478', signed: false} : {committing: true, hex: '0x0578', signed: true})
        expect(enc.bytesOut).to.equal(statSync(path(`${name}.enc`)).size)

        const ins = json(await kmsctl('data', 'inspect', path(`${name}.enc`), '--json'))
        expect(ins.header.encryptedDataKeys.map((k: {keyArn: string}) => k.keyArn)).to.deep.equal([arnA])
        expect(ins.sizes.plaintext).to.equal(size)
        expect(ins.sizes.total).to.equal(enc.bytesOut)
        expect(ins.warnings).to.deep.equal([])

        const dec = json(await kmsctl('data', 'decrypt', path(`${name}.enc`), '--expect-key', 'alias/data-a', '--expect-context', 'app=billing', '-o', path(`${name}.out`), '--json'))
        expect(dec.bytesOut).to.equal(size)
        expect(dec.decryptedWith).to.equal(arnA)
        expect(dec.mode).to.equal('strict')
        expect(sha(path(`${name}.out`))).to.equal(sha(path(name)))
        expect(statSync(path(`${name}.out`)).mode & 0o777).to.equal(0o600)
      })
    }

    it('64 MiB streamed from stdin to stdout through a pipe, the default (unsigned, committing) suite', async () => {
      writeFileSync(path('big'), randomBytes(64 * 1024 * 1024))
      const r = await shell(
        '$KMSCTL data encrypt - --key alias/data-a --context k=v < big > big.enc && ' +
          '$KMSCTL data decrypt - --expect-key alias/data-a --expect-context k=v < big.enc > big.out',
      )
      expect(r.code, r.stderr).to.equal(0)
      expect(sha(path('big.out'))).to.equal(sha(path('big')))
      const ins = json(await kmsctl('data', 'inspect', path('big.enc'), '--json'))
      expect(ins.header.algorithm).to.deep.include({hex: '0x0478', signed: false})
      // The default frame length, 1 MiB: 64 full frames, then the final frame, empty.
      expect(ins.header.frameLength).to.equal(1024 * 1024)
      expect(ins.sizes).to.deep.include({frames: 65, plaintext: 64 * 1024 * 1024, trailer: 0})
    })

    it('multi-key message: decrypts with either key, refuses a key it was not encrypted under', async () => {
      writeFileSync(path('multi'), 'two keys can open this\n')
      const enc = json(await kmsctl('data', 'encrypt', path('multi'), '--key', 'alias/data-a', '--key', keyB, '-o', path('multi.enc'), '--json'))
      expect(enc.keys).to.deep.equal([arnA, arnB])
      for (const key of ['alias/data-a', 'alias/data-b']) {
        const out = path(`multi.${key.slice(-1)}`)
        const dec = json(await kmsctl('data', 'decrypt', path('multi.enc'), '--expect-key', key, '-o', out, '--json'))
        expect(dec.decryptedWith).to.equal(key.endsWith('a') ? arnA : arnB)
        expect(readFileSync(out, 'utf8')).to.equal('two keys can open this\n')
      }

      const other = await kmsctl('data', 'decrypt', path('multi.enc'), '--expect-key', 'alias/data-c', '-o', path('multi.c'))
      expect(other.code).to.equal(1)
      expect(other.stderr).to.contain("None of the message's data keys is encrypted under an expected key. Nothing was decrypted.")
      expect(other.stderr).to.contain(arnA)
      expect(existsSync(path('multi.c'))).to.equal(false)
    })

    it('discovery needs an explicit account, and then decrypts', async () => {
      const none = await kmsctl('data', 'decrypt', path('multi.enc'), '--discovery', '-o', path('disc.out'))
      expect(none.code).to.equal(2)
      expect(none.stderr).to.contain('--discovery needs --account ID')
      const wrong = await kmsctl('data', 'decrypt', path('multi.enc'), '--discovery', '--account', '999999999999', '-o', path('disc.out'))
      expect(wrong.code).to.equal(1)
      expect(existsSync(path('disc.out'))).to.equal(false)
      const ok = json(await kmsctl('data', 'decrypt', path('multi.enc'), '--discovery', '--account', '111122223333', '-o', path('disc.out'), '--json'))
      expect(ok.mode).to.equal('discovery')
      expect(readFileSync(path('disc.out'), 'utf8')).to.equal('two keys can open this\n')
    })

    it('decrypt without --expect-key or --discovery is a usage error; so is --json without -o', async () => {
      const r = await kmsctl('data', 'decrypt', path('multi.enc'))
      expect(r.code).to.equal(2)
      expect(r.stderr).to.contain('Name the key the data key must be encrypted under: --expect-key KEY.')
      const j = await kmsctl('data', 'encrypt', path('multi'), '--key', 'alias/data-a', '--json')
      expect(j.code).to.equal(2)
      expect(json(j).error.message).to.equal('--json prints its document on stdout: the ciphertext needs -o FILE.')
    })
  })

  describe('refusals', () => {
    let size: number
    before(async () => {
      writeFileSync(path('victim'), randomBytes(300_000))
      const r = await kmsctl('data', 'encrypt', path('victim'), '--key', 'alias/data-a', '--context', 'app=billing', '--frame-length', '65536', '--algorithm', 'committed-signed', '-o', path('victim.enc'))
      expect(r.code, r.stderr).to.equal(0)
      size = statSync(path('victim.enc')).size
    })

    function tampered(name: string, offset: number): string {
      const buf = readFileSync(path('victim.enc'))
      buf[offset] ^= 0x01
      writeFileSync(path(name), buf)
      return path(name)
    }

    /** How many Decrypt calls the sandbox's CloudTrail holds. */
    async function decryptEvents(): Promise<number> {
      const trail = new CloudTrailClient({
        credentials: {accessKeyId: DEFAULT_ACCESS_KEY_ID, secretAccessKey: DEFAULT_SECRET_ACCESS_KEY},
        endpoint: server.url,
        region: SANDBOX_REGION,
      })
      let count = 0
      let NextToken: string | undefined
      do {
        const out = await trail.send(new LookupEventsCommand({LookupAttributes: [{AttributeKey: 'EventName', AttributeValue: 'Decrypt'}], MaxResults: 50, NextToken}))
        count += out.Events?.length ?? 0
        NextToken = out.NextToken
      } while (NextToken)
      return count
    }

    const decryptTo = (file: string, out: string, ...extra: string[]) => kmsctl('data', 'decrypt', file, '--expect-key', 'alias/data-a', '-o', path(out), ...extra)

    it('a flipped header byte fails authentication; nothing is written', async () => {
      const ins = json(await kmsctl('data', 'inspect', path('victim.enc'), '--json'))
      expect(ins.sizes.header).to.be.greaterThan(300)
      // A byte of the context value "billing": KMS refuses the data key (the context is its AAD).
      const value = readFileSync(path('victim.enc')).indexOf('billing')
      expect(value).to.be.greaterThan(0)
      const r = await decryptTo(tampered('h.enc', value + 2), 'h.out')
      expect(r.code).to.equal(1)
      expect(r.stderr).to.match(/^Error: Authentication failed: KMS could not decrypt the message's data key \(InvalidCiphertextException\): the header was tampered with/m)
      expect(existsSync(path('h.out'))).to.equal(false)
      expect(leftovers()).to.deep.equal([])
      // The header's authentication tag, at the end of the header.
      const tag = await decryptTo(tampered('h2.enc', ins.sizes.header - 3), 'h2.out')
      expect(tag.code).to.equal(1)
      expect(tag.stderr).to.contain('Authentication failed: the header does not match its authentication tag')
      // A length field: the header no longer parses.
      const len = await decryptTo(tampered('h3.enc', 0x23), 'h3.out')
      expect(len.code).to.equal(1)
      expect(len.stderr).to.contain('the file was tampered with or corrupted')
      expect(existsSync(path('h3.out'))).to.equal(false)
    })

    it('a flipped body byte fails authentication; the output path never appears', async () => {
      const r = await decryptTo(tampered('b.enc', Math.floor(size / 2)), 'b.out')
      expect(r.code).to.equal(1)
      expect(r.stderr).to.contain('Authentication failed: a body frame does not match its authentication tag')
      expect(existsSync(path('b.out'))).to.equal(false)
      expect(leftovers()).to.deep.equal([])
    })

    it('a flipped trailer byte fails the signature; to stdout, exit 1 and a warning about what was written', async () => {
      const t = tampered('t.enc', size - 10)
      const r = await decryptTo(t, 't.out')
      expect(r.code).to.equal(1)
      expect(r.stderr).to.contain('Authentication failed: the message signature (trailer) does not verify')
      expect(existsSync(path('t.out'))).to.equal(false)
      // To stdout, the frames are written once authenticated, gathered up to 1 MiB: a small message
      // is still held when its signature fails, so nothing reaches stdout.
      const piped = await shell(`$KMSCTL data decrypt t.enc --expect-key alias/data-a > t.stdout`)
      expect(piped.code).to.equal(1)
      expect(piped.stderr).to.contain('Authentication failed: the message signature (trailer) does not verify')
      expect(piped.stderr).to.not.contain('Output already written')
      expect(statSync(path('t.stdout')).size).to.equal(0)
      // A larger one has had frames written by then: the warning says so.
      writeFileSync(path('large'), randomBytes(3 * 1024 * 1024))
      const enc = await kmsctl('data', 'encrypt', path('large'), '--key', 'alias/data-a', '--frame-length', '65536', '--algorithm', 'committed-signed', '-o', path('large.enc'))
      expect(enc.code, enc.stderr).to.equal(0)
      const large = readFileSync(path('large.enc'))
      large[large.length - 10] ^= 0x01
      writeFileSync(path('large.bad'), large)
      const pipedLarge = await shell(`$KMSCTL data decrypt large.bad --expect-key alias/data-a > large.stdout`)
      expect(pipedLarge.code).to.equal(1)
      expect(pipedLarge.stderr).to.contain('Output already written to stdout must not be used.')
      expect(statSync(path('large.stdout')).size).to.be.greaterThan(0)
    })

    it('a truncated file is named as truncated', async () => {
      writeFileSync(path('cut.enc'), readFileSync(path('victim.enc')).subarray(0, size - 70_000))
      const r = await decryptTo(path('cut.enc'), 'cut.out')
      expect(r.code).to.equal(1)
      expect(r.stderr).to.match(/truncated/)
      expect(existsSync(path('cut.out'))).to.equal(false)
      const ins = await kmsctl('data', 'inspect', path('cut.enc'))
      expect(ins.stderr).to.contain('the file is truncated')
      writeFileSync(path('head.enc'), readFileSync(path('victim.enc')).subarray(0, 100))
      const head = await decryptTo(path('head.enc'), 'head.out')
      expect(head.code).to.equal(1)
      expect(head.stderr).to.contain('The message is truncated: it ends inside its header')
    })

    it('a context mismatch is refused before any kms:Decrypt', async () => {
      const before = await decryptEvents()
      const r = await decryptTo(path('victim.enc'), 'ctx.out', '--expect-context', 'app=payroll', '--expect-context', 'env=prod', '--json')
      expect(r.code).to.equal(1)
      const e = json(r).error
      expect(e.code).to.equal('CONTEXT_MISMATCH')
      expect(e.message).to.equal('The message\'s encryption context does not match --expect-context: app: is "billing", expected "payroll"; env: missing. Nothing was decrypted.')
      expect(existsSync(path('ctx.out'))).to.equal(false)
      expect(await decryptEvents()).to.equal(before)
    })

    it('a disabled key is named; so is a caller the key is not for (with its ARN)', async () => {
      expect((await kmsctl('key', 'disable', keyC, '--yes')).code).to.equal(0)
      const dis = await kmsctl('data', 'encrypt', path('victim'), '--key', keyC, '-o', path('dis.enc'))
      expect(dis.code).to.equal(1)
      expect(dis.stderr).to.contain(`Key ${keyC} is disabled: kms:GenerateDataKey is not allowed.`)
      expect((await kmsctl('key', 'enable', keyC, '--yes')).code).to.equal(0)

      const limited = {...server.env, AWS_ACCESS_KEY_ID: LIMITED_KEY_ID, AWS_SECRET_ACCESS_KEY: 'anything'}
      const denied = await runCli(['data', 'decrypt', path('victim.enc'), '--expect-key', 'alias/data-a', '-o', path('denied.out')], {env: limited})
      expect(denied.code).to.equal(1)
      expect(denied.stderr).to.contain('Access denied')
      expect(denied.stderr).to.contain('kms:Decrypt')
      expect(denied.stderr).to.contain(LIMITED_ARN)
      expect(existsSync(path('denied.out'))).to.equal(false)
    })

    it('refuses to overwrite an existing output without --force', async () => {
      writeFileSync(path('exists.out'), 'keep me')
      const r = await decryptTo(path('victim.enc'), 'exists.out')
      expect(r.code).to.equal(2)
      expect(r.stderr).to.contain('already exists')
      expect(readFileSync(path('exists.out'), 'utf8')).to.equal('keep me')
      const forced = await decryptTo(path('victim.enc'), 'exists.out', '--force')
      expect(forced.code, forced.stderr).to.equal(0)
      expect(sha(path('exists.out'))).to.equal(sha(path('victim')))
    })

    it('refuses more encrypted data keys than --max-encrypted-data-keys', async () => {
      const r = await kmsctl('data', 'decrypt', path('multi.enc'), '--expect-key', 'alias/data-a', '--max-encrypted-data-keys', '1', '-o', path('max.out'))
      expect(r.code).to.equal(1)
      expect(r.stderr).to.contain('more encrypted data keys than --max-encrypted-data-keys allows')
    })
  })

  describe('CloudTrail and the AWS Encryption SDK', () => {
    const clientConfig = () => ({
      credentials: {accessKeyId: DEFAULT_ACCESS_KEY_ID, secretAccessKey: DEFAULT_SECRET_ACCESS_KEY},
      endpoint: server.url,
      region: SANDBOX_REGION,
    })

    it('records GenerateDataKey and Decrypt with the encryption context', async () => {
      const trail = new CloudTrailClient(clientConfig())
      for (const name of ['GenerateDataKey', 'Decrypt']) {
        const out = await trail.send(new LookupEventsCommand({LookupAttributes: [{AttributeKey: 'EventName', AttributeValue: name}], MaxResults: 50}))
        const records = (out.Events ?? []).map((e) => JSON.parse(e.CloudTrailEvent!))
        const withContext = records.filter((r) => r.requestParameters?.encryptionContext?.app === 'billing')
        expect(withContext.length, name).to.be.greaterThan(0)
        expect(withContext[0].requestParameters.encryptionContext).to.have.property('aws-crypto-public-key')
        expect(JSON.stringify(withContext[0])).to.not.match(/"plaintext"/i)
      }
    })

    it('kmsctl decrypts what the Encryption SDK wrote, and the other way round', async () => {
      const kms = new KMS(clientConfig())
      const keyring = new KmsKeyringNode({clientProvider: () => kms as never, generatorKeyId: arnB})
      const sdk = buildClient(CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT)
      const {result} = await sdk.encrypt(keyring, Buffer.from('from the SDK'), {encryptionContext: {origin: 'sdk'}})
      writeFileSync(path('sdk.enc'), result)
      const dec = await kmsctl('data', 'decrypt', path('sdk.enc'), '--expect-key', 'alias/data-b', '--expect-context', 'origin=sdk', '-o', path('sdk.out'))
      expect(dec.code, dec.stderr).to.equal(0)
      expect(readFileSync(path('sdk.out'), 'utf8')).to.equal('from the SDK')

      const back = await sdk.decrypt(keyring, readFileSync(path('multi.enc')))
      expect(Buffer.from(back.plaintext).toString()).to.equal('two keys can open this\n')
      expect(back.messageHeader.encryptedDataKeys.map((k) => k.providerInfo)).to.deep.equal([arnA, arnB])

      // A many-frame message at kmsctl's default frame length (1 MiB), read by the SDK.
      const keyringA = new KmsKeyringNode({clientProvider: () => kms as never, generatorKeyId: arnA})
      const big = await sdk.decrypt(keyringA, readFileSync(path('big.enc')))
      expect(big.messageHeader.frameLength).to.equal(1024 * 1024)
      expect(createHash('sha256').update(big.plaintext).digest('hex')).to.equal(sha(path('big')))
    })
  })

  describe('sign and verify', () => {
    before(() => {
      writeFileSync(path('release.tar'), randomBytes(2 * 1024 * 1024 + 3))
    })

    it('ECC: signs a digest, verifies online and offline; a changed file fails with exit 1', async () => {
      const s = json(await kmsctl('data', 'sign', path('release.tar'), '--key', 'alias/data-sign', '--json'))
      expect(s.output).to.equal(path('release.tar.sig.json'))
      const doc = JSON.parse(readFileSync(path('release.tar.sig.json'), 'utf8'))
      expect(doc).to.deep.include({format: 'kmsctl-signature/1', messageType: 'DIGEST', signingAlgorithm: 'ECDSA_SHA_256'})
      expect(doc.digest).to.deep.equal({algorithm: 'SHA-256', hex: sha(path('release.tar'))})
      expect(doc.keyArn).to.match(new RegExp(`key/${signEcc}$`))

      const online = await kmsctl('data', 'verify', path('release.tar'))
      expect(online.code, online.stderr).to.equal(0)
      expect(online.stderr).to.contain('Good signature')
      const offline = json(await kmsctl('data', 'verify', path('release.tar'), path('release.tar.sig.json'), '--offline', '--json'))
      expect(offline).to.deep.include({method: 'offline', valid: true})

      const changed = readFileSync(path('release.tar'))
      changed[1000] ^= 1
      writeFileSync(path('changed.tar'), changed)
      const bad = await kmsctl('data', 'verify', path('changed.tar'), path('release.tar.sig.json'))
      expect(bad.code).to.equal(1)
      expect(bad.stderr).to.contain('BAD signature')
      expect(bad.stderr).to.contain('the file changed since it was signed')
    })

    it('RSA-PSS: a forged signature fails online and offline with exit 1', async () => {
      const s = await kmsctl('data', 'sign', path('release.tar'), '--key', signRsa, '--algorithm', 'RSASSA_PSS_SHA_384', '-o', path('rsa.sig'))
      expect(s.code, s.stderr).to.equal(0)
      expect((await kmsctl('data', 'verify', path('release.tar'), path('rsa.sig'))).code).to.equal(0)
      expect((await kmsctl('data', 'verify', path('release.tar'), path('rsa.sig'), '--offline')).code).to.equal(0)
      const doc = JSON.parse(readFileSync(path('rsa.sig'), 'utf8'))
      const sig = Buffer.from(doc.signature, 'base64')
      sig[10] ^= 1
      writeFileSync(path('forged.sig'), JSON.stringify({...doc, signature: sig.toString('base64')}))
      for (const extra of [[], ['--offline']]) {
        const r = await kmsctl('data', 'verify', path('release.tar'), path('forged.sig'), ...extra, '--json')
        expect(r.code).to.equal(1)
        expect(json(r)).to.deep.include({reason: 'signature-invalid', valid: false})
      }
    })

    it('the AWS CLI verifies the signature (MessageType DIGEST), and so does openssl with the public key', async () => {
      const doc = JSON.parse(readFileSync(path('release.tar.sig.json'), 'utf8'))
      const target = {accessKeyId: DEFAULT_ACCESS_KEY_ID, home: work, secretAccessKey: DEFAULT_SECRET_ACCESS_KEY, url: server.url}
      writeFileSync(path('digest.bin'), Buffer.from(doc.digest.hex, 'hex'))
      writeFileSync(path('sig.der'), Buffer.from(doc.signature, 'base64'))
      const aws = await runAws(target, ['kms', 'verify', '--key-id', doc.keyArn, '--message', `fileb://${path('digest.bin')}`, '--message-type', 'DIGEST', '--signature', `fileb://${path('sig.der')}`, '--signing-algorithm', 'ECDSA_SHA_256'])
      expect(aws.code, aws.stderr).to.equal(0)
      expect(aws.json.SignatureValid).to.equal(true)
      const pub = await runAws(target, ['kms', 'get-public-key', '--key-id', doc.keyArn])
      writeFileSync(path('pub.der'), Buffer.from(pub.json.PublicKey, 'base64'))
      const ossl = await shell('openssl pkey -pubin -inform DER -in pub.der -out pub.pem && openssl dgst -sha256 -verify pub.pem -signature sig.der release.tar')
      expect(ossl.code, ossl.stderr).to.equal(0)
    })

    it('a symmetric key asked to sign is refused with the fix', async () => {
      const r = await kmsctl('data', 'sign', path('release.tar'), '--key', 'alias/data-a', '-o', path('sym.sig'))
      expect(r.code).to.equal(2)
      expect(r.stderr).to.contain('alias/data-a is a symmetric encryption key: it cannot sign.')
      expect(existsSync(path('sym.sig'))).to.equal(false)
    })
  })
})
