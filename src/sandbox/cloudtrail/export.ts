// The export of the sandbox's records as CloudTrail log files, in the layout CloudTrail delivers to S3.
import {randomBytes} from 'node:crypto'
import {writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {gzipSync} from 'node:zlib'

import {SANDBOX_ACCOUNT} from '../constants.js'
import {type TrailRecord, makePrivateDir} from '../store/store.js'

export interface ExportResult {
  files: string[]
  records: number
}

/**
 * Writes records as CloudTrail delivers them to S3:
 * AWSLogs/<acct>/CloudTrail/<region>/YYYY/MM/DD/<acct>_CloudTrail_<region>_YYYYMMDDTHHmmZ_<16 chars>.json.gz,
 * one file per region and 5-minute delivery window, each {"Records": [...]}.
 */
export function exportTrail(records: TrailRecord[], outDir: string): ExportResult {
  const groups = new Map<string, TrailRecord[]>()
  for (const r of records) {
    const t = new Date(r.eventTime)
    const window = new Date(Math.floor(t.getTime() / 300_000) * 300_000)
    const key = `${r.recipientAccountId ?? SANDBOX_ACCOUNT}|${r.awsRegion}|${window.toISOString()}`
    let g = groups.get(key)
    if (!g) groups.set(key, (g = []))
    g.push(r)
  }

  const files: string[] = []
  for (const [key, group] of groups) {
    const [account, region, iso] = key.split('|')
    const w = new Date(iso)
    const yyyy = String(w.getUTCFullYear())
    const mm = String(w.getUTCMonth() + 1).padStart(2, '0')
    const dd = String(w.getUTCDate()).padStart(2, '0')
    const hh = String(w.getUTCHours()).padStart(2, '0')
    const mi = String(w.getUTCMinutes()).padStart(2, '0')
    const dir = join(outDir, 'AWSLogs', account, 'CloudTrail', region, yyyy, mm, dd)
    makePrivateDir(dir, 'The export directory')
    const unique = randomBytes(12).toString('base64').replaceAll(/[^A-Za-z0-9]/g, 'x').slice(0, 16)
    const file = join(dir, `${account}_CloudTrail_${region}_${yyyy}${mm}${dd}T${hh}${mi}Z_${unique}.json.gz`)
    // The records name who did what: readable by their owner only, like the sandbox's own files.
    writeFileSync(file, gzipSync(JSON.stringify({Records: group})), {mode: 0o600})
    files.push(file)
  }

  return {files: files.sort(), records: records.length}
}
