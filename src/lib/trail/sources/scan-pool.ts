// Threads that scan CloudTrail log files with the scanner of file-scan.ts, for the files and s3
// sources. A task is a file on disk (by path), bytes read elsewhere (moved to the thread, not copied),
// or an S3 object that the thread downloads itself with signed GETs of its own (s3-get.ts, from the
// main thread's settings; credentials are asked of the main thread), so that the per-request work
// runs on every core and not only on the main thread's. Size 0 scans in the calling thread.
import type {AwsCredentialIdentity} from '@smithy/types'
import {join} from 'node:path'
import {pathToFileURL} from 'node:url'
import {Worker} from 'node:worker_threads'

import type {S3ThreadSettings} from '../../aws/s3-config.js'
import {packageRoot, workerScript} from '../../paths.js'
import {type FileResult, type ScanJob, prepareJob, scanBuffer, scanFile} from './file-scan.js'

export type ScanTask = {data: Uint8Array; index: number; name: string} | {index: number; key: string; size?: number} | {index: number; path: string}

/** Where the threads download S3 objects from, for tasks naming a key. */
export interface ThreadS3 {
  bucket: string
  /** The main thread's credentials (the SDK's provider refreshes them); threads ask when theirs expire. */
  credentials: () => Promise<AwsCredentialIdentity>
  settings: S3ThreadSettings
}

/** What a scanning thread starts with. */
export interface ScanWorkerData {
  job: ScanJob
  s3?: {bucket: string; settings: S3ThreadSettings}
}

/** The first message a scanning thread receives. */
export interface ScanStart {
  start: ScanWorkerData
}

/** A thread's request for credentials, and the answer. */
export interface CredentialsRequest {
  credentials: 'request'
}

export interface CredentialsAnswer {
  credentials: AwsCredentialIdentity | {error: string}
}

export interface ScanPool {
  close(): Promise<void>
  run(task: ScanTask): Promise<FileResult>
}

const WORKER = 'lib/trail/sources/scan-worker'

/** A scanning thread, started without its job: the first message it receives is {start: ScanWorkerData}. */
function startWorker(): Worker {
  if (!import.meta.url.endsWith('.ts')) return new Worker(workerScript(WORKER))
  // Running from the TypeScript sources (unit tests): load the worker's source through tsx.
  const ts = pathToFileURL(join(packageRoot(), 'src', `${WORKER}.ts`)).href
  const source = `import('tsx/esm/api').then((m) => { m.register(); return import(${JSON.stringify(ts)}) })`
  return new Worker(source, {eval: true})
}

/** Threads started ahead of their job, while the work to do is still being found out. */
export interface ScanThreads {
  /** Terminates the threads no pool took. */
  close(): Promise<void>
  /** The threads started and not yet taken by a pool. */
  idle: Worker[]
}

/**
 * Starts `size` scanning threads now, so that loading their code overlaps what comes before the first
 * task (an S3 listing); a pool given them takes them instead of starting its own.
 */
export function startScanThreads(size: number): ScanThreads {
  const idle: Worker[] = []
  for (let i = 0; i < size; i++) {
    const worker = startWorker()
    // A thread that fails to start is dropped; the pool starts another, whose failure it reports.
    worker.once('error', () => {
      const at = idle.indexOf(worker)
      if (at !== -1) idle.splice(at, 1)
    })
    idle.push(worker)
  }

  return {
    async close() {
      await Promise.all(idle.splice(0).map((w) => w.terminate()))
    },
    idle,
  }
}

function inlinePool(job: ScanJob): ScanPool {
  const prepared = prepareJob(job)
  return {
    async close() {},
    async run(task) {
      if ('path' in task) return scanFile(task.path, task.index, prepared)
      if ('data' in task) return scanBuffer(Buffer.from(task.data.buffer, task.data.byteOffset, task.data.byteLength), task.name, task.index, prepared)
      throw new Error('An S3 key is downloaded by a scanning thread only: give the bytes to scan in this thread.')
    },
  }
}

/**
 * A pool of `size` scanning threads (0: this thread), started on first use (a query that reads nothing
 * starts none), or taken from threads started ahead.
 */
export function scanPool(job: ScanJob, size: number, s3?: ThreadS3, ahead?: ScanThreads): ScanPool {
  if (size <= 0) return inlinePool(job)
  const workers: Array<{busy: number; worker: Worker}> = []
  const pending = new Map<number, {reject: (e: Error) => void; resolve: (r: FileResult) => void}>()
  let failure: Error | undefined
  const workerData: ScanWorkerData = {job, ...(s3 ? {s3: {bucket: s3.bucket, settings: s3.settings}} : {})}
  const start = () => {
    const worker = ahead?.idle.shift() ?? startWorker()
    worker.postMessage({start: workerData} satisfies ScanStart)
    const slot = {busy: 0, worker}
    worker.on('message', (message: CredentialsRequest | FileResult) => {
      if ('credentials' in message) {
        s3?.credentials().then(
          (credentials) => worker.postMessage({credentials} satisfies CredentialsAnswer),
          (error: Error) => worker.postMessage({credentials: {error: error.message}} satisfies CredentialsAnswer),
        )
        return
      }

      slot.busy--
      const p = pending.get(message.index)
      pending.delete(message.index)
      p?.resolve(message)
    })
    worker.on('error', (error) => {
      failure = error
      for (const p of pending.values()) p.reject(error)
      pending.clear()
    })
    workers.push(slot)
  }

  return {
    async close() {
      await Promise.all(workers.map((w) => w.worker.terminate()))
    },
    run(task) {
      if (failure) return Promise.reject(failure)
      while (workers.length < size) start()
      const slot = workers.reduce((a, b) => (b.busy < a.busy ? b : a))
      slot.busy++
      let transfer: ArrayBuffer[] = []
      let message: ScanTask = task
      if ('data' in task) {
        // Move the bytes when the buffer is theirs alone; copy them otherwise.
        const {data} = task
        const owned = data.byteOffset === 0 && data.buffer.byteLength === data.byteLength
        const bytes = owned ? data : new Uint8Array(data)
        message = {...task, data: bytes}
        transfer = [bytes.buffer as ArrayBuffer]
      }

      return new Promise((resolve, reject) => {
        pending.set(task.index, {reject, resolve})
        slot.worker.postMessage(message, transfer)
      })
    },
  }
}
