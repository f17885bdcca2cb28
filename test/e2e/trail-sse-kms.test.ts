// SSE-KMS in the sandbox's S3, end to end against `kmsctl sandbox serve`: trail log objects exported
// encrypted under a sandbox KMS key are read by `trail query --source s3` (S3 decrypts their data
// keys with KMS, as the caller, recorded in CloudTrail as invoked by s3.amazonaws.com); once the key
// is disabled every object is named with KMS's reason and the query exits 3; the AWS CLI v2 sees the
// encryption headers and writes SSE-KMS objects with PutObject.
import {expect} from 'chai'
import {mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {runAws} from '../helpers/awscli.js'
import {type CliResult, json, runCli} from '../helpers/cli.js'
import {type SandboxServer, startSandboxServer} from '../helpers/sandbox-server.js'

const ORG = 'o-sseorgtest01'

describe('e2e: SSE-KMS trail objects in the sandbox S3', function () {
  this.timeout(300_000)
  let server: SandboxServer
  let work: string
  let keyArn: string
  let objectKey: string

  const ids = (r: CliResult): string[] => {
    expect(r.code, r.stderr).to.equal(0)
    return json<Array<{eventId: string}>>(r)
      .map((e) => e.eventId)
      .sort()
  }

  const aws = async (...args: string[]) => {
    const r = await runAws({accessKeyId: server.env.AWS_ACCESS_KEY_ID!, home: work, secretAccessKey: server.env.AWS_SECRET_ACCESS_KEY!, url: server.url}, args)
    return {code: r.code, errorCode: r.errorCode, errorMessage: r.errorMessage, stderr: r.stderr, stdout: r.stdout}
  }

  before(async () => {
    work = mkdtempSync(join(tmpdir(), 'kmsctl-sse-kms-'))
    server = await startSandboxServer()
    const created = await runCli(['key', 'create', '--alias', 'alias/trail-logs', '--json'], {env: server.env})
    expect(created.code, created.stderr).to.equal(0)
    keyArn = json<{arn: string}>(created).arn
    for (let i = 0; i < 3; i++) {
      // eslint-disable-next-line no-await-in-loop
      await runCli(['key', 'describe', 'alias/trail-logs', '--json'], {env: server.env})
    }

    const exported = await runCli(['sandbox', 'export-trail', '--org', ORG, '--bucket', 'enc-trail', '--sse-kms', 'alias/trail-logs', '--sandbox-dir', server.dir, '--json'], {env: server.env})
    expect(exported.code, exported.stderr).to.equal(0)
    expect(json<{sseKmsKeyId: string}>(exported).sseKmsKeyId).to.equal('alias/trail-logs')
    const files = json<{files: string[]; outDir: string}>(exported)
    objectKey = files.files[0].slice(files.outDir.length + 1)
  })

  after(async () => {
    await server?.stop()
    rmSync(work, {force: true, recursive: true})
  })

  it('export-trail --sse-kms without --bucket is a usage error', async () => {
    const r = await runCli(['sandbox', 'export-trail', join(work, 'out'), '--sse-kms', 'alias/trail-logs', '--sandbox-dir', server.dir], {env: server.env})
    expect(r.code).to.equal(2)
    expect(r.stderr).to.include('--sse-kms encrypts objects of the sandbox\'s S3: give --bucket.')
  })

  it('trail query --source s3 reads SSE-KMS objects: the same events as the files on disk', async () => {
    const s3 = ids(await runCli(['trail', 'query', '--source', 's3', 's3://enc-trail', '--json'], {env: server.env}))
    const files = ids(await runCli(['trail', 'query', '--source', 'files', join(server.dir, 's3', 'enc-trail'), '--json'], {env: server.env}))
    expect(s3.length).to.be.at.least(4)
    expect(s3).to.deep.equal(files)
    // In one thread too (the SDK's client instead of the scanning threads' own GETs).
    const inline = ids(await runCli(['trail', 'query', '--source', 's3', 's3://enc-trail', '--workers', '0', '--json'], {env: server.env}))
    expect(inline).to.deep.equal(files)
  })

  it('S3\'s Decrypt on the caller\'s behalf is in CloudTrail as AWS writes it', async () => {
    const r = await aws('cloudtrail', 'lookup-events', '--lookup-attributes', 'AttributeKey=EventName,AttributeValue=Decrypt', '--max-results', '5')
    expect(r.code, r.stderr).to.equal(0)
    const events = JSON.parse(r.stdout).Events.map((e: {CloudTrailEvent: string}) => JSON.parse(e.CloudTrailEvent))
    const viaS3 = events.find((e: Record<string, any>) => e.requestParameters?.encryptionContext?.['aws:s3:arn'] === `arn:aws:s3:::enc-trail/${objectKey}`)
    expect(viaS3, JSON.stringify(events.slice(0, 1))).to.not.equal(undefined)
    expect(viaS3.userIdentity.invokedBy).to.equal('s3.amazonaws.com')
    expect(viaS3.userIdentity.accessKeyId).to.equal(server.env.AWS_ACCESS_KEY_ID)
    expect(viaS3.sourceIPAddress).to.equal('s3.amazonaws.com')
    expect(viaS3.userAgent).to.equal('s3.amazonaws.com')
    expect(viaS3.requestParameters.keyId).to.equal(keyArn)
    expect(viaS3.errorCode).to.equal(undefined)
  })

  it('the AWS CLI sees the encryption headers (head-object, get-object), and writes SSE-KMS objects', async () => {
    const head = await aws('s3api', 'head-object', '--bucket', 'enc-trail', '--key', objectKey)
    expect(head.code, head.stderr).to.equal(0)
    expect(JSON.parse(head.stdout)).to.include({SSEKMSKeyId: keyArn, ServerSideEncryption: 'aws:kms'})
    const got = await aws('s3api', 'get-object', '--bucket', 'enc-trail', '--key', objectKey, join(work, 'object.json.gz'))
    expect(got.code, got.stderr).to.equal(0)
    expect(JSON.parse(got.stdout)).to.include({SSEKMSKeyId: keyArn, ServerSideEncryption: 'aws:kms'})
    writeFileSync(join(work, 'note.txt'), 'hello\n')
    const put = await aws('s3api', 'put-object', '--bucket', 'enc-trail', '--key', 'notes/note.txt', '--body', join(work, 'note.txt'), '--server-side-encryption', 'aws:kms', '--ssekms-key-id', 'alias/trail-logs')
    expect(put.code, put.stderr).to.equal(0)
    expect(JSON.parse(put.stdout)).to.include({SSEKMSKeyId: keyArn, ServerSideEncryption: 'aws:kms'})
    const back = await aws('s3api', 'get-object', '--bucket', 'enc-trail', '--key', 'notes/note.txt', join(work, 'back.txt'))
    expect(back.code, back.stderr).to.equal(0)
    expect(readFileSync(join(work, 'back.txt'), 'utf8')).to.equal('hello\n')
    const noKey = await aws('s3api', 'put-object', '--bucket', 'enc-trail', '--key', 'notes/x.txt', '--body', join(work, 'note.txt'), '--server-side-encryption', 'aws:kms', '--ssekms-key-id', 'alias/no-such-key')
    expect(noKey.code).to.not.equal(0)
    expect(noKey.errorCode, noKey.stderr).to.equal('KMS.NotFoundException')
  })

  it('a caller whose IAM policies do not allow kms:Decrypt gets S3\'s AccessDenied with KMS\'s reason; allowing it reads them', async () => {
    const add = (key: string, allow: string) =>
      runCli(['sandbox', 'principal', 'add', key, 'arn:aws:iam::111122223333:user/reader', '--iam-allow', allow, '--sandbox-dir', server.dir, '--replace'], {env: server.env})
    expect((await add('AKIASSEREADERNOKMS01', 's3:ListBucket,s3:GetObject')).code).to.equal(0)
    expect((await add('AKIASSEREADERKMS0001', 's3:ListBucket,s3:GetObject,kms:Decrypt')).code).to.equal(0)
    const as = (key: string) => ({...server.env, AWS_ACCESS_KEY_ID: key})
    const denied = await runCli(['trail', 'query', '--source', 's3', 's3://enc-trail', '--json'], {env: as('AKIASSEREADERNOKMS01')})
    expect(denied.code, denied.stderr).to.equal(3)
    const failure = json<{error: {details: {s3Failures: Array<{code: string; location: string; reason: string}>}}}>(denied).error.details.s3Failures.find((f) => f.location === `s3://enc-trail/${objectKey}`)
    expect(failure?.code).to.equal('KMS_ACCESS_DENIED')
    expect(failure?.reason).to.include('User: arn:aws:iam::111122223333:user/reader is not authorized to perform: kms:Decrypt')
    const allowed = ids(await runCli(['trail', 'query', '--source', 's3', 's3://enc-trail', '--until', new Date().toISOString(), '--json'], {env: as('AKIASSEREADERKMS0001')}))
    expect(allowed.length).to.be.at.least(4)
  })

  it('with the key disabled, every object is named with KMS\'s reason and the query exits 3; the AWS CLI gets the refusal', async () => {
    const disabled = await runCli(['key', 'disable', 'alias/trail-logs', '--yes', '--json'], {env: server.env})
    expect(disabled.code, disabled.stderr).to.equal(0)
    try {
      const r = await runCli(['trail', 'query', '--source', 's3', 's3://enc-trail', '--json'], {env: server.env})
      expect(r.code, r.stderr).to.equal(3)
      const failures = json<{error: {details: {s3Failures: Array<{code: string; location: string; reason: string}>}}}>(r).error.details.s3Failures
      const logObjects = failures.filter((f) => f.location.endsWith('.json.gz'))
      expect(logObjects.length).to.be.at.least(1)
      for (const f of logObjects) {
        expect(f.code).to.equal('KMS_ACCESS_DENIED')
        expect(f.reason).to.include(`${keyArn} is disabled.`)
      }

      expect(logObjects.map((f) => f.location)).to.include(`s3://enc-trail/${objectKey}`)
      const human = await runCli(['trail', 'query', '--source', 's3', 's3://enc-trail'], {env: server.env})
      expect(human.code).to.equal(3)
      expect(human.stderr).to.include(`Could not read s3://enc-trail/${objectKey}: KMS refused to decrypt the object`)
      const got = await aws('s3api', 'get-object', '--bucket', 'enc-trail', '--key', objectKey, join(work, 'x.gz'))
      expect(got.code).to.not.equal(0)
      expect(got.errorCode, got.stderr).to.equal('KMS.DisabledException')
      expect(got.errorMessage).to.equal(`${keyArn} is disabled.`)
    } finally {
      await runCli(['key', 'enable', 'alias/trail-logs', '--yes', '--json'], {env: server.env})
    }
  })
})
