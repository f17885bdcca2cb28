import {expect} from 'chai'
import {mkdtempSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {SandboxStore} from '../../../src/sandbox/store/store.js'

describe('sandbox state: mutations of one process', () => {
  it('writes concurrent mutations together, each on the state the previous left; a failing one changes nothing', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kmsctl-group-'))
    const store = new SandboxStore(dir)
    const results = await Promise.allSettled(
      Array.from({length: 20}, (_, i) =>
        store.mutate((s) => {
          s.clockOffsetMs += 1
          if (i === 7) {
            s.clockOffsetMs += 1000
            throw new Error('refused')
          }

          return s.clockOffsetMs
        }),
      ),
    )
    expect(results.filter((r) => r.status === 'rejected')).to.have.length(1)
    const values = results.filter((r) => r.status === 'fulfilled').map((r) => (r as PromiseFulfilledResult<number>).value)
    expect(values).to.deep.equal(Array.from({length: 19}, (_, i) => i + 1))
    // What another process reads from disk is the same: 19 changes, none of the failed one.
    expect(new SandboxStore(dir).read().clockOffsetMs).to.equal(19)
  })
})
