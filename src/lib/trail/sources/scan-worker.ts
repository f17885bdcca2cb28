// Worker thread of the s3 source: receives log file bytes (an S3 object body), answers with its matches.
import {parentPort, workerData} from 'node:worker_threads'

import {type ScanJob, prepareJob, scanBuffer} from './file-scan.js'

const prepared = prepareJob(workerData as ScanJob)

parentPort!.on('message', (message: {data: Uint8Array; index: number; name: string}) => {
  const data = Buffer.from(message.data.buffer, message.data.byteOffset, message.data.byteLength)
  parentPort!.postMessage(scanBuffer(data, message.name, message.index, prepared))
})
