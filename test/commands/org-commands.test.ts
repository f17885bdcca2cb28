// Command tests of the organisation flags on the commands that gained them: policy lint over many
// keys, key disable/enable with key ARNs of other accounts, trail query --source api across
// accounts, grant revoke --grantee across accounts, and --ndjson on the listings. The SDK is mocked;
// each test asserts what was (and was not) sent.
import {LookupEventsCommand} from '@aws-sdk/client-cloudtrail'
import {DescribeKeyCommand, DisableKeyCommand, GetKeyPolicyCommand, GetKeyRotationStatusCommand, ListAliasesCommand, ListGrantsCommand, ListKeysCommand, RevokeGrantCommand} from '@aws-sdk/client-kms'
import {AssumeRoleCommand} from '@aws-sdk/client-sts'
import {runCommand} from '@oclif/test'
import {expect} from 'chai'
import {writeFileSync} from 'node:fs'
import {join} from 'node:path'

import {MOCK_ACCOUNT, mockSdk} from './../helpers/mock-sdk.js'
import {testRoot} from './../helpers/setup.js'

const OTHER = '444455556666'
const id = (n: number) => `${String(n).padStart(8, '0')}-0000-4000-8000-000000000000`
const arn = (n: number, account = MOCK_ACCOUNT, region = 'us-east-1') => `arn:aws:kms:${region}:${account}:key/${id(n)}`
const root = {Action: 'kms:*', Effect: 'Allow', Principal: {AWS: `arn:aws:iam::${MOCK_ACCOUNT}:root`}, Resource: '*', Sid: 'Root'}
const exit = (error?: {oclif?: {exit?: number}}) => process.exitCode ?? error?.oclif?.exit ?? 0

describe('commands across accounts', () => {
  const sdk = mockSdk()
  beforeEach(() => {
    process.exitCode = undefined
    sdk.kms.on(ListKeysCommand).resolves({Keys: [1, 2].map((n) => ({KeyArn: arn(n), KeyId: id(n)})), Truncated: false})
    sdk.kms.on(ListAliasesCommand).resolves({Aliases: [{AliasName: 'alias/pay', TargetKeyId: id(1)}], Truncated: false})
    sdk.kms.on(DescribeKeyCommand).callsFake((input: {KeyId: string}) => {
      const n = [1, 2].find((k) => input.KeyId === id(k) || input.KeyId === arn(k))
      return {KeyMetadata: {AWSAccountId: MOCK_ACCOUNT, Arn: arn(n ?? 1), CreationDate: new Date('2026-01-01T00:00:00Z'), KeyId: id(n ?? 1), KeyManager: 'CUSTOMER', KeySpec: 'SYMMETRIC_DEFAULT', KeyState: 'Enabled', KeyUsage: 'ENCRYPT_DECRYPT'}}
    })
    sdk.kms.on(GetKeyRotationStatusCommand).resolves({KeyRotationEnabled: true})
    sdk.kms.on(GetKeyPolicyCommand, {KeyId: id(1)}).resolves({Policy: JSON.stringify({Statement: [root, {Action: 'kms:Decrypt', Effect: 'Allow', Principal: {AWS: `arn:aws:iam::${OTHER}:root`}, Resource: '*', Sid: 'Partner'}], Version: '2012-10-17'})})
    sdk.kms.on(GetKeyPolicyCommand, {KeyId: id(2)}).resolves({Policy: JSON.stringify({Statement: [root], Version: '2012-10-17'})})
  })

  afterEach(() => {
    process.exitCode = undefined
  })

  describe('policy lint over many keys', () => {
    it('--all-keys: one row per finding, the count on stderr, exit 0 for warnings and 1 with --strict', async () => {
      const {stderr, stdout} = await runCommand(['policy', 'lint', '--all-keys'])
      expect(exit()).to.equal(0)
      expect(stdout.split('\n')[0]).to.match(/^Key\s+Severity\s+Rule\s+Statement\s+Finding/)
      expect(stdout).to.match(/alias\/pay\s+warning\s+cross-account\s+Partner/)
      expect(stderr).to.include('2 key policies linted: 0 errors, 1 warning in 1 key.')
      process.exitCode = undefined
      await runCommand(['policy', 'lint', '--all-keys', '--strict'])
      expect(exit()).to.equal(1)
    })

    it('--ndjson and --json give the findings with their key', async () => {
      const {stdout} = await runCommand(['policy', 'lint', '--all-keys', '--ndjson'])
      const rows = stdout.trimEnd().split('\n').map((l) => JSON.parse(l))
      expect(rows).to.have.length(1)
      expect(rows[0]).to.deep.include({alias: 'alias/pay', code: 'cross-account', keyArn: arn(1), keyId: id(1), severity: 'warning'})
      const j = await runCommand(['policy', 'lint', '--all-keys', '--json'])
      const out = JSON.parse(j.stdout)
      expect(out).to.deep.include({errors: 0, exitCode: 0, kind: 'keys', warnings: 1})
      expect(out.keys.map((k: {keyId: string}) => k.keyId)).to.deep.equal([id(1), id(2)])
    })

    it('refuses a target with --all-keys, and --csv for one policy (exit 2, nothing read)', async () => {
      const a = await runCommand(['policy', 'lint', 'alias/pay', '--all-keys'])
      expect(exit(a.error)).to.equal(2)
      expect(a.stderr).to.include('one policy or key is linted alone')
      process.exitCode = undefined
      const b = await runCommand(['policy', 'lint', 'alias/pay', '--csv'])
      expect(exit(b.error)).to.equal(2)
      expect(b.stderr).to.include('--csv is for the rows of many keys')
      expect(sdk.kms.commandCalls(GetKeyPolicyCommand)).to.have.length(0)
    })
  })

  describe('key disable with key ARNs of other accounts', () => {
    it('refuses without a role, naming the account and the flag, and sends nothing to KMS', async () => {
      const file = join(testRoot, 'other-account-arns.txt')
      writeFileSync(file, `${arn(1, OTHER, 'eu-west-1')}\n${arn(2)}\n`)
      const {error, stderr} = await runCommand(['key', 'disable', '--file', file, '--yes'])
      expect(exit(error)).to.equal(2)
      expect(stderr).to.include(`${arn(1, OTHER, 'eu-west-1')} is in account ${OTHER}, not the caller's (${MOCK_ACCOUNT}), and no role to assume there is named.`)
      expect(stderr).to.include('Try this: --role-name')
      expect(sdk.kms.calls()).to.have.length(0)
      expect(sdk.sts.commandCalls(AssumeRoleCommand)).to.have.length(0)
    })

    it('keeps the one-region path for ARNs of the caller\'s own account and region (no role asked)', async () => {
      sdk.kms.on(DisableKeyCommand).resolves({})
      const {stdout} = await runCommand(['key', 'disable', arn(1), arn(2), '--yes', '--json'])
      const out = JSON.parse(stdout)
      expect(out.targets).to.equal(undefined)
      expect(sdk.kms.commandCalls(DisableKeyCommand).map((c) => c.args[0].input.KeyId).sort()).to.deep.equal([id(1), id(2)])
    })
  })

  describe('trail query --source api across accounts', () => {
    it('refuses accounts without a role, a bad account, and org flags with another source (exit 2), sending nothing', async () => {
      for (const [args, message] of [
        [['--accounts', OTHER], 'needs the role to assume'],
        [['--accounts', '4444', '--role-name', 'Ops'], '--accounts "4444" is not an AWS account ID (12 digits).'],
        [['--org', '--role-name', 'Ops', '--all-regions', '--regions', 'us-east-1'], 'exclude each other'],
        [['--source', 'lake', '--event-data-store', 'eds-1', '--org', '--role-name', 'Ops'], '--org is for --source api'],
      ] as Array<[string[], string]>) {
        process.exitCode = undefined
        // eslint-disable-next-line no-await-in-loop
        const {error, stderr} = await runCommand(['trail', 'query', ...args])
        expect(exit(error), args.join(' ')).to.equal(2)
        expect(stderr, args.join(' ')).to.include(message)
      }

      expect(sdk.cloudtrail.commandCalls(LookupEventsCommand)).to.have.length(0)
      expect(sdk.sts.commandCalls(AssumeRoleCommand)).to.have.length(0)
    })
  })

  describe('grant revoke --grantee across accounts', () => {
    it('refuses a KEY or --all across accounts (exit 2), sending nothing', async () => {
      const {error, stderr} = await runCommand(['grant', 'revoke', 'alias/pay', '--all', '--accounts', OTHER, '--role-name', 'Ops', '--yes'])
      expect(exit(error)).to.equal(2)
      expect(stderr).to.include('Across accounts and regions, grants are revoked by --grantee')
      expect(sdk.kms.commandCalls(ListGrantsCommand)).to.have.length(0)
      expect(sdk.kms.commandCalls(RevokeGrantCommand)).to.have.length(0)
    })
  })

  describe('--ndjson on the listings', () => {
    it('key list --ndjson prints each key as --json has it, one a line, and no count', async () => {
      const {stderr, stdout} = await runCommand(['key', 'list', '--ndjson'])
      const lines = stdout.trimEnd().split('\n')
      expect(lines).to.have.length(2)
      const json = JSON.parse((await runCommand(['key', 'list', '--json'])).stdout)
      expect(lines.map((l) => JSON.parse(l))).to.deep.equal(json)
      expect(stderr).not.to.include('2 keys')
    })
  })
})
