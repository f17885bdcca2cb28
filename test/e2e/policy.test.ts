// End-to-end: the policy commands, the built binary against `kmsctl sandbox serve` over HTTP.
// What reached KMS is checked in the sandbox's CloudTrail (LookupEvents), as an operator would.
import {CloudTrailClient, LookupEventsCommand} from '@aws-sdk/client-cloudtrail'
import {CreateAliasCommand, CreateKeyCommand, GetKeyPolicyCommand, KMSClient, PutKeyPolicyCommand} from '@aws-sdk/client-kms'
import {expect} from 'chai'
import {mkdtempSync, readFileSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {json, runCli} from '../helpers/cli.js'
import {type PtySession, runInPty} from '../helpers/pty.js'
import {type SandboxServer, startSandboxServer} from '../helpers/sandbox-server.js'

const ACCOUNT = '111122223333'
const ROOT = {Sid: 'Enable IAM User Permissions', Effect: 'Allow', Principal: {AWS: `arn:aws:iam::${ACCOUNT}:root`}, Action: 'kms:*', Resource: '*'}
const USE = {Sid: 'Use', Effect: 'Allow', Principal: {AWS: `arn:aws:iam::${ACCOUNT}:role/App`}, Action: ['kms:Decrypt', 'kms:Encrypt'], Resource: '*'}
/** The exit code, or a failure showing the screen when the process does not end within 20 s. */
async function exitOf(session: PtySession): Promise<number> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<number>((_, reject) => {
    timer = setTimeout(() => {
      session.kill()
      reject(new Error(`no exit within 20 s; screen:\n${session.output()}`))
    }, 20_000)
  })
  try {
    return await Promise.race([session.exit, timeout])
  } finally {
    clearTimeout(timer)
  }
}

const PROMPT = /type\s+[0-9a-f-]{36} \(or its alias\):/

const text = (statements: unknown[]) => JSON.stringify({Version: '2012-10-17', Statement: statements}, null, 2) + '\n'

describe('e2e: policy', function () {
  this.timeout(120_000)
  let server: SandboxServer
  let env: NodeJS.ProcessEnv
  let kms: KMSClient
  let trail: CloudTrailClient
  let dir: string
  let counter = 0

  before(async () => {
    server = await startSandboxServer()
    const config = {
      credentials: {accessKeyId: server.env.AWS_ACCESS_KEY_ID!, secretAccessKey: server.env.AWS_SECRET_ACCESS_KEY!},
      endpoint: server.url,
      maxAttempts: 1,
      region: server.env.AWS_REGION!,
    }
    kms = new KMSClient(config)
    trail = new CloudTrailClient(config)
  })

  after(async () => {
    await server?.stop()
  })

  const sessions: PtySession[] = []
  const pty = (args: string[], e: NodeJS.ProcessEnv) => {
    const s = runInPty(args, e)
    sessions.push(s)
    return s
  }

  afterEach(() => {
    // A failed test must not leave a prompt waiting forever.
    for (const s of sessions.splice(0)) {
      try {
        s.kill()
      } catch {
        // Already ended.
      }
    }
  })

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'kmsctl-e2e-policy-'))
    env = {...server.env, COLUMNS: '120', KMSCTL_HOME: join(dir, 'home'), NO_COLOR: '1'}
  })

  const file = (name: string, body: string) => {
    const p = join(dir, name)
    writeFileSync(p, body)
    return p
  }

  async function newKey(): Promise<{alias: string; keyId: string}> {
    const created = await kms.send(new CreateKeyCommand({Description: 'e2e policy key'}))
    const keyId = created.KeyMetadata!.KeyId!
    const alias = `alias/e2e-policy-${++counter}`
    await kms.send(new CreateAliasCommand({AliasName: alias, TargetKeyId: keyId}))
    return {alias, keyId}
  }

  const currentPolicy = async (keyId: string) => (await kms.send(new GetKeyPolicyCommand({KeyId: keyId, PolicyName: 'default'}))).Policy!

  async function putEvents(keyId: string): Promise<number> {
    const out = await trail.send(new LookupEventsCommand({LookupAttributes: [{AttributeKey: 'EventName', AttributeValue: 'PutKeyPolicy'}]}))
    return (out.Events ?? []).filter((e) => (e.CloudTrailEvent ?? '').includes(keyId)).length
  }

  it('refuses a lockout policy before any PutKeyPolicy is sent', async () => {
    const {alias, keyId} = await newKey()
    const before = await currentPolicy(keyId)
    const r = await runCli(['policy', 'put', alias, '--file', file('lockout.json', text([USE])), '--yes'], {env})
    expect(r.code).to.equal(2)
    expect(r.stderr).to.contain(`Error: The new policy would lock you out: arn:aws:iam::${ACCOUNT}:user/sandbox-admin could no longer call kms:PutKeyPolicy (statement "Enable IAM User Permissions", which allowed it, is removed). Nothing was sent.`)
    expect(await putEvents(keyId)).to.equal(0)
    expect(await currentPolicy(keyId)).to.equal(before)
  })

  it('put writes a backup that restore puts back byte for byte', async () => {
    const {alias, keyId} = await newKey()
    const original = await currentPolicy(keyId)
    const put = json(await runCli(['policy', 'put', alias, '--file', file('new.json', text([ROOT, USE])), '--yes', '--json'], {env}))
    expect(put.outcome).to.equal('written')
    expect(put.verified).to.equal('identical')
    expect(readFileSync(put.backup, 'utf8')).to.equal(original)
    expect(await currentPolicy(keyId)).to.equal(text([ROOT, USE]))

    const restore = await runCli(['policy', 'restore', alias, '--from', put.backup, '--confirm', keyId], {env})
    expect(restore.code).to.equal(0)
    expect(restore.stdout).to.contain(`Restored the key policy of ${keyId} (read back: identical).`)
    expect(await currentPolicy(keyId)).to.equal(original)
    expect(await putEvents(keyId)).to.equal(2)
  })

  it('detects a change made between the diff and the put (typed confirmation in a terminal)', async () => {
    const {alias, keyId} = await newKey()
    const session = pty(['policy', 'put', alias, '--file', file('new.json', text([ROOT, USE]))], env)
    await session.waitFor(PROMPT)
    expect(session.output()).to.contain('Access is WIDENED')
    expect(session.output()).to.contain('This change WIDENS access')
    // Someone else edits the policy while the prompt is open.
    const theirs = text([ROOT, {...USE, Sid: 'Theirs'}])
    await kms.send(new PutKeyPolicyCommand({KeyId: keyId, Policy: theirs, PolicyName: 'default'}))
    session.write(`${keyId}\r`)
    expect(await exitOf(session)).to.equal(1)
    // Messages are wrapped to the terminal at spaces.
    expect(session.output().replaceAll('\n', ' ')).to.contain(`The key policy of ${keyId} changed since the diff was shown (someone else edited it); nothing was sent.`)
    expect(await currentPolicy(keyId)).to.equal(theirs)
    expect(await putEvents(keyId)).to.equal(1)
  })

  it('puts after the key alias is typed at the prompt, and declines on a mismatch', async () => {
    const {alias, keyId} = await newKey()
    const declined = pty(['policy', 'put', alias, '--file', file('new.json', text([ROOT, USE]))], env)
    await declined.waitFor(PROMPT)
    declined.write('something-else\r')
    await declined.waitFor('(2 more tries)')
    declined.write('\r')
    expect(await exitOf(declined)).to.equal(4)
    expect(await putEvents(keyId)).to.equal(0)

    const accepted = pty(['policy', 'put', alias, '--file', join(dir, 'new.json')], env)
    await accepted.waitFor(PROMPT)
    accepted.write(`${alias}\r`)
    expect(await exitOf(accepted)).to.equal(0)
    expect(accepted.output()).to.contain(`Put the key policy of ${keyId} (read back: identical).`)
    expect(await putEvents(keyId)).to.equal(1)
  })

  it('diff, lint and simulate against the live key', async () => {
    const {alias} = await newKey()
    const diff = await runCli(['policy', 'diff', alias, '--file', file('new.json', text([ROOT, USE])), '--fail-on-change'], {env})
    expect(diff.code).to.equal(1)
    expect(diff.stdout).to.contain('Access is WIDENED')
    const lint = json(await runCli(['policy', 'lint', alias, '--json'], {env}))
    expect(lint.findings).to.deep.equal([])
    const sim = json(await runCli(['policy', 'simulate', alias, '--principal', `arn:aws:iam::${ACCOUNT}:user/bob`, '--action', 'kms:Decrypt', '--json'], {env}))
    expect(sim.results[0].decision).to.equal('delegated-to-iam')
  })
})
