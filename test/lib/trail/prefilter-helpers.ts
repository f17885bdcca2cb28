// The raw pre-filter as the files source runs it: a record's text inside a log file, scanned with the
// needles and the raw record test, on the fast path and on the exact path.
import {type FilterSpec, rawNeedles, rawRecordTest} from '../../../src/lib/trail/filters.js'
import {scanRecords} from '../../../src/lib/trail/sources/raw-scan.js'

/**
 * Is the record (its JSON text, as a log file would hold it) admitted by the pre-filter? Checked
 * between two neighbours that match nothing, on both scanner paths; they must agree.
 */
export function rawAdmits(spec: FilterSpec, recordText: string): boolean {
  const filler = '{"eventVersion":"1.09","eventSource":"s3.amazonaws.com","eventName":"GetObject","sourceIPAddress":"s3.amazonaws.com"}'
  const file = Buffer.from(`{"Records":[${filler},${recordText},${filler}]}`)
  const at = Buffer.byteLength(`{"Records":[${filler},`)
  const needles = rawNeedles(spec)
  const test = rawRecordTest(spec)
  const seen = (exact: boolean) => {
    let hit = false
    scanRecords(file, needles, (start) => {
      if (start === at) hit = true
    }, {exact, test})
    return hit
  }

  const exact = seen(true)
  // The fast path splits at `},{"eventVersion":`, so it applies to records written that way only.
  if (recordText.startsWith('{"eventVersion":')) {
    const fast = seen(false)
    if (fast !== exact) throw new Error(`fast (${fast}) and exact (${exact}) paths disagree on ${recordText}`)
  }

  return exact
}
