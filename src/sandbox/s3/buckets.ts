// The sandbox's S3 buckets: each folder of <sandbox-dir>/s3/ is a bucket, and `sandbox serve --bucket
// NAME=DIR` mounts any directory (log files copied from a trail, an export) as one more. Objects are
// the files under a bucket's folder; their keys are the paths relative to it, with "/".
import {type Stats, existsSync, readdirSync, statSync} from 'node:fs'
import {join, relative, resolve, sep} from 'node:path'

import {SSE_FOLDER} from './sse.js'

export const BUCKET_NAME = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/

export interface BucketMounts {
  /** Buckets mounted from directories, by name. */
  mounted: Map<string, string>
  /** <sandbox-dir>/s3: each folder is a bucket. */
  root: string
}

export function bucketMounts(sandboxDir: string, mounted: Array<[string, string]> = []): BucketMounts {
  return {mounted: new Map(mounted.map(([n, d]) => [n, resolve(d)])), root: join(sandboxDir, 's3')}
}

/** The folder holding a bucket's objects, or undefined when there is no such bucket. */
export function bucketDir(mounts: BucketMounts, name: string): string | undefined {
  const mounted = mounts.mounted.get(name)
  if (mounted) return existsSync(mounted) ? mounted : undefined
  if (!BUCKET_NAME.test(name)) return undefined
  const dir = join(mounts.root, name)
  return existsSync(dir) && statSync(dir).isDirectory() ? dir : undefined
}

export interface BucketInfo {
  created: Date
  name: string
}

export function listBuckets(mounts: BucketMounts): BucketInfo[] {
  const out = new Map<string, BucketInfo>()
  if (existsSync(mounts.root)) {
    for (const name of readdirSync(mounts.root)) {
      const dir = join(mounts.root, name)
      if (BUCKET_NAME.test(name) && statSync(dir).isDirectory()) out.set(name, {created: statSync(dir).birthtime, name})
    }
  }

  for (const [name, dir] of mounts.mounted) if (existsSync(dir)) out.set(name, {created: statSync(dir).birthtime, name})
  return [...out.values()].sort((a, b) => (a.name < b.name ? -1 : 1))
}

export interface ObjectInfo {
  key: string
  mtime: Date
  path: string
  size: number
}

/**
 * The bucket's objects whose keys start with the prefix, sorted by key (S3's order: UTF-8 bytes). Only
 * the folder the prefix names is walked, so listing one day of one account does not read the bucket.
 */
export function listObjects(dir: string, prefix: string): ObjectInfo[] {
  const folder = prefix.includes('/') ? prefix.slice(0, prefix.lastIndexOf('/') + 1) : ''
  const start = join(dir, ...folder.split('/').filter(Boolean))
  if (!existsSync(start) || !statSync(start).isDirectory()) return []
  const out: ObjectInfo[] = []
  for (const rel of readdirSync(start, {recursive: true}) as string[]) {
    const path = join(start, rel)
    const key = folder + rel.split(sep).join('/')
    if (!key.startsWith(prefix) || key.startsWith(`${SSE_FOLDER}/`)) continue
    const st = statSync(path)
    if (!st.isFile()) continue
    out.push({key, mtime: st.mtime, path, size: st.size})
  }

  return out.sort((a, b) => Buffer.compare(Buffer.from(a.key), Buffer.from(b.key)))
}

/** Can an object have this key here: not empty, not a folder, not in the encryption records' folder. */
export function writableKey(key: string): boolean {
  return key !== '' && !key.endsWith('/') && !key.startsWith(`${SSE_FOLDER}/`) && key !== SSE_FOLDER
}

/** The file of one object, or undefined (no such key, or a key escaping the bucket). */
export function objectPath(dir: string, key: string): string | undefined {
  return objectFile(dir, key)?.path
}

/** The file of one object and its size and times (one stat), or undefined as objectPath. */
export function objectFile(dir: string, key: string): {path: string; stats: Stats} | undefined {
  if (!writableKey(key)) return undefined
  const path = resolve(dir, ...key.split('/'))
  const rel = relative(dir, path)
  if (rel.startsWith('..') || rel === '') return undefined
  const stats = statSync(path, {throwIfNoEntry: false})
  return stats?.isFile() ? {path, stats} : undefined
}
