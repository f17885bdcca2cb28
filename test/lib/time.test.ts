import {expect} from 'chai'

import {DAY_MS, parseIsoTime} from '../../src/lib/time.js'

describe('time', () => {
  it('reads ISO 8601 dates and date-times, UTC when no zone is given', () => {
    expect(parseIsoTime('2026-11-01')?.toISOString()).to.equal('2026-11-01T00:00:00.000Z')
    expect(parseIsoTime('2026-11-01T10:00')?.toISOString()).to.equal('2026-11-01T10:00:00.000Z')
    expect(parseIsoTime('2026-11-01 10:00:30')?.toISOString()).to.equal('2026-11-01T10:00:30.000Z')
    expect(parseIsoTime('2026-11-01T10:00:00+02:00')?.toISOString()).to.equal('2026-11-01T08:00:00.000Z')
    expect(parseIsoTime(' 2026-11-01T10:00:00.5Z ')?.toISOString()).to.equal('2026-11-01T10:00:00.500Z')
  })

  it('says undefined for anything else', () => {
    for (const bad of ['yesterday', '2026-13-01', '2026-11-01T25:00Z', '11/01/2026', '1730000000', '']) expect(parseIsoTime(bad), bad).to.equal(undefined)
    expect(DAY_MS).to.equal(86_400_000)
  })
})
