// Worker thread of the files source: receives file paths, answers with each file's matches.
import {parentPort, workerData} from 'node:worker_threads'

import {type ScanJob, prepareJob, scanFile} from './file-scan.js'

const prepared = prepareJob(workerData as ScanJob)

parentPort!.on('message', (message: {index: number; path: string}) => {
  parentPort!.postMessage(scanFile(message.path, message.index, prepared))
})
