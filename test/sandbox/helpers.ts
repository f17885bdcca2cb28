// In-process sandbox clients over a fresh temporary directory: the real SDK, no network.
import {CloudTrailClient} from '@aws-sdk/client-cloudtrail'
import {KMSClient} from '@aws-sdk/client-kms'
import {STSClient} from '@aws-sdk/client-sts'
import {mkdtempSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {DEFAULT_ACCESS_KEY_ID, DEFAULT_SECRET_ACCESS_KEY} from '../../src/sandbox/constants.js'
import {SandboxCore} from '../../src/sandbox/core.js'
import {handlerForCore} from '../../src/sandbox/http/inprocess.js'

export interface Sandbox {
  cloudtrail: CloudTrailClient
  dir: string
  kms: KMSClient
  kmsIn(region: string): KMSClient
  sts: STSClient
}

/**
 * Clients over a sandbox core of their own, exactly as `kmsctl --sandbox` runs it (identity, key
 * policies and grants, limits and faults of the directory's config), signed as the default administrator.
 */
export async function newSandbox(dir = mkdtempSync(join(tmpdir(), 'kmsctl-sbx-unit-'))): Promise<Sandbox> {
  const requestHandler = handlerForCore(new SandboxCore(dir))
  const config = (region = 'us-east-1') => ({
    credentials: {accessKeyId: DEFAULT_ACCESS_KEY_ID, secretAccessKey: DEFAULT_SECRET_ACCESS_KEY},
    maxAttempts: 1,
    region,
    requestHandler,
  })
  return {
    cloudtrail: new CloudTrailClient(config()),
    dir,
    kms: new KMSClient(config()),
    kmsIn: (region: string) => new KMSClient(config(region)),
    sts: new STSClient(config()),
  }
}

/** The rejection of a promise (fails if it resolves). */
export async function rejection(p: Promise<unknown>): Promise<Error & {$metadata?: {httpStatusCode?: number}}> {
  try {
    await p
  } catch (error) {
    return error as Error
  }

  throw new Error('expected the call to fail, but it succeeded')
}
