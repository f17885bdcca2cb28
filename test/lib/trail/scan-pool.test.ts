import {expect} from 'chai'
import {gzipSync} from 'node:zlib'

import {rawNeedles} from '../../../src/lib/trail/filters.js'
import type {ScanJob} from '../../../src/lib/trail/sources/file-scan.js'
import {scanPool, startScanThreads} from '../../../src/lib/trail/sources/scan-pool.js'
import {buildFilterSpec} from '../../../src/lib/trail/spec.js'
import * as f from './fixtures.js'

describe('trail scanning threads started ahead of their job', function () {
  this.timeout(30_000)
  const spec = buildFilterSpec({event: ['Decrypt']})
  const job: ScanJob = {aliases: [], mode: 'match', needles: rawNeedles(spec), raw: false, spec}
  const file = (records: unknown[]) => gzipSync(JSON.stringify({Records: records}))

  it('a pool takes the threads started ahead, gives them the job, and scans with them', async () => {
    const ahead = startScanThreads(2)
    expect(ahead.idle).to.have.length(2)
    const pool = scanPool(job, 2, undefined, ahead)
    const match = f.record()
    const other = f.record({eventName: 'Encrypt'})
    try {
      const results = await Promise.all([0, 1, 2].map((index) => pool.run({data: file([match, other]), index, name: `f${index}.json.gz`})))
      expect(ahead.idle).to.have.length(0)
      expect(results.map((r) => [r.index, r.matches.map((m) => m.event.eventId)])).to.deep.equal([
        [0, [match.eventID]],
        [1, [match.eventID]],
        [2, [match.eventID]],
      ])
    } finally {
      await pool.close()
      await ahead.close()
    }
  })

  it('threads no pool took are stopped by close', async () => {
    const ahead = startScanThreads(2)
    const [a, b] = ahead.idle
    const exits = [a, b].map((w) => new Promise<number>((resolve) => w.once('exit', resolve)))
    await ahead.close()
    expect(ahead.idle).to.have.length(0)
    expect(await Promise.all(exits)).to.have.length(2)
  })
})
