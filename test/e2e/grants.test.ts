// End-to-end: the grant commands as a user runs them, the built binary against `kmsctl sandbox
// serve` over HTTP. Keys and ciphertexts are set up with the SDK directly; what a grantee may do is
// checked by calling the sandbox with the grantee's own access key.
import {CreateAliasCommand, CreateKeyCommand, DecryptCommand, EncryptCommand, KMSClient} from '@aws-sdk/client-kms'
import {expect} from 'chai'
import {mkdtempSync, readFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {json, projectRoot, runCli} from '../helpers/cli.js'
import {runInPty} from '../helpers/pty.js'
import {type SandboxServer, startSandboxServer} from '../helpers/sandbox-server.js'

const ACCOUNT = '111122223333'
const APP_KEY_ID = 'AKIAE2EGRANTAPP00001'
const APP = `arn:aws:iam::${ACCOUNT}:user/grants-app`
const INCIDENT_KEY_ID = 'AKIAE2EGRANTINC00001'
const INCIDENT = `arn:aws:iam::${ACCOUNT}:user/grants-incident`
const BYSTANDER = `arn:aws:iam::${ACCOUNT}:user/grants-bystander`

function sandboxHasPrincipals(): boolean {
  try {
    const manifest = JSON.parse(readFileSync(join(projectRoot, 'oclif.manifest.json'), 'utf8')) as {commands: Record<string, unknown>}
    return 'sandbox:principal:add' in manifest.commands
  } catch {
    return false
  }
}

function client(server: SandboxServer, accessKeyId = server.env.AWS_ACCESS_KEY_ID!): KMSClient {
  return new KMSClient({
    credentials: {accessKeyId, secretAccessKey: server.env.AWS_SECRET_ACCESS_KEY!},
    endpoint: server.url,
    maxAttempts: 1,
    region: server.env.AWS_REGION!,
  })
}

let counter = 0
async function newKey(kms: KMSClient): Promise<{alias: string; arn: string; keyId: string}> {
  const created = await kms.send(new CreateKeyCommand({Description: 'e2e grants key'}))
  const keyId = created.KeyMetadata!.KeyId!
  const alias = `alias/e2e-grants-${++counter}`
  await kms.send(new CreateAliasCommand({AliasName: alias, TargetKeyId: keyId}))
  return {alias, arn: created.KeyMetadata!.Arn!, keyId}
}

async function decryptAs(kms: KMSClient, blob: Uint8Array, context: Record<string, string>): Promise<string> {
  try {
    const out = await kms.send(new DecryptCommand({CiphertextBlob: blob, EncryptionContext: context}))
    return Buffer.from(out.Plaintext!).toString('utf8')
  } catch (error) {
    return (error as Error).name
  }
}

describe('e2e: grants', function () {
  this.timeout(120_000)
  let server: SandboxServer
  let env: NodeJS.ProcessEnv
  let admin: KMSClient
  const kmsctl = (...args: string[]) => runCli(args, {env})

  before(async () => {
    // A unit-test file that mocked the SDK and did not restore it leaves KMSClient#send stubbed for
    // every later file; these tests need the real client.
    const send = KMSClient.prototype.send as unknown as {restore?: () => void}
    if (typeof send.restore === 'function') send.restore()
    server = await startSandboxServer()
    env = {...server.env, KMSCTL_HOME: mkdtempSync(join(tmpdir(), 'kmsctl-e2e-grants-'))}
    admin = client(server)
  })

  after(async () => {
    await server?.stop()
  })

  it('a grant with an encryption-context constraint lets the grantee decrypt only with that context', async function () {
    if (!sandboxHasPrincipals()) this.skip() // The sandbox has no `sandbox principal` command yet, so every caller is the administrator.
    const key = await newKey(admin)
    const add = await kmsctl('sandbox', 'principal', 'add', APP_KEY_ID, APP, '--sandbox-dir', server.dir)
    expect(add.code, add.stderr).to.equal(0)
    const acme = (await admin.send(new EncryptCommand({EncryptionContext: {tenant: 'acme'}, KeyId: key.keyId, Plaintext: Buffer.from('acme data')}))).CiphertextBlob!
    const other = (await admin.send(new EncryptCommand({EncryptionContext: {tenant: 'other'}, KeyId: key.keyId, Plaintext: Buffer.from('other data')}))).CiphertextBlob!
    const app = client(server, APP_KEY_ID)

    expect(await decryptAs(app, acme, {tenant: 'acme'})).to.equal('AccessDeniedException')

    const created = await kmsctl('grant', 'create', key.alias, '--grantee', APP, '--operations', 'Decrypt', '--context-equals', 'tenant=acme', '--name', 'acme-only')
    expect(created.code, created.stderr).to.equal(0)
    expect(created.stdout).to.match(/Grant ID\s+[0-9a-f]{64}/)
    expect(created.stdout).to.match(/Grant token\s+\S+/)
    expect(created.stderr).to.contain('up to about 5 minutes')

    expect(await decryptAs(app, acme, {tenant: 'acme'})).to.equal('acme data')
    expect(await decryptAs(app, other, {tenant: 'other'})).to.equal('AccessDeniedException')
    expect(await decryptAs(app, acme, {tenant: 'acme', extra: 'x'})).to.not.equal('acme data')
  })

  it('retire by token removes the grant', async () => {
    const key = await newKey(admin)
    const created = json(await kmsctl('grant', 'create', key.keyId, '--grantee', APP, '--operations', 'Encrypt,Decrypt', '--json'))
    expect(created.grantToken).to.be.a('string')
    const before = json(await kmsctl('grant', 'list', key.keyId, '--json'))
    expect(before.grants.map((g: {grantId: string}) => g.grantId)).to.deep.equal([created.grantId])

    const retired = await kmsctl('grant', 'retire', '--token', created.grantToken)
    expect(retired.code, retired.stderr).to.equal(0)
    expect(retired.stdout).to.contain('Retired the grant of the token given.')
    const after = json(await kmsctl('grant', 'list', key.keyId, '--json'))
    expect(after.grants).to.deep.equal([])

    // The token is spent: a second retire fails, exit 1.
    const again = await kmsctl('grant', 'retire', '--token', created.grantToken)
    expect(again.code).to.equal(1)
  })

  it('--retirable-by finds the grants a principal may retire, and retire KEY GRANT_ID removes one', async () => {
    const ops = `arn:aws:iam::${ACCOUNT}:role/grants-ops`
    const key = await newKey(admin)
    const created = json(await kmsctl('grant', 'create', key.alias, '--grantee', APP, '--operations', 'Decrypt', '--retiring-principal', ops, '--json'))
    const retirable = json(await kmsctl('grant', 'list', '--retirable-by', ops, '--json'))
    expect(retirable.scope).to.equal('retirable')
    expect(retirable.grants.map((g: {grantId: string}) => g.grantId)).to.deep.equal([created.grantId])

    const retired = await kmsctl('grant', 'retire', key.arn, created.grantId)
    expect(retired.code, retired.stderr).to.equal(0)
    expect(json(await kmsctl('grant', 'list', '--retirable-by', ops, '--json')).grants).to.deep.equal([])
  })

  it('revoke --grantee removes exactly that principal\'s grants across keys, and the recreated grants work again', async () => {
    const keys = [await newKey(admin), await newKey(admin)]
    const principals = sandboxHasPrincipals()
    if (principals) {
      const add = await kmsctl('sandbox', 'principal', 'add', INCIDENT_KEY_ID, INCIDENT, '--sandbox-dir', server.dir)
      expect(add.code, add.stderr).to.equal(0)
    }

    for (const k of keys) {
      for (const [grantee, ops] of [
        [INCIDENT, 'Decrypt,Encrypt'],
        [BYSTANDER, 'Decrypt'],
      ]) {
        const r = await kmsctl('grant', 'create', k.alias, '--grantee', grantee, '--operations', ops, '--context-subset', 'case=ir-1')
        expect(r.code, r.stderr).to.equal(0)
      }
    }

    const blob = (await admin.send(new EncryptCommand({EncryptionContext: {case: 'ir-1'}, KeyId: keys[0].keyId, Plaintext: Buffer.from('evidence')}))).CiphertextBlob!
    const incident = client(server, INCIDENT_KEY_ID)
    if (principals) expect(await decryptAs(incident, blob, {case: 'ir-1'})).to.equal('evidence')

    const listed = json(await kmsctl('grant', 'list', '--grantee', INCIDENT, '--json'))
    expect(listed.grants).to.have.length(2)
    const oldIds = listed.grants.map((g: {grantId: string}) => g.grantId).sort()

    const refused = await kmsctl('grant', 'revoke', '--grantee', INCIDENT)
    expect(refused.code).to.equal(2)
    expect(refused.stderr).to.contain(`Try this: --confirm ${INCIDENT} or --yes`)

    const revoked = json(await kmsctl('grant', 'revoke', '--grantee', INCIDENT, '--confirm', INCIDENT, '--json'))
    expect(revoked.revoked).to.equal(2)
    expect(revoked.failed).to.equal(0)
    expect(revoked.results.map((r: {grantId: string}) => r.grantId).sort()).to.deep.equal(oldIds)

    const remaining = json(await kmsctl('grant', 'list', '--all-keys', '--json'))
    const ours = remaining.grants.filter((g: {keyId: string}) => keys.some((k) => k.keyId === g.keyId))
    expect(ours.map((g: {granteePrincipal: string}) => g.granteePrincipal)).to.deep.equal([BYSTANDER, BYSTANDER])
    if (principals) expect(await decryptAs(incident, blob, {case: 'ir-1'})).to.equal('AccessDeniedException')

    const recreated = await kmsctl('grant', 'recreate', revoked.batch, '--json')
    expect(recreated.code, recreated.stderr).to.equal(0)
    const doc = json(recreated)
    expect(doc.created).to.equal(2)
    const newIds = doc.results.map((r: {newGrantId: string}) => r.newGrantId)
    for (const id of newIds) expect(oldIds).to.not.include(id)

    const back = json(await kmsctl('grant', 'list', '--grantee', INCIDENT, '--json'))
    expect(back.grants.map((g: {grantId: string}) => g.grantId).sort()).to.deep.equal([...newIds].sort())
    for (const g of back.grants) {
      expect(g.operations).to.have.members(['Decrypt', 'Encrypt'])
      expect(g.constraints).to.deep.equal({EncryptionContextSubset: {case: 'ir-1'}})
    }

    if (principals) expect(await decryptAs(incident, blob, {case: 'ir-1'})).to.equal('evidence')
  })

  it('a bulk revoke asks through a terminal, shows what it will revoke, and refuses a wrong answer', async () => {
    const key = await newKey(admin)
    for (let i = 0; i < 2; i++) {
      const r = await kmsctl('grant', 'create', key.alias, '--grantee', BYSTANDER, '--operations', 'Decrypt', '--name', `pty-${i}`)
      expect(r.code, r.stderr).to.equal(0)
    }

    const wrong = runInPty(['grant', 'revoke', key.alias, '--all'], env)
    await wrong.waitFor(`To revoke 2 grants on key ${key.alias}, type ${key.alias}`)
    expect(wrong.output()).to.contain('These 2 grants will be revoked')
    expect(wrong.output()).to.contain('pty-0')
    wrong.write('alias/not-it\r')
    await wrong.waitFor('(2 more tries)')
    wrong.write('\r')
    expect(await wrong.exit).to.equal(4)
    expect(json(await kmsctl('grant', 'list', key.alias, '--json')).grants).to.have.length(2)

    const right = runInPty(['grant', 'revoke', key.alias, '--all'], env)
    await right.waitFor(`type ${key.alias}`)
    right.write(`${key.alias}\r`)
    expect(await right.exit).to.equal(0)
    expect(right.output()).to.contain('2 revoked, 0 failed.')
    expect(json(await kmsctl('grant', 'list', key.alias, '--json')).grants).to.have.length(0)
  })

  it('refuses bad input with exit 2 and a one-line fix', async () => {
    const r = await kmsctl('grant', 'create', 'alias/e2e-grants-1', '--grantee', 'role/app', '--operations', 'Decrypt')
    expect(r.code).to.equal(2)
    expect(r.stderr.trim().split('\n')).to.have.length(2)
    expect(r.stderr).to.contain('Try this: --grantee arn:aws:iam::111122223333:role/app')
  })
})
