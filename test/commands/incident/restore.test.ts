import {
  CreateGrantCommand,
  DescribeKeyCommand,
  EnableKeyCommand,
  GetKeyPolicyCommand,
  GetKeyRotationStatusCommand,
  KMSClient,
  ListAliasesCommand,
  ListGrantsCommand,
  ListResourceTagsCommand,
  PutKeyPolicyCommand,
} from '@aws-sdk/client-kms'
import {GetCallerIdentityCommand, STSClient} from '@aws-sdk/client-sts'
import {runCommand} from '@oclif/test'
import {expect} from 'chai'
import {mkdtempSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {lockPolicy} from '../../../src/lib/incident/lock-policy.js'
import {Journal} from '../../../src/lib/journal.js'
import {mockSdk} from '../../helpers/mock-sdk.js'

const acct = '111122223333'
const KEY = '00000001-0000-4000-8000-000000000000'
const ARN = `arn:aws:kms:us-east-1:${acct}:key/${KEY}`
const ME = `arn:aws:iam::${acct}:user/oncall`
const POLICY = JSON.stringify({Statement: [{Action: 'kms:*', Effect: 'Allow', Principal: {AWS: `arn:aws:iam::${acct}:root`}, Resource: '*'}], Version: '2012-10-17'})
const LOCK = lockPolicy([ME])
const GRANT = {
  Constraints: {EncryptionContextEquals: {tenant: 'acme'}},
  CreationDate: '2026-11-01T00:00:00.000Z',
  GrantId: 'g-old',
  GranteePrincipal: `arn:aws:iam::${acct}:role/app`,
  KeyId: ARN,
  Name: 'app',
  Operations: ['Decrypt'],
  RetiringPrincipal: `arn:aws:iam::${acct}:role/ops`,
}

describe('incident restore', () => {
  const sdk = mockSdk()
  let home: string
  let journal: Journal
  let entry: string

  beforeEach(() => {
    home = mkdtempSync(join(tmpdir(), 'kmsctl-restore-'))
    process.env.KMSCTL_HOME = home
    journal = new Journal({dir: join(home, 'journal')})
    const e = journal.begin({
      action: 'incident.contain',
      before: {aliases: ['alias/pay'], arn: ARN, grants: [GRANT], keyId: KEY, manager: 'CUSTOMER', policy: POLICY, rotation: {enabled: false}, state: 'Enabled', tags: {team: 'payments'}, unavailable: {}},
      key: {aliases: ['alias/pay'], arn: ARN, keyId: KEY},
      region: 'us-east-1',
      request: {admins: [ME], disable: true, policy: LOCK, revokeGrants: ['g-old']},
    })
    journal.finish(e.id, {after: {policyReplaced: true, revokedGrants: ['g-old'], state: 'Disabled', steps: []}, status: 'ok'})
    entry = e.id
    sdk.sts.on(GetCallerIdentityCommand).resolves({Account: acct, Arn: ME, UserId: 'AIDA'})
    sdk.kms.on(DescribeKeyCommand).resolves({KeyMetadata: {Arn: ARN, KeyId: KEY, KeyManager: 'CUSTOMER', KeySpec: 'SYMMETRIC_DEFAULT', KeyState: 'Disabled', Origin: 'AWS_KMS'}})
    sdk.kms.on(GetKeyPolicyCommand).resolves({Policy: LOCK})
    sdk.kms.on(ListGrantsCommand).resolves({Grants: []})
    sdk.kms.on(ListAliasesCommand).resolves({Aliases: [{AliasName: 'alias/pay', TargetKeyId: KEY}]})
    sdk.kms.on(ListResourceTagsCommand).resolves({Tags: [{TagKey: 'team', TagValue: 'payments'}]})
    sdk.kms.on(GetKeyRotationStatusCommand).resolves({KeyRotationEnabled: false})
    sdk.kms.on(PutKeyPolicyCommand).resolves({})
    sdk.kms.on(EnableKeyCommand).resolves({})
    sdk.kms.on(CreateGrantCommand).resolves({GrantId: 'g-new', GrantToken: 'token'})
    process.exitCode = undefined
  })

  afterEach(() => {
    process.exitCode = undefined
  })

  const changes = () => [...sdk.kms.commandCalls(PutKeyPolicyCommand), ...sdk.kms.commandCalls(EnableKeyCommand), ...sdk.kms.commandCalls(CreateGrantCommand)]

  it('puts back the policy, enables the key and recreates the grant with its parameters, printing the new grant ID', async () => {
    const {stderr, stdout} = await runCommand(['incident', 'restore', entry, '--yes'])
    expect(process.exitCode).to.equal(0)
    expect(sdk.kms.commandCalls(PutKeyPolicyCommand)[0].args[0].input).to.deep.equal({KeyId: KEY, Policy: POLICY, PolicyName: 'default'})
    expect(sdk.kms.commandCalls(EnableKeyCommand)[0].args[0].input).to.deep.equal({KeyId: KEY})
    expect(sdk.kms.commandCalls(CreateGrantCommand)[0].args[0].input).to.deep.equal({
      Constraints: {EncryptionContextEquals: {tenant: 'acme'}},
      GranteePrincipal: `arn:aws:iam::${acct}:role/app`,
      KeyId: ARN,
      Name: 'app',
      Operations: ['Decrypt'],
      RetiringPrincipal: `arn:aws:iam::${acct}:role/ops`,
    })
    expect(stdout).to.match(/restored/)
    expect(stderr).to.include('alias/pay: grant g-old (app) recreated as g-new')
    const restore = journal.readAll().find((r) => r.action === 'incident.restore')!
    expect(restore).to.deep.include({reverses: entry})
    expect(restore.outcome?.after).to.deep.include({newGrants: [{grantId: 'g-new', grantee: `arn:aws:iam::${acct}:role/app`, name: 'app', replaces: 'g-old'}], state: 'Enabled'})
  })

  it('--dry-run shows the steps and sends nothing', async () => {
    const {stdout, stderr} = await runCommand(['incident', 'restore', entry, '--dry-run'])
    expect(stdout).to.match(/restore-policy: planned/)
    expect(stdout).to.match(/enable: planned/)
    expect(stderr).to.include('Dry run: nothing was sent.')
    expect(changes()).to.have.length(0)
  })

  it('needs a confirmation: none without a terminal, a mismatching --confirm refused, a matching one accepted', async () => {
    const none = await runCommand(['incident', 'restore', entry])
    expect(process.exitCode).to.equal(2)
    expect(none.stderr).to.include('Confirmation required to restore key 00000001-0000-4000-8000-000000000000 (alias/pay)')
    process.exitCode = undefined
    await runCommand(['incident', 'restore', entry, '--confirm', 'alias/other'])
    expect(process.exitCode).to.equal(2)
    expect(changes()).to.have.length(0)
    process.exitCode = undefined
    await runCommand(['incident', 'restore', entry, '--confirm', 'alias/pay'])
    expect(process.exitCode).to.equal(0)
    expect(changes()).to.have.length(3)
  })

  it('refuses an entry that is not a contain, and an unknown one, with exit 2', async () => {
    const other = journal.begin({action: 'key.disable', before: {state: 'Enabled'}, key: {keyId: KEY}, region: 'us-east-1'})
    const r = await runCommand(['incident', 'restore', other.id, '--yes'])
    expect(process.exitCode).to.equal(2)
    expect(r.stderr).to.include(`Journal entry ${other.id} is a key.disable, not an incident contain.`)
    expect(r.stderr).to.include(`Try this: kmsctl undo ${other.id}`)
    process.exitCode = undefined
    await runCommand(['incident', 'restore', 'j-nope', '--yes'])
    expect(process.exitCode).to.equal(2)
    expect(sdk.kms.calls()).to.have.length(0)
  })

  it('says when the key no longer exists', async () => {
    sdk.kms.on(DescribeKeyCommand).rejects(Object.assign(new Error('gone'), {$metadata: {httpStatusCode: 400}, name: 'NotFoundException'}))
    const {stdout} = await runCommand(['incident', 'restore', entry, '--yes', '--json'])
    const out = JSON.parse(stdout)
    expect(out.keys[0]).to.deep.include({reason: 'the key no longer exists: a deleted key cannot be restored', status: 'failed'})
    expect(process.exitCode).to.equal(1)
    expect(changes()).to.have.length(0)
  })
})
