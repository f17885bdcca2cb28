// End to end: the sandbox's realism over HTTP with the real AWS SDK and the built CLI: principals
// attributed by their access key, key policy and grant enforcement, denials in CloudTrail, the clock,
// quotas and injected faults.
import {CloudTrailClient, LookupEventsCommand} from '@aws-sdk/client-cloudtrail'
import {
  CreateGrantCommand,
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

import {DEFAULT_ACCESS_KEY_ID, DEFAULT_SECRET_ACCESS_KEY, SANDBOX_ACCOUNT} from '../../src/sandbox/constants.js'
import {json, runCli} from '../helpers/cli.js'
import {type SandboxServer, startSandboxServer} from '../helpers/sandbox-server.js'

const READER = 'AKIAEXAMPLEREADER001'
const READER_ARN = `arn:aws:iam::${SANDBOX_ACCOUNT}:user/reader`
const SECRET = 'not-a-real-secret'

function clients(server: SandboxServer, accessKeyId: string) {
  // The sandbox checks the default credentials' signatures; the other access keys sign with any secret.
  const secretAccessKey = accessKeyId === DEFAULT_ACCESS_KEY_ID ? DEFAULT_SECRET_ACCESS_KEY : SECRET
  const settings = {credentials: {accessKeyId, secretAccessKey}, endpoint: server.url, maxAttempts: 1, region: 'us-east-1'}
  return {kms: new KMSClient(settings), sts: new STSClient(settings), trail: new CloudTrailClient(settings)}
}

const fail = (p: Promise<unknown>) => p.then(() => undefined, (error: {message: string; name: string}) => error)

describe('e2e: sandbox realism (principals, enforcement, clock, quotas, faults)', function () {
  this.timeout(120_000)

  describe('two principals on one server', () => {
    let server: SandboxServer
    let admin: ReturnType<typeof clients>
    let reader: ReturnType<typeof clients>
    before(async () => {
      server = await startSandboxServer()
      admin = clients(server, DEFAULT_ACCESS_KEY_ID)
      reader = clients(server, READER)
      // Added while the server runs: it sees the change without a restart.
      const added = await runCli(['sandbox', 'principal', 'add', READER, READER_ARN, '--sandbox-dir', server.dir, '--json'])
      expect(added.code, added.stderr).to.equal(0)
      expect(json(added).principal).to.include({accessKeyId: READER, arn: READER_ARN, type: 'IAMUser'})
    })
    after(async () => {
      await server?.stop()
    })

    it('attributes requests by access key: STS GetCallerIdentity answers the principal', async () => {
      const me = await reader.sts.send(new GetCallerIdentityCommand({}))
      expect(me).to.include({Account: SANDBOX_ACCOUNT, Arn: READER_ARN})
      expect(me.UserId).to.match(/^AIDA[A-Z2-7]{17}$/)
    })

    it('denies Decrypt to a principal without rights, allows it through a grant with the matching context only', async () => {
      const key = (await admin.kms.send(new CreateKeyCommand({}))).KeyMetadata!
      const web = await admin.kms.send(new EncryptCommand({EncryptionContext: {app: 'web'}, KeyId: key.KeyId, Plaintext: Buffer.from('secret-web')}))
      const batch = await admin.kms.send(new EncryptCommand({EncryptionContext: {app: 'batch'}, KeyId: key.KeyId, Plaintext: Buffer.from('secret-batch')}))

      const denied = await fail(reader.kms.send(new DecryptCommand({CiphertextBlob: web.CiphertextBlob, EncryptionContext: {app: 'web'}})))
      expect(denied?.name).to.equal('AccessDeniedException')
      expect(denied?.message).to.equal(`User: ${READER_ARN} is not authorized to perform: kms:Decrypt on resource: ${key.Arn} because no identity-based policy allows the kms:Decrypt action`)

      await admin.kms.send(new CreateGrantCommand({Constraints: {EncryptionContextEquals: {app: 'web'}}, GranteePrincipal: READER_ARN, KeyId: key.KeyId, Operations: ['Decrypt']}))
      const ok = await reader.kms.send(new DecryptCommand({CiphertextBlob: web.CiphertextBlob, EncryptionContext: {app: 'web'}}))
      expect(Buffer.from(ok.Plaintext!).toString()).to.equal('secret-web')
      const other = await fail(reader.kms.send(new DecryptCommand({CiphertextBlob: batch.CiphertextBlob, EncryptionContext: {app: 'batch'}})))
      expect(other?.name).to.equal('AccessDeniedException')

      // The built CLI, run as the reader, reports the denial as such.
      const cli = await runCli(['key', 'describe', key.KeyId!, '--json'], {env: {...server.env, AWS_ACCESS_KEY_ID: READER, AWS_SECRET_ACCESS_KEY: SECRET}})
      expect(cli.code).to.equal(1)
      expect(json(cli).error.awsCode).to.equal('AccessDeniedException')
    })

    it('lets an explicit Deny in the key policy beat a grant', async () => {
      const policy = JSON.stringify({
        Statement: [
          {Action: 'kms:*', Effect: 'Allow', Principal: {AWS: `arn:aws:iam::${SANDBOX_ACCOUNT}:root`}, Resource: '*', Sid: 'Root'},
          {Action: 'kms:Decrypt', Effect: 'Deny', Principal: {AWS: READER_ARN}, Resource: '*', Sid: 'NeverTheReader'},
        ],
        Version: '2012-10-17',
      })
      const key = (await admin.kms.send(new CreateKeyCommand({Policy: policy}))).KeyMetadata!
      const ct = await admin.kms.send(new EncryptCommand({KeyId: key.KeyId, Plaintext: Buffer.from('x')}))
      await admin.kms.send(new CreateGrantCommand({GranteePrincipal: READER_ARN, KeyId: key.KeyId, Operations: ['Decrypt']}))
      const denied = await fail(reader.kms.send(new DecryptCommand({CiphertextBlob: ct.CiphertextBlob})))
      expect(denied?.message).to.equal(`User: ${READER_ARN} is not authorized to perform: kms:Decrypt on resource: ${key.Arn} with an explicit deny in a resource-based policy`)
    })

    it('records denied calls in CloudTrail with their errorCode, found by LookupEvents', async () => {
      const out = await admin.trail.send(new LookupEventsCommand({LookupAttributes: [{AttributeKey: 'Username', AttributeValue: 'reader'}]}))
      const records = out.Events!.map((e) => JSON.parse(e.CloudTrailEvent!))
      const denied = records.filter((r) => r.eventName === 'Decrypt' && r.errorCode === 'AccessDeniedException')
      expect(denied.length).to.equal(3)
      expect(denied[0].userIdentity).to.include({accessKeyId: READER, arn: READER_ARN, type: 'IAMUser', userName: 'reader'})
      expect(denied[0].errorMessage).to.match(/^User: arn:aws:iam::111122223333:user\/reader is not authorized to perform: kms:Decrypt/)
      expect(records.filter((r) => r.eventName === 'Decrypt' && !r.errorCode)).to.have.length(1)
      const byKey = await admin.trail.send(new LookupEventsCommand({LookupAttributes: [{AttributeKey: 'AccessKeyId', AttributeValue: READER}]}))
      expect(byKey.Events!.length).to.equal(out.Events!.length)
    })

    it('advancing the clock deletes a key pending deletion', async () => {
      const key = (await admin.kms.send(new CreateKeyCommand({}))).KeyMetadata!
      await admin.kms.send(new ScheduleKeyDeletionCommand({KeyId: key.KeyId, PendingWindowInDays: 7}))
      const moved = await runCli(['sandbox', 'clock', 'advance', '8d', '--sandbox-dir', server.dir, '--json'])
      expect(moved.code, moved.stderr).to.equal(0)
      expect(json(moved).deletedKeys).to.deep.equal([key.Arn])
      const gone = await fail(admin.kms.send(new DescribeKeyCommand({KeyId: key.KeyId})))
      expect(gone?.name).to.equal('NotFoundException')
      // CloudTrail times follow the sandbox clock.
      const last = await admin.trail.send(new LookupEventsCommand({LookupAttributes: [{AttributeKey: 'EventName', AttributeValue: 'DescribeKey'}], MaxResults: 1}))
      expect(last.Events![0].EventTime!.getTime() - Date.now()).to.be.greaterThan(7.9 * 86_400_000)
    })
  })

  describe('--quotas aws', () => {
    let server: SandboxServer
    before(async () => {
      server = await startSandboxServer({args: ['--quotas', 'aws']})
    })
    after(async () => {
      await server?.stop()
    })

    it('throttles 20 DisableKey calls fired at once down to about 5', async () => {
      const {kms} = clients(server, DEFAULT_ACCESS_KEY_ID)
      const key = (await kms.send(new CreateKeyCommand({}))).KeyMetadata!
      const results = await Promise.all(Array.from({length: 20}, () => kms.send(new DisableKeyCommand({KeyId: key.KeyId})).then(() => 'ok', (error: Error) => error.name)))
      const ok = results.filter((r) => r === 'ok').length
      // The bucket holds 5 and refills at 5/s: one more passes for every 200 ms the 20 calls take to
      // arrive (the exact counting is tested with a fake clock in test/sandbox/limits/quotas.test.ts).
      expect(ok).to.be.within(5, 8)
      expect(results.filter((r) => r === 'ThrottlingException')).to.have.length(20 - ok)
    })
  })

  describe('faults', () => {
    it('--fail-rate 1 answers HTTP 500 KMSInternalException; --drop-rate 1 closes connections', async () => {
      const failing = await startSandboxServer({args: ['--fail-rate', '1']})
      try {
        const error = await fail(clients(failing, DEFAULT_ACCESS_KEY_ID).kms.send(new ListKeysCommand({})))
        expect(error?.name).to.equal('KMSInternalException')
        expect((error as unknown as {$metadata: {httpStatusCode: number}}).$metadata.httpStatusCode).to.equal(500)
      } finally {
        await failing.stop()
      }

      const dropping = await startSandboxServer({args: ['--drop-rate', '1']})
      try {
        const error = await fail(clients(dropping, DEFAULT_ACCESS_KEY_ID).kms.send(new ListKeysCommand({})))
        expect(error).to.not.equal(undefined)
        expect((error as unknown as {code?: string}).code ?? error!.name).to.match(/ECONNRESET|socket hang up|TimeoutError|EPIPE/)
      } finally {
        await dropping.stop()
      }
    })

    it('refuses a bad realism flag with a usage error (exit 2)', async () => {
      const out = await runCli(['sandbox', 'serve', '--port', '0', '--latency', 'soon'])
      expect(out.code).to.equal(2)
      expect(out.stderr).to.contain('--latency "soon" is not a latency')
    })
  })
})
