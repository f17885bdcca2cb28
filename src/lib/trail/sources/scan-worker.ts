// A scanning thread of the files and s3 sources (scan-pool.ts): a file by path, bytes moved here, or
// an S3 object downloaded here with signed GETs of its own (s3-get.ts); answers with the file's matches.
import type {AwsCredentialIdentity} from '@smithy/types'
import {parentPort} from 'node:worker_threads'

import {BufferPool} from '../../buffer-pool.js'
import {type FileResult, type PreparedJob, prepareJob, scanBuffer, scanFile} from './file-scan.js'
import {toFetchFailure} from './s3-fetch.js'
import {type SignedS3, signedS3} from './s3-get.js'
import type {CredentialsAnswer, ScanStart, ScanTask, ScanWorkerData} from './scan-pool.js'

// The job comes in the first message (the thread may be started before the job is known).
let data: ScanWorkerData
let prepared: PreparedJob
const port = parentPort!
const waiting: Array<{reject: (e: Error) => void; resolve: (c: AwsCredentialIdentity) => void}> = []

/** Credentials from the main thread (the SDK keeps them until they are about to expire). */
const credentials = () =>
  new Promise<AwsCredentialIdentity>((resolve, reject) => {
    waiting.push({reject, resolve})
    if (waiting.length === 1) port.postMessage({credentials: 'request'})
  })

let getter: SignedS3 | undefined

// The downloads in flight (8 or so) each have a body buffer; a scanned body's buffer takes the next one.
const bodies = new BufferPool(32 * 1024 * 1024)

async function fetchAndScan(task: {index: number; key: string; size?: number}): Promise<FileResult> {
  try {
    getter ??= signedS3(data.s3!.settings, data.s3!.bucket, credentials, bodies)
    const body = await getter.get(task.key, task.size)
    try {
      return scanBuffer(body, task.key, task.index, prepared)
    } finally {
      bodies.give(body)
    }
  } catch (error) {
    return {bindings: [], bytes: 0, failure: toFetchFailure(error), index: task.index, matches: [], records: 0}
  }
}

port.on('message', (message: CredentialsAnswer | ScanStart | ScanTask) => {
  if ('start' in message) {
    data = message.start
    prepared = prepareJob(data.job)
    return
  }

  if ('credentials' in message) {
    const answer = message.credentials
    for (const w of waiting.splice(0)) {
      if ('error' in answer) w.reject(new Error(answer.error))
      else w.resolve(answer)
    }

    return
  }

  if ('path' in message) port.postMessage(scanFile(message.path, message.index, prepared))
  else if ('data' in message) port.postMessage(scanBuffer(Buffer.from(message.data.buffer, message.data.byteOffset, message.data.byteLength), message.name, message.index, prepared))
  else void fetchAndScan(message).then((r) => port.postMessage(r))
})
