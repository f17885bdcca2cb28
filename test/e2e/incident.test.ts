// End-to-end: the incident path as a responder runs it, the built binary against `kmsctl sandbox
// serve` over HTTP. Keys are set up with the SDK directly; what the commands did is checked with the
// SDK too (describe, policy, grants by parameters, aliases, tags).
import {
  AliasListEntry,
  CreateAliasCommand,
  CreateKeyCommand,
  DescribeKeyCommand,
  KMSClient,
  ListAliasesCommand,
  UpdateAliasCommand,
} from '@aws-sdk/client-kms'
import {expect} from 'chai'
import {spawn} from 'node:child_process'
import {existsSync, mkdtempSync, readFileSync, readdirSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {binRun, json, projectRoot, runCli} from '../helpers/cli.js'
import {runInPty} from '../helpers/pty.js'
import {type SandboxServer, startSandboxServer} from '../helpers/sandbox-server.js'
import {ADMIN, incidentKey, keyView} from '../lib/incident/helpers.js'

function client(server: SandboxServer): KMSClient {
  const kms = new KMSClient({
    credentials: {accessKeyId: server.env.AWS_ACCESS_KEY_ID!, secretAccessKey: server.env.AWS_SECRET_ACCESS_KEY!},
    endpoint: server.url,
    maxAttempts: 5,
    region: server.env.AWS_REGION!,
  })
  // Other test files mock KMSClient.prototype.send for the whole process: use the SDK's own send.
  const send = Object.getPrototypeOf(KMSClient.prototype).send as KMSClient['send']
  ;(kms as unknown as {send: KMSClient['send']}).send = send.bind(kms) as KMSClient['send']
  return kms
}

async function newKeys(kms: KMSClient, n: number, tag?: string): Promise<string[]> {
  const ids: string[] = []
  for (let i = 0; i < n; i += 10) {
    // eslint-disable-next-line no-await-in-loop
    const out = await Promise.all(
      Array.from({length: Math.min(10, n - i)}, () => kms.send(new CreateKeyCommand({Tags: tag ? [{TagKey: 'team', TagValue: tag}] : undefined}))),
    )
    ids.push(...out.map((o) => o.KeyMetadata!.KeyId!))
  }

  return ids
}

const stateOf = async (kms: KMSClient, keyId: string) => (await kms.send(new DescribeKeyCommand({KeyId: keyId}))).KeyMetadata?.KeyState

function journalLines(home: string): Array<{type: string; id: string}> {
  const dir = join(home, 'journal')
  if (!existsSync(dir)) return []
  return readdirSync(dir).flatMap((f) =>
    readFileSync(join(dir, f), 'utf8')
      .split('\n')
      .filter((l) => l.trim())
      .flatMap((l) => {
        try {
          return [JSON.parse(l)]
        } catch {
          return []
        }
      }),
  )
}

describe('e2e: incident response', function () {
  this.timeout(180_000)
  let server: SandboxServer
  let kms: KMSClient
  let home: string
  let env: NodeJS.ProcessEnv

  before(async () => {
    server = await startSandboxServer()
    kms = client(server)
  })

  after(async () => {
    kms?.destroy()
    await server?.stop()
  })

  beforeEach(() => {
    home = mkdtempSync(join(tmpdir(), 'kmsctl-e2e-incident-'))
    env = {...server.env, KMSCTL_HOME: home}
  })

  it('contain then restore brings back a key with a custom policy, 3 grants, 2 aliases and tags', async () => {
    const keyId = await incidentKey(kms, 'e2e-pay')
    const original = await keyView(kms, keyId)

    const contain = await runCli(['incident', 'contain', 'alias/e2e-pay', '--revoke-grants', '--lock-policy', '--admin', ADMIN, '--yes', '--json'], {env})
    expect(contain.code, contain.stderr).to.equal(0)
    const contained = json(contain).keys[0]
    expect(contained).to.deep.include({after: 'Disabled', before: 'Enabled', grantsRevoked: 3, key: keyId, policyReplaced: true, status: 'contained'})
    expect(contained.journalId).to.match(/^j-/)
    expect(await stateOf(kms, keyId)).to.equal('Disabled')
    const during = await keyView(kms, keyId)
    expect(during.grants).to.deep.equal([])
    expect((during.policy as {Id?: string}).Id).to.equal('kmsctl-incident-lock')

    const show = await runCli(['journal', 'show', contained.journalId, '--json'], {env})
    expect(json(show)).to.deep.include({action: 'incident.contain', caller: ADMIN})
    expect(json(show).before.grants).to.have.length(3)

    const restore = await runCli(['incident', 'restore', contained.journalId, '--confirm', 'alias/e2e-pay', '--json'], {env})
    expect(restore.code, restore.stderr).to.equal(0)
    const restored = json(restore).keys[0]
    expect(restored.status).to.equal('restored')
    expect(restored.newGrants).to.have.length(3)
    expect(await stateOf(kms, keyId)).to.equal('Enabled')
    expect(await keyView(kms, keyId)).to.deep.equal(original)
  })

  it('undo reverses a disable, an alias update, and a contain; and says what it cannot undo', async () => {
    const [k1, k2, k3] = await newKeys(kms, 3)
    await kms.send(new CreateAliasCommand({AliasName: 'alias/e2e-undo', TargetKeyId: k1}))
    const disabled = json(await runCli(['key', 'disable', 'alias/e2e-undo', '--yes', '--json'], {env}))
    const entry = disabled.keys[0].journalId
    expect(await stateOf(kms, k1)).to.equal('Disabled')

    const refused = await runCli(['undo', entry], {env})
    expect(refused.code).to.equal(2)
    expect(refused.stderr).to.include('Try this: --confirm')
    expect(await stateOf(kms, k1)).to.equal('Disabled')

    const undone = await runCli(['undo', entry, '--yes', '--json'], {env})
    expect(undone.code, undone.stderr).to.equal(0)
    expect(json(undone).result.status).to.equal('undone')
    expect(await stateOf(kms, k1)).to.equal('Enabled')

    const again = await runCli(['undo', entry, '--yes'], {env})
    expect(again.code).to.equal(1)
    expect(again.stderr).to.match(/Already undone by j-/)

    // An alias update recorded by alias update, reversed by undo.
    const upd = await runCli(['alias', 'update', 'alias/e2e-undo', k2, '--json'], {env})
    expect(upd.code, upd.stderr).to.equal(0)
    const aliasEntry = json(upd).journalId as string
    const aliasUndo = await runCli(['undo', aliasEntry, '--yes', '--json'], {env})
    expect(aliasUndo.code, aliasUndo.stderr).to.equal(0)
    const aliasUndoEntry = json(aliasUndo).result.journalId as string
    const aliases = (await kms.send(new ListAliasesCommand({}))).Aliases as AliasListEntry[]
    expect(aliases.find((a) => a.AliasName === 'alias/e2e-undo')?.TargetKeyId).to.equal(k1)

    // A contain, undone by a restore.
    const c = json(await runCli(['incident', 'contain', k2, '--yes', '--json'], {env}))
    expect(await stateOf(kms, k2)).to.equal('Disabled')
    expect((await runCli(['undo', c.keys[0].journalId, '--yes'], {env})).code).to.equal(0)
    expect(await stateOf(kms, k2)).to.equal('Enabled')

    // A change made outside kmsctl after the undo: undoing the undo is refused (the alias moved on).
    await kms.send(new UpdateAliasCommand({AliasName: 'alias/e2e-undo', TargetKeyId: k3}))
    const moved = await runCli(['undo', aliasUndoEntry, '--yes'], {env})
    expect(moved.code).to.equal(2)
    expect(moved.stderr).to.include(`Not undone: alias/e2e-undo points at ${k3} now, not ${k1} as ${aliasUndoEntry} left it.`)
    expect(moved.stderr).to.include('--force to undo anyway')
    const list = json(await runCli(['journal', 'list', '--key', k1, '--json'], {env}))
    expect(list.map((r: {action: string}) => r.action)).to.deep.equal(['key.disable', 'key.enable'])
  })

  it('keeps every journal entry written when the process is killed mid-batch (SIGKILL)', async () => {
    const ids = await newKeys(kms, 25, 'e2e-kill')
    const child = spawn(process.execPath, [binRun, 'key', 'disable', '--tag', 'team=e2e-kill', '--yes', '--rate', '5'], {
      cwd: projectRoot,
      env: {...process.env, NODE_OPTIONS: '', ...env},
      stdio: 'ignore',
    })
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.once('exit', (_code, signal) => resolve(signal)))
    // Wait until some entries are written (the batch needs 5 s at 5/s), then kill it hard.
    const t0 = Date.now()
    while (journalLines(home).filter((l) => l.type === 'entry').length < 8 && Date.now() - t0 < 30_000) {
      // eslint-disable-next-line no-await-in-loop
      await new Promise((r) => setTimeout(r, 50))
    }

    child.kill('SIGKILL')
    expect(await exited).to.equal('SIGKILL')
    const lines = journalLines(home)
    const written = lines.filter((l) => l.type === 'entry').map((l) => l.id)
    expect(written.length).to.be.greaterThan(7).and.lessThan(25)

    const list = await runCli(['journal', 'list', '--action', 'key.disable', '--json'], {env})
    expect(list.code).to.equal(0)
    const records = json(list) as Array<{id: string; key: {keyId: string}; outcome?: {status: string}}>
    expect(records.map((r) => r.id).sort()).to.deep.equal([...written].sort())
    // No key was changed without its entry: every disabled key is in the journal.
    const states = await Promise.all(ids.map(async (id) => [id, await stateOf(kms, id)] as const))
    const journalled = new Set(records.map((r) => r.key.keyId))
    for (const [id, state] of states) if (state === 'Disabled') expect(journalled.has(id), id).to.equal(true)
    expect(states.filter(([, s]) => s === 'Enabled').length).to.be.greaterThan(0)
  })

  it('on Ctrl-C stops sending, finishes the calls in flight, prints the report so far, exits 130', async () => {
    const ids = await newKeys(kms, 20, 'e2e-int')
    const child = spawn(process.execPath, [binRun, 'key', 'disable', '--tag', 'team=e2e-int', '--yes', '--rate', '4', '--json'], {
      cwd: projectRoot,
      env: {...process.env, NODE_OPTIONS: '', ...env},
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d))
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d))
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
    const t0 = Date.now()
    while (journalLines(home).filter((l) => l.type === 'entry').length < 5 && Date.now() - t0 < 30_000) {
      // eslint-disable-next-line no-await-in-loop
      await new Promise((r) => setTimeout(r, 50))
    }

    child.kill('SIGINT')
    expect(await exited).to.equal(130)
    expect(stderr).to.include('Interrupted: no new calls are sent')
    const report = JSON.parse(stdout)
    expect(report.interrupted).to.equal(true)
    expect(report.exitCode).to.equal(130)
    const changed = report.keys.filter((k: {outcome: string}) => k.outcome === 'changed')
    const notSent = report.keys.filter((k: {outcome: string}) => k.outcome === 'not-sent')
    expect(changed.length + notSent.length).to.equal(20)
    expect(notSent.length).to.be.greaterThan(0)
    // The report matches the keys: changed ones are disabled, the others were never touched.
    for (const k of changed) expect(await stateOf(kms, k.key)).to.equal('Disabled')
    for (const k of notSent) expect(await stateOf(kms, k.key)).to.equal('Enabled')
    // Every entry written has its outcome: nothing was left in flight.
    const lines = journalLines(home)
    expect(lines.filter((l) => l.type === 'outcome').length).to.equal(lines.filter((l) => l.type === 'entry').length)
    expect(ids).to.include(changed[0].key)
  })

  it('asks for the typed confirmation on a terminal, and sends nothing when it does not match', async () => {
    const [k] = await newKeys(kms, 1)
    await kms.send(new CreateAliasCommand({AliasName: 'alias/e2e-pty', TargetKeyId: k}))
    const wrong = runInPty(['key', 'disable', 'alias/e2e-pty'], env)
    await wrong.waitFor('To disable key')
    expect(wrong.output().replaceAll('\n', '')).to.include(`To disable key ${k} (alias/e2e-pty), type ${k} (or its alias):`)
    // One key: no plan table, the prompt names the key.
    expect(wrong.output()).not.to.match(/will disable/)
    wrong.write('alias/other\r')
    await wrong.waitFor('(2 more tries)')
    wrong.write('\r')
    expect(await wrong.exit).to.equal(4)
    expect(wrong.output()).to.include('Not confirmed; nothing was changed.')
    expect(await stateOf(kms, k)).to.equal('Enabled')

    const right = runInPty(['key', 'disable', 'alias/e2e-pty'], env)
    await right.waitFor('To disable key')
    right.write('alias/e2e-pty\r')
    expect(await right.exit).to.equal(0)
    expect(await stateOf(kms, k)).to.equal('Disabled')
  })

  it('with injected 500s and throttling, every key ends disabled or is reported failed, and the exit code says so', async () => {
    // Keys are made on a sandbox without faults; the same state is then served with faults and quotas on.
    // Every call is retried by the client alone, up to --max-attempts requests (one retry strategy).
    const seed = await startSandboxServer()
    const sk = client(seed)
    const ids = await newKeys(sk, 20, 'e2e-faults')
    sk.destroy()
    await seed.stop()
    const faulty = await startSandboxServer({args: ['--fail-rate', '0.3', '--drop-rate', '0.05', '--quotas', 'aws'], dir: seed.dir})
    let res
    try {
      res = await runCli(['key', 'disable', '--tag', 'team=e2e-faults', '--yes', '--json', '--max-attempts', '5'], {env: {...faulty.env, KMSCTL_HOME: home}})
    } finally {
      await faulty.stop()
    }

    const report = json(res)
    if (report.error) {
      // The listing of the keys itself failed every attempt (about 0.35^5 a call): nothing was changed,
      // and the error names the call.
      expect(report.error.message).to.match(/ListKeys|GetCallerIdentity/)
      expect(res.code).to.equal(1)
      const clean = await startSandboxServer({dir: seed.dir})
      const check = client(clean)
      try {
        // eslint-disable-next-line no-await-in-loop
        for (const id of ids) expect(await stateOf(check, id)).to.equal('Enabled')
      } finally {
        check.destroy()
        await clean.stop()
      }

      return
    }

    expect(report.keys, JSON.stringify(report.error)).to.have.length(20)
    const failed = report.keys.filter((k: {outcome: string}) => k.outcome === 'failed')
    expect(res.code).to.equal(failed.length === 0 ? 0 : failed.length === report.keys.length ? 1 : 3)
    expect(report.exitCode).to.equal(res.code)
    const reported = new Map(report.keys.map((k: {key: string; outcome: string}) => [k.key, k.outcome]))
    const clean = await startSandboxServer({dir: seed.dir})
    const check = client(clean)
    try {
      for (const id of ids) {
        // eslint-disable-next-line no-await-in-loop
        const state = await stateOf(check, id)
        expect(state === 'Disabled' || reported.get(id) === 'failed', `${id} is ${state}, reported ${reported.get(id)}`).to.equal(true)
        if (reported.get(id) === 'changed') expect(state).to.equal('Disabled')
      }
    } finally {
      check.destroy()
      await clean.stop()
    }
  })
})
