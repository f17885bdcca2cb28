import {GetObjectCommand, ListObjectsV2Command, S3Client} from '@aws-sdk/client-s3'
import {expect} from 'chai'
import {mockClient} from 'aws-sdk-client-mock'
import {Readable} from 'node:stream'
import {gzipSync} from 'node:zlib'

import {buildFilterSpec} from '../../../src/lib/trail/spec.js'
import {datePrefixes, isLogObject, parseS3Url, planPrefixes, trailRoot} from '../../../src/lib/trail/sources/s3-layout.js'
import {queryS3} from '../../../src/lib/trail/sources/s3.js'
import * as f from './fixtures.js'

describe('trail s3 layout and pruning', () => {
  it('reads s3:// locations', () => {
    expect(parseS3Url('s3://my-trail')).to.deep.equal({bucket: 'my-trail', prefix: ''})
    expect(parseS3Url('s3://my-trail/logs')).to.deep.equal({bucket: 'my-trail', prefix: 'logs/'})
    for (const bad of ['my-trail', 's3://', 's3://UPPER/x', 'https://my-trail/x']) expect(() => parseS3Url(bad), bad).to.throw(/not an S3 location/)
  })

  it('reads how far a prefix goes into the layout', () => {
    expect(trailRoot('')).to.deep.equal({base: 'AWSLogs/'})
    expect(trailRoot('logs/')).to.deep.equal({base: 'logs/AWSLogs/'})
    expect(trailRoot('logs/AWSLogs/o-exampleorgid/')).to.deep.equal({base: 'logs/AWSLogs/', org: 'o-exampleorgid'})
    expect(trailRoot('AWSLogs/o-exampleorgid/111122223333/CloudTrail/eu-west-1/')).to.deep.equal({account: '111122223333', base: 'AWSLogs/', org: 'o-exampleorgid', region: 'eu-west-1'})
    expect(trailRoot('AWSLogs/111122223333/')).to.deep.equal({account: '111122223333', base: 'AWSLogs/'})
  })

  it('lists only the days of the window, and the day after for late deliveries', () => {
    const now = Date.parse('2026-12-01T00:00:00Z')
    expect(datePrefixes(undefined, undefined, now)).to.equal(undefined)
    expect(datePrefixes(Date.parse('2026-11-02T10:00:00Z'), Date.parse('2026-11-03T08:00:00Z'), now)).to.deep.equal(['2026/11/02/', '2026/11/03/', '2026/11/04/'])
    expect(datePrefixes(Date.parse('2026-11-30T23:00:00Z'), undefined, now)).to.deep.equal(['2026/11/30/', '2026/12/01/', '2026/12/02/'])
    // A long window lists months.
    expect(datePrefixes(Date.parse('2026-01-15T00:00:00Z'), Date.parse('2026-06-01T00:00:00Z'), now)).to.deep.equal(['2026/01/', '2026/02/', '2026/03/', '2026/04/', '2026/05/', '2026/06/'])
  })

  it('plans one prefix per account, region and day', () => {
    const plans = planPrefixes({base: 'AWSLogs/'}, 'o-exampleorgid', ['111122223333', '444455556666'], ['us-east-1'], ['2026/11/02/'])
    expect(plans.flatMap((p) => p.prefixes)).to.deep.equal([
      'AWSLogs/o-exampleorgid/111122223333/CloudTrail/us-east-1/2026/11/02/',
      'AWSLogs/o-exampleorgid/444455556666/CloudTrail/us-east-1/2026/11/02/',
    ])
  })

  it('leaves digest files out', () => {
    expect(isLogObject('AWSLogs/1/CloudTrail/us-east-1/2026/11/02/x.json.gz')).to.equal(true)
    expect(isLogObject('AWSLogs/1/CloudTrail-Digest/us-east-1/2026/11/02/x_CloudTrail-Digest_x.json.gz')).to.equal(false)
    expect(isLogObject('AWSLogs/1/CloudTrail/us-east-1/2026/11/02/')).to.equal(false)
  })
})

describe('trail s3 source (mocked S3)', () => {
  let s3: ReturnType<typeof mockClient>
  const client = new S3Client({credentials: {accessKeyId: 'AKIAEXAMPLE', secretAccessKey: 'x'}, region: 'us-east-1'})
  const ORG = 'o-exampleorgid'
  const dayPrefix = (account: string, region: string, day: string) => `AWSLogs/${ORG}/${account}/CloudTrail/${region}/${day}/`
  const fileKey = (account: string, region: string, day: string) => `${dayPrefix(account, region, day)}${account}_CloudTrail_${region}_${day.replaceAll('/', '')}T1000Z_ABCDEFGHIJKLMNOP.json.gz`
  const body = (records: unknown[]) => gzipSync(JSON.stringify({Records: records}))

  before(() => {
    s3 = mockClient(S3Client)
  })

  after(() => s3.restore())
  beforeEach(() => s3.reset())

  it('lists the organization, accounts and regions, then only the days asked for; reads and filters the objects', async () => {
    const match = f.record({eventTime: '2026-11-02T10:00:00Z'})
    const other = f.record({eventName: 'Encrypt', eventTime: '2026-11-02T10:00:00Z'})
    s3.on(ListObjectsV2Command, {Delimiter: '/', Prefix: 'AWSLogs/'}).resolves({CommonPrefixes: [{Prefix: `AWSLogs/${ORG}/`}]})
    s3.on(ListObjectsV2Command, {Delimiter: '/', Prefix: `AWSLogs/${ORG}/`}).resolves({CommonPrefixes: [{Prefix: `AWSLogs/${ORG}/111122223333/`}, {Prefix: `AWSLogs/${ORG}/444455556666/`}]})
    s3.on(ListObjectsV2Command, {Delimiter: '/', Prefix: `AWSLogs/${ORG}/111122223333/CloudTrail/`}).resolves({CommonPrefixes: [{Prefix: `AWSLogs/${ORG}/111122223333/CloudTrail/us-east-1/`}]})
    s3.on(ListObjectsV2Command, {Delimiter: '/', Prefix: `AWSLogs/${ORG}/444455556666/CloudTrail/`}).resolves({CommonPrefixes: []})
    s3.on(ListObjectsV2Command, {Prefix: dayPrefix('111122223333', 'us-east-1', '2026/11/02')})
      .resolvesOnce({Contents: [{Key: fileKey('111122223333', 'us-east-1', '2026/11/02'), Size: 10}], IsTruncated: true, NextContinuationToken: 'page2'})
      .resolvesOnce({Contents: [{Key: `${dayPrefix('111122223333', 'us-east-1', '2026/11/02')}not-a-log.txt`}]})
    s3.on(ListObjectsV2Command, {Prefix: dayPrefix('111122223333', 'us-east-1', '2026/11/03')}).resolves({})
    s3.on(GetObjectCommand).callsFake(() => {
      const data = body([match, other])
      return {Body: Readable.from([data.subarray(0, 20), data.subarray(20)]), ContentLength: data.length}
    })
    const spec = buildFilterSpec({event: ['Decrypt'], since: '2026-11-02T00:00:00Z', until: '2026-11-02T23:59:59Z'})
    const found: string[] = []
    const r = await queryS3({client, location: {bucket: 'trail', prefix: ''}, onMatches: (m) => found.push(...m.map((x) => x.event.eventId)), spec, workers: 0})
    expect(found).to.deep.equal([match.eventID])
    expect(r.failures).to.deep.equal([])
    expect(r.accounts).to.deep.equal(['111122223333', '444455556666'])
    expect(r.objects).to.equal(1)
    const listed = s3.commandCalls(ListObjectsV2Command).map((c) => `${c.args[0].input.Prefix}${c.args[0].input.ContinuationToken ? ` @${c.args[0].input.ContinuationToken}` : ''}`)
    expect(listed).to.include(dayPrefix('111122223333', 'us-east-1', '2026/11/02'))
    expect(listed).to.include(`${dayPrefix('111122223333', 'us-east-1', '2026/11/02')} @page2`)
    expect(listed).to.include(dayPrefix('111122223333', 'us-east-1', '2026/11/03'))
    // Nothing outside the window, and no listing of the whole region.
    expect(listed.filter((p) => p.includes('/2026/11/01/') || p.endsWith('/us-east-1/'))).to.deep.equal([])
  })

  it('scans in threads started while the bucket is listed; one object is scanned here and the threads stop', async function () {
    this.timeout(30_000)
    const match = f.record({eventTime: '2026-11-02T10:00:00Z'})
    const root = `AWSLogs/${ORG}/111122223333/CloudTrail/us-east-1/`
    const keys = ['a', 'b', 'c'].map((id) => `${dayPrefix('111122223333', 'us-east-1', '2026/11/02')}111122223333_CloudTrail_us-east-1_20261102T1000Z_${id.repeat(16)}.json.gz`)
    s3.on(ListObjectsV2Command, {Delimiter: '/', Prefix: `AWSLogs/${ORG}/111122223333/CloudTrail/`}).resolves({CommonPrefixes: [{Prefix: root}]})
    s3.on(GetObjectCommand).callsFake(() => {
      const data = body([match])
      return {Body: Readable.from([data]), ContentLength: data.length}
    })
    const spec = buildFilterSpec({event: ['Decrypt']})
    const location = {bucket: 'trail', prefix: `AWSLogs/${ORG}/111122223333/`}
    for (const listed of [keys, keys.slice(0, 1)]) {
      s3.on(ListObjectsV2Command, {Prefix: root}).resolves({Contents: listed.map((Key) => ({Key, Size: 10}))})
      const found: string[] = []
      // eslint-disable-next-line no-await-in-loop
      const r = await queryS3({client, location, onMatches: (m) => found.push(...m.map((x) => x.event.eventId)), spec, workers: 2})
      expect(r.objects).to.equal(listed.length)
      expect(r.failures).to.deep.equal([])
      expect(found).to.deep.equal([match.eventID])
      expect(r.duplicates).to.equal(listed.length - 1)
    }
  })

  it('reports a prefix S3 refuses and an object KMS refuses to decrypt, and reads the rest', async () => {
    const good = f.record({eventTime: '2026-11-02T10:00:00Z'})
    const denied = Object.assign(new Error('Access Denied'), {$metadata: {httpStatusCode: 403}, name: 'AccessDenied'})
    const kmsDenied = Object.assign(new Error('User: arn:aws:iam::111122223333:user/x is not authorized to perform: kms:Decrypt on the resource associated with this ciphertext'), {$metadata: {httpStatusCode: 403}, name: 'AccessDenied'})
    s3.on(ListObjectsV2Command).resolves({})
    s3.on(GetObjectCommand).rejects(kmsDenied)
    s3.on(ListObjectsV2Command, {Prefix: dayPrefix('111122223333', 'us-east-1', '2026/11/02')}).resolves({
      Contents: [{Key: fileKey('111122223333', 'us-east-1', '2026/11/02')}, {Key: fileKey('111122223333', 'us-east-1', '2026/11/02').replace('ABCD', 'ZZZZ')}],
    })
    s3.on(ListObjectsV2Command, {Prefix: dayPrefix('444455556666', 'us-east-1', '2026/11/02')}).rejects(denied)
    s3.on(GetObjectCommand, {Key: fileKey('111122223333', 'us-east-1', '2026/11/02')}).callsFake(() => ({Body: Readable.from([body([good])])}))
    const spec = buildFilterSpec({since: '2026-11-02T00:00:00Z', until: '2026-11-02T01:00:00Z'})
    const found: string[] = []
    const r = await queryS3({
      accounts: ['111122223333', '444455556666'],
      client,
      location: {bucket: 'trail', prefix: `AWSLogs/${ORG}/`},
      onMatches: (m) => found.push(...m.map((x) => x.event.eventId)),
      regions: ['us-east-1'],
      spec: {...spec, since: '2026-11-02T00:00:00Z', until: '2026-11-02T23:00:00Z'},
      workers: 0,
    })
    expect(found).to.deep.equal([good.eventID])
    expect(r.failures.map((x) => [x.code, x.location])).to.deep.equal([
      ['KMS_ACCESS_DENIED', `s3://trail/${fileKey('111122223333', 'us-east-1', '2026/11/02').replace('ABCD', 'ZZZZ')}`],
      ['ACCESS_DENIED', `s3://trail/${dayPrefix('444455556666', 'us-east-1', '2026/11/02')}`],
    ])
    expect(r.failures[1].reason).to.match(/s3:ListBucket/)
    expect(r.failures[0].reason).to.match(/kms:Decrypt on the trail's key/)
  })

  it('stops with a clear error for a bucket that does not exist', async () => {
    s3.on(ListObjectsV2Command).rejects(Object.assign(new Error('The specified bucket does not exist'), {name: 'NoSuchBucket'}))
    try {
      await queryS3({client, location: {bucket: 'nope', prefix: ''}, spec: buildFilterSpec({}), workers: 0})
      expect.fail('no error')
    } catch (error) {
      expect((error as Error).message).to.match(/No such bucket: s3:\/\/nope/)
    }
  })
})
