// Shared by the alias and key lifecycle command tests: mocked KMS and STS, a fresh journal
// directory per test, and a runner that captures the exit code.
import type {KMSClient} from '@aws-sdk/client-kms'
import {GetCallerIdentityCommand} from '@aws-sdk/client-sts'
import {runCommand} from '@oclif/test'
import type {AwsClientStub} from 'aws-sdk-client-mock'
import {mkdtempSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {Journal} from '../../../src/lib/journal.js'
import {mockSdk} from '../../helpers/mock-sdk.js'

export const ACCOUNT = '111122223333'
export const A = '11111111-1111-4111-8111-111111111111'
export const B = '22222222-2222-4222-8222-222222222222'
export const arn = (id: string) => `arn:aws:kms:us-east-1:${ACCOUNT}:key/${id}`
export const CALLER = `arn:aws:iam::${ACCOUNT}:user/ops`

export function meta(id: string, extra: Record<string, unknown> = {}) {
  return {
    Arn: arn(id),
    CreationDate: new Date('2026-01-02T03:04:05Z'),
    KeyId: id,
    KeyManager: 'CUSTOMER',
    KeySpec: 'SYMMETRIC_DEFAULT',
    KeyState: 'Enabled',
    KeyUsage: 'ENCRYPT_DECRYPT',
    Origin: 'AWS_KMS',
    ...extra,
  } as never
}

export const awsError = (name: string, message = name) => Object.assign(new Error(message), {name})

export interface Run {
  stdout: string
  stderr: string
  code: number
}

/**
 * A test context: the SDK mocked for the calling describe block (mockSdk()), a fresh KMSCTL_HOME
 * for each test, and STS answering as CALLER.
 */
export function commandContext() {
  const saved = process.env.KMSCTL_HOME
  const sdk = mockSdk()
  const ctx = {
    journal: () => new Journal(),
    get kms() {
      return sdk.kms
    },
    async run(args: string[]): Promise<Run> {
      process.exitCode = undefined
      // As in CI: no terminal to prompt on, even when the tests run in one.
      const tty = process.stdin.isTTY
      process.stdin.isTTY = false as true
      let out
      try {
        out = await runCommand(args)
      } finally {
        process.stdin.isTTY = tty
      }

      const code = typeof process.exitCode === 'number' ? process.exitCode : out.error ? ((out.error as {oclif?: {exit?: number}}).oclif?.exit ?? 1) : 0
      process.exitCode = undefined
      return {code, stderr: out.stderr, stdout: out.stdout}
    },
    get sts() {
      return sdk.sts
    },
  }
  beforeEach(() => {
    process.env.KMSCTL_HOME = mkdtempSync(join(tmpdir(), 'kmsctl-home-'))
    sdk.sts.on(GetCallerIdentityCommand).resolves({Account: ACCOUNT, Arn: CALLER, UserId: 'AIDAEXAMPLE'})
  })
  after(() => {
    process.env.KMSCTL_HOME = saved
  })
  return ctx
}

/** The KMS commands sent, by name, in order. */
export function sent(kms: AwsClientStub<KMSClient>): string[] {
  return kms.calls().map((c) => (c.args[0] as {constructor: {name: string}}).constructor.name.replace(/Command$/, ''))
}
