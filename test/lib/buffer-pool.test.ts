import {expect} from 'chai'

import {BufferPool} from '../../src/lib/buffer-pool.js'

describe('BufferPool', () => {
  it('gives the memory of a returned buffer to the next take of the same size or smaller', () => {
    const pool = new BufferPool(1024 * 1024)
    const a = pool.take(1000)
    expect(a.length).to.equal(1000)
    pool.give(a)
    const b = pool.take(600)
    expect(b.length).to.equal(600)
    expect(b.buffer).to.equal(a.buffer)
    // A larger one is new memory; the view given back returns the whole buffer.
    const c = pool.take(2000)
    expect(c.buffer).to.not.equal(a.buffer)
    pool.give(b)
    expect(pool.take(1000).buffer).to.equal(a.buffer)
  })

  it('takes in only buffers it made, once each, and keeps no more than its limit', () => {
    const pool = new BufferPool(1500)
    // A small Buffer may be a view on Node's shared slab: never taken in.
    const foreign = Buffer.from('not from the pool')
    pool.give(foreign)
    expect(pool.take(5).buffer).to.not.equal(foreign.buffer)
    const a = pool.take(1000)
    const b = pool.take(1000)
    pool.give(a)
    pool.give(a)
    pool.give(b) // over the limit: dropped
    expect(pool.take(1000).buffer).to.equal(a.buffer)
    expect(pool.take(1000).buffer).to.not.equal(b.buffer)
  })
})
