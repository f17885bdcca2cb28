// The export of the sandbox's records as CloudTrail log files, in the layout CloudTrail delivers to S3.
import {createHash, randomBytes} from 'node:crypto'
import {writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {gzipSync} from 'node:zlib'

import {SANDBOX_ACCOUNT} from '../constants.js'
import {type TrailRecord, makePrivateDir} from '../store/store.js'

export interface ExportOptions {
  /**
   * An organization trail's layout, AWSLogs/<org>/<account>/...: each record in its recipient account's
   * folder, and a call from another account's principal also in the caller's account (CloudTrail logs a
   * cross-account call in both, with one sharedEventID and an eventID of each account's own), with a
   * digest file per account, region and day (not events: readers skip them).
   */
  org?: string
}

/** A UUID derived from text, so that an export is the same each time it is made. */
function derivedUuid(text: string): string {
  const h = createHash('sha256').update(text).digest('hex')
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${'89ab'[Number.parseInt(h[16], 16) % 4]}${h.slice(17, 20)}-${h.slice(20, 32)}`
}

/** The records each account's trail holds: copies of cross-account calls in the caller's account. */
export function organizationRecords(records: TrailRecord[]): TrailRecord[] {
  const out: TrailRecord[] = []
  for (const r of records) {
    const recipient = r.recipientAccountId ?? SANDBOX_ACCOUNT
    const caller = r.userIdentity?.accountId
    if (typeof caller === 'string' && /^\d{12}$/.test(caller) && caller !== recipient && r.userIdentity?.type !== 'AWSService') {
      const shared = r.sharedEventID ?? derivedUuid(`shared:${r.eventID}`)
      out.push({...r, sharedEventID: shared}, {...r, eventID: derivedUuid(`${caller}:${r.eventID}`), recipientAccountId: caller, sharedEventID: shared})
    } else {
      out.push(r)
    }
  }

  return out
}

export interface ExportResult {
  files: string[]
  records: number
}

/**
 * Writes records as CloudTrail delivers them to S3:
 * AWSLogs/<acct>/CloudTrail/<region>/YYYY/MM/DD/<acct>_CloudTrail_<region>_YYYYMMDDTHHmmZ_<16 chars>.json.gz,
 * one file per region and 5-minute delivery window, each {"Records": [...]}.
 */
export function exportTrail(all: TrailRecord[], outDir: string, options: ExportOptions = {}): ExportResult {
  const records = options.org ? organizationRecords(all) : all
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
    const base = options.org ? join(outDir, 'AWSLogs', options.org, account) : join(outDir, 'AWSLogs', account)
    const dir = join(base, 'CloudTrail', region, yyyy, mm, dd)
    makePrivateDir(dir, 'The export directory')
    const unique = randomBytes(12).toString('base64').replaceAll(/[^A-Za-z0-9]/g, 'x').slice(0, 16)
    const file = join(dir, `${account}_CloudTrail_${region}_${yyyy}${mm}${dd}T${hh}${mi}Z_${unique}.json.gz`)
    // The records name who did what: readable by their owner only, like the sandbox's own files.
    writeFileSync(file, gzipSync(JSON.stringify({Records: group})), {mode: 0o600})
    files.push(file)
    if (options.org) {
      // The hourly digest of the trail's files (integrity validation): not events.
      const digestDir = join(base, 'CloudTrail-Digest', region, yyyy, mm, dd)
      makePrivateDir(digestDir)
      const digest = {awsAccountId: account, digestEndTime: w.toISOString(), digestS3Bucket: 'sandbox', logFiles: [{s3Object: file.slice(outDir.length + 1)}]}
      writeFileSync(join(digestDir, `${account}_CloudTrail-Digest_${region}_org-trail_${region}_${yyyy}${mm}${dd}T${hh}${mi}00Z.json.gz`), gzipSync(JSON.stringify(digest)))
    }
  }

  return {files: files.sort(), records: records.length}
}
