// End to end: the built CLI's `sandbox serve` over HTTP with the real AWS SDK, and the sandbox
// commands (status, reset, export-trail) and `--sandbox` (in-process) on the same directory.
import {CloudTrailClient, LookupEventsCommand} from '@aws-sdk/client-cloudtrail'
import {
  CreateAliasCommand,
  CreateKeyCommand,
  DecryptCommand,
  DescribeKeyCommand,
  DisableKeyCommand,
  EncryptCommand,
  KMSClient,
  ListKeysCommand,
  ScheduleKeyDeletionCommand,
} from '@aws-sdk/client-kms'
import {GetCallerIdentityCommand, STSClient} from '@aws-sdk/client-sts'
import {expect} from 'chai'
import {spawn} from 'node:child_process'
import {mkdtempSync, readdirSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {DEFAULT_ACCESS_KEY_ID, DEFAULT_PRINCIPAL_ARN, DEFAULT_SECRET_ACCESS_KEY, SANDBOX_ACCOUNT} from '../../src/sandbox/constants.js'
import {binRun, json, projectRoot, runCli} from '../helpers/cli.js'
import {type SandboxServer, startSandboxServer} from '../helpers/sandbox-server.js'
import {signRequest} from '../sandbox/raw-client.js'

function walk(dir: string): string[] {
  return readdirSync(dir, {withFileTypes: true}).flatMap((e) => (e.isDirectory() ? walk(join(dir, e.name)) : [join(dir, e.name)]))
}

describe('e2e: kmsctl sandbox serve over HTTP', () => {
  let server: SandboxServer
  let kms: KMSClient
  let config: () => Record<string, unknown>
  before(async () => {
    server = await startSandboxServer()
    const settings = {
      credentials: {accessKeyId: DEFAULT_ACCESS_KEY_ID, secretAccessKey: DEFAULT_SECRET_ACCESS_KEY},
      endpoint: server.url,
      maxAttempts: 1,
      region: 'us-east-1',
    }
    config = () => ({...settings})
    kms = new KMSClient(settings)
  })
  after(async () => {
    await server?.stop()
  })

  it('serves KMS to the real SDK: create, alias, encrypt, decrypt, errors by name', async () => {
    expect(server.url).to.match(/^http:\/\/127\.0\.0\.1:\d+$/)
    const key = (await kms.send(new CreateKeyCommand({Description: 'e2e'}))).KeyMetadata!
    await kms.send(new CreateAliasCommand({AliasName: 'alias/e2e', TargetKeyId: key.KeyId}))
    const ct = await kms.send(new EncryptCommand({EncryptionContext: {purpose: 'e2e'}, KeyId: 'alias/e2e', Plaintext: Buffer.from('over the wire')}))
    const pt = await kms.send(new DecryptCommand({CiphertextBlob: ct.CiphertextBlob, EncryptionContext: {purpose: 'e2e'}}))
    expect(Buffer.from(pt.Plaintext!).toString()).to.equal('over the wire')
    const missing = await kms.send(new DescribeKeyCommand({KeyId: 'alias/none'})).catch((error) => error)
    expect(missing.name).to.equal('NotFoundException')
    expect(missing.$metadata.httpStatusCode).to.equal(400)
    await kms.send(new DisableKeyCommand({KeyId: key.KeyId}))
    const disabled = await kms.send(new DecryptCommand({CiphertextBlob: ct.CiphertextBlob, EncryptionContext: {purpose: 'e2e'}})).catch((error) => error)
    expect(disabled.name).to.equal('DisabledException')
  })

  it('serves CloudTrail LookupEvents with the calls just made, and STS GetCallerIdentity', async () => {
    const ct = new CloudTrailClient(config())
    // The server batches appends: LookupEvents flushes them first.
    const out = await ct.send(new LookupEventsCommand({LookupAttributes: [{AttributeKey: 'EventName', AttributeValue: 'Decrypt'}]}))
    expect(out.Events!.length).to.be.greaterThanOrEqual(2)
    const failed = out.Events!.map((e) => JSON.parse(e.CloudTrailEvent!)).find((e) => e.errorCode)
    expect(failed).to.include({errorCode: 'DisabledException', sourceIPAddress: '127.0.0.1'})
    const id = await new STSClient(config()).send(new GetCallerIdentityCommand({}))
    expect(id).to.include({Account: SANDBOX_ACCOUNT, Arn: DEFAULT_PRINCIPAL_ARN})
  })

  it('answers errors exactly as AWS JSON 1.1 does, STS in XML, and unknown targets with UnknownOperationException', async () => {
    const host = new URL(server.url).host
    const post = async (headers: Record<string, string>, body: string) =>
      fetch(server.url, {body, headers: await signRequest(DEFAULT_ACCESS_KEY_ID, headers['x-amz-target'] ? 'kms' : 'sts', {...headers, host}, body), method: 'POST'})
    const res = await post({'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'TrentService.DescribeKey'}, '{"KeyId":"alias/nope"}')
    expect(res.status).to.equal(400)
    expect(res.headers.get('x-amzn-errortype')).to.equal('NotFoundException')
    expect(res.headers.get('x-amzn-requestid')).to.match(/^[0-9a-f-]{36}$/)
    expect(await res.json()).to.deep.equal({__type: 'NotFoundException', message: `Alias arn:aws:kms:us-east-1:${SANDBOX_ACCOUNT}:alias/nope is not found.`})
    const unknown = await post({'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'TrentService.NoSuchThing'}, '{}')
    expect(unknown.status).to.equal(400)
    expect(((await unknown.json()) as {__type: string}).__type).to.equal('UnknownOperationException')
    const notJson = await post({'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'TrentService.ListKeys'}, '{oops')
    expect(((await notJson.json()) as {__type: string}).__type).to.equal('SerializationException')
    const sts = await post({'content-type': 'application/x-www-form-urlencoded'}, 'Action=GetCallerIdentity&Version=2011-06-15')
    expect(sts.status).to.equal(200)
    expect(sts.headers.get('content-type')).to.equal('text/xml')
    const xml = await sts.text()
    expect(xml).to.contain(`<Arn>${DEFAULT_PRINCIPAL_ARN}</Arn>`)
    expect(xml).to.contain(`<Account>${SANDBOX_ACCOUNT}</Account>`)
  })

  it('kmsctl --sandbox (in process) on the same directory sees the server\'s keys, and the server sees its writes', async () => {
    const serverKeys = (await kms.send(new ListKeysCommand({}))).Keys!.map((k) => k.KeyId)
    const listed = await runCli(['key', 'list', '--sandbox', '--json', '--sandbox-dir', server.dir], {env: {AWS_ACCESS_KEY_ID: ''}})
    expect(listed.code, listed.stderr).to.equal(0)
    expect(json(listed).map((k: {keyId: string}) => k.keyId)).to.deep.equal(serverKeys)
    const created = await runCli(['key', 'create', '--description', 'in-process', '--sandbox', '--json', '--sandbox-dir', server.dir], {env: {AWS_ACCESS_KEY_ID: ''}})
    expect(created.code, created.stderr).to.equal(0)
    const {keyId} = json(created)
    expect((await kms.send(new DescribeKeyCommand({KeyId: keyId}))).KeyMetadata!.Description).to.equal('in-process')
    // The in-process call was recorded with the default sandbox credentials and 127.0.0.1.
    const ct = new CloudTrailClient(config())
    const events = await ct.send(new LookupEventsCommand({LookupAttributes: [{AttributeKey: 'ResourceName', AttributeValue: `arn:aws:kms:us-east-1:${SANDBOX_ACCOUNT}:key/${keyId}`}]}))
    const record = JSON.parse(events.Events!.find((e) => e.EventName === 'CreateKey')!.CloudTrailEvent!)
    expect(record).to.deep.include({sourceIPAddress: '127.0.0.1'})
    expect(record.userIdentity.accessKeyId).to.equal(DEFAULT_ACCESS_KEY_ID)
    const status = await runCli(['sandbox', 'status', '--json', '--sandbox-dir', server.dir])
    expect(status.code, status.stderr).to.equal(0)
    expect(json(status)).to.include({dir: server.dir, keys: serverKeys.length + 1})
    expect(json(status).eventsRecorded).to.be.greaterThan(0)
    // Leave one key, disabled, for the next test.
    await kms.send(new ScheduleKeyDeletionCommand({KeyId: keyId, PendingWindowInDays: 7}))
  })

  it('status, export-trail and reset on the server\'s directory', async () => {
    const out = mkdtempSync(join(tmpdir(), 'kmsctl-e2e-trail-'))
    // Let the server's batched appends reach the file.
    await new Promise((r) => setTimeout(r, 100))
    const exported = await runCli(['sandbox', 'export-trail', out, '--json', '--sandbox-dir', server.dir])
    expect(exported.code, exported.stderr).to.equal(0)
    expect(json(exported).records).to.be.greaterThan(0)
    expect(walk(out).every((f) => /AWSLogs\/111122223333\/CloudTrail\/us-east-1\/\d{4}\/\d\d\/\d\d\/111122223333_CloudTrail_us-east-1_\d{8}T\d{4}Z_\w{16}\.json\.gz$/.test(f))).to.equal(true)
    const human = await runCli(['sandbox', 'status', '--sandbox-dir', server.dir])
    expect(human.stdout).to.match(/Keys\s+2 \(Disabled 1, PendingDeletion 1\)/)
    expect(human.stderr).to.match(/Never use it to protect real data/)
    const refused = await runCli(['sandbox', 'reset', '--sandbox-dir', server.dir])
    expect(refused.code).to.equal(2)
    expect(refused.stderr).to.match(/--yes/)
    const reset = await runCli(['sandbox', 'reset', '--yes', '--json', '--sandbox-dir', server.dir])
    expect(reset.code, reset.stderr).to.equal(0)
    expect(json(reset).removed.keys).to.equal(2)
    // The running server sees the reset (it reloads the state file when it changes).
    expect((await kms.send(new ListKeysCommand({}))).Keys).to.deep.equal([])
  })
})

describe('e2e: kmsctl sandbox serve flags and lifecycle', () => {
  it('refuses a non-loopback host without --allow-remote (exit 2)', async () => {
    const r = await runCli(['sandbox', 'serve', '--host', '0.0.0.0', '--port', '0', '--sandbox-dir', mkdtempSync(join(tmpdir(), 'kmsctl-e2e-'))])
    expect(r.code).to.equal(2)
    expect(r.stderr).to.match(/not a loopback address/)
    expect(r.stdout).to.equal('')
  })

  it('names a port already in use (exit 1) with the fix', async () => {
    const busy = await startSandboxServer()
    try {
      const r = await runCli(['sandbox', 'serve', '--port', String(busy.port), '--sandbox-dir', mkdtempSync(join(tmpdir(), 'kmsctl-e2e-'))])
      expect(r.code).to.equal(1)
      expect(r.stderr).to.contain(`Port ${busy.port} on 127.0.0.1 is already in use.`)
      expect(r.stderr).to.contain('Try this: --port 0')
      expect(r.stdout).to.equal('')
    } finally {
      await busy.stop()
    }
  })

  it('prints one JSON document under --json and exits 0 on SIGTERM and SIGINT', async () => {
    for (const signal of ['SIGTERM', 'SIGINT'] as const) {
      const dir = mkdtempSync(join(tmpdir(), 'kmsctl-e2e-'))
      const child = spawn(process.execPath, [binRun, 'sandbox', 'serve', '--port', '0', '--json', '--sandbox-dir', dir], {cwd: projectRoot, env: {...process.env, NODE_OPTIONS: ''}})
      let stdout = ''
      child.stdout.on('data', (d) => {
        stdout += d
      })
      await new Promise<void>((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`no JSON line: ${stdout}`)), 20_000)
        child.stdout.on('data', () => {
          if (stdout.includes('}')) {
            clearTimeout(t)
            resolve()
          }
        })
      })
      const doc = JSON.parse(stdout)
      expect(doc).to.have.keys(['dir', 'port', 'url'])
      expect(doc.dir).to.equal(dir)
      expect(doc.url).to.equal(`http://127.0.0.1:${doc.port}`)
      const code = await new Promise<number | null>((resolve) => {
        child.on('exit', (c) => resolve(c))
        child.kill(signal)
      })
      expect(code, signal).to.equal(0)
      expect(JSON.parse(stdout)).to.deep.equal(doc)
    }
  })
})
