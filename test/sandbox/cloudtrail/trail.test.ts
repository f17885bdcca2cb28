import {LookupEventsCommand} from '@aws-sdk/client-cloudtrail'
import {CreateKeyCommand, DecryptCommand, DescribeKeyCommand, EncryptCommand, PutKeyPolicyCommand} from '@aws-sdk/client-kms'
import {expect} from 'chai'
import {existsSync, mkdtempSync, readFileSync, readdirSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join, relative} from 'node:path'
import {gunzipSync} from 'node:zlib'

import {SANDBOX_ACCOUNT} from '../../../src/sandbox/constants.js'
import {exportSandboxTrail, resetSandbox, sandboxStatus} from '../../../src/sandbox/admin.js'
import {type Sandbox, newSandbox, rejection} from '../helpers.js'

function walk(dir: string): string[] {
  return readdirSync(dir, {withFileTypes: true}).flatMap((e) => (e.isDirectory() ? walk(join(dir, e.name)) : [join(dir, e.name)]))
}

describe('sandbox CloudTrail', () => {
  let sb: Sandbox
  beforeEach(async () => {
    sb = await newSandbox()
  })

  const events = async (input: Record<string, unknown> = {}) => (await sb.cloudtrail.send(new LookupEventsCommand(input))).Events!

  it('records every KMS call with AWS record shape, never plaintext', async () => {
    const m = (await sb.kms.send(new CreateKeyCommand({}))).KeyMetadata!
    const ct = await sb.kms.send(new EncryptCommand({EncryptionContext: {app: 'x'}, KeyId: m.KeyId, Plaintext: Buffer.from('TOP-SECRET')}))
    await sb.kms.send(new DecryptCommand({CiphertextBlob: ct.CiphertextBlob, EncryptionContext: {app: 'x'}}))
    await rejection(sb.kms.send(new DescribeKeyCommand({KeyId: 'alias/missing'})))
    const list = await events()
    expect(list.map((e) => e.EventName)).to.deep.equal(['DescribeKey', 'Decrypt', 'Encrypt', 'CreateKey'])
    const enc = JSON.parse(list[2].CloudTrailEvent!)
    expect(enc).to.deep.include({
      awsRegion: 'us-east-1',
      eventCategory: 'Management',
      eventName: 'Encrypt',
      eventSource: 'kms.amazonaws.com',
      eventType: 'AwsApiCall',
      eventVersion: '1.11',
      managementEvent: true,
      readOnly: true,
      recipientAccountId: SANDBOX_ACCOUNT,
      responseElements: null,
      sourceIPAddress: '127.0.0.1',
    })
    expect(enc.requestParameters).to.deep.equal({encryptionAlgorithm: 'SYMMETRIC_DEFAULT', encryptionContext: {app: 'x'}, keyId: m.KeyId})
    expect(enc.resources).to.deep.equal([{ARN: m.Arn, accountId: SANDBOX_ACCOUNT, type: 'AWS::KMS::Key'}])
    expect(enc.userIdentity).to.include({accessKeyId: 'AKIAKMSCTLSANDBOX001', accountId: SANDBOX_ACCOUNT, type: 'IAMUser'})
    expect(enc.userAgent).to.match(/aws-sdk-js/)
    expect(enc.eventTime).to.match(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/)
    expect(enc.eventID).to.equal(list[2].EventId)
    const all = readFileSync(join(sb.dir, 'events.jsonl'), 'utf8')
    expect(all).to.not.contain('TOP-SECRET')
    expect(all).to.not.contain(Buffer.from('TOP-SECRET').toString('base64'))
    const failed = JSON.parse(list[0].CloudTrailEvent!)
    expect(failed).to.include({errorCode: 'NotFoundException', errorMessage: `Alias arn:aws:kms:us-east-1:${SANDBOX_ACCOUNT}:alias/missing is not found.`})
    expect(failed.requestParameters).to.deep.equal({keyId: 'alias/missing'})
    const created = JSON.parse(list[3].CloudTrailEvent!)
    expect(created.readOnly).to.equal(false)
    expect(created.responseElements.keyMetadata.keyId).to.equal(m.KeyId)
    expect(list[3]).to.deep.include({AccessKeyId: 'AKIAKMSCTLSANDBOX001', EventSource: 'kms.amazonaws.com', ReadOnly: 'false', Username: 'sandbox-admin'})
    expect(list[3].Resources).to.deep.equal([{ResourceName: m.Arn, ResourceType: 'AWS::KMS::Key'}])
  })

  it('records the keyId exactly as sent, and management responseElements with the key ARN', async () => {
    const m = (await sb.kms.send(new CreateKeyCommand({}))).KeyMetadata!
    await sb.kms.send(new DescribeKeyCommand({KeyId: m.Arn}))
    await sb.kms.send(new PutKeyPolicyCommand({KeyId: m.KeyId, Policy: JSON.stringify({Statement: [{Action: 'kms:*', Effect: 'Allow', Principal: {AWS: `arn:aws:iam::${SANDBOX_ACCOUNT}:root`}, Resource: '*'}]}), PolicyName: 'default'}))
    const [put, desc] = await events({MaxResults: 2})
    expect(JSON.parse(desc.CloudTrailEvent!).requestParameters).to.deep.equal({keyId: m.Arn})
    expect(JSON.parse(put.CloudTrailEvent!).responseElements).to.deep.equal({keyId: m.Arn})
  })

  it('LookupEvents: one attribute only, MaxResults 1..50, NextToken paging, time range', async () => {
    for (let i = 0; i < 5; i++) await sb.kms.send(new CreateKeyCommand({}))
    const two = await rejection(
      sb.cloudtrail.send(new LookupEventsCommand({LookupAttributes: [{AttributeKey: 'EventName', AttributeValue: 'CreateKey'}, {AttributeKey: 'ReadOnly', AttributeValue: 'false'}]})),
    )
    expect(two.name).to.equal('InvalidLookupAttributesException')
    expect((await rejection(sb.cloudtrail.send(new LookupEventsCommand({MaxResults: 51})))).name).to.equal('InvalidMaxResultsException')
    expect((await rejection(sb.cloudtrail.send(new LookupEventsCommand({NextToken: 'nope'})))).name).to.equal('InvalidNextTokenException')
    const now = new Date()
    expect((await rejection(sb.cloudtrail.send(new LookupEventsCommand({EndTime: new Date(now.getTime() - 1000), StartTime: now})))).name).to.equal('InvalidTimeRangeException')
    const seen: string[] = []
    let NextToken: string | undefined
    let pages = 0
    do {
      const out = await sb.cloudtrail.send(new LookupEventsCommand({LookupAttributes: [{AttributeKey: 'EventName', AttributeValue: 'CreateKey'}], MaxResults: 2, NextToken}))
      seen.push(...out.Events!.map((e) => e.EventId!))
      NextToken = out.NextToken
      pages++
    } while (NextToken)
    expect(pages).to.equal(3)
    expect(new Set(seen).size).to.equal(5)
    expect(await events({EndTime: new Date(Date.now() - 3_600_000)})).to.deep.equal([])
    expect(await events({LookupAttributes: [{AttributeKey: 'ReadOnly', AttributeValue: 'true'}]})).to.deep.equal([])
  })

  it('exports CloudTrail log files in the S3 layout; status and reset', async () => {
    await sb.kms.send(new CreateKeyCommand({}))
    await sb.kms.send(new DescribeKeyCommand({KeyId: 'alias/aws/ebs'}))
    const out = mkdtempSync(join(tmpdir(), 'kmsctl-trail-out-'))
    const result = await exportSandboxTrail(sb.dir, out)
    expect(result.records).to.equal(2)
    const files = walk(out)
    expect(files).to.have.length.greaterThan(0)
    for (const f of files) {
      expect(relative(out, f)).to.match(
        new RegExp(`^AWSLogs/${SANDBOX_ACCOUNT}/CloudTrail/us-east-1/\\d{4}/\\d\\d/\\d\\d/${SANDBOX_ACCOUNT}_CloudTrail_us-east-1_\\d{8}T\\d{4}Z_[A-Za-z0-9]{16}\\.json\\.gz$`),
      )
      const doc = JSON.parse(gunzipSync(readFileSync(f)).toString('utf8'))
      expect(doc.Records).to.be.an('array').that.is.not.empty
    }

    const missing = join(out, 'no-such-sandbox')
    expect(sandboxStatus(missing)).to.include({exists: false, keys: 0})
    expect(existsSync(missing)).to.equal(false)
    const status = sandboxStatus(sb.dir)
    expect(status).to.include({aliases: 1, eventsRecorded: 2, keys: 2})
    expect(status.keysByState).to.deep.equal({Enabled: 2})
    expect(status.notice).to.match(/not|Never/)
    const reset = await resetSandbox(sb.dir)
    expect(reset.removed).to.deep.equal({aliases: 1, events: 2, grants: 0, keys: 2})
    expect(sandboxStatus(sb.dir)).to.include({aliases: 0, eventsRecorded: 0, keys: 0})
  })
})
