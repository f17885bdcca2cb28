// The s3 source: CloudTrail log files read straight from the bucket a trail (or an organization
// trail) delivers to. The accounts, regions and date folders of the query are listed (nothing else),
// ListObjectsV2 is paged, digest files are left out, and the objects are downloaded a few at a time, by
// the worker threads that scan them with the files source's scanner, so memory stays bounded whatever
// the size of the bucket. SSE-S3 and SSE-KMS objects are decrypted by S3 for a caller allowed to (kms:Decrypt
// on the trail's key); a refusal, by S3 or by KMS, is reported per prefix or object, never skipped.
import {availableParallelism} from 'node:os'

import {s3Sdk} from '../../aws/sdk.js'
import {KmsctlError} from '../../errors.js'
import type {FilterSpec} from '../filters.js'
import type {FileMatch, FileResult} from './file-scan.js'
import {fileInWindow, logFileDates} from './files.js'
import {type S3ClientLike, fetchError, getObjectBody, toFetchFailure} from './s3-fetch.js'
import {type ListPage, type SignedS3, signedS3} from './s3-get.js'
import {type ScanPool, type ScanThreads, type ThreadS3, scanPool, startScanThreads} from './scan-pool.js'
import {concurrencyLimit, runOrdered, scanLogs} from './scan-run.js'
import {
  ACCOUNT_ID,
  ORG_ID,
  REGION,
  type S3Location,
  accountPrefix,
  datePrefixes,
  isLogObject,
  planPrefixes,
  s3Url,
  trailRoot,
} from './s3-layout.js'

export type {S3ClientLike} from './s3-fetch.js'

/** Something that could not be read: a prefix (listing) or an object, and why. */
export interface S3Failure {
  /** ACCESS_DENIED (S3 refused), KMS_ACCESS_DENIED (KMS refused to decrypt), or the S3 error code. */
  code: string
  location: string
  reason: string
}

export interface S3Progress {
  bytes: number
  listed: number
  matched: number
  objectsDone: number
}

export interface S3QueryOptions {
  /** Accounts to read (default: every account folder found). */
  accounts?: string[]
  aliases?: Array<[string, string]>
  /** The SDK's S3 client, or how to make it (only made when the listing or downloads need it). */
  client: S3ClientLike | (() => Promise<S3ClientLike>)
  /** Objects downloaded at once (default 16). */
  concurrency?: number
  location: S3Location
  now?: number
  onMatches?: (matches: FileMatch[]) => void
  onProgress?: (progress: S3Progress) => void
  raw?: boolean
  /** Regions to read (default: every region folder found). */
  regions?: string[]
  signal?: AbortSignal
  spec: FilterSpec
  /**
   * The scanning threads' own S3 clients: their settings and this thread's credentials, or undefined
   * when the client cannot leave this thread (then it downloads, and the threads only scan).
   */
  threads?: () => Promise<Omit<ThreadS3, 'bucket'> | undefined>
  /** Scanning threads (default: the cores, at most 8; 0 downloads and scans in this thread). */
  workers?: number
}

export interface S3QueryResult {
  accounts: string[]
  bytes: number
  duplicates: number
  failures: S3Failure[]
  interrupted: boolean
  learned: Array<[string, string]>
  matched: number
  /** Log objects read. */
  objects: number
  /** Prefixes listed (after pruning by account, region and date). */
  prefixes: number
  regions: string[]
  /** Log objects listed but outside the time window (by their delivery time). */
  skippedByDate: number
}

interface S3Object {
  key: string
  size?: number
}

function errorName(error: unknown): string {
  const e = error as {Code?: string; name?: string}
  return e?.name ?? e?.Code ?? 'Error'
}

function httpStatus(error: unknown): number | undefined {
  return (error as {$metadata?: {httpStatusCode?: number}})?.$metadata?.httpStatusCode
}

/** A refusal or failure on one prefix or object, in words that say what to ask for. */
export function describeS3Failure(error: unknown, location: string, operation: 'GetObject' | 'ListObjectsV2'): S3Failure {
  const name = errorName(error)
  const message = (error as Error)?.message ?? String(error)
  // S3 names KMS's refusals KMS.* (KMS.DisabledException, ...) or says AccessDenied for kms:Decrypt.
  if (/^KMS/i.test(name) || /\bkms:Decrypt\b|customer master key|\bKMS key\b/i.test(message)) {
    return {code: 'KMS_ACCESS_DENIED', location, reason: `KMS refused to decrypt the object (it is SSE-KMS encrypted: you need kms:Decrypt on the trail's key): ${message}`}
  }

  if (name === 'AccessDenied' || name === 'Forbidden' || httpStatus(error) === 403) {
    const action = operation === 'GetObject' ? 's3:GetObject' : 's3:ListBucket'
    return {code: 'ACCESS_DENIED', location, reason: `access denied (${action}): ${message}`}
  }

  return {code: name, location, reason: message}
}

function fatal(error: unknown, location: string): KmsctlError | undefined {
  const name = errorName(error)
  if (name === 'NoSuchBucket') {
    return new KmsctlError('NOT_FOUND', `No such bucket: ${location}.`, {awsCode: name, cause: error, remedy: 'Check the bucket name (aws s3 ls), and the region (--region).'})
  }

  if (name === 'PermanentRedirect' || name === 'AuthorizationHeaderMalformed') {
    // The bucket is in another region than the one the request was signed for.
    const region = (error as {Region?: string}).Region
    return new KmsctlError('FAILED', `S3 answered ${name}: ${location} is in ${region ? `region ${region}` : 'another region'}.`, {
      awsCode: name,
      cause: error,
      remedy: region ? `Try this: --region ${region}` : "Give the bucket's region with --region (aws s3api get-bucket-location --bucket BUCKET).",
    })
  }

  if (['InvalidAccessKeyId', 'SignatureDoesNotMatch', 'ExpiredToken', 'CredentialsProviderError'].includes(name)) {
    return new KmsctlError(name === 'ExpiredToken' ? 'EXPIRED_TOKEN' : 'NO_CREDENTIALS', `S3 rejected the credentials (${name}).`, {
      awsCode: name,
      cause: error,
      remedy: 'Check the credentials in use (aws sts get-caller-identity), or select another --profile.',
    })
  }

  if (error instanceof KmsctlError) return error
  if ((error as NodeJS.ErrnoException)?.code === 'ECONNREFUSED') {
    return new KmsctlError('NETWORK', `Cannot reach S3: ${(error as Error).message}`, {cause: error, remedy: 'Check --endpoint-url and the network.'})
  }

  return undefined
}

/** One page of ListObjectsV2 (prefix, delimiter, continuation token), by the SDK's client or a signed GET (s3-get.ts). */
export type PageLister = (prefix: string, delimiter?: string, token?: string) => Promise<ListPage>

/** ListObjectsV2 pages through the SDK's client. */
export function sdkPages(client: S3ClientLike, bucket: string): PageLister {
  return async (prefix, delimiter, token) => {
    const {ListObjectsV2Command} = await s3Sdk()
    const page = await client.send(new ListObjectsV2Command({Bucket: bucket, ContinuationToken: token, Delimiter: delimiter, Prefix: prefix}))
    return {
      folders: (page.CommonPrefixes ?? []).flatMap((p) => (p.Prefix ? [p.Prefix] : [])),
      objects: (page.Contents ?? []).flatMap((o) => (o.Key ? [{key: o.Key, size: o.Size}] : [])),
      ...(page.IsTruncated && page.NextContinuationToken ? {next: page.NextContinuationToken} : {}),
    }
  }
}

/** Every page of a listing, as keys (objects) and common prefixes (folders). */
export async function listAll(client: PageLister | S3ClientLike, bucket: string, prefix: string, delimiter?: string): Promise<{folders: string[]; objects: S3Object[]}> {
  const pages = typeof client === 'function' ? client : sdkPages(client, bucket)
  const folders: string[] = []
  const objects: S3Object[] = []
  let token: string | undefined
  const seen = new Set<string>()
  for (;;) {
    // eslint-disable-next-line no-await-in-loop
    const page = await pages(prefix, delimiter, token)
    folders.push(...page.folders)
    objects.push(...page.objects)
    if (!page.next) break
    if (seen.has(page.next)) throw new KmsctlError('FAILED', `S3 repeated a continuation token listing ${bucket}/${prefix}.`)
    seen.add(page.next)
    token = page.next
  }

  return {folders, objects}
}

/** Runs tasks with at most `limit` at once, in order of start. */
async function eachLimited<T>(items: T[], limit: number, task: (item: T) => Promise<void>): Promise<void> {
  let next = 0
  const run = async () => {
    while (next < items.length) {
      const item = items[next++]
      // eslint-disable-next-line no-await-in-loop
      await task(item)
    }
  }

  await Promise.all(Array.from({length: Math.min(limit, items.length)}, () => run()))
}

/** Finds what to list: the organization folders, accounts and regions, then the pruned prefixes. */
async function plan(options: S3QueryOptions, pages: PageLister, failures: S3Failure[]): Promise<{accounts: string[]; prefixes: string[]; regions: string[]}> {
  const {bucket} = options.location
  const root = trailRoot(options.location.prefix)
  const list = async (prefix: string): Promise<string[]> => {
    try {
      return (await listAll(pages, bucket, prefix, '/')).folders.map((f) => f.slice(prefix.length).replace(/\/$/, ''))
    } catch (error) {
      const f = fatal(error, s3Url(options.location, prefix))
      if (f) throw f
      failures.push(describeS3Failure(error, s3Url(options.location, prefix), 'ListObjectsV2'))
      return []
    }
  }

  // The organization folders, or accounts directly under AWSLogs/.
  let orgs: Array<string | undefined> = [root.org]
  let top: string[] | undefined
  if (!root.org && !root.account) {
    top = await list(root.base)
    const found = top.filter((n) => ORG_ID.test(n))
    orgs = top.some((n) => ACCOUNT_ID.test(n)) ? [undefined, ...found] : found
    if (orgs.length === 0 && failures.length === 0) {
      throw new KmsctlError('NOT_FOUND', `No CloudTrail logs under ${s3Url(options.location, root.base)} (no account or o-<org> folder).`, {
        remedy: 'Give the bucket and prefix the trail delivers to, e.g. s3://my-trail-bucket or s3://my-trail-bucket/my-prefix.',
      })
    }
  }

  const wanted = (values: string[], given: string[] | undefined) => (given ? values.filter((v) => given.includes(v)) : values)
  const accountsByOrg: Array<{account: string; org?: string}> = []
  for (const org of orgs) {
    let accounts: string[]
    if (root.account) accounts = wanted([root.account], options.accounts)
    else if (options.accounts) accounts = options.accounts
    // Accounts directly under AWSLogs/ are in the listing already made.
    else if (!org && top) accounts = top.filter((n) => ACCOUNT_ID.test(n))
    // eslint-disable-next-line no-await-in-loop
    else accounts = (await list(`${root.base}${org ? `${org}/` : ''}`)).filter((n) => ACCOUNT_ID.test(n))
    for (const account of accounts) accountsByOrg.push({account, org})
  }

  const dates = datePrefixes(options.spec.since ? Date.parse(options.spec.since) : undefined, options.spec.until ? Date.parse(options.spec.until) : undefined, options.now ?? Date.now())
  const prefixes: string[] = []
  const regionsSeen = new Set<string>()
  const perAccount: Array<{account: string; org?: string; regions: string[]}> = []
  await eachLimited(accountsByOrg, 8, async ({account, org}) => {
    let regions: string[]
    if (root.region) regions = wanted([root.region], options.regions)
    else if (options.regions) regions = options.regions
    else regions = (await list(accountPrefix(root.base, org, account))).filter((n) => REGION.test(n))
    perAccount.push({account, org, regions})
  })
  perAccount.sort((a, b) => (a.org ?? '').localeCompare(b.org ?? '') || a.account.localeCompare(b.account))
  for (const {account, org, regions} of perAccount) {
    for (const r of regions) regionsSeen.add(r)
    for (const p of planPrefixes(root, org, [account], regions, dates)) prefixes.push(...p.prefixes)
  }

  return {accounts: [...new Set(accountsByOrg.map((a) => a.account))].sort(), prefixes, regions: [...regionsSeen].sort()}
}

export async function queryS3(options: S3QueryOptions): Promise<S3QueryResult> {
  const most = Math.max(0, options.workers ?? Math.min(availableParallelism(), 8))
  // The scanning threads start while the bucket is listed: the first downloads begin as soon as the
  // listing ends.
  const ahead = most > 0 ? startScanThreads(most) : undefined
  let signed: SignedS3 | undefined
  try {
    // With the threads' S3 settings, this thread lists (and downloads a lone object) with the same
    // signed requests as theirs, and the SDK's client is never loaded; without them (--workers 0, a
    // client that cannot leave this thread), everything goes through the SDK's client.
    const threads = most > 0 && options.threads ? await options.threads() : undefined
    if (threads) signed = signedS3(threads.settings, options.location.bucket, threads.credentials)
    let made: Promise<S3ClientLike> | undefined
    const client = () => (made ??= typeof options.client === 'function' ? options.client() : Promise.resolve(options.client))
    const pages: PageLister = signed ? signed.list : async (prefix, delimiter, token) => sdkPages(await client(), options.location.bucket)(prefix, delimiter, token)
    return await listAndScan(options, {ahead, client, most, pages, signed, threads})
  } finally {
    signed?.close()
    await ahead?.close()
  }
}

interface ScanSetup {
  ahead?: ScanThreads
  client: () => Promise<S3ClientLike>
  most: number
  pages: PageLister
  signed?: SignedS3
  threads?: Omit<ThreadS3, 'bucket'>
}

async function listAndScan(options: S3QueryOptions, {ahead, client, most, pages, signed, threads}: ScanSetup): Promise<S3QueryResult> {
  const {bucket} = options.location
  const failures: S3Failure[] = []
  const {accounts, prefixes, regions} = await plan(options, pages, failures)
  const since = options.spec.since ? Date.parse(options.spec.since) : undefined
  const until = options.spec.until ? Date.parse(options.spec.until) : undefined

  // List every pruned prefix (a few at once), then read the objects in key order.
  const listed: S3Object[] = []
  let skippedByDate = 0
  await eachLimited(prefixes, 8, async (prefix) => {
    if (options.signal?.aborted) return
    try {
      const {objects} = await listAll(pages, bucket, prefix)
      for (const o of objects) {
        if (!isLogObject(o.key)) continue
        if (fileInWindow({path: o.key, ...logFileDates(o.key)}, since, until)) listed.push(o)
        else skippedByDate++
      }
    } catch (error) {
      const f = fatal(error, s3Url(options.location, prefix))
      if (f) throw f
      failures.push(describeS3Failure(error, s3Url(options.location, prefix), 'ListObjectsV2'))
    }
  })
  listed.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
  failures.sort((a, b) => a.location.localeCompare(b.location))

  const result: S3QueryResult = {
    accounts,
    bytes: 0,
    duplicates: 0,
    failures,
    interrupted: false,
    learned: [],
    matched: 0,
    objects: 0,
    prefixes: prefixes.length,
    regions,
    skippedByDate,
  }
  const workers = Math.min(most, listed.length <= 1 ? 0 : listed.length)
  const concurrency = Math.max(1, options.concurrency ?? 16)
  const location = (index: number) => `s3://${bucket}/${listed[index].key}`
  // `concurrency` downloads in flight: in the scanning threads (signed GETs of their own, s3-get.ts)
  // when the client's settings can be given to them; else in this thread (a signed GET, or the SDK's
  // client), the bodies moved to the threads.
  const threaded: ThreadS3 | undefined = workers > 0 && threads ? {...threads, bucket} : undefined
  const limited = concurrencyLimit(concurrency)
  const download = async (key: string, size?: number): Promise<Buffer> => (signed ? signed.get(key, size) : getObjectBody(await client(), bucket, key, size, options.signal))
  const task = (pool: ScanPool, index: number): Promise<FileResult> => {
    const {key, size} = listed[index]
    if (threaded) return pool.run({index, key, size})
    return limited(async () => {
      try {
        return await download(key, size)
      } catch (error) {
        return toFetchFailure(error)
      }
    }).then((body) => (Buffer.isBuffer(body) ? pool.run({data: body, index, name: key}) : {bindings: [], bytes: 0, failure: body, index, matches: [], records: 0}))
  }

  const reported = new Set<number>()
  let objectsDone = 0
  const scanned = await scanLogs({
    aliases: options.aliases,
    count: listed.length,
    onMatches: options.onMatches,
    onResult(r, index, pass, matched) {
      if (r.failure && !options.signal?.aborted) {
        const error = fetchError(r.failure)
        const f = fatal(error, location(index))
        if (f) throw f
        if (!reported.has(index)) failures.push(describeS3Failure(error, location(index), 'GetObject'))
        reported.add(index)
      } else if (r.error && !reported.has(index)) {
        failures.push({code: 'UNREADABLE', location: location(index), reason: r.error})
        reported.add(index)
      }

      if (pass === 'learn') return
      objectsDone++
      if (!r.error && !r.failure) {
        result.objects++
        result.bytes += r.bytes
      }

      options.onProgress?.({bytes: result.bytes, listed: listed.length, matched, objectsDone})
    },
    raw: options.raw,
    async run(job, deliver) {
      const pool = scanPool(job, workers, threaded, ahead)
      try {
        return await runOrdered(listed.length, Math.max(concurrency, workers * 2), (index) => task(pool, index), deliver, options.signal)
      } finally {
        await pool.close()
      }
    },
    spec: options.spec,
  })
  failures.sort((a, b) => a.location.localeCompare(b.location))
  return {...result, ...scanned}
}
