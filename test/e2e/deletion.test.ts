// End-to-end: `key schedule-deletion` and `key cancel-deletion` as a user runs them, the built
// binary against `kmsctl sandbox serve` over HTTP. Keys are set up with the SDK directly, so that
// these tests depend only on the sandbox and on the two commands under test.
import {
  CreateAliasCommand,
  CreateKeyCommand,
  DecryptCommand,
  DescribeKeyCommand,
  DisableKeyCommand,
  EncryptCommand,
  KMSClient,
  type KeyMetadata,
  ScheduleKeyDeletionCommand,
} from '@aws-sdk/client-kms'
import {mkdtempSync, readFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {expect} from 'chai'

import {Journal} from '../../src/lib/journal.js'
import {json, projectRoot, runCli} from '../helpers/cli.js'
import {runInPty} from '../helpers/pty.js'
import {type SandboxServer, startSandboxServer} from '../helpers/sandbox-server.js'

const DAY_MS = 86_400_000

function sdkFor(server: SandboxServer): KMSClient {
  const client = new KMSClient({
    credentials: {accessKeyId: server.env.AWS_ACCESS_KEY_ID!, secretAccessKey: server.env.AWS_SECRET_ACCESS_KEY!},
    endpoint: server.url,
    maxAttempts: 5,
    region: server.env.AWS_REGION!,
  })
  // Unit and command tests stub KMSClient.prototype.send (aws-sdk-client-mock); when the whole suite runs
  // in one process a stub may still be in place. This client always sends for real, to the sandbox.
  const base = Object.getPrototypeOf(KMSClient.prototype) as {send: KMSClient['send']}
  client.send = base.send.bind(client) as KMSClient['send']
  return client
}

let counter = 0

async function newKey(kms: KMSClient, options: {disabled?: boolean; used?: boolean} = {}): Promise<{alias: string; arn: string; keyId: string}> {
  const created = await kms.send(new CreateKeyCommand({Description: 'e2e deletion key'}))
  const keyId = created.KeyMetadata!.KeyId!
  const alias = `alias/e2e-deletion-${process.pid}-${++counter}`
  await kms.send(new CreateAliasCommand({AliasName: alias, TargetKeyId: keyId}))
  if (options.used) {
    const {CiphertextBlob} = await kms.send(new EncryptCommand({KeyId: keyId, Plaintext: Buffer.from('quarterly numbers')}))
    await kms.send(new DecryptCommand({CiphertextBlob, KeyId: keyId}))
  }

  if (options.disabled ?? true) await kms.send(new DisableKeyCommand({KeyId: keyId}))
  return {alias, arn: created.KeyMetadata!.Arn!, keyId}
}

async function metadataOf(kms: KMSClient, keyId: string): Promise<KeyMetadata> {
  return (await kms.send(new DescribeKeyCommand({KeyId: keyId}))).KeyMetadata!
}

function sandboxHasClockCommand(): boolean {
  try {
    const manifest = JSON.parse(readFileSync(join(projectRoot, 'oclif.manifest.json'), 'utf8')) as {commands: Record<string, unknown>}
    return 'sandbox:clock:advance' in manifest.commands
  } catch {
    return false
  }
}

describe('e2e: scheduled deletion against the sandbox', function () {
  this.timeout(120_000)
  let server: SandboxServer
  let kms: KMSClient
  let env: NodeJS.ProcessEnv
  let home: string

  before(async () => {
    server = await startSandboxServer()
    kms = sdkFor(server)
  })

  after(async () => {
    kms?.destroy()
    await server?.stop()
  })

  beforeEach(() => {
    home = mkdtempSync(join(tmpdir(), 'kmsctl-e2e-home-'))
    env = {...server.env, KMSCTL_HOME: home}
  })

  const cli = (args: string[]) => runCli(args, {env})
  const journal = () => new Journal({dir: join(home, 'journal')})

  describe('refusals: exit 2, and the key is left as it was', () => {
    it('--days outside 7..30', async () => {
      const key = await newKey(kms)
      for (const days of ['6', '31']) {
        // eslint-disable-next-line no-await-in-loop
        const r = await cli(['key', 'schedule-deletion', key.keyId, '--days', days, '--confirm', key.keyId])
        expect(r.code).to.equal(2)
        expect(r.stderr).to.contain(`Error: --days ${days} is outside 7..30`)
        expect(r.stdout).to.equal('')
      }

      expect((await metadataOf(kms, key.keyId)).KeyState).to.equal('Disabled')
    })

    it('an AWS managed key', async () => {
      const r = await cli(['key', 'schedule-deletion', 'alias/aws/s3', '--force', '--confirm', 'alias/aws/s3'])
      expect(r.code).to.equal(2)
      expect(r.stderr).to.match(/^Error: alias\/aws\/s3 \([0-9a-f-]{36}\) is an AWS managed key: AWS owns its lifecycle, and it cannot be deleted\.$/m)
      expect((await metadataOf(kms, 'alias/aws/s3')).KeyState).to.equal('Enabled')
    })

    it('a key already pending deletion, with its date', async () => {
      const key = await newKey(kms)
      const scheduled = await kms.send(new ScheduleKeyDeletionCommand({KeyId: key.keyId, PendingWindowInDays: 9}))
      const date = scheduled.DeletionDate!.toISOString().replace('T', ' ').replace(/\.\d{3}Z$/, 'Z')
      const r = await cli(['key', 'schedule-deletion', key.alias, '--days', '7', '--force', '--confirm', key.alias])
      expect(r.code).to.equal(2)
      expect(r.stderr).to.contain(`Error: Key ${key.keyId} is already scheduled for deletion on ${date} (9 days left).`)
      expect(r.stderr).to.contain(`Try this: kmsctl key cancel-deletion ${key.alias} --enable (to keep the key)`)
      // The date did not move.
      expect((await metadataOf(kms, key.keyId)).DeletionDate?.toISOString()).to.equal(scheduled.DeletionDate!.toISOString())
    })

    it('an Enabled key, with the advice to disable it first', async () => {
      const key = await newKey(kms, {disabled: false})
      const r = await cli(['key', 'schedule-deletion', key.alias, '--confirm', key.alias])
      expect(r.code).to.equal(2)
      expect(r.stdout).to.match(/State\s+Enabled \(still usable: disable it first\)/)
      expect(r.stderr).to.contain(`Error: Refusing to schedule deletion: key ${key.keyId} is Enabled`)
      expect(r.stderr).to.contain(`Try this: disable it first and watch CloudTrail for calls that now fail (kmsctl key disable ${key.alias}`)
      expect((await metadataOf(kms, key.keyId)).KeyState).to.equal('Enabled')
    })

    it('a key used recently (encrypt and decrypt, then disabled) needs --force, and the report shows who used it', async () => {
      const key = await newKey(kms, {used: true})
      const r = await cli(['key', 'schedule-deletion', key.alias, '--confirm', key.alias])
      expect(r.code).to.equal(2)
      expect(r.stdout).to.match(/CloudTrail\s+2 cryptographic calls in the last 30 days, by:\n\s+user\/sandbox-admin from \S+: 2 \((Decrypt, Encrypt|Encrypt, Decrypt)\)/)
      expect(r.stdout).to.match(/Last used\s+\S+ \S+ Decrypt/)
      expect(r.stdout).to.contain('Newest cryptographic calls on this key (CloudTrail, last 30 days):')
      expect(r.stdout).to.match(/Decrypt\s+user\/sandbox-admin\s/)
      expect(r.stdout).to.match(/Encrypt\s+user\/sandbox-admin\s/)
      expect(r.stderr).to.contain(`Error: Refusing to schedule deletion: key ${key.keyId} was used recently: 2 cryptographic calls in CloudTrail in the last 30 days (newest: Decrypt by user/sandbox-admin`)
      expect(r.stderr).not.to.contain('is Enabled')
      expect((await metadataOf(kms, key.keyId)).KeyState).to.equal('Disabled')

      const forced = await cli(['key', 'schedule-deletion', key.alias, '--days', '7', '--force', '--confirm', key.alias, '--json'])
      expect(forced.code).to.equal(0)
      expect(forced.stderr).to.contain(`Warning: --force: key ${key.keyId} was used recently`)
      expect(json(forced)).to.deep.include({keyState: 'PendingDeletion', pendingWindowInDays: 7, scheduled: true})
      expect((await metadataOf(kms, key.keyId)).KeyState).to.equal('PendingDeletion')
    })

    it('--yes alone is not enough', async () => {
      const key = await newKey(kms)
      const r = await cli(['key', 'schedule-deletion', key.alias, '--yes'])
      expect(r.code).to.equal(2)
      expect(r.stderr).to.contain(`Error: --yes is not enough to schedule deletion of key ${key.keyId}.`)
      expect((await metadataOf(kms, key.keyId)).KeyState).to.equal('Disabled')
    })

    it('no terminal and no --confirm: no prompt, exit 2', async () => {
      const key = await newKey(kms)
      const r = await cli(['key', 'schedule-deletion', key.alias])
      expect(r.code).to.equal(2)
      expect(r.stderr).to.contain(`Error: Confirmation required to schedule deletion of key ${key.keyId}, and there is no terminal to ask on.`)
      expect(r.stderr).to.contain(`Try this: --confirm ${key.keyId}`)
      expect((await metadataOf(kms, key.keyId)).KeyState).to.equal('Disabled')
      expect(journal().readAll()).to.have.length(0)
    })

    it('a wrong --confirm', async () => {
      const key = await newKey(kms)
      const r = await cli(['key', 'schedule-deletion', key.alias, '--confirm', 'alias/something-else'])
      expect(r.code).to.equal(2)
      expect(r.stderr).to.contain(`Error: --confirm "alias/something-else" does not match; expected "${key.keyId}" or "${key.alias}" or "${key.arn}".`)
      expect((await metadataOf(kms, key.keyId)).KeyState).to.equal('Disabled')
    })
  })

  it('--dry-run shows the pre-flight and sends nothing', async () => {
    const key = await newKey(kms)
    const r = await cli(['key', 'schedule-deletion', key.alias, '--days', '7', '--dry-run'])
    expect(r.code).to.equal(0)
    expect(r.stdout).to.contain(`Deletion pre-flight for ${key.alias} (${key.keyId})`)
    expect(r.stdout).to.match(/CloudTrail\s+no cryptographic calls in the last 30 days/)
    expect(r.stderr).to.contain(`Dry run: would send ScheduleKeyDeletion {"KeyId":"${key.keyId}","PendingWindowInDays":7}`)
    expect((await metadataOf(kms, key.keyId)).KeyState).to.equal('Disabled')
  })

  it('--confirm with the key ID schedules it, and the journal has the state before', async () => {
    const key = await newKey(kms)
    const r = await cli(['key', 'schedule-deletion', key.keyId, '--days', '7', '--confirm', key.keyId])
    expect(r.code).to.equal(0)
    const m = await metadataOf(kms, key.keyId)
    expect(m.KeyState).to.equal('PendingDeletion')
    const date = m.DeletionDate!.toISOString().replace('T', ' ').replace(/\.\d{3}Z$/, 'Z')
    expect(r.stdout).to.contain(`Scheduled deletion of key ${key.keyId} on ${date} (in 7 days).`)
    const [entry] = journal().readAll()
    expect(entry).to.deep.include({action: 'key.schedule-deletion', account: '111122223333'})
    expect(entry.before).to.deep.include({aliases: [key.alias], enabled: false, state: 'Disabled'})
    expect(entry.outcome?.after).to.deep.equal({deletionDate: m.DeletionDate!.toISOString(), pendingWindowInDays: 7, state: 'PendingDeletion'})
  })

  describe('typed confirmation through a terminal', () => {
    it('typing the alias schedules the deletion', async () => {
      const key = await newKey(kms)
      const term = runInPty(['key', 'schedule-deletion', key.alias, '--days', '7'], env)
      // The prompt may wrap at the terminal's width.
      await term.waitFor(new RegExp(`To schedule deletion of key ${key.keyId}, type ${key.keyId} \\(or its\\s+alias\\):`))
      expect(term.output()).to.contain(`In 7 days, KMS deletes key ${key.keyId} and everything encrypted under it becomes unrecoverable.`)
      term.write(`${key.alias}\r`)
      expect(await term.exit).to.equal(0)
      expect(term.output()).to.contain(`Scheduled deletion of key ${key.keyId} on`)
      expect((await metadataOf(kms, key.keyId)).KeyState).to.equal('PendingDeletion')
    })

    it('typing anything else (even "y") changes nothing: exit 4', async () => {
      const key = await newKey(kms)
      const term = runInPty(['key', 'schedule-deletion', key.alias], env)
      await term.waitFor(new RegExp(`type ${key.keyId} \\(or its\\s+alias\\):`))
      for (const left of ['2 more tries', '1 more try']) {
        term.write('y\r')
        // eslint-disable-next-line no-await-in-loop
        await term.waitFor(`(${left})`)
      }

      term.write('y\r')
      expect(await term.exit).to.equal(4)
      expect(term.output()).to.contain('"y" does not match; nothing was changed.')
      expect((await metadataOf(kms, key.keyId)).KeyState).to.equal('Disabled')
      expect(journal().readAll()).to.have.length(0)
    })
  })

  describe('cancel-deletion', () => {
    it('cancel and enable: the key is Enabled again', async () => {
      const key = await newKey(kms)
      await kms.send(new ScheduleKeyDeletionCommand({KeyId: key.keyId, PendingWindowInDays: 7}))
      const r = await cli(['key', 'cancel-deletion', key.alias, '--enable'])
      expect(r.code).to.equal(0)
      expect(r.stdout).to.contain(`Cancelled the deletion of key ${key.alias} (${key.keyId}); it is Enabled again.`)
      const m = await metadataOf(kms, key.keyId)
      expect(m.KeyState).to.equal('Enabled')
      expect(m.DeletionDate).to.equal(undefined)
      const [entry] = journal().readAll()
      expect(entry).to.deep.include({action: 'key.cancel-deletion'})
      expect((entry.before as {state: string}).state).to.equal('PendingDeletion')
    })

    it('cancel without --enable: says the key stays Disabled', async () => {
      const key = await newKey(kms)
      await kms.send(new ScheduleKeyDeletionCommand({KeyId: key.keyId, PendingWindowInDays: 7}))
      const r = await cli(['key', 'cancel-deletion', key.keyId])
      expect(r.code).to.equal(0)
      expect(r.stdout).to.contain('It is Disabled: KMS leaves a key Disabled when its deletion is cancelled.')
      expect((await metadataOf(kms, key.keyId)).KeyState).to.equal('Disabled')
    })

    it('a key that is not pending deletion is refused', async () => {
      const key = await newKey(kms)
      const r = await cli(['key', 'cancel-deletion', key.keyId, '--enable'])
      expect(r.code).to.equal(2)
      expect(r.stderr).to.contain(`Error: Key ${key.keyId} is not scheduled for deletion (state Disabled): there is nothing to cancel.`)
      expect((await metadataOf(kms, key.keyId)).KeyState).to.equal('Disabled')
    })
  })
})

describe('e2e: the key is gone once the sandbox clock passes the window', function () {
  this.timeout(120_000)
  const servers: SandboxServer[] = []

  after(async () => {
    for (const s of servers) await s.stop() // eslint-disable-line no-await-in-loop
  })

  it('scheduled for 7 days, deleted on day 8', async () => {
    const home = mkdtempSync(join(tmpdir(), 'kmsctl-e2e-home-'))
    const first = await startSandboxServer()
    servers.push(first)
    let kms = sdkFor(first)
    const key = await newKey(kms)
    const r = await runCli(['key', 'schedule-deletion', key.alias, '--days', '7', '--confirm', key.alias], {env: {...first.env, KMSCTL_HOME: home}})
    expect(r.code).to.equal(0)
    expect((await metadataOf(kms, key.keyId)).KeyState).to.equal('PendingDeletion')

    let env: NodeJS.ProcessEnv
    if (sandboxHasClockCommand()) {
      // Moves the clock of the running sandbox (kept in its state directory).
      const advanced = await runCli(['sandbox', 'clock', 'advance', '8d', '--sandbox-dir', first.dir], {env: {KMSCTL_HOME: home}})
      expect(advanced.code, advanced.stderr).to.equal(0)
      env = {...first.env, KMSCTL_HOME: home}
    } else {
      // No clock command in this build: restart the sandbox on the same state, 8 days later.
      kms.destroy()
      await first.stop()
      const later = await startSandboxServer({dir: first.dir, env: {KMSCTL_SANDBOX_NOW_OFFSET_MS: String(8 * DAY_MS)}})
      servers.push(later)
      kms = sdkFor(later)
      env = {...later.env, KMSCTL_HOME: home}
    }

    try {
      await metadataOf(kms, key.keyId)
      expect.fail('the key should have been deleted')
    } catch (error) {
      expect((error as Error).name).to.equal('NotFoundException')
    } finally {
      kms.destroy()
    }

    const gone = await runCli(['key', 'cancel-deletion', key.keyId, '--enable'], {env})
    expect(gone.code).to.equal(1)
    expect(gone.stderr).to.contain(`Error: Key ${key.keyId} does not exist in this region.`)
  })
})
