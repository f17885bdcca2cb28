// Shared by the grant command tests: the mocked SDK with a caller, and the refusals that must
// exit 2 before anything is sent.
import {GetCallerIdentityCommand} from '@aws-sdk/client-sts'
import {runCommand} from '@oclif/test'
import {expect} from 'chai'

import {mockSdk, sdk} from '../../helpers/mock-sdk.js'
import {ACCOUNT} from '../../lib/grants/fixtures.js'

export const ADMIN = {Account: ACCOUNT, Arn: `arn:aws:iam::${ACCOUNT}:user/admin`, UserId: 'AIDA'}

/**
 * For the calling describe block: the SDK mocked (mockSdk()), STS answering as `caller`, and the
 * exit code cleared after each test.
 */
export function mockedClients(caller = ADMIN): void {
  mockSdk()
  beforeEach(() => {
    sdk.sts.on(GetCallerIdentityCommand).resolves(caller)
  })

  afterEach(() => {
    process.exitCode = undefined
  })
}

/** One test per case: the command with these arguments exits 2 with the message, and sends nothing to KMS. */
export function itRefuses(command: string, cases: ReadonlyArray<[what: string, args: string[], message: RegExp]>): void {
  for (const [what, args, message] of cases) {
    it(`refuses ${what} (exit 2, nothing sent)`, async () => {
      const {stderr} = await runCommand([command, ...args])
      expect(process.exitCode).to.equal(2)
      expect(stderr).to.match(message)
      expect(sdk.kms.calls()).to.have.length(0)
    })
  }
}
