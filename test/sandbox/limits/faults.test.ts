import {expect} from 'chai'

import {drawLatency, happens, internalFailure, seededRandom} from '../../../src/sandbox/limits/faults.js'
import {settingsFromFlags} from '../../../src/cli/sandbox-flags.js'
import {DEFAULT_SETTINGS, SettingsSource, parseLatency, parseRate, readConfigFile, settingsFromConfig, writeConfigFile} from '../../../src/sandbox/limits/settings.js'
import {ADMIN, Client, newDir} from '../raw-client.js'

describe('sandbox realism: faults and settings', () => {
  it('parses latencies, rates, quota sets and scales, refusing bad values with the flag named', () => {
    expect(parseLatency('30ms')).to.deep.equal({maxMs: 30, minMs: 30})
    expect(parseLatency('10ms-50ms')).to.deep.equal({maxMs: 50, minMs: 10})
    expect(parseLatency('1s')).to.deep.equal({maxMs: 1000, minMs: 1000})
    expect(() => parseLatency('50ms-10ms')).to.throw(/range goes down/)
    expect(() => parseLatency('fast')).to.throw(/--latency "fast" is not a latency/)
    expect(parseRate('0.05', 'fail-rate')).to.equal(0.05)
    expect(() => parseRate('1.5', 'fail-rate')).to.throw(/--fail-rate "1.5"/)
    expect(() => parseRate('', 'drop-rate')).to.throw(/--drop-rate/)
    expect(settingsFromFlags({'quotas-scale': '2', quotas: 'aws'})).to.deep.equal({quotas: 'aws', quotasScale: 2})
    expect(() => settingsFromFlags({quotas: 'strict'})).to.throw(/--quotas "strict"/)
    expect(() => settingsFromFlags({'quotas-scale': '-1'})).to.throw(/--quotas-scale/)
  })

  it('draws latency within the range and injects faults at the given rate (seeded)', () => {
    const random = seededRandom(42)
    const delays = Array.from({length: 1000}, () => drawLatency({maxMs: 50, minMs: 10}, random))
    expect(Math.min(...delays)).to.be.at.least(10)
    expect(Math.max(...delays)).to.be.at.most(50)
    expect(new Set(delays).size).to.be.greaterThan(30)
    const fails = Array.from({length: 10_000}, () => happens(0.05, random)).filter(Boolean).length
    expect(fails).to.be.within(420, 580)
    expect(Array.from({length: 100}, () => happens(0, random)).some(Boolean)).to.equal(false)
    expect(internalFailure('kms')).to.include({status: 500, type: 'KMSInternalException'})
    expect(internalFailure('cloudtrail')).to.include({status: 500, type: 'InternalFailure'})
  })

  it('round-trips the config file, and lets the serve flags win over it', () => {
    const dir = newDir()
    writeConfigFile(dir, {...DEFAULT_SETTINGS, failRate: 0.1, latency: {maxMs: 50, minMs: 10}, quotas: 'aws', quotasScale: 0.5})
    expect(readConfigFile(dir)).to.deep.equal({dropRate: 0, failRate: 0.1, latency: '10ms-50ms', quotas: 'aws', quotasScale: 0.5})
    expect(settingsFromConfig(readConfigFile(dir)).latency).to.deep.equal({maxMs: 50, minMs: 10})
    const source = new SettingsSource(dir, {failRate: 0, quotas: 'off'})
    expect(source.current()).to.deep.include({failRate: 0, quotas: 'off', quotasScale: 0.5})
    expect(source.current().latency).to.deep.equal({maxMs: 50, minMs: 10})
    expect(new SettingsSource(dir, settingsFromFlags({latency: 'none'})).current().latency).to.equal(undefined)
  })

  it('fails requests with HTTP 500 KMSInternalException at fail-rate 1, and records them', async () => {
    const c = new Client()
    const arn = await c.createKey()
    writeConfigFile(c.dir, {...DEFAULT_SETTINGS, failRate: 1})
    const out = await c.kms(ADMIN, 'DescribeKey', {KeyId: arn})
    expect(out).to.deep.include({status: 500, type: 'KMSInternalException'})
    expect(c.core.store.readEvents().at(-1)!.errorCode).to.equal('KMSInternalException')
    const lookup = await c.lookup(ADMIN, {})
    expect(lookup).to.deep.include({status: 500, type: 'InternalFailure'})
  })

  it('adds latency to each request', async () => {
    const c = new Client()
    writeConfigFile(c.dir, {...DEFAULT_SETTINGS, latency: {maxMs: 60, minMs: 60}})
    const started = performance.now()
    await c.kms(ADMIN, 'ListKeys')
    expect(performance.now() - started).to.be.at.least(55)
  })

  it('asks the transport to drop connections at drop-rate', () => {
    const c = new Client(undefined, {random: seededRandom(7)})
    expect(c.core.limits.dropConnection()).to.equal(false)
    writeConfigFile(c.dir, {...DEFAULT_SETTINGS, dropRate: 1})
    expect(c.core.limits.dropConnection()).to.equal(true)
  })
})
