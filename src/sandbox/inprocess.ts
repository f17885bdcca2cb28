// Placeholder until the sandbox lands: the in-process request handler.
import type {HttpHandler} from '@smithy/protocol-http'

import {KmsctlError} from '../lib/errors.js'

export interface InProcessOptions {
  dir: string
}

export async function createSandboxRequestHandler(_options: InProcessOptions): Promise<HttpHandler> {
  throw new KmsctlError('UNSUPPORTED', 'The embedded sandbox is not available in this build.', {
    remedy: 'Run against AWS, or point --endpoint-url at a KMS-compatible endpoint.',
  })
}
