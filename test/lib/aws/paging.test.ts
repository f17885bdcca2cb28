import {expect} from 'chai'

import {listAllPages} from '../../../src/lib/aws/paging.js'
import {KmsctlError} from '../../../src/lib/errors.js'

describe('listAllPages', () => {
  it('reads every page, passing each marker back, and keeps the entries in order', async () => {
    const pages: Record<string, {Items: number[]; NextMarker?: string; Truncated: boolean}> = {
      '': {Items: [1, 2], NextMarker: 'm1', Truncated: true},
      m1: {Items: [3], NextMarker: 'm2', Truncated: true},
      // A NextMarker without Truncated is not a next page.
      m2: {Items: [4], NextMarker: 'ignored', Truncated: false},
    }
    const asked: Array<string | undefined> = []
    const items = await listAllPages(
      'ListThings',
      async (marker) => {
        asked.push(marker)
        return pages[marker ?? '']
      },
      (page) => page.Items,
    )
    expect(items).to.deep.equal([1, 2, 3, 4])
    expect(asked).to.deep.equal([undefined, 'm1', 'm2'])
  })

  it('takes a page without entries as empty', async () => {
    const empty: {Items?: number[]; Truncated: boolean} = {Truncated: false}
    expect(await listAllPages('ListThings', async () => empty, (page) => page.Items)).to.deep.equal([])
  })

  it('stops with an error naming the listing when the same marker comes back', async () => {
    let calls = 0
    const error = await listAllPages(
      'ListGrants on key-1',
      async () => {
        calls++
        return {Items: [calls], NextMarker: 'same', Truncated: true}
      },
      (page) => page.Items,
    ).catch((error_: unknown) => error_)
    expect(error).to.be.instanceOf(KmsctlError)
    expect((error as KmsctlError).message).to.equal('ListGrants on key-1 returned the same page marker twice.')
    expect(calls).to.equal(2)
  })
})
