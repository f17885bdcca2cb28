// The s3 source: CloudTrail log files read straight from the bucket a trail (or an organization
// trail) delivers to. The accounts, regions and date folders of the query are listed (nothing else),
// ListObjectsV2 is paged, digest files are left out, and the objects are downloaded a few at a time and
// scanned in worker threads by the files source's scanner, so memory stays bounded whatever the size
// of the bucket. SSE-S3 and SSE-KMS objects are decrypted by S3 for a caller allowed to (kms:Decrypt
// on the trail's key); a refusal, by S3 or by KMS, is reported per prefix or object, never skipped.
import type {S3Client} from '@aws-sdk/client-s3'
import {availableParallelism} from 'node:os'

import {s3Sdk} from '../../aws/sdk.js'
import {KmsctlError} from '../../errors.js'
import {type FilterSpec, rawNeedles} from '../filters.js'
import type {FileMatch, FileResult, ScanJob} from './file-scan.js'
import {fileInWindow, logFileDates} from './files.js'
import {bufferPool} from './scan-pool.js'
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

export type S3ClientLike = Pick<S3Client, 'send'>

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
  client: S3ClientLike
  /** Objects downloaded at once (default 8). */
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
  /** Scanning threads (default: the cores, at most 8; 0 scans in this thread). */
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

/** Every page of a listing, as keys (objects) and common prefixes (folders). */
export async function listAll(client: S3ClientLike, bucket: string, prefix: string, delimiter?: string): Promise<{folders: string[]; objects: S3Object[]}> {
  const {ListObjectsV2Command} = await s3Sdk()
  const folders: string[] = []
  const objects: S3Object[] = []
  let token: string | undefined
  const seen = new Set<string>()
  for (;;) {
    // eslint-disable-next-line no-await-in-loop
    const page = await client.send(new ListObjectsV2Command({Bucket: bucket, ContinuationToken: token, Delimiter: delimiter, Prefix: prefix}))
    for (const p of page.CommonPrefixes ?? []) if (p.Prefix) folders.push(p.Prefix)
    for (const o of page.Contents ?? []) if (o.Key) objects.push({key: o.Key, size: o.Size})
    if (!page.IsTruncated || !page.NextContinuationToken) break
    if (seen.has(page.NextContinuationToken)) throw new KmsctlError('FAILED', `S3 repeated a continuation token listing ${bucket}/${prefix}.`)
    seen.add(page.NextContinuationToken)
    token = page.NextContinuationToken
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

async function readBody(body: unknown, length: number | undefined): Promise<Buffer> {
  if (!body) return Buffer.alloc(0)
  const stream = body as AsyncIterable<Uint8Array>
  if (length !== undefined && length >= 0) {
    // One buffer of the announced size, owned by us (so it can be moved to a worker thread).
    let out = Buffer.allocUnsafeSlow(length)
    let at = 0
    for await (const chunk of stream) {
      if (at + chunk.length > out.length) {
        const bigger = Buffer.allocUnsafeSlow(Math.max(out.length * 2, at + chunk.length))
        out.copy(bigger, 0, 0, at)
        out = bigger
      }

      out.set(chunk, at)
      at += chunk.length
    }

    return at === out.length ? out : Buffer.from(out.subarray(0, at))
  }

  const chunks: Buffer[] = []
  for await (const chunk of stream) chunks.push(Buffer.from(chunk))
  return Buffer.concat(chunks)
}

/** Finds what to list: the organization folders, accounts and regions, then the pruned prefixes. */
async function plan(options: S3QueryOptions, failures: S3Failure[]): Promise<{accounts: string[]; prefixes: string[]; regions: string[]}> {
  const {bucket} = options.location
  const root = trailRoot(options.location.prefix)
  const list = async (prefix: string): Promise<string[]> => {
    try {
      return (await listAll(options.client, bucket, prefix, '/')).folders.map((f) => f.slice(prefix.length).replace(/\/$/, ''))
    } catch (error) {
      const f = fatal(error, s3Url(options.location, prefix))
      if (f) throw f
      failures.push(describeS3Failure(error, s3Url(options.location, prefix), 'ListObjectsV2'))
      return []
    }
  }

  // The organization folders, or accounts directly under AWSLogs/.
  let orgs: Array<string | undefined> = [root.org]
  if (!root.org && !root.account) {
    const top = await list(root.base)
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
  const {GetObjectCommand} = await s3Sdk()
  const {bucket} = options.location
  const failures: S3Failure[] = []
  const {accounts, prefixes, regions} = await plan(options, failures)
  const since = options.spec.since ? Date.parse(options.spec.since) : undefined
  const until = options.spec.until ? Date.parse(options.spec.until) : undefined

  // List every pruned prefix (a few at once), then read the objects in key order.
  const listed: S3Object[] = []
  let skippedByDate = 0
  await eachLimited(prefixes, 8, async (prefix) => {
    if (options.signal?.aborted) return
    try {
      const {objects} = await listAll(options.client, bucket, prefix)
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
  const workers = options.workers ?? Math.min(availableParallelism(), 8)
  const concurrency = Math.max(1, options.concurrency ?? 8)

  const download = async (o: S3Object): Promise<Buffer | S3Failure> => {
    try {
      const out = await options.client.send(new GetObjectCommand({Bucket: bucket, Key: o.key}), {abortSignal: options.signal})
      return await readBody(out.Body, out.ContentLength ?? o.size)
    } catch (error) {
      if (options.signal?.aborted) return {code: 'Aborted', location: `s3://${bucket}/${o.key}`, reason: 'interrupted'}
      const f = fatal(error, `s3://${bucket}/${o.key}`)
      if (f) throw f
      return describeS3Failure(error, `s3://${bucket}/${o.key}`, 'GetObject')
    }
  }

  /** Downloads and scans every object with one job; results in key order. */
  const runJob = async (job: ScanJob, onResult: (r: FileResult | S3Failure, o: S3Object) => void): Promise<boolean> => {
    const pool = bufferPool(job, listed.length <= 1 ? 0 : Math.min(workers, listed.length))
    const window = Math.max(concurrency, workers * 2)
    const done = new Map<number, FileResult | S3Failure>()
    let emitted = 0
    let next = 0
    let inFlightDownloads = 0
    let interrupted = false
    try {
      await new Promise<void>((resolveAll, rejectAll) => {
        const flush = () => {
          while (done.has(emitted)) {
            const r = done.get(emitted)!
            done.delete(emitted)
            onResult(r, listed[emitted])
            emitted++
          }
        }

        const pump = () => {
          if (options.signal?.aborted) {
            interrupted = true
            resolveAll()
            return
          }

          if (emitted === listed.length) {
            resolveAll()
            return
          }

          while (next < listed.length && next - emitted < window && inFlightDownloads < concurrency) {
            const index = next++
            const object = listed[index]
            inFlightDownloads++
            download(object)
              .then(async (body) => {
                inFlightDownloads--
                // Start the next download while this body is scanned.
                pump()
                return Buffer.isBuffer(body) ? pool.run(index, object.key, body) : body
              })
              .then((r) => {
                done.set(index, r)
                flush()
                pump()
              })
              .catch((error: Error) => rejectAll(error))
          }
        }

        options.signal?.addEventListener('abort', () => pump(), {once: true})
        pump()
      })
    } finally {
      await pool.close()
    }

    return interrupted
  }

  let spec = options.spec
  const aliases = [...(options.aliases ?? [])]
  const reported = new Set<string>()
  const report = (r: FileResult | S3Failure, o: S3Object) => {
    const location = `s3://${bucket}/${o.key}`
    if (reported.has(location)) return
    if ('code' in r && !('index' in r)) {
      if (r.code !== 'Aborted') failures.push(r)
      reported.add(location)
    } else if ((r as FileResult).error) {
      failures.push({code: 'UNREADABLE', location, reason: (r as FileResult).error!})
      reported.add(location)
    }
  }

  // A key given as an alias: learn which key it named from the logs themselves, as --source files does.
  const unresolved = spec.keys?.filter((k) => !k.id && k.aliases.length > 0) ?? []
  if (unresolved.length > 0 && listed.length > 0) {
    const bindings = new Map<string, Set<string>>()
    result.interrupted = await runJob({aliases: [], mode: 'learn', needles: [unresolved.flatMap((k) => k.aliases)], raw: false, spec}, (r, o) => {
      report(r, o)
      if (!('bindings' in r)) return
      for (const [alias, key] of r.bindings) {
        if (!bindings.has(alias)) bindings.set(alias, new Set())
        bindings.get(alias)!.add(key)
      }
    })
    const keys = spec.keys!.map((k) => {
      if (k.id) return k
      const targets = k.aliases.flatMap((a) => [...(bindings.get(a) ?? [])])
      if (targets.length === 0) return k
      const arn = targets.find((t) => t.startsWith('arn:'))
      const id = arn ? arn.slice(arn.indexOf(':key/') + 5) : targets[0]
      for (const a of k.aliases) {
        result.learned.push([a, arn ?? id])
        aliases.push([a, arn ?? id])
      }

      return {...k, arn, id}
    })
    spec = {...spec, keys}
    if (result.interrupted) return result
  }

  const seen = new Set<string>()
  let objectsDone = 0
  result.interrupted = await runJob({aliases, mode: 'match', needles: rawNeedles(spec), raw: Boolean(options.raw), spec}, (r, o) => {
    objectsDone++
    report(r, o)
    if ('index' in r && !r.error) {
      result.objects++
      result.bytes += r.bytes
      const fresh: FileMatch[] = []
      for (const m of r.matches) {
        const id = m.event.eventId
        if (id && seen.has(id)) {
          result.duplicates++
          continue
        }

        if (id) seen.add(id)
        fresh.push(m)
      }

      result.matched += fresh.length
      if (fresh.length > 0) options.onMatches?.(fresh)
    }

    options.onProgress?.({bytes: result.bytes, listed: listed.length, matched: result.matched, objectsDone})
  })
  failures.sort((a, b) => a.location.localeCompare(b.location))
  return result
}
