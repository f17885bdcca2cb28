// The skeleton end to end: the built binary against `kmsctl sandbox serve`, and in-process with --sandbox.
import {CreateAliasCommand, CreateKeyCommand, KMSClient, TagResourceCommand} from '@aws-sdk/client-kms'
import {expect} from 'chai'
import {mkdtempSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {json, projectRoot, runCli} from '../helpers/cli.js'
import {type SandboxServer, startSandboxServer} from '../helpers/sandbox-server.js'

describe('e2e: foundation', function () {
  this.timeout(120_000)
  let server: SandboxServer
  let kms: KMSClient
  let keyId: string

  before(async () => {
    server = await startSandboxServer()
    kms = new KMSClient({
      credentials: {accessKeyId: server.env.AWS_ACCESS_KEY_ID!, secretAccessKey: server.env.AWS_SECRET_ACCESS_KEY!},
      endpoint: server.url,
      region: 'us-east-1',
    })
    const created = await kms.send(new CreateKeyCommand({Description: 'orders database'}))
    keyId = created.KeyMetadata!.KeyId!
    await kms.send(new CreateAliasCommand({AliasName: 'alias/orders', TargetKeyId: keyId}))
    await kms.send(new TagResourceCommand({KeyId: keyId, Tags: [{TagKey: 'team', TagValue: 'payments'}]}))
    await kms.send(new CreateKeyCommand({Description: 'signing', KeySpec: 'ECC_NIST_P256', KeyUsage: 'SIGN_VERIFY'}))
  })

  after(async () => {
    kms?.destroy()
    await server?.stop()
  })

  it('--version prints what oclif would, from the fast path', async () => {
    const {Config} = await import('@oclif/core')
    const config = await Config.load(projectRoot)
    for (const flag of ['--version', '-v']) {
      const r = await runCli([flag])
      expect(r.code).to.equal(0)
      expect(r.stdout).to.equal(`${config.userAgent}\n`)
      expect(r.stderr).to.equal('')
    }
  })

  it('--help lists the topics, with nothing on stderr', async () => {
    const r = await runCli(['--help'])
    expect(r.code).to.equal(0)
    for (const topic of ['key', 'alias', 'policy', 'grant', 'incident', 'journal', 'trail', 'sandbox']) {
      expect(r.stdout).to.match(new RegExp(`^  ${topic}\\s`, 'm'))
    }

    expect(r.stderr).to.equal('')
  })

  it('key list shows every key with alias, state, manager and rotation, and prints no warnings', async () => {
    const r = await runCli(['key', 'list'], {env: server.env})
    expect(r.code).to.equal(0)
    expect(r.stdout).to.contain('alias/orders')
    expect(r.stdout).to.contain(keyId)
    expect(r.stdout).to.contain('orders database')
    expect(r.stdout).to.contain('ECC_NIST_P256')
    // No colour when stdout is not a terminal.
    expect(r.stdout).not.to.contain('\u001B[')
    expect(r.stderr).to.equal('2 keys\n')
  })

  it('key list --tag and --json filter and return full metadata', async () => {
    const r = await runCli(['key', 'list', '--tag', 'team=payments', '--json'], {env: server.env})
    expect(r.code).to.equal(0)
    const keys = json(r)
    expect(keys).to.have.length(1)
    expect(keys[0]).to.deep.include({aliases: ['alias/orders'], keyId, manager: 'CUSTOMER', state: 'Enabled'})
    expect(keys[0].tags).to.deep.equal({team: 'payments'})
    expect(keys[0].metadata.Arn).to.equal(`arn:aws:kms:us-east-1:111122223333:key/${keyId}`)
  })

  it('key describe resolves an alias and shows aliases, tags and grants', async () => {
    const r = await runCli(['key', 'describe', 'alias/orders'], {env: server.env})
    expect(r.code).to.equal(0)
    expect(r.stdout).to.match(new RegExp(`Key ID\\s+${keyId}`))
    expect(r.stdout).to.match(/Aliases\s+alias\/orders/)
    expect(r.stdout).to.match(/Tags\s+team=payments/)
    expect(r.stdout).to.match(/Grants\s+0/)
    expect(r.stdout).to.match(/Policies\s+default/)
  })

  it('an unknown alias is an error listing the closest aliases, as one JSON document under --json', async () => {
    const r = await runCli(['key', 'describe', 'alias/order', '--json'], {env: server.env})
    expect(r.code).to.equal(1)
    const doc = json(r)
    expect(doc.error.code).to.equal('NOT_FOUND')
    expect(doc.error.message).to.equal('Alias alias/order does not exist.')
    expect(doc.error.remedy).to.equal('Did you mean: alias/orders?')
    expect(r.stderr).to.equal('')
  })

  it('a malformed key reference is a usage error with exit 2', async () => {
    const r = await runCli(['key', 'describe', 'orders'], {env: server.env})
    expect(r.code).to.equal(2)
    expect(r.stderr).to.equal('Error: "orders" is not a key ID, key ARN, alias name or alias ARN.\nTry this: alias/orders (alias names start with "alias/")\n')
  })

  it('no region is an error with a hint, exit 2', async () => {
    const home = mkdtempSync(join(tmpdir(), 'kmsctl-noregion-'))
    const r = await runCli(['key', 'list'], {env: {...server.env, AWS_CONFIG_FILE: join(home, 'none'), AWS_DEFAULT_REGION: '', AWS_REGION: ''}})
    expect(r.code).to.equal(2)
    expect(r.stderr).to.contain('No AWS region found')
    expect(r.stderr).to.contain('Try this: --region us-east-1')
  })

  it('reads the region from the profile in the shared config file', async () => {
    const home = mkdtempSync(join(tmpdir(), 'kmsctl-profile-'))
    const {writeFileSync} = await import('node:fs')
    writeFileSync(join(home, 'config'), '[profile ops]\nregion = us-east-1\n')
    writeFileSync(join(home, 'credentials'), `[ops]\naws_access_key_id = ${server.env.AWS_ACCESS_KEY_ID}\naws_secret_access_key = ${server.env.AWS_SECRET_ACCESS_KEY}\n`)
    const env = {...server.env, AWS_ACCESS_KEY_ID: '', AWS_CONFIG_FILE: join(home, 'config'), AWS_REGION: '', AWS_SECRET_ACCESS_KEY: '', AWS_SHARED_CREDENTIALS_FILE: join(home, 'credentials')}
    const r = await runCli(['key', 'list', '--profile', 'ops', '--json'], {env})
    expect(r.code, r.stderr).to.equal(0)
    expect(json(r)).to.have.length(2)
    expect(r.stderr).to.equal('')
  })

  it('an unreachable endpoint is a network error after retries, not a stack trace', async () => {
    const r = await runCli(['key', 'list', '--endpoint-url', 'http://127.0.0.1:9', '--max-attempts', '1'], {env: server.env})
    expect(r.code).to.equal(1)
    expect(r.stderr).to.match(/^Error: Could not reach the AWS endpoint: .*ECONNREFUSED/)
    expect(r.stderr).not.to.contain('    at ')
  })

  it('--debug shows the stack for the same error', async () => {
    const r = await runCli(['key', 'list', '--endpoint-url', 'http://127.0.0.1:9', '--max-attempts', '1', '--debug'], {env: server.env})
    expect(r.code).to.equal(1)
    expect(r.stderr).to.contain('    at ')
  })

  it('--sandbox works in-process on the same state directory as the server', async () => {
    const r = await runCli(['key', 'list', '--json', '--sandbox', '--sandbox-dir', server.dir], {env: {AWS_ACCESS_KEY_ID: '', AWS_REGION: ''}})
    expect(r.code, r.stderr).to.equal(0)
    expect(json(r).map((k: {keyId: string}) => k.keyId)).to.include(keyId)
  })
})
