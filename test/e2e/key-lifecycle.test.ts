// End-to-end: key create, alias list|create|update|delete, key verify, key rotation status|enable|disable,
// key rotate and key rotations as a user runs them: the built binary against `kmsctl sandbox serve`
// over HTTP. KMS state is checked with the SDK directly, so that what the command says is compared with
// what the service holds.
import {
  DescribeKeyCommand,
  DisableKeyCommand,
  EnableKeyCommand,
  GetKeyRotationStatusCommand,
  KMSClient,
  ListAliasesCommand,
  ListKeysCommand,
  ListResourceTagsCommand,
} from '@aws-sdk/client-kms'
import {expect} from 'chai'
import {mkdtempSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {Journal} from '../../src/lib/journal.js'
import {json, runCli} from '../helpers/cli.js'
import {runInPty} from '../helpers/pty.js'
import {type SandboxServer, startSandboxServer} from '../helpers/sandbox-server.js'

describe('e2e: key lifecycle against the sandbox', function () {
  this.timeout(120_000)
  let server: SandboxServer
  let kms: KMSClient
  let env: NodeJS.ProcessEnv
  let home: string
  const cli = (...args: string[]) => runCli(args, {env})
  const aliasTarget = async (name: string) => (await kms.send(new ListAliasesCommand({}))).Aliases?.find((a) => a.AliasName === name)?.TargetKeyId

  before(async () => {
    // The SDK client below must be the real one, even if a unit-test file left KMSClient#send stubbed.
    const send = KMSClient.prototype.send as unknown as {restore?: () => void}
    if (typeof send.restore === 'function') send.restore()
    server = await startSandboxServer()
    home = mkdtempSync(join(tmpdir(), 'kmsctl-e2e-home-'))
    env = {...server.env, KMSCTL_HOME: home}
    kms = new KMSClient({
      credentials: {accessKeyId: server.env.AWS_ACCESS_KEY_ID!, secretAccessKey: server.env.AWS_SECRET_ACCESS_KEY!},
      endpoint: server.url,
      region: server.env.AWS_REGION!,
    })
  })

  after(async () => {
    await server?.stop()
  })

  let payments: string
  let signing: string

  it('key create makes the key, its alias, tags and rotation, and journals it', async () => {
    const r = await cli('key', 'create', '--description', 'Payments data', '--alias', 'alias/e2e-payments', '--tag', 'team=payments', '--rotation-days', '180', '--json')
    expect(r.code, r.stderr).to.equal(0)
    const doc = json(r)
    payments = doc.keyId
    expect(doc).to.deep.include({alias: 'alias/e2e-payments', keySpec: 'SYMMETRIC_DEFAULT', keyUsage: 'ENCRYPT_DECRYPT'})
    expect(doc.arn).to.match(/^arn:aws:kms:us-east-1:\d{12}:key\//)
    const m = (await kms.send(new DescribeKeyCommand({KeyId: 'alias/e2e-payments'}))).KeyMetadata!
    expect(m).to.deep.include({Description: 'Payments data', KeyId: payments})
    expect((await kms.send(new ListResourceTagsCommand({KeyId: payments}))).Tags).to.deep.equal([{TagKey: 'team', TagValue: 'payments'}])
    expect(await kms.send(new GetKeyRotationStatusCommand({KeyId: payments}))).to.deep.include({KeyRotationEnabled: true, RotationPeriodInDays: 180})
    const entry = new Journal({dir: join(home, 'journal')}).list({action: 'key.create'}).at(-1)!
    expect(entry.outcome?.status).to.equal('ok')
    expect((entry.outcome?.after as {keyId: string}).keyId).to.equal(payments)
  })

  it('key create --dry-run and invalid combinations create nothing', async () => {
    const count = async () => (await kms.send(new ListKeysCommand({}))).Keys!.length
    const before = await count()
    let r = await cli('key', 'create', '--alias', 'alias/e2e-dry', '--dry-run')
    expect(r.code).to.equal(0)
    expect(r.stdout).to.contain('CreateAlias {')
    r = await cli('key', 'create', '--spec', 'ECC_NIST_P256', '--usage', 'ENCRYPT_DECRYPT')
    expect(r.code).to.equal(2)
    expect(r.stderr).to.contain('--usage ENCRYPT_DECRYPT is not valid for --spec ECC_NIST_P256: KMS accepts SIGN_VERIFY or KEY_AGREEMENT.')
    r = await cli('key', 'create', '--alias', 'alias/e2e-payments')
    expect(r.code).to.equal(2)
    expect(r.stderr).to.contain('already exists')
    expect(await count()).to.equal(before)
  })

  it('an RSA signing key, with its alias', async () => {
    const r = await cli('key', 'create', '--spec', 'RSA_2048', '--usage', 'SIGN_VERIFY', '--alias', 'alias/e2e-signing', '--json')
    expect(r.code, r.stderr).to.equal(0)
    signing = json(r).keyId
  })

  it('alias create, list, update and delete', async () => {
    let r = await cli('alias', 'create', 'alias/e2e-billing', 'alias/e2e-payments')
    expect(r.code, r.stderr).to.equal(0)
    expect(await aliasTarget('alias/e2e-billing')).to.equal(payments)
    r = await cli('alias', 'list', '--key', payments, '--json')
    expect(json(r).aliases.map((a: {aliasName: string}) => a.aliasName)).to.deep.equal(['alias/e2e-billing', 'alias/e2e-payments'])
    // Another symmetric key to move the alias to; the signing key is refused (other type and usage).
    const other = json(await cli('key', 'create', '--json')).keyId
    r = await cli('alias', 'update', 'alias/e2e-billing', 'alias/e2e-signing')
    expect(r.code).to.equal(2)
    r = await cli('alias', 'update', 'alias/e2e-billing', other)
    expect(r.code, r.stderr).to.equal(0)
    expect(await aliasTarget('alias/e2e-billing')).to.equal(other)
    // No terminal: refused; a wrong --confirm: refused; the right one: deleted.
    r = await cli('alias', 'delete', 'alias/e2e-billing')
    expect(r.code).to.equal(2)
    r = await cli('alias', 'delete', 'alias/e2e-billing', '--confirm', 'alias/e2e-payments')
    expect(r.code).to.equal(2)
    expect(await aliasTarget('alias/e2e-billing')).to.equal(other)
    r = await cli('alias', 'delete', 'alias/e2e-billing', '--confirm', 'alias/e2e-billing')
    expect(r.code, r.stderr).to.equal(0)
    expect(await aliasTarget('alias/e2e-billing')).to.equal(undefined)
    const deleted = new Journal({dir: join(home, 'journal')}).list({action: 'alias.delete'}).at(-1)!
    expect(deleted.before).to.deep.include({aliasName: 'alias/e2e-billing', targetKeyId: other})
    r = await cli('alias', 'create', 'alias/aws/e2e', payments)
    expect(r.code).to.equal(2)
  })

  it('alias delete through a terminal: the typed name must match', async () => {
    await cli('alias', 'create', 'alias/e2e-typed', payments)
    let session = runInPty(['alias', 'delete', 'alias/e2e-typed'], env)
    await session.waitFor('To delete alias/e2e-typed, type alias/e2e-typed:')
    expect(session.output()).to.contain(`alias/e2e-typed points at key ${payments}.`)
    // A wrong answer is said to be wrong (no tick) and asked again, three times in all.
    session.write('alias/e2e-wrong\r')
    await session.waitFor('"alias/e2e-wrong" does not match. Type alias/e2e-typed exactly (2 more tries)')
    expect(session.output()).not.to.contain('✔')
    session.write('alias/e2e-wrong\r')
    await session.waitFor('(1 more try)')
    session.write('alias/e2e-wrong\r')
    expect(await session.exit).to.equal(4)
    expect(session.output()).to.contain('"alias/e2e-wrong" does not match; nothing was changed.')
    expect(await aliasTarget('alias/e2e-typed')).to.equal(payments)
    session = runInPty(['alias', 'delete', 'alias/e2e-typed'], env)
    await session.waitFor('type alias/e2e-typed')
    session.write('alias/e2e-typed\r')
    expect(await session.exit).to.equal(0)
    expect(session.output()).to.contain('Deleted alias/e2e-typed')
    expect(await aliasTarget('alias/e2e-typed')).to.equal(undefined)
  })

  it('key verify: the data key round trip, and a disabled key fails with exit 1', async () => {
    let r = await cli('key', 'verify', 'alias/e2e-payments', '--context', 'app=billing', '--json')
    expect(r.code, r.stderr).to.equal(0)
    expect(json(r).steps.map((s: {status: string; step: string}) => `${s.step}:${s.status}`)).to.deep.equal(['GenerateDataKey:ok', 'Decrypt:ok', 'Compare:ok'])
    r = await cli('key', 'verify', 'alias/e2e-signing')
    expect(r.code, r.stderr).to.equal(0)
    expect(r.stdout).to.match(/Sign\s+ok/)
    await kms.send(new DisableKeyCommand({KeyId: payments}))
    try {
      r = await cli('key', 'verify', 'alias/e2e-payments')
      expect(r.code).to.equal(1)
      expect(r.stderr).to.contain('failed verification: GenerateDataKey failed')
      expect(r.stderr).to.contain('disabled')
    } finally {
      await kms.send(new EnableKeyCommand({KeyId: payments}))
    }
  })

  it('rotation status, enable, disable; rotate; rotations', async () => {
    let r = await cli('key', 'rotation', 'status', 'alias/e2e-payments', '--json')
    expect(json(r)).to.deep.include({enabled: true, periodDays: 180})
    r = await cli('key', 'rotation', 'enable', 'alias/e2e-payments', '--period-days', '365')
    expect(r.code, r.stderr).to.equal(0)
    expect(await kms.send(new GetKeyRotationStatusCommand({KeyId: payments}))).to.deep.include({RotationPeriodInDays: 365})
    r = await cli('key', 'rotation', 'disable', 'alias/e2e-payments')
    expect(r.code, r.stderr).to.equal(0)
    expect((await kms.send(new GetKeyRotationStatusCommand({KeyId: payments}))).KeyRotationEnabled).to.equal(false)
    r = await cli('key', 'rotate', 'alias/e2e-payments')
    expect(r.code, r.stderr).to.equal(0)
    r = await cli('key', 'rotations', 'alias/e2e-payments', '--json')
    expect(json(r).rotations.map((x: {rotationType: string}) => x.rotationType)).to.include('ON_DEMAND')
    r = await cli('key', 'rotation', 'enable', signing)
    expect(r.code).to.equal(2)
    expect(r.stderr).to.contain('asymmetric keys cannot rotate')
  })
})
