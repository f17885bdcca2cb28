import {expect} from 'chai'

import {ScanError, scanRecords} from '../../../src/lib/trail/sources/raw-scan.js'

/** The records a scan hands over, as parsed objects, and its stats. */
function scan(text: string, needles: string[][] = [], exact = false) {
  const buf = Buffer.from(text)
  const records: Array<Record<string, unknown>> = []
  const stats = scanRecords(buf, needles, (start, end) => records.push(JSON.parse(buf.toString('utf8', start, end))), {exact})
  return {records, stats}
}

const rec = (n: number, extra: Record<string, unknown> = {}) => ({eventVersion: '1.08', eventID: `e${n}`, eventName: n % 2 ? 'Decrypt' : 'Encrypt', eventSource: 'kms.amazonaws.com', ...extra})
const compact = (records: unknown[]) => JSON.stringify({Records: records})

describe('trail raw scan', () => {
  it('splits a compact CloudTrail file on the fast path, every record once, in order', () => {
    const {records, stats} = scan(compact([rec(1), rec(2), rec(3)]))
    expect(stats).to.deep.equal({fast: true, records: 3})
    expect(records.map((r) => r.eventID)).to.deep.equal(['e1', 'e2', 'e3'])
  })

  it('follows strings and nesting exactly on any other shape (pretty-printed, other key order, tricky strings)', () => {
    const tricky = rec(2, {requestParameters: {note: 'a "},{\\"eventVersion\\":" b } ] {'}, resources: [{ARN: 'x'}]})
    const pretty = JSON.stringify({Records: [rec(1), tricky, rec(3)], other: {x: [1, 2]}}, null, 2)
    const {records, stats} = scan(pretty)
    expect(stats.fast).to.equal(false)
    expect(records.map((r) => r.eventID)).to.deep.equal(['e1', 'e2', 'e3'])
    expect((records[1].requestParameters as {note: string}).note).to.equal('a "},{\\"eventVersion\\":" b } ] {')
    // The exact path on a compact file gives the same records.
    expect(scan(compact([rec(1), tricky, rec(3)]), [], true).records).to.deep.equal(records)
  })

  it('hands over only the records that contain a needle of every group', () => {
    const file = compact([rec(1), rec(2, {userAgent: 'aws-cli'}), rec(3, {userAgent: 'aws-cli'}), rec(4)])
    const {records} = scan(file, [['"Decrypt"'], ['aws-cli']])
    expect(records.map((r) => r.eventID)).to.deep.equal(['e3'])
    // A needle in none of the records: the whole file is passed over without counting.
    expect(scan(file, [['"GenerateMac"']]).stats).to.deep.equal({fast: false, records: -1})
  })

  it('refuses what is not a CloudTrail log file, or is cut short, naming why', () => {
    for (const [text, why] of [
      ['[]', 'not a JSON object'],
      ['{"foo": 1}', 'no Records array: not a CloudTrail log file'],
      ['{}', 'no Records array: not a CloudTrail log file'],
      ['{"Records": {}}', 'Records is not an array'],
      ['{"Records": [1]}', 'a record is not an object'],
      [compact([rec(1), rec(2)]).slice(0, 60), 'the file ends before its closing brace (truncated?)'],
      ['{"Records": [{"eventVersion": "1.08", "x": "unterminated}]}', 'unterminated string (truncated file?)'],
    ]) {
      expect(() => scan(text), text).to.throw(ScanError, why)
    }

    // Not a CloudTrail file even when a filter's needle is absent from it: never silently "no match".
    expect(() => scan('{"foo": 1}', [['"kms.amazonaws.com"']])).to.throw(ScanError, 'no Records array')
  })

  it('reads an empty Records array as no records', () => {
    expect(scan('{"Records": []}').stats).to.deep.equal({fast: false, records: 0})
  })
})
