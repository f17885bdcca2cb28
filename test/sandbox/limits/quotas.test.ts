import {expect} from 'chai'

import {RateLimiter, awsRate, bucketName} from '../../../src/sandbox/limits/quotas.js'
import {writeConfigFile, DEFAULT_SETTINGS} from '../../../src/sandbox/limits/settings.js'
import {ADMIN, Client} from '../raw-client.js'

describe('sandbox realism: quotas', () => {
  it("uses KMS's published rates, LookupEvents' 2/s, and one shared bucket for cryptographic operations", () => {
    expect(awsRate('kms', 'DisableKey')).to.equal(5)
    expect(awsRate('kms', 'CreateGrant')).to.equal(50)
    expect(awsRate('kms', 'DescribeKey')).to.equal(100)
    expect(awsRate('cloudtrail', 'LookupEvents')).to.equal(2)
    expect(awsRate('sts', 'GetCallerIdentity')).to.equal(undefined)
    expect(bucketName('kms', 'Decrypt')).to.equal(bucketName('kms', 'Encrypt'))
    expect(bucketName('kms', 'DisableKey')).not.to.equal(bucketName('kms', 'EnableKey'))
  })

  it('lets 5 of 20 DisableKey calls at the same instant through, then one more every 200 ms', () => {
    let now = 1000
    const limiter = new RateLimiter(1, () => now)
    const first = Array.from({length: 20}, () => limiter.take('kms', 'DisableKey', '111122223333', 'us-east-1'))
    expect(first.filter(Boolean)).to.have.length(5)
    expect(first.slice(0, 5)).to.deep.equal([true, true, true, true, true])
    now += 199
    expect(limiter.take('kms', 'DisableKey', '111122223333', 'us-east-1')).to.equal(false)
    now += 1
    expect(limiter.take('kms', 'DisableKey', '111122223333', 'us-east-1')).to.equal(true)
    // Other operations, accounts and regions have buckets of their own.
    expect(limiter.take('kms', 'EnableKey', '111122223333', 'us-east-1')).to.equal(true)
    expect(limiter.take('kms', 'DisableKey', '444455556666', 'us-east-1')).to.equal(true)
    expect(limiter.take('kms', 'DisableKey', '111122223333', 'eu-west-1')).to.equal(true)
    // A full second refills the bucket to its size, never more.
    now += 10_000
    expect(Array.from({length: 10}, () => limiter.take('kms', 'DisableKey', '111122223333', 'us-east-1')).filter(Boolean)).to.have.length(5)
  })

  it('scales every rate by --quotas-scale', () => {
    const now = 0
    const half = new RateLimiter(0.4, () => now)
    expect(Array.from({length: 10}, () => half.take('kms', 'DisableKey', 'a', 'r')).filter(Boolean)).to.have.length(2)
    const tenfold = new RateLimiter(10, () => now)
    expect(Array.from({length: 80}, () => tenfold.take('cloudtrail', 'LookupEvents', 'a', 'r')).filter(Boolean)).to.have.length(20)
    expect(() => new RateLimiter(0)).to.throw(RangeError)
  })

  it('answers ThrottlingException (HTTP 400, "Rate exceeded") from the core with quotas aws, and records it', async () => {
    const c = new Client(undefined, {monotonicNow: () => 0})
    const arn = await c.createKey()
    writeConfigFile(c.dir, {...DEFAULT_SETTINGS, quotas: 'aws'})
    const answers = await Promise.all(Array.from({length: 20}, () => c.kms(ADMIN, 'DisableKey', {KeyId: arn})))
    expect(answers.filter((a) => a.status === 200)).to.have.length(5)
    const refused = answers.filter((a) => a.status !== 200)
    expect(refused).to.have.length(15)
    expect(refused[0]).to.deep.include({message: 'Rate exceeded', status: 400, type: 'ThrottlingException'})
    const trail = c.core.store.readEvents().filter((e) => e.eventName === 'DisableKey')
    expect(trail.filter((e) => e.errorCode === 'ThrottlingException')).to.have.length(15)
    // LookupEvents: 2 per second.
    const lookups = await Promise.all(Array.from({length: 4}, () => c.lookup(ADMIN, {MaxResults: 1})))
    expect(lookups.map((l) => l.status)).to.deep.equal([200, 200, 400, 400])
    expect(lookups[2].type).to.equal('ThrottlingException')
  })

  it('is off by default', async () => {
    const c = new Client(undefined, {monotonicNow: () => 0})
    const arn = await c.createKey()
    const answers = await Promise.all(Array.from({length: 20}, () => c.kms(ADMIN, 'DisableKey', {KeyId: arn})))
    expect(answers.every((a) => a.status === 200)).to.equal(true)
  })
})
