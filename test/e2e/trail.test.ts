// `kmsctl trail` end to end: calls made with kmsctl and with the AWS CLI v2 (/usr/bin/aws, the Debian
// package; a v1 `aws` earlier on PATH is not used) as two different access keys are found by
// `trail query --key alias/x` with the right who, when, from and key: from LookupEvents, and after
// `kmsctl sandbox export-trail`, from the log files with the same results.
import {expect} from 'chai'
import {spawn} from 'node:child_process'
import {existsSync, mkdtempSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {SANDBOX_ACCOUNT} from '../../src/sandbox/constants.js'
import {binRun, json, runCli} from '../helpers/cli.js'
import {type SandboxServer, startSandboxServer} from '../helpers/sandbox-server.js'

const AWS = '/usr/bin/aws'
const APP_KEY_ID = 'AKIAAPPTRAILTEST0001'
const APP_ARN = `arn:aws:iam::${SANDBOX_ACCOUNT}:user/app-writer`

interface Event {
  event: string
  eventId: string
  from: string
  key: string
  keyArn: string
  principal: {accessKeyId?: string; arn?: string}
  time: string
  userAgent: string
  who: string
}

describe('e2e: trail query and trail who', function () {
  this.timeout(180_000)
  let server: SandboxServer
  let work: string
  let started: string
  let finished: string
  let keyArn: string

  function aws(...args: string[]): Promise<{code: number | null; stderr: string; stdout: string}> {
    return new Promise((resolve, reject) => {
      const child = spawn(AWS, ['--endpoint-url', server.url, '--output', 'json', ...args], {
        env: {
          AWS_ACCESS_KEY_ID: APP_KEY_ID,
          AWS_CONFIG_FILE: '/dev/null',
          AWS_DEFAULT_REGION: 'us-east-1',
          AWS_ENDPOINT_URL: server.url,
          AWS_PAGER: '',
          AWS_SECRET_ACCESS_KEY: 'app-writer-secret-not-real-000000000000',
          AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
          HOME: work,
          LANG: 'C.UTF-8',
          PATH: '/usr/bin:/bin',
        },
      })
      let stdout = ''
      let stderr = ''
      child.stdout.on('data', (d) => (stdout += d))
      child.stderr.on('data', (d) => (stderr += d))
      child.on('error', reject)
      child.on('close', (code) => resolve({code, stderr, stdout}))
    })
  }

  const kmsctl = (args: string[]) => runCli(args, {env: {...server.env, KMSCTL_SANDBOX_DIR: server.dir}})

  before(async function () {
    if (!existsSync(AWS)) {
      process.stderr.write(`trail e2e skipped: ${AWS} is missing (install the Debian package awscli).\n`)
      this.skip()
    }

    server = await startSandboxServer()
    work = mkdtempSync(join(tmpdir(), 'kmsctl-trail-e2e-'))
    const created = await kmsctl(['key', 'create', '--alias', 'alias/x', '--description', 'trail test', '--json'])
    expect(created.code, created.stderr).to.equal(0)
    keyArn = json(created).arn ?? json(created).keyArn ?? json(created).metadata?.Arn
    // The window of the calls below (CloudTrail times have whole seconds): after the key's creation
    // (whose alias check named alias/x before it existed), before the queries' own calls.
    await new Promise((resolve) => setTimeout(resolve, 1100))
    started = new Date(Math.floor(Date.now() / 1000) * 1000).toISOString()
    // kmsctl, as the sandbox administrator (the default access key).
    const verified = await kmsctl(['key', 'verify', 'alias/x', '--json'])
    expect(verified.code, verified.stderr).to.equal(0)
    // The AWS CLI, as another principal with its own access key.
    const added = await kmsctl(['sandbox', 'principal', 'add', APP_KEY_ID, APP_ARN, '--iam-allow', 'kms:*', '--sandbox-dir', server.dir])
    expect(added.code, added.stderr).to.equal(0)
    writeFileSync(join(work, 'plain.txt'), 'not a secret')
    const enc = await aws('kms', 'encrypt', '--key-id', 'alias/x', '--plaintext', `fileb://${join(work, 'plain.txt')}`)
    expect(enc.code, enc.stderr).to.equal(0)
    const denied = await aws('kms', 'describe-key', '--key-id', 'alias/x')
    expect(denied.code, denied.stderr).to.equal(0)
    finished = new Date(Math.ceil(Date.now() / 1000) * 1000).toISOString()
    await new Promise((resolve) => setTimeout(resolve, 1100))
  })

  after(async () => {
    await server?.stop()
  })

  let fromApi: Event[]

  it('api source: both principals, with who, when, from and key', async () => {
    // The window of the calls above: the queries' own DescribeKey calls come later and are left out.
    const r = await kmsctl(['trail', 'query', '--key', 'alias/x', '--since', started, '--until', finished, '--json'])
    expect(r.code, r.stderr).to.equal(0)
    fromApi = json<Event[]>(r)
    const byWho = (who: string) => fromApi.filter((e) => e.who === who)
    const admin = byWho('user/sandbox-admin')
    const app = byWho('user/app-writer')
    expect(admin.map((e) => e.event)).to.include.members(['DescribeKey', 'GenerateDataKey', 'Decrypt'])
    expect(app.map((e) => e.event).sort()).to.deep.equal(['DescribeKey', 'Encrypt'])
    for (const e of fromApi) {
      expect(Date.parse(e.time), e.time).to.be.within(Date.parse(started), Date.parse(finished))
      expect(e.from).to.match(/^(127\.0\.0\.1|::1|::ffff:127\.0\.0\.1)$/)
      expect(e.keyArn).to.match(/^arn:aws:kms:us-east-1:111122223333:key\//)
      if (keyArn) expect(e.keyArn).to.equal(keyArn)
    }

    expect(app.every((e) => e.key === 'alias/x' && e.principal.accessKeyId === APP_KEY_ID && /aws-cli\/2\./.test(e.userAgent))).to.equal(true)
    expect(admin.every((e) => /kmsctl/.test(e.userAgent))).to.equal(true)
    // Oldest first.
    expect(fromApi.map((e) => e.time)).to.deep.equal([...fromApi.map((e) => e.time)].sort())
  })

  it('files source after sandbox export-trail: the same events', async () => {
    const dir = join(work, 'logs')
    const exported = await kmsctl(['sandbox', 'export-trail', dir, '--sandbox-dir', server.dir])
    expect(exported.code, exported.stderr).to.equal(0)
    const r = await runCli(['trail', 'query', '--source', 'files', dir, '--key', 'alias/x', '--since', started, '--until', finished, '--json'])
    expect(r.code, r.stderr).to.equal(0)
    const fromFiles = json<Event[]>(r)
    const view = (events: Event[]) => events.map((e) => [e.eventId, e.time, e.event, e.who, e.from, e.key]).sort()
    expect(view(fromFiles)).to.deep.equal(view(fromApi))
    expect(fromFiles.length).to.be.greaterThan(3)
  })

  it('--principal and --group-by over the api source', async () => {
    const r = await kmsctl(['trail', 'query', '--key', 'alias/x', '--principal', 'app-*', '--group-by', 'event', '--since', started, '--json'])
    expect(json(r).map((g: {count: number; value: string}) => [g.value, g.count]).sort()).to.deep.equal([
      ['DescribeKey', 1],
      ['Encrypt', 1],
    ])
  })

  it('trail who lists both callers', async () => {
    const r = await kmsctl(['trail', 'who', 'alias/x'])
    expect(r.code, r.stderr).to.equal(0)
    expect(r.stdout).to.match(/user\/app-writer\s+\S+\s+2\s+DescribeKey, Encrypt/)
    expect(r.stdout).to.contain('user/sandbox-admin')
  })

  it('bad input is refused before anything is read', async () => {
    const r = await kmsctl(['trail', 'query', '--key', 'alias/x', '--since', '2h', '--until', '3h'])
    expect(r.code).to.equal(2)
    expect(r.stderr.trim().split('\n')).to.have.length(2)
    expect(r.stderr).to.match(/^Error: --since .* is after --until/)
  })
})

describe('e2e: trail query under the LookupEvents quota', function () {
  this.timeout(180_000)
  let server: SandboxServer

  before(async () => {
    // 400 DescribeKey events (8 pages) recorded without quotas, then read with AWS's quotas on.
    const seeder = await startSandboxServer()
    const created = await runCli(['key', 'create', '--description', 'trail quota test', '--json'], {env: seeder.env})
    expect(created.code, created.stderr).to.equal(0)
    const {DescribeKeyCommand, KMSClient} = await import('@aws-sdk/client-kms')
    const kms = new KMSClient({credentials: {accessKeyId: seeder.env.AWS_ACCESS_KEY_ID!, secretAccessKey: seeder.env.AWS_SECRET_ACCESS_KEY!}, endpoint: seeder.url, region: 'us-east-1'})
    const keyId = json(created).keyId
    for (let i = 0; i < 400; i += 20) {
      // eslint-disable-next-line no-await-in-loop
      await Promise.all(Array.from({length: 20}, () => kms.send(new DescribeKeyCommand({KeyId: keyId}))))
    }

    kms.destroy()
    await seeder.stop()
    server = await startSandboxServer({args: ['--quotas', 'aws'], dir: seeder.dir})
  })

  after(async () => {
    await server?.stop()
  })

  it('paces under the quota: 8 pages in about 4 s, no throttling surfaced', async () => {
    const t0 = Date.now()
    const r = await runCli(['trail', 'query', '--event', 'DescribeKey', '--json'], {env: server.env})
    const ms = Date.now() - t0
    expect(r.code, r.stderr).to.equal(0)
    expect(json(r)).to.have.length(400)
    expect(r.stderr).to.equal('')
    expect(ms).to.be.within(3000, 9000)
  })

  it('Ctrl-C prints what was found so far and exits 130', async () => {
    const child = spawn(process.execPath, [binRun, 'trail', 'query', '--event', 'DescribeKey', '--json'], {env: {...process.env, ...server.env, NODE_OPTIONS: ''}})
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d) => (stdout += d))
    child.stderr.on('data', (d) => (stderr += d))
    const code = await new Promise<number | null>((resolve) => {
      setTimeout(() => child.kill('SIGINT'), 2500)
      child.on('close', resolve)
    })
    // Both streams in the message: with --json an error is on stdout.
    expect(code, `stderr: ${stderr.slice(0, 300)} stdout: ${stdout.slice(0, 300)}`).to.equal(130)
    const found = JSON.parse(stdout)
    expect(found.length).to.be.within(50, 350)
    expect(stderr).to.contain(`Interrupted: ${found.length} matching events found so far.`)
  })
})
