import {expect} from 'chai'

import {KMS_QUOTAS, Pacer, mapConcurrent} from '../../src/lib/pacing.js'

describe('pacing', () => {
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
    await Promise.all(Array.from({length: 7}, () => p.run('DisableKey', async () => starts.push(Date.now() - t0))))
    starts.sort((a, b) => a - b)
    // The first five start at once; the sixth waits for the window to move on.
    expect(starts.filter((s) => s < 500)).to.have.length(5)
    expect(starts[5]).to.be.greaterThanOrEqual(900)
  })

  it('never holds one operation back behind another operation\'s queue', async () => {
    const p = new Pacer({concurrency: 2, rates: {DescribeKey: 2, GetKeyRotationStatus: 2}})
    const t0 = Date.now()
    const describes = Array.from({length: 6}, () => p.run('DescribeKey', async () => Date.now() - t0))
    const rotation = await p.run('GetKeyRotationStatus', async () => Date.now() - t0)
    const describeStarts = (await Promise.all(describes)).sort((a, b) => a - b)
    expect(rotation).to.be.lessThan(300)
    expect(describeStarts[2]).to.be.greaterThanOrEqual(900)
  })

  it('bounds concurrency', async () => {
    let inFlight = 0
    let peak = 0
    await mapConcurrent([1, 2, 3, 4, 5, 6], 2, async () => {
      peak = Math.max(peak, ++inFlight)
      await new Promise((r) => setTimeout(r, 10))
      inFlight--
    })
    expect(peak).to.equal(2)
  })
})
