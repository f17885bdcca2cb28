import FakeTimers from '@sinonjs/fake-timers'
import {expect} from 'chai'

import {KMS_QUOTAS, Pacer, StartWindow, isNotStarted, mapConcurrent} from '../../src/lib/pacing.js'

describe('pacing', () => {
  let clock: FakeTimers.InstalledClock
  beforeEach(() => {
    clock = FakeTimers.install({toFake: ['setTimeout', 'clearTimeout', 'Date']})
  })
  afterEach(() => clock.uninstall())

  it('uses KMS quotas per operation, overridable', () => {
    const p = new Pacer({rates: {DisableKey: 2}})
    expect(p.rateOf('DisableKey')).to.equal(2)
    expect(p.rateOf('DescribeKey')).to.equal(KMS_QUOTAS.DescribeKey)
    expect(new Pacer().minimumMs('DisableKey', 100)).to.equal(19_000)
    expect(new Pacer().minimumMs('DisableKey', 5)).to.equal(0)
  })

  it('starts no more than rate calls in a one-second window', async () => {
    const p = new Pacer({rates: {DisableKey: 5}})
    const starts: number[] = []
    const t0 = Date.now()
    const all = Promise.all(Array.from({length: 7}, () => p.run('DisableKey', async () => starts.push(Date.now() - t0))))
    await clock.tickAsync(999)
    // The first five start at once; the sixth waits for the window to move on.
    expect(starts).to.deep.equal([0, 0, 0, 0, 0])
    await clock.tickAsync(1000)
    await all
    expect(starts).to.have.length(7)
    expect(starts[5]).to.equal(1000)
  })

  it('after a stalled event loop, starts only what the window allows at that moment, never a burst of the calls it fell behind on', async () => {
    // The timers fire on time on the fake clock; `now` runs 1 s ahead from the second window on, as
    // a process stalled for a second sees it when its timer finally runs.
    let stall = 0
    const window = new StartWindow(2, 200, () => Date.now() + stall)
    const starts: number[] = []
    const t0 = Date.now()
    const all = Promise.all(Array.from({length: 8}, () => window.enter().then(() => starts.push(Date.now() + stall - t0))))
    await clock.tickAsync(0)
    expect(starts).to.deep.equal([0, 0])
    stall = 1000
    await clock.tickAsync(200)
    // Five windows went by unseen: still two calls now, the next two one window later.
    expect(starts).to.deep.equal([0, 0, 1200, 1200])
    await clock.tickAsync(199)
    expect(starts).to.have.length(4)
    await clock.tickAsync(1)
    expect(starts.slice(4)).to.deep.equal([1400, 1400])
    await clock.tickAsync(200)
    await all
    expect(starts).to.have.length(8)
  })

  it('never holds one operation back behind another operation\'s queue', async () => {
    const p = new Pacer({concurrency: 2, rates: {DescribeKey: 2, GetKeyRotationStatus: 2}})
    const t0 = Date.now()
    const describes = Array.from({length: 6}, () => p.run('DescribeKey', async () => Date.now() - t0))
    const rotation = p.run('GetKeyRotationStatus', async () => Date.now() - t0)
    await clock.tickAsync(0)
    expect(await rotation).to.equal(0)
    await clock.tickAsync(3000)
    const describeStarts = (await Promise.all(describes)).sort((a, b) => a - b)
    expect(describeStarts.slice(0, 2)).to.deep.equal([0, 0])
    expect(describeStarts[2]).to.be.greaterThanOrEqual(1000)
  })

  it('drops the calls not started yet when aborted, at once, and lets the started ones finish', async () => {
    const controller = new AbortController()
    const p = new Pacer({rates: {DisableKey: 1}, signal: controller.signal})
    const ran: number[] = []
    const calls = [1, 2, 3].map((n) => p.run('DisableKey', async () => ran.push(n)).then(() => 'ok', (error) => (isNotStarted(error) ? 'dropped' : String(error))))
    await clock.tickAsync(0)
    controller.abort()
    await clock.tickAsync(0)
    expect(await Promise.all(calls)).to.deep.equal(['ok', 'dropped', 'dropped'])
    expect(ran).to.deep.equal([1])
    // Nothing is left waiting on the clock.
    expect(clock.countTimers()).to.equal(0)
    // A call after the abort never starts.
    expect(await p.run('DisableKey', async () => 'ran').catch((error) => isNotStarted(error))).to.equal(true)
  })

  it('bounds concurrency', async () => {
    let inFlight = 0
    let peak = 0
    const done = mapConcurrent([1, 2, 3, 4, 5, 6], 2, async () => {
      peak = Math.max(peak, ++inFlight)
      await new Promise((r) => setTimeout(r, 10))
      inFlight--
    })
    await clock.tickAsync(100)
    await done
    expect(peak).to.equal(2)
  })
})
