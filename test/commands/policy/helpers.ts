// Shared mocks for the policy command tests: one key whose policy lives in `state.policy`.
import {DescribeKeyCommand, GetKeyPolicyCommand, ListAliasesCommand, PutKeyPolicyCommand} from '@aws-sdk/client-kms'
import {GetCallerIdentityCommand} from '@aws-sdk/client-sts'
import {mkdtempSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {runCommand} from '@oclif/test'

import {type MockSdk, mockSdk} from '../../helpers/mock-sdk.js'

export const ACCOUNT = '111122223333'
export const KEY_ID = '1234abcd-12ab-34cd-56ef-1234567890ab'
export const KEY_ARN = `arn:aws:kms:us-east-1:${ACCOUNT}:key/${KEY_ID}`
export const OTHER_ID = '0000abcd-12ab-34cd-56ef-1234567890ab'
export const ADMIN_SESSION = `arn:aws:sts::${ACCOUNT}:assumed-role/KeyAdmin/alice`

/** KMS's default key policy text, formatted as KMS returns it. */
export const DEFAULT_POLICY = `{
  "Version" : "2012-10-17",
  "Id" : "key-default-1",
  "Statement" : [ {
    "Sid" : "Enable IAM User Permissions",
    "Effect" : "Allow",
    "Principal" : {
      "AWS" : "arn:aws:iam::${ACCOUNT}:root"
    },
    "Action" : "kms:*",
    "Resource" : "*"
  } ]
}`

export function policyText(statements: unknown[]): string {
  return JSON.stringify({Statement: statements, Version: '2012-10-17'}, null, 2) + '\n'
}

export const ROOT_STATEMENT = {Sid: 'Enable IAM User Permissions', Effect: 'Allow', Principal: {AWS: `arn:aws:iam::${ACCOUNT}:root`}, Action: 'kms:*', Resource: '*'}
export const USE_STATEMENT = {Sid: 'Use', Effect: 'Allow', Principal: {AWS: `arn:aws:iam::${ACCOUNT}:role/App`}, Action: ['kms:Decrypt', 'kms:Encrypt'], Resource: '*'}

export interface Harness {
  readonly kms: MockSdk['kms']
  readonly sts: MockSdk['sts']
  state: {policy: string; others: Record<string, string>; getCount: number; onGet?: (n: number) => string | undefined}
  home: string
  dir: string
  run(args: string[]): Promise<{stdout: string; stderr: string; exitCode?: number; error?: Error}>
  puts(): Array<Record<string, unknown>>
}

/** KMS and STS mocked (mockSdk()) for the tests of one describe block, answering as a key with a policy. */
export function setupPolicyMocks(): Harness {
  const sdk = mockSdk()
  const h: Harness = {
    dir: '',
    home: '',
    get kms() {
      return sdk.kms
    },
    puts: () => sdk.kms.commandCalls(PutKeyPolicyCommand).map((c) => c.args[0].input as unknown as Record<string, unknown>),
    async run(args) {
      process.exitCode = undefined
      const out = await runCommand(args)
      const exitCode = typeof process.exitCode === 'number' ? process.exitCode : undefined
      process.exitCode = undefined
      return {error: out.error, exitCode, stderr: out.stderr, stdout: out.stdout}
    },
    state: {getCount: 0, others: {}, policy: DEFAULT_POLICY},
    get sts() {
      return sdk.sts
    },
  }
  const savedHome = process.env.KMSCTL_HOME

  beforeEach(() => {
    h.home = mkdtempSync(join(tmpdir(), 'kmsctl-home-'))
    h.dir = mkdtempSync(join(tmpdir(), 'kmsctl-policy-'))
    process.env.KMSCTL_HOME = h.home
    h.state.policy = DEFAULT_POLICY
    h.state.others = {}
    h.state.getCount = 0
    h.state.onGet = undefined
    const {kms, sts} = sdk
    kms.on(DescribeKeyCommand).callsFake((input: {KeyId: string}) => {
      const id = input.KeyId === 'alias/other' || input.KeyId === OTHER_ID ? OTHER_ID : KEY_ID
      if (input.KeyId.startsWith('alias/') && !['alias/payments', 'alias/other'].includes(input.KeyId)) {
        throw Object.assign(new Error(`Alias ${input.KeyId} is not found.`), {name: 'NotFoundException'})
      }

      return {KeyMetadata: {Arn: `arn:aws:kms:us-east-1:${ACCOUNT}:key/${id}`, KeyId: id, KeyManager: 'CUSTOMER', KeyState: 'Enabled'}}
    })
    kms.on(ListAliasesCommand).resolves({Aliases: [{AliasName: 'alias/payments', TargetKeyId: KEY_ID}], Truncated: false})
    kms.on(GetKeyPolicyCommand).callsFake((input: {KeyId: string}) => {
      if (input.KeyId === OTHER_ID) return {Policy: h.state.others[OTHER_ID] ?? DEFAULT_POLICY, PolicyName: 'default'}
      h.state.getCount++
      const override = h.state.onGet?.(h.state.getCount)
      if (override !== undefined) h.state.policy = override
      return {Policy: h.state.policy, PolicyName: 'default'}
    })
    kms.on(PutKeyPolicyCommand).callsFake((input: {Policy: string}) => {
      h.state.policy = input.Policy
      return {}
    })
    sts.on(GetCallerIdentityCommand).resolves({Account: ACCOUNT, Arn: ADMIN_SESSION, UserId: 'AROAEXAMPLE:alice'})
  })

  after(() => {
    process.env.KMSCTL_HOME = savedHome
  })

  return h
}
