import {
  DescribeKeyCommand,
  DisableKeyCommand,
  GetKeyPolicyCommand,
  GetKeyRotationStatusCommand,
  KMSClient,
  ListAliasesCommand,
  ListGrantsCommand,
  ListResourceTagsCommand,
  PutKeyPolicyCommand,
  RevokeGrantCommand,
} from '@aws-sdk/client-kms'
import {GetCallerIdentityCommand, STSClient} from '@aws-sdk/client-sts'
import {runCommand} from '@oclif/test'
import {expect} from 'chai'
import {mkdtempSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {Journal} from '../../../src/lib/journal.js'
import {mockSdk} from '../../helpers/mock-sdk.js'

const acct = '111122223333'
const KEY = '00000001-0000-4000-8000-000000000000'
const ARN = `arn:aws:kms:us-east-1:${acct}:key/${KEY}`
const ME = `arn:aws:iam::${acct}:user/oncall`
const POLICY = JSON.stringify({Statement: [{Action: 'kms:*', Effect: 'Allow', Principal: {AWS: `arn:aws:iam::${acct}:root`}, Resource: '*'}], Version: '2012-10-17'})
const GRANT = {GrantId: 'g1', GranteePrincipal: `arn:aws:iam::${acct}:role/app`, KeyId: ARN, Name: 'app', Operations: ['Decrypt' as const]}

describe('incident contain', () => {
  const sdk = mockSdk()
  let home: string

  beforeEach(() => {
    home = mkdtempSync(join(tmpdir(), 'kmsctl-contain-'))
    process.env.KMSCTL_HOME = home
    sdk.sts.on(GetCallerIdentityCommand).resolves({Account: acct, Arn: ME, UserId: 'AIDA'})
    sdk.kms.on(DescribeKeyCommand).resolves({KeyMetadata: {Arn: ARN, KeyId: KEY, KeyManager: 'CUSTOMER', KeySpec: 'SYMMETRIC_DEFAULT', KeyState: 'Enabled', Origin: 'AWS_KMS'}})
    sdk.kms.on(ListAliasesCommand).resolves({Aliases: [{AliasName: 'alias/pay', TargetKeyId: KEY}]})
    sdk.kms.on(GetKeyPolicyCommand).resolves({Policy: POLICY})
    sdk.kms.on(ListGrantsCommand).resolves({Grants: [GRANT]})
    sdk.kms.on(ListResourceTagsCommand).resolves({Tags: [{TagKey: 'team', TagValue: 'payments'}]})
    sdk.kms.on(GetKeyRotationStatusCommand).resolves({KeyRotationEnabled: true, RotationPeriodInDays: 365})
    sdk.kms.on(DisableKeyCommand).resolves({})
    sdk.kms.on(RevokeGrantCommand).resolves({})
    sdk.kms.on(PutKeyPolicyCommand).resolves({})
    process.exitCode = undefined
  })

  afterEach(() => {
    process.exitCode = undefined
  })

  const changes = () => [...sdk.kms.commandCalls(DisableKeyCommand), ...sdk.kms.commandCalls(RevokeGrantCommand), ...sdk.kms.commandCalls(PutKeyPolicyCommand)]

  it('snapshots into the journal, then disables, revokes and locks, and prints the entry', async () => {
    const {stdout} = await runCommand(['incident', 'contain', 'alias/pay', '--revoke-grants', '--lock-policy', '--admin', ME, '--confirm', 'alias/pay', '--json'])
    const out = JSON.parse(stdout)
    expect(out.exitCode).to.equal(0)
    expect(out.keys[0]).to.deep.include({after: 'Disabled', grantsRevoked: 1, key: KEY, policyReplaced: true, status: 'contained'})
    expect(sdk.kms.commandCalls(RevokeGrantCommand)[0].args[0].input).to.deep.equal({GrantId: 'g1', KeyId: KEY})
    const put = JSON.parse(sdk.kms.commandCalls(PutKeyPolicyCommand)[0].args[0].input.Policy!)
    expect(put.Statement[0].Principal).to.deep.equal({AWS: ME})
    const entry = new Journal({dir: join(home, 'journal')}).get(out.keys[0].journalId)!
    expect(entry.action).to.equal('incident.contain')
    expect(entry.before).to.deep.include({aliases: ['alias/pay'], policy: POLICY, rotation: {enabled: true, periodDays: 365}, state: 'Enabled', tags: {team: 'payments'}})
    expect(entry.outcome?.status).to.equal('ok')
  })

  it('prints one line for one key, with the restore command', async () => {
    const {stdout} = await runCommand(['incident', 'contain', KEY, '--yes'])
    expect(stdout).to.match(/^Contained alias\/pay \(00000001-0000-4000-8000-000000000000\): Enabled -> Disabled\. Restore: kmsctl incident restore j-\d{8}T\d{6}Z-[0-9a-f]{6}\n$/)
    expect(sdk.kms.commandCalls(RevokeGrantCommand)).to.have.length(0)
    expect(sdk.kms.commandCalls(PutKeyPolicyCommand)).to.have.length(0)
  })

  it('refuses a lock policy that would lock the caller out, before anything is read or sent', async () => {
    const {stderr} = await runCommand(['incident', 'contain', KEY, '--lock-policy', '--admin', `arn:aws:iam::${acct}:role/Other`, '--yes'])
    expect(process.exitCode).to.equal(2)
    expect(stderr).to.include(`Error: The lock policy would lock you out: ${ME} is not one of the --admin principals`)
    expect(stderr).to.include(`Try this: add --admin ${ME}`)
    expect(changes()).to.have.length(0)
    expect(sdk.kms.commandCalls(GetKeyPolicyCommand)).to.have.length(0)
  })

  it('needs a confirmation: no prompt without a terminal, --confirm must match; nothing sent otherwise', async () => {
    const none = await runCommand(['incident', 'contain', 'alias/pay'])
    expect(process.exitCode).to.equal(2)
    expect(none.stderr).to.include('Confirmation required to contain key 00000001-0000-4000-8000-000000000000 (alias/pay), and there is no terminal to ask on.')
    process.exitCode = undefined
    const wrong = await runCommand(['incident', 'contain', 'alias/pay', '--confirm', 'alias/other'])
    expect(process.exitCode).to.equal(2)
    expect(wrong.stderr).to.include('--confirm "alias/other" does not match')
    expect(changes()).to.have.length(0)
    expect(new Journal({dir: join(home, 'journal')}).readAll()).to.have.length(0)
  })

  it('goes on when ListAliases is refused (with --dry-run too), says so, and leaves no unhandled rejection', async () => {
    const unhandled: unknown[] = []
    const onUnhandled = (reason: unknown) => unhandled.push(reason)
    process.on('unhandledRejection', onUnhandled)
    try {
      sdk.kms.on(ListAliasesCommand).rejects(Object.assign(new Error('not authorized to perform: kms:ListAliases'), {$metadata: {httpStatusCode: 400}, name: 'AccessDeniedException'}))
      const dry = await runCommand(['incident', 'contain', KEY, '--dry-run', '--json'])
      expect(JSON.parse(dry.stdout).aliasesUnavailable).to.match(/not allowed|not authorized/i)
      expect(dry.stderr).to.match(/Aliases could not be read/)
      expect(changes()).to.have.length(0)
      const real = await runCommand(['incident', 'contain', KEY, '--confirm', KEY, '--json'])
      const out = JSON.parse(real.stdout)
      expect(out.keys[0]).to.deep.include({after: 'Disabled', key: KEY, status: 'contained'})
      expect(out.aliasesUnavailable).to.match(/not allowed|not authorized/i)
      await new Promise((r) => setImmediate(r))
      expect(unhandled).to.deep.equal([])
    } finally {
      process.off('unhandledRejection', onUnhandled)
    }
  })

  it('--dry-run reads the key and sends nothing', async () => {
    const {stdout, stderr} = await runCommand(['incident', 'contain', 'alias/pay', '--revoke-grants', '--dry-run'])
    expect(stdout).to.match(/1 to revoke/)
    expect(stderr).to.include('Dry run: nothing was sent.')
    expect(changes()).to.have.length(0)
    expect(new Journal({dir: join(home, 'journal')}).readAll()).to.have.length(0)
  })

  it('refuses bad flags with exit 2 before any call', async () => {
    for (const argv of [
      ['incident', 'contain', KEY, '--lock-policy', '--yes'],
      ['incident', 'contain', KEY, '--admin', ME, '--yes'],
      ['incident', 'contain', KEY, '--lock-policy', '--admin', 'bob', '--yes'],
      ['incident', 'contain', 'not-a-key', '--yes'],
    ]) {
      process.exitCode = undefined
      // eslint-disable-next-line no-await-in-loop
      await runCommand(argv)
      expect(process.exitCode, argv.join(' ')).to.equal(2)
    }

    expect(sdk.kms.calls()).to.have.length(0)
  })

  it('reports a failed step and exits 1 when the only key failed', async () => {
    sdk.kms.on(DisableKeyCommand).rejects(Object.assign(new Error('not allowed'), {$metadata: {httpStatusCode: 400}, name: 'AccessDeniedException'}))
    const {stdout} = await runCommand(['incident', 'contain', KEY, '--yes', '--json'])
    const out = JSON.parse(stdout)
    expect(out.keys[0].status).to.equal('failed')
    expect(out.keys[0].steps[0]).to.deep.include({kind: 'disable', status: 'failed'})
    expect(out.keys[0].steps[0].error.code).to.equal('ACCESS_DENIED')
    expect(process.exitCode).to.equal(1)
    const [entry] = new Journal({dir: join(home, 'journal')}).readAll()
    expect(entry.outcome?.status).to.equal('failed')
  })
})
