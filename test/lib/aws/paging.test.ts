import {expect} from 'chai'

import {listAllPages, lookupEventPages} from '../../../src/lib/aws/paging.js'
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

describe('lookupEventPages: throttling is waited out', () => {
  const throttled = () => Object.assign(new Error('Rate exceeded'), {$metadata: {httpStatusCode: 400}, name: 'ThrottlingException'})
  /** The error the first page ends with (undefined when it is read). */
  const firstPageError = (client: unknown, options: Parameters<typeof lookupEventPages>[2]) =>
    lookupEventPages(client as never, {}, options)
      .next()
      .then(
        () => undefined,
        (e: Error) => e,
      )

  it('asks for a throttled page again after a pause, and goes on with its token', async () => {
    const sent: Array<string | undefined> = []
    let failures = 2
    const client = {
      async send(command: {input: {NextToken?: string}}) {
        sent.push(command.input.NextToken)
        if (command.input.NextToken === 't1' && failures-- > 0) throw throttled()
        return command.input.NextToken ? {Events: [{EventId: 'b'}]} : {Events: [{EventId: 'a'}], NextToken: 't1'}
      },
    }
    const ids: string[] = []
    for await (const page of lookupEventPages(client as never, {}, {throttlePausesMs: [1, 1, 1]})) ids.push(...(page.Events ?? []).map((e) => e.EventId!))
    expect(ids).to.deep.equal(['a', 'b'])
    expect(sent).to.deep.equal([undefined, 't1', 't1', 't1'])
  })

  it('gives up after the last pause, and at once on other errors', async () => {
    let calls = 0
    const always = {
      async send() {
        calls++
        throw throttled()
      },
    }
    const first = await firstPageError(always, {throttlePausesMs: [1, 1]})
    expect(first?.name).to.equal('ThrottlingException')
    expect(calls).to.equal(3)
    calls = 0
    const denied = {
      async send() {
        calls++
        throw Object.assign(new Error('denied'), {name: 'AccessDeniedException'})
      },
    }
    const second = await firstPageError(denied, {throttlePausesMs: [1, 1]})
    expect(second?.name).to.equal('AccessDeniedException')
    expect(calls).to.equal(1)
  })

  it('stops waiting when the query is interrupted', async () => {
    const controller = new AbortController()
    const client = {
      async send() {
        setTimeout(() => controller.abort(), 5)
        throw throttled()
      },
    }
    const t0 = Date.now()
    const error = await firstPageError(client, {abortSignal: controller.signal, throttlePausesMs: [60_000]})
    expect(error?.name).to.equal('ThrottlingException')
    expect(Date.now() - t0).to.be.below(30_000)
  })
})
