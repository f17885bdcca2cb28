import {CreateGrantCommand, DescribeKeyCommand, KMSClient} from '@aws-sdk/client-kms'
import {STSClient} from '@aws-sdk/client-sts'
import {runCommand} from '@oclif/test'
import {expect} from 'chai'

import {Journal} from '../../../src/lib/journal.js'
import {APP, OPS, keyArn, keyId, symmetricMetadata} from '../../lib/grants/fixtures.js'
import {mockedClients} from './helpers.js'
import {sdk} from '../../helpers/mock-sdk.js'

const GRANT = 'a1'.repeat(32)

describe('grant create', () => {
  mockedClients()

  beforeEach(() => {
    sdk.kms.on(DescribeKeyCommand).resolves({KeyMetadata: symmetricMetadata(1)})
    sdk.kms.on(CreateGrantCommand).resolves({GrantId: GRANT, GrantToken: 'AQpAtoken'})
  })

  it('creates a grant with every flag, prints the ID and the token, and says why the token matters', async () => {
    const {result, stderr, stdout} = await runCommand<{grantId: string}>([
      'grant:create',
      'alias/one',
      '--grantee',
      APP,
      '--operations',
      'Decrypt,GenerateDataKey',
      '--operations',
      'DescribeKey',
      '--retiring-principal',
      OPS,
      '--name',
      'app-decrypt',
      '--context-equals',
      'tenant=acme',
      '--context-equals',
      'env=prod',
    ])
    expect(sdk.kms.commandCalls(CreateGrantCommand)[0].args[0].input).to.deep.equal({
      Constraints: {EncryptionContextEquals: {env: 'prod', tenant: 'acme'}},
      GranteePrincipal: APP,
      KeyId: keyArn(1),
      Name: 'app-decrypt',
      Operations: ['Decrypt', 'GenerateDataKey', 'DescribeKey'],
      RetiringPrincipal: OPS,
    })
    expect(stdout).to.match(new RegExp(`Grant ID\\s+${GRANT}`))
    expect(stdout).to.match(/Grant token\s+AQpAtoken/)
    expect(stdout).to.contain('equals tenant=acme, env=prod')
    expect(stderr).to.contain('can take up to about 5 minutes')
    expect(result?.grantId).to.equal(GRANT)
    const rec = new Journal().list({action: 'grant.create'}).at(-1)!
    expect(rec.key?.keyId).to.equal(keyId(1))
    expect(rec.caller).to.equal('arn:aws:iam::111122223333:user/admin')
    expect(rec.outcome?.after).to.deep.equal({grantId: GRANT, keyArn: keyArn(1)})
  })

  it('--context-subset sends EncryptionContextSubset', async () => {
    await runCommand(['grant:create', keyId(1), '--grantee', APP, '--operations', 'Decrypt', '--context-subset', 'tenant=acme'])
    expect(sdk.kms.commandCalls(CreateGrantCommand)[0].args[0].input.Constraints).to.deep.equal({EncryptionContextSubset: {tenant: 'acme'}})
  })

  it('--json prints one document with the grant ID and token', async () => {
    const {stdout} = await runCommand(['grant:create', keyId(1), '--grantee', APP, '--operations', 'Decrypt', '--json'])
    const doc = JSON.parse(stdout)
    expect(doc).to.include({dryRun: false, grantId: GRANT, grantToken: 'AQpAtoken', keyId: keyId(1), keyType: 'symmetric encryption'})
  })

  it('--dry-run shows the request and sends no CreateGrant', async () => {
    const {stdout} = await runCommand(['grant:create', keyId(1), '--grantee', APP, '--operations', 'Encrypt', '--dry-run'])
    expect(stdout).to.contain('Dry run: would send CreateGrant')
    expect(stdout).to.contain('"GranteePrincipal": "arn:aws:iam::111122223333:role/app"')
    expect(sdk.kms.commandCalls(CreateGrantCommand)).to.have.length(0)
    expect(sdk.sts.calls()).to.have.length(0)
  })

  const refusals: Array<[string, string[], RegExp]> = [
    ['a bad grantee', ['--grantee', 'role/app', '--operations', 'Decrypt'], /--grantee "role\/app" is not a principal ARN/],
    ['an unknown operation', ['--grantee', APP, '--operations', 'Decrpyt'], /"Decrpyt" is not a grant operation/],
    ['nine constraint pairs', ['--grantee', APP, '--operations', 'Decrypt', ...Array.from({length: 9}, (_, i) => ['--context-equals', `k${i}=v`]).flat()], /9 pairs; KMS allows at most 8/],
    ['both constraint kinds', ['--grantee', APP, '--operations', 'Decrypt', '--context-equals', 'a=1', '--context-subset', 'b=2'], /not both/],
    ['a malformed pair', ['--grantee', APP, '--operations', 'Decrypt', '--context-equals', 'novalue'], /not of the form key=value/],
    ['a bad name', ['--grantee', APP, '--operations', 'Decrypt', '--name', 'bad!name'], /--name "bad!name" is not a grant name/],
    ['a bad retiring principal', ['--grantee', APP, '--operations', 'Decrypt', '--retiring-principal', '123'], /--retiring-principal "123"/],
  ]
  for (const [what, flags, message] of refusals) {
    it(`refuses ${what} with exit 2 and sends nothing`, async () => {
      const {error, stderr} = await runCommand(['grant:create', keyId(1), ...flags])
      expect(process.exitCode ?? error?.oclif?.exit).to.equal(2)
      expect(stderr).to.match(message)
      expect(sdk.kms.calls()).to.have.length(0)
    })
  }

  it('refuses operations the key type does not allow, after DescribeKey only', async () => {
    sdk.kms.on(DescribeKeyCommand).resolves({KeyMetadata: {...symmetricMetadata(1), KeySpec: 'RSA_2048', KeyUsage: 'SIGN_VERIFY'}})
    const {stderr} = await runCommand(['grant:create', keyId(1), '--grantee', APP, '--operations', 'Sign,Decrypt'])
    expect(process.exitCode).to.equal(2)
    expect(stderr).to.contain('A grant on an asymmetric SIGN_VERIFY key cannot allow Decrypt.')
    expect(stderr).to.contain('Try this: operations allowed for this key: CreateGrant, DescribeKey, RetireGrant, GetPublicKey, Sign, Verify')
    expect(sdk.kms.commandCalls(CreateGrantCommand)).to.have.length(0)
  })

  it('refuses a constraint on an HMAC key', async () => {
    sdk.kms.on(DescribeKeyCommand).resolves({KeyMetadata: {...symmetricMetadata(1), KeySpec: 'HMAC_256', KeyUsage: 'GENERATE_VERIFY_MAC'}})
    const {stderr} = await runCommand(['grant:create', keyId(1), '--grantee', APP, '--operations', 'GenerateMac', '--context-equals', 'a=1'])
    expect(process.exitCode).to.equal(2)
    expect(stderr).to.contain('--context-equals is not allowed on an HMAC key')
    expect(sdk.kms.commandCalls(CreateGrantCommand)).to.have.length(0)
  })

  it('maps an AWS refusal to exit 1 with a remedy', async () => {
    sdk.kms.on(CreateGrantCommand).rejects(Object.assign(new Error('User is not authorized'), {name: 'AccessDeniedException'}))
    const {stderr} = await runCommand(['grant:create', keyId(1), '--grantee', APP, '--operations', 'Decrypt'])
    expect(process.exitCode).to.equal(1)
    expect(stderr).to.contain('Access denied: you are not allowed to call kms:CreateGrant')
    const rec = new Journal().list({action: 'grant.create'}).at(-1)!
    expect(rec.outcome?.status).to.equal('failed')
  })

  it('--help explains the operations per key type and the grant token', async () => {
    const {stdout} = await runCommand(['grant:create', '--help'])
    expect(stdout).to.contain('HMAC keys: GenerateMac, VerifyMac')
    expect(stdout.replaceAll(/\s+/g, ' ')).to.contain('the grant token makes it usable at once')
    expect(stdout).to.contain('EXAMPLES')
  })
})
