// Worker threads that scan log file bytes read elsewhere (S3 object bodies): the bytes are moved to a
// worker (transferred, not copied), gunzipped and scanned there with the files source's scanner.
import {join} from 'node:path'
import {pathToFileURL} from 'node:url'
import {Worker} from 'node:worker_threads'

import {packageRoot, workerScript} from '../../paths.js'
import {type FileResult, type ScanJob, prepareJob, scanBuffer} from './file-scan.js'

const WORKER = 'lib/trail/sources/scan-worker'

function startWorker(job: ScanJob): Worker {
  if (!import.meta.url.endsWith('.ts')) return new Worker(workerScript(WORKER), {workerData: job})
  // Running from the TypeScript sources (unit tests): load the worker's source through tsx.
  const ts = pathToFileURL(join(packageRoot(), 'src', `${WORKER}.ts`)).href
  const source = `import('tsx/esm/api').then((m) => { m.register(); return import(${JSON.stringify(ts)}) })`
  return new Worker(source, {eval: true, workerData: job})
}

export interface BufferPool {
  close(): Promise<void>
  run(index: number, name: string, data: Buffer): Promise<FileResult>
}

/** A pool of `size` scanning threads; 0 scans in this thread. */
export function bufferPool(job: ScanJob, size: number): BufferPool {
  if (size <= 0) {
    const prepared = prepareJob(job)
    return {
      async close() {},
      run: async (index, name, data) => scanBuffer(data, name, index, prepared),
    }
  }

  const workers: Array<{busy: number; worker: Worker}> = []
  const pending = new Map<number, {reject: (e: Error) => void; resolve: (r: FileResult) => void}>()
  let failure: Error | undefined
  const started = () => {
    const worker = startWorker(job)
    const slot = {busy: 0, worker}
    worker.on('message', (result: FileResult) => {
      slot.busy--
      const p = pending.get(result.index)
      pending.delete(result.index)
      p?.resolve(result)
    })
    worker.on('error', (error) => {
      failure = error
      for (const p of pending.values()) p.reject(error)
      pending.clear()
    })
    workers.push(slot)
    return slot
  }

  return {
    async close() {
      await Promise.all(workers.map((w) => w.worker.terminate()))
    },
    run(index, name, data) {
      if (failure) return Promise.reject(failure)
      // Threads start on first use (all of them: a thread takes a while to load), so that a query
      // that reads no object starts none.
      while (workers.length < size) started()
      const slot = workers.reduce((a, b) => (b.busy < a.busy ? b : a))
      slot.busy++
      const owned = data.byteOffset === 0 && data.buffer.byteLength === data.length
      const bytes = owned ? new Uint8Array(data.buffer, 0, data.length) : new Uint8Array(data)
      return new Promise((resolve, reject) => {
        pending.set(index, {reject, resolve})
        slot.worker.postMessage({data: bytes, index, name}, [bytes.buffer as ArrayBuffer])
      })
    },
  }
}
