// Where CloudTrail log files lie in a bucket, and which prefixes a query needs to list: the account
// layout (AWSLogs/<account>/CloudTrail/<region>/YYYY/MM/DD/) and the organization layout
// (AWSLogs/o-<org>/<account>/CloudTrail/...). A query lists only the accounts and regions asked for,
// and only the days of its time window, so that a bucket holding years of an organisation's logs is
// read where it matters. Pure functions: no AWS call here.
import {usageError} from '../../errors.js'

export interface S3Location {
  bucket: string
  /** Key prefix, '' or ending with '/'. */
  prefix: string
}

const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/
export const ORG_ID = /^o-[a-z0-9]{10,32}$/
export const ACCOUNT_ID = /^\d{12}$/
export const REGION = /^[a-z]{2}(-[a-z]+)+-\d+$/

/** s3://bucket[/prefix] -> bucket and prefix (with a trailing slash). Usage error otherwise. */
export function parseS3Url(value: string, flag = 's3://bucket/prefix'): S3Location {
  const m = /^s3:\/\/([^/]+)(?:\/(.*))?$/.exec(value.trim())
  if (!m || !BUCKET.test(m[1])) {
    throw usageError(`"${value}" is not an S3 location (s3://bucket or s3://bucket/prefix).`, `Try this: ${flag.startsWith('--') ? flag + ' ' : ''}s3://my-trail-bucket/AWSLogs/o-exampleorgid`)
  }

  let prefix = m[2] ?? ''
  if (prefix !== '' && !prefix.endsWith('/')) prefix += '/'
  return {bucket: m[1], prefix}
}

export function s3Url(location: S3Location, key = location.prefix): string {
  return `s3://${location.bucket}/${key}`
}

/** What a prefix already fixes: the AWSLogs/ folder, and possibly the organization, account and region. */
export interface TrailRoot {
  account?: string
  /** Key prefix up to and including AWSLogs/. */
  base: string
  org?: string
  region?: string
}

/**
 * The prefix given by the user, read as far as it goes into the layout: a bucket root or a trail
 * prefix (AWSLogs/ is appended), or a path inside AWSLogs/ (organization, account, region).
 */
export function trailRoot(prefix: string): TrailRoot {
  const at = prefix.indexOf('AWSLogs/')
  if (at === -1) return {base: `${prefix}AWSLogs/`}
  const base = prefix.slice(0, at + 'AWSLogs/'.length)
  const parts = prefix.slice(base.length).split('/').filter(Boolean)
  const root: TrailRoot = {base}
  if (parts[0] && ORG_ID.test(parts[0])) root.org = parts.shift()
  if (parts[0] && ACCOUNT_ID.test(parts[0])) root.account = parts.shift()
  if (parts[0] === 'CloudTrail') parts.shift()
  if (parts[0] && REGION.test(parts[0])) root.region = parts.shift()
  return root
}

/** The folder of one account's logs: <base>[o-org/]<account>/CloudTrail/. */
export function accountPrefix(base: string, org: string | undefined, account: string): string {
  return `${base}${org ? `${org}/` : ''}${account}/CloudTrail/`
}

const DAY_MS = 86_400_000
/** Beyond this many days, months are listed instead of days (and files filtered by their date). */
export const MAX_DAY_PREFIXES = 92

function ymd(t: number): string[] {
  const d = new Date(t)
  return [String(d.getUTCFullYear()), String(d.getUTCMonth() + 1).padStart(2, '0'), String(d.getUTCDate()).padStart(2, '0')]
}

/**
 * The date folders (YYYY/MM/DD/ under a region's folder) that can hold events of [since, until]: a log
 * file is delivered after its events, on the day of its folder, so the first day is since's and the last
 * is the day after until's (a day of delivery delay, as for --source files). Without --since there is no
 * pruning (undefined: list the whole region). Long windows list months (YYYY/MM/) instead of days.
 */
export function datePrefixes(since: number | undefined, until: number | undefined, now: number): string[] | undefined {
  if (since === undefined) return undefined
  const first = Math.floor(since / DAY_MS) * DAY_MS
  const last = Math.floor((until ?? now) / DAY_MS) * DAY_MS + DAY_MS
  if (last < first) return []
  const days = (last - first) / DAY_MS + 1
  const out: string[] = []
  if (days <= MAX_DAY_PREFIXES) {
    for (let t = first; t <= last; t += DAY_MS) out.push(`${ymd(t).join('/')}/`)
    return out
  }

  const seen = new Set<string>()
  for (let t = first; t <= last; t += DAY_MS) {
    const [y, m] = ymd(t)
    const p = `${y}/${m}/`
    if (!seen.has(p)) {
      seen.add(p)
      out.push(p)
    }
  }

  return out
}

export interface PrefixPlan {
  account: string
  org?: string
  /** Prefixes to list (each ends with '/'). */
  prefixes: string[]
  region: string
}

/** Every prefix to list for the accounts and regions, pruned to the time window. */
export function planPrefixes(root: TrailRoot, org: string | undefined, accounts: string[], regions: string[], dates: string[] | undefined): PrefixPlan[] {
  const plans: PrefixPlan[] = []
  for (const account of accounts) {
    for (const region of regions) {
      const folder = `${accountPrefix(root.base, org, account)}${region}/`
      plans.push({account, org, prefixes: dates ? dates.map((d) => folder + d) : [folder], region})
    }
  }

  return plans
}

/** A CloudTrail log object (not a digest, not a folder marker). */
export function isLogObject(key: string): boolean {
  if (/(^|\/)CloudTrail-Digest\//.test(key) || key.includes('CloudTrail-Digest')) return false
  return key.endsWith('.json.gz') || key.endsWith('.json')
}

/** 1.2 MB, 340 KB: for summaries. */
export function formatBytes(bytes: number): string {
  if (bytes >= 1_073_741_824) return `${(bytes / 1_073_741_824).toFixed(2)} GB`
  if (bytes >= 1_048_576) return `${(bytes / 1_048_576).toFixed(1)} MB`
  return `${(bytes / 1024).toFixed(0)} KB`
}
