import {DescribeKeyCommand, GetKeyRotationStatusCommand, KMSClient, ListAliasesCommand, ListKeysCommand, ListResourceTagsCommand} from '@aws-sdk/client-kms'
import {runCommand} from '@oclif/test'
import {expect} from 'chai'
import {mockSdk} from '../../helpers/mock-sdk.js'

const acct = '111122223333'
const id = (n: number) => `${String(n).padStart(8, '0')}-0000-4000-8000-000000000000`
const arn = (n: number) => `arn:aws:kms:us-east-1:${acct}:key/${id(n)}`

function meta(n: number, extra: Record<string, unknown> = {}) {
  return {
    Arn: arn(n),
    CreationDate: new Date('2026-01-02T03:04:05Z'),
    Description: `key ${n}`,
    KeyId: id(n),
    KeyManager: 'CUSTOMER',
    KeySpec: 'SYMMETRIC_DEFAULT',
    KeyState: 'Enabled',
    KeyUsage: 'ENCRYPT_DECRYPT',
    MultiRegion: false,
    Origin: 'AWS_KMS',
    ...extra,
  }
}

describe('key list', () => {
  const sdk = mockSdk()
  beforeEach(() => {
    sdk.kms.on(ListKeysCommand).resolves({Keys: [1, 2, 3].map((n) => ({KeyArn: arn(n), KeyId: id(n)})), Truncated: false})
    sdk.kms.on(ListAliasesCommand).resolves({
      Aliases: [
        {AliasName: 'alias/payments', TargetKeyId: id(1)},
        {AliasName: 'alias/payments-old', TargetKeyId: id(1)},
        {AliasName: 'alias/aws/s3', TargetKeyId: id(3)},
      ],
      Truncated: false,
    })
    sdk.kms.on(DescribeKeyCommand, {KeyId: id(1)}).resolves({KeyMetadata: meta(1) as never})
    sdk.kms.on(DescribeKeyCommand, {KeyId: id(2)}).resolves({KeyMetadata: meta(2, {KeySpec: 'RSA_2048', KeyState: 'Disabled', KeyUsage: 'SIGN_VERIFY'}) as never})
    sdk.kms.on(DescribeKeyCommand, {KeyId: id(3)}).resolves({KeyMetadata: meta(3, {Description: 'Default key for S3', KeyManager: 'AWS'}) as never})
    sdk.kms.on(GetKeyRotationStatusCommand, {KeyId: id(1)}).resolves({KeyRotationEnabled: true, RotationPeriodInDays: 365})
    sdk.kms.on(GetKeyRotationStatusCommand, {KeyId: id(3)}).resolves({KeyRotationEnabled: true, RotationPeriodInDays: 365})
  })

  it('lists every key with aliases, state, manager and rotation in JSON', async () => {
    const {stdout} = await runCommand(['key', 'list', '--json'])
    const keys = JSON.parse(stdout)
    expect(keys.map((k: {keyId: string}) => k.keyId)).to.deep.equal([id(1), id(2), id(3)])
    expect(keys[0]).to.deep.include({aliases: ['alias/payments', 'alias/payments-old'], manager: 'CUSTOMER', state: 'Enabled'})
    expect(keys[0].rotation).to.deep.equal({periodDays: 365, status: 'on'})
    expect(keys[1].rotation).to.deep.equal({reason: 'asymmetric keys cannot rotate', status: 'n/a'})
    // No rotation call for a key that cannot rotate.
    expect(sdk.kms.commandCalls(GetKeyRotationStatusCommand).map((c) => c.args[0].input.KeyId)).to.have.members([id(1), id(3)])
    expect(sdk.kms.commandCalls(ListResourceTagsCommand)).to.have.length(0)
  })

  it('reports what was read when a key cannot be read: the failure named, exit 3, the partial listing in --json', async () => {
    sdk.kms.on(DescribeKeyCommand, {KeyId: id(2)}).rejects(Object.assign(new Error('We encountered an internal error.'), {$fault: 'server', $metadata: {httpStatusCode: 500}, name: 'KMSInternalException'}))
    const {stdout} = await runCommand(['key', 'list', '--json'])
    const out = JSON.parse(stdout)
    expect(out.error).to.deep.include({code: 'PARTIAL_FAILURE', exitCode: 3})
    expect(out.error.message).to.match(new RegExp(`^Listed 2 keys, but 1 read failed: ${id(2)}: DescribeKey: `))
    expect(out.error.details.keys.map((k: {keyId: string}) => k.keyId)).to.deep.equal([id(1), id(3)])
    expect(out.error.details.failures).to.have.length(1)
    expect(process.exitCode).to.equal(3)
    process.exitCode = undefined
    const table = await runCommand(['key', 'list'])
    expect(table.stdout).to.include(id(1))
    expect(table.stderr).to.match(/Listed 2 keys, but 1 read failed/)
    process.exitCode = undefined
  })

  it('fits the table to the terminal width', async () => {
    const {stdout} = await runCommand(['key', 'list'], undefined, {})
    expect(Math.max(...stdout.split('\n').map((l) => l.length))).to.be.greaterThan(120)
    process.env.COLUMNS = '120'
    try {
      const narrow = await runCommand(['key', 'list'])
      expect(Math.max(...narrow.stdout.split('\n').map((l) => l.length))).to.be.at.most(120)
    } finally {
      delete process.env.COLUMNS
    }
  })

  it('renders a table on stdout and the count on stderr', async () => {
    const {stderr, stdout} = await runCommand(['key', 'list'])
    expect(stdout).to.contain('alias/payments')
    expect(stdout).to.contain('on (365 d)')
    expect(stdout).to.contain('n/a')
    expect(stdout).to.contain('Default key for S3')
    expect(stderr).to.contain('3 keys')
  })

  it('filters by state, manager, alias glob and tag', async () => {
    let res = await runCommand(['key', 'list', '--state', 'disabled', '--json'])
    expect(JSON.parse(res.stdout).map((k: {keyId: string}) => k.keyId)).to.deep.equal([id(2)])
    res = await runCommand(['key', 'list', '--manager', 'AWS', '--json'])
    expect(JSON.parse(res.stdout).map((k: {keyId: string}) => k.keyId)).to.deep.equal([id(3)])
    sdk.kms.resetHistory()
    res = await runCommand(['key', 'list', '--alias', 'alias/pay*-old', '--json'])
    expect(JSON.parse(res.stdout).map((k: {keyId: string}) => k.keyId)).to.deep.equal([id(1)])
    // Keys without a matching alias are not even described.
    expect(sdk.kms.commandCalls(DescribeKeyCommand)).to.have.length(1)
    sdk.kms.on(ListResourceTagsCommand, {KeyId: id(1)}).resolves({Tags: [{TagKey: 'team', TagValue: 'payments'}], Truncated: false})
    sdk.kms.on(ListResourceTagsCommand, {KeyId: id(2)}).resolves({Tags: [{TagKey: 'team', TagValue: 'risk'}], Truncated: false})
    res = await runCommand(['key', 'list', '--tag', 'team=payments', '--json'])
    expect(JSON.parse(res.stdout).map((k: {keyId: string}) => k.keyId)).to.deep.equal([id(1)])
  })

  it('reads every page of ListKeys', async () => {
    sdk.kms.on(ListKeysCommand).resolvesOnce({Keys: [{KeyArn: arn(1), KeyId: id(1)}], NextMarker: 'm1', Truncated: true}).resolves({Keys: [{KeyArn: arn(2), KeyId: id(2)}], Truncated: false})
    const {stdout} = await runCommand(['key', 'list', '--json'])
    expect(JSON.parse(stdout)).to.have.length(2)
    expect(sdk.kms.commandCalls(ListKeysCommand)[1].args[0].input.Marker).to.equal('m1')
  })

  it('shows deletion date and days left for keys pending deletion', async () => {
    const inTen = new Date(Date.now() + 10 * 86_400_000 - 60_000)
    sdk.kms.on(DescribeKeyCommand, {KeyId: id(2)}).resolves({KeyMetadata: meta(2, {DeletionDate: inTen, KeyState: 'PendingDeletion'}) as never})
    sdk.kms.on(GetKeyRotationStatusCommand, {KeyId: id(2)}).resolves({KeyRotationEnabled: false})
    const {stdout} = await runCommand(['key', 'list', '--state', 'PendingDeletion'])
    expect(stdout).to.contain('Deletion')
    expect(stdout).to.contain('(10 d left)')
  })

  it('rejects an unknown state with exit 2 before any call', async () => {
    const {error, stderr} = await runCommand(['key', 'list', '--state', 'Sleeping'])
    expect(error).to.equal(undefined)
    expect(stderr).to.contain('Error: --state "Sleeping" is not a key state.')
    expect(process.exitCode).to.equal(2)
    process.exitCode = 0
    expect(sdk.kms.calls()).to.have.length(0)
  })

  it('prints errors as one JSON document under --json', async () => {
    sdk.kms.on(ListKeysCommand).rejects(Object.assign(new Error('User is not authorized to perform kms:ListKeys'), {name: 'AccessDeniedException'}))
    const {stdout} = await runCommand(['key', 'list', '--json'])
    const doc = JSON.parse(stdout)
    expect(doc.error).to.deep.include({awsCode: 'AccessDeniedException', code: 'ACCESS_DENIED', exitCode: 1, message: 'Access denied: you are not allowed to call kms:ListKeys.'})
    expect(process.exitCode).to.equal(1)
    process.exitCode = 0
  })
})

describe('parse errors', () => {
  const sdk = mockSdk()
  it('an unknown flag is one line with exit 2', async () => {
    const {stderr} = await runCommand(['key', 'list', '--colour'])
    expect(stderr).to.equal('Error: Unknown flag --colour.\nTry this: See --help for the accepted flags.\n')
    expect(process.exitCode).to.equal(2)
    process.exitCode = 0
  })

  it('an unknown flag close to a known one names it', async () => {
    const {stderr} = await runCommand(['key', 'list', '--stat', 'Enabled'])
    expect(stderr).to.equal('Error: Unknown flag --stat. Did you mean --state?\nTry this: --state\n')
    expect(process.exitCode).to.equal(2)
    process.exitCode = 0
  })

  it('a missing argument is one line naming it, exit 2', async () => {
    const {stderr} = await runCommand(['key', 'describe'])
    expect(stderr.split('\n')[0]).to.match(/^Error: Missing 1 required arg: key /)
    expect(process.exitCode).to.equal(2)
    process.exitCode = 0
  })
})
