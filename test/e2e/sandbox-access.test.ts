// Who may drive `kmsctl sandbox serve`: signed requests only (the default credentials' signatures are
// checked), loopback Host names only, and a sandbox directory no other user can read.
import {CreateKeyCommand, KMSClient, ListKeysCommand} from '@aws-sdk/client-kms'
import {expect} from 'chai'
import {type ChildProcess, spawn} from 'node:child_process'
import {mkdtempSync, readdirSync, statSync} from 'node:fs'
import http from 'node:http'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {DEFAULT_ACCESS_KEY_ID, DEFAULT_SECRET_ACCESS_KEY, SANDBOX_REGION} from '../../src/sandbox/constants.js'
import {binRun, projectRoot, runCli} from '../helpers/cli.js'
import {type SandboxServer, startSandboxServer} from '../helpers/sandbox-server.js'
import {signRequest} from '../sandbox/raw-client.js'

const KMS = {'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'TrentService.CreateKey'}

function walk(dir: string): string[] {
  return readdirSync(dir, {withFileTypes: true}).flatMap((e) => (e.isDirectory() ? [join(dir, e.name), ...walk(join(dir, e.name))] : [join(dir, e.name)]))
}

const mode = (path: string) => (statSync(path).mode & 0o777).toString(8)

/** `kmsctl ARGS` started by a shell whose umask is 000. */
function underUmask000(args: string[]): ChildProcess {
  const quoted = args.map((a) => `'${a.replaceAll("'", "'\\''")}'`).join(' ')
  return spawn('sh', ['-c', `umask 000 && exec '${process.execPath}' '${binRun}' ${quoted}`], {cwd: projectRoot, env: {...process.env, NODE_OPTIONS: ''}, stdio: ['ignore', 'pipe', 'pipe']})
}

const exitOf = (child: ChildProcess) =>
  new Promise<number | null>((resolve) => {
    if (child.exitCode !== null) resolve(child.exitCode)
    else child.once('exit', resolve)
  })

describe('e2e: sandbox access (signatures, Host names, file modes)', function () {
  this.timeout(120_000)
  let server: SandboxServer

  before(async () => {
    server = await startSandboxServer()
  })

  after(async () => {
    await server?.stop()
  })

  const keyCount = async () => {
    const kms = new KMSClient({credentials: {accessKeyId: DEFAULT_ACCESS_KEY_ID, secretAccessKey: DEFAULT_SECRET_ACCESS_KEY}, endpoint: server.url, region: SANDBOX_REGION})
    return (await kms.send(new ListKeysCommand({}))).Keys!.length
  }

  it('refuses an unsigned request (as curl sends it) with MissingAuthenticationTokenException, and creates nothing', async () => {
    const before = await keyCount()
    const res = await fetch(server.url, {body: '{}', headers: KMS, method: 'POST'})
    expect(res.status).to.equal(400)
    expect(res.headers.get('x-amzn-errortype')).to.equal('MissingAuthenticationTokenException')
    expect(await res.json()).to.deep.equal({__type: 'MissingAuthenticationTokenException', message: 'Missing Authentication Token'})
    expect(await keyCount()).to.equal(before)
  })

  it('refuses a garbage Authorization header (IncompleteSignatureException) and a bad signature (InvalidSignatureException)', async () => {
    const before = await keyCount()
    const garbage = await fetch(server.url, {body: '{}', headers: {...KMS, authorization: 'let me in'}, method: 'POST'})
    expect(garbage.status).to.equal(400)
    expect(((await garbage.json()) as {__type: string}).__type).to.equal('IncompleteSignatureException')
    const host = new URL(server.url).host
    const forged = await signRequest(DEFAULT_ACCESS_KEY_ID, 'kms', {...KMS, host}, '{}', 'a-guessed-secret-0000000000')
    const bad = await fetch(server.url, {body: '{}', headers: forged, method: 'POST'})
    expect(bad.status).to.equal(400)
    expect(((await bad.json()) as {__type: string}).__type).to.equal('InvalidSignatureException')
    // The same request signed with the right secret goes through.
    const good = await fetch(server.url, {body: '{}', headers: await signRequest(DEFAULT_ACCESS_KEY_ID, 'kms', {...KMS, host}, '{}'), method: 'POST'})
    expect(good.status).to.equal(200)
    expect(await keyCount()).to.equal(before + 1)
  })

  it('refuses a Host header other than a loopback name (DNS rebinding), even when well signed', async () => {
    const port = new URL(server.url).port
    // fetch sets Host from the URL: node:http sends the Host the request was signed for.
    const statusFor = async (host: string) => {
      const headers = await signRequest(DEFAULT_ACCESS_KEY_ID, 'kms', {...KMS, host}, '{}')
      return new Promise<number>((resolve, reject) => {
        const req = http.request({headers, host: '127.0.0.1', method: 'POST', path: '/', port}, (res) => {
          res.resume()
          resolve(res.statusCode ?? 0)
        })
        req.on('error', reject)
        req.end('{}')
      })
    }

    for (const host of ['attacker.example', `attacker.example:${port}`, `127.0.0.1:${Number(port) + 1}`]) expect(await statusFor(host), host).to.equal(403)
    for (const host of [`localhost:${port}`, `127.0.0.1:${port}`, `[::1]:${port}`]) expect(await statusFor(host), host).to.equal(200)
  })

  it('checks the signature of a principal added with --secret-access-key, and never prints the secret', async () => {
    const id = 'AKIAEXAMPLESIGNED001'
    const secret = 'signed-principal-secret-000000'
    const added = await runCli(['sandbox', 'principal', 'add', id, 'arn:aws:iam::111122223333:user/ci', '--iam-allow', 'kms:ListKeys', '--secret-access-key', secret, '--sandbox-dir', server.dir, '--json'])
    expect(added.code, added.stderr).to.equal(0)
    const listed = await runCli(['sandbox', 'principal', 'list', '--sandbox-dir', server.dir])
    for (const out of [added.stdout, added.stderr, listed.stdout, listed.stderr]) expect(out).to.not.contain(secret)
    expect(listed.stdout).to.match(/AKIAEXAMPLESIGNED001.*checked/)
    const as = (secretAccessKey: string) => new KMSClient({credentials: {accessKeyId: id, secretAccessKey}, endpoint: server.url, maxAttempts: 1, region: SANDBOX_REGION})
    const refused = await as('a-wrong-secret-0000000000').send(new ListKeysCommand({})).catch((error: Error) => error)
    expect((refused as Error).name).to.equal('InvalidSignatureException')
    expect((await as(secret).send(new ListKeysCommand({}))).Keys).to.be.an('array')
  })

  it('under umask 000, creates the sandbox directory 0700 and its files and exported logs 0600', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'kmsctl-umask-')), 'sandbox')
    const out = join(mkdtempSync(join(tmpdir(), 'kmsctl-umask-out-')), 'logs')
    const child = underUmask000(['sandbox', 'serve', '--port', '0', '--sandbox-dir', dir])
    try {
      const url = await new Promise<string>((resolve, reject) => {
        let text = ''
        child.stdout!.on('data', (d: Buffer) => {
          text += d.toString()
          const m = /Sandbox listening on (http:\/\/\S+)/.exec(text)
          if (m) resolve(m[1])
        })
        child.once('exit', (code) => reject(new Error(`sandbox serve exited (${code})`)))
      })
      const kms = new KMSClient({credentials: {accessKeyId: DEFAULT_ACCESS_KEY_ID, secretAccessKey: DEFAULT_SECRET_ACCESS_KEY}, endpoint: url, region: SANDBOX_REGION})
      await kms.send(new CreateKeyCommand({}))
      expect(await exitOf(underUmask000(['sandbox', 'principal', 'add', 'AKIAEXAMPLEREADER001', 'arn:aws:iam::111122223333:user/reader', '--sandbox-dir', dir]))).to.equal(0)
    } finally {
      child.kill('SIGTERM')
      await exitOf(child)
    }

    const exported = await exitOf(underUmask000(['sandbox', 'export-trail', out, '--sandbox-dir', dir]))
    expect(exported).to.equal(0)
    expect(mode(dir)).to.equal('700')
    for (const name of ['state.json', 'events.jsonl', 'principals.json']) expect(mode(join(dir, name)), name).to.equal('600')
    const files = walk(out)
    expect(files.some((f) => f.endsWith('.json.gz'))).to.equal(true)
    for (const f of files) expect(mode(f), f).to.equal(f.endsWith('.json.gz') ? '600' : '700')
  })
})
