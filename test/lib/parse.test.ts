import {expect} from 'chai'

import {parseDuration, parsePairs, parseTags, parseTime, splitList, tryParseDuration} from '../../src/lib/parse.js'

describe('parse', () => {
  it('parses k=v pairs and keeps = in values', () => {
    expect(parsePairs(['a=1', 'b=x=y', 'c='], 'tag')).to.deep.equal({a: '1', b: 'x=y', c: ''})
    expect(parseTags(['team=payments'])).to.deep.equal([{TagKey: 'team', TagValue: 'payments'}])
  })

  it('refuses malformed and duplicate pairs with exit code 2', () => {
    expect(() => parsePairs(['novalue'], 'context')).to.throw('--context "novalue" is not of the form key=value.').with.property('exitCode', 2)
    expect(() => parsePairs(['=v'], 'tag')).to.throw('not of the form key=value')
    expect(() => parsePairs(['a=1', 'a=2'], 'tag')).to.throw('--tag gives "a" twice.')
  })

  it('parses durations', () => {
    expect(tryParseDuration('30ms')).to.equal(30)
    expect(tryParseDuration('2h')).to.equal(7_200_000)
    expect(tryParseDuration('7d')).to.equal(604_800_000)
    expect(tryParseDuration('1.5s')).to.equal(1500)
    expect(tryParseDuration('7 parsecs')).to.equal(undefined)
    expect(() => parseDuration('soon', 'since')).to.throw('--since "soon" is not a duration.')
  })

  it('parses relative and ISO 8601 times', () => {
    const now = new Date('2026-11-28T12:00:00Z')
    expect(parseTime('2h', 'since', now).toISOString()).to.equal('2026-11-28T10:00:00.000Z')
    expect(parseTime('2026-11-01', 'since', now).toISOString()).to.equal('2026-11-01T00:00:00.000Z')
    expect(parseTime('2026-11-01T10:30:00', 'since', now).toISOString()).to.equal('2026-11-01T10:30:00.000Z')
    expect(parseTime('2026-11-01T10:30:00+02:00', 'since', now).toISOString()).to.equal('2026-11-01T08:30:00.000Z')
    expect(() => parseTime('yesterday', 'until', now)).to.throw('--until "yesterday" is not a time.').with.property('exitCode', 2)
    expect(() => parseTime('2026-13-45', 'until', now)).to.throw('is not a time')
  })

  it('splits comma-separated and repeated values', () => {
    expect(splitList(['a,b', ' c '])).to.deep.equal(['a', 'b', 'c'])
    expect(splitList(undefined)).to.deep.equal([])
  })
})
