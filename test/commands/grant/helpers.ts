// Shared by the grant command tests: the mocked clients' life cycle, and the refusals that must
// exit 2 before anything is sent.
import type {KMSClient} from '@aws-sdk/client-kms'
import {GetCallerIdentityCommand, type STSClient} from '@aws-sdk/client-sts'
import {runCommand} from '@oclif/test'
import type {AwsClientStub} from 'aws-sdk-client-mock'
import {expect} from 'chai'

import {ACCOUNT} from '../../lib/grants/fixtures.js'

export const ADMIN = {Account: ACCOUNT, Arn: `arn:aws:iam::${ACCOUNT}:user/admin`, UserId: 'AIDA'}

/**
 * For the calling describe block: KMS (and STS, answering as `caller`) reset before each test, the
 * exit code cleared after each, and the SDK clients unstubbed at the end so that later test files
 * (end-to-end ones) get real clients.
 */
export function mockedClients(kms: AwsClientStub<KMSClient>, sts?: AwsClientStub<STSClient>, caller = ADMIN): void {
  after(() => {
    kms.restore()
    sts?.restore()
  })

  beforeEach(() => {
    kms.reset()
    if (sts) {
      sts.reset()
      sts.on(GetCallerIdentityCommand).resolves(caller)
    }
  })

  afterEach(() => {
    process.exitCode = undefined
  })
}

/** One test per case: the command with these arguments exits 2 with the message, and sends nothing to KMS. */
export function itRefuses(command: string, cases: ReadonlyArray<[what: string, args: string[], message: RegExp]>, kms: AwsClientStub<KMSClient>): void {
  for (const [what, args, message] of cases) {
    it(`refuses ${what} (exit 2, nothing sent)`, async () => {
      const {stderr} = await runCommand([command, ...args])
      expect(process.exitCode).to.equal(2)
      expect(stderr).to.match(message)
      expect(kms.calls()).to.have.length(0)
    })
  }
}
