// End-to-end: what every listing and change across accounts and regions shares, the built binary
// against `kmsctl sandbox serve`: --csv and --ndjson with Account and Region, policy lint and trail
// query --source api across accounts, key disable/enable --file with key ARNs of several accounts,
// grant recreate in another account, the live progress line on a terminal, and bad input refused
// before anything is sent. The sandbox organisation: the management account, three member accounts
// with OrganizationAccountAccessRole, one account whose role has another name, two regions each,
// two seeded keys in every account-region (team=payments aliased alias/payments, team=web).
import {expect} from 'chai'
import {mkdtempSync, readFileSync, readdirSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {json, runCli} from '../helpers/cli.js'
import {runInPty} from '../helpers/pty.js'
import {type SandboxServer, startSandboxServer} from '../helpers/sandbox-server.js'

const MANAGEMENT = '111122223333'
const MEMBERS = ['222233334444', '444455556666', '555566667777']
const BROKEN = '999988887777'
const REGIONS = ['us-east-1', 'eu-west-1']
const ROLE = 'OrganizationAccountAccessRole'
const GOOD = [MANAGEMENT, ...MEMBERS]

interface SeededKey {
  account: string
  alias?: string
  keyId: string
  region: string
  team: string
}

describe('e2e: listings and changes across accounts, their output and their refusals', function () {
  this.timeout(240_000)
  let server: SandboxServer
  let home: string
  let env: NodeJS.ProcessEnv
  let keys: SeededKey[] = []

  const cli = (args: string[], extra: NodeJS.ProcessEnv = {}) => runCli(args, {env: {...env, ...extra}, timeoutMs: 120_000})
  const arnOf = (k: SeededKey) => `arn:aws:kms:${k.region}:${k.account}:key/${k.keyId}`
  const payments = () => keys.filter((k) => k.team === 'payments')
  const eventCount = () => readFileSync(join(server.dir, 'events.jsonl'), 'utf8').split('\n').filter((l) => l.trim()).length
  const settledEventCount = async () => {
    let last = -1
    let count = eventCount()
    while (count !== last) {
      last = count
      // eslint-disable-next-line no-await-in-loop
      await new Promise((r) => setTimeout(r, 300))
      count = eventCount()
    }

    return count
  }

  /** The key's state, read through kmsctl (key describe with the key ARN, through the role). */
  async function stateOf(k: SeededKey): Promise<string> {
    const r = await cli(['key', 'describe', arnOf(k), '--role-name', k.account === BROKEN ? 'LegacyAdmin' : ROLE, '--json'])
    expect(r.code, r.stderr).to.equal(0)
    return json<{state: string}>(r).state
  }

  function journalEntries(batch: string): Array<{account?: string; action: string; id: string; region: string; role?: string}> {
    return readdirSync(join(home, 'journal')).flatMap((f) =>
      readFileSync(join(home, 'journal', f), 'utf8')
        .split('\n')
        .filter((l) => l.includes(`"batch":"${batch}"`) && l.includes('"type":"entry"'))
        .map((l) => JSON.parse(l)),
    )
  }

  before(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kmsctl-orgfeat-'))
    home = mkdtempSync(join(tmpdir(), 'kmsctl-orgfeat-home-'))
    const offline = {KMSCTL_HOME: home, KMSCTL_SANDBOX_DIR: dir}
    const added = await runCli(['sandbox', 'account', 'add', BROKEN, '--name', 'legacy', '--role-name', 'LegacyAdmin', '--regions', REGIONS.join(',')], {env: offline})
    expect(added.code, added.stderr).to.equal(0)
    const seeded = await runCli(['sandbox', 'org', 'seed', '--regions', REGIONS.join(','), '--keys', '2', '--json'], {env: offline})
    expect(seeded.code, seeded.stderr).to.equal(0)
    keys = json<{keys: SeededKey[]}>(seeded).keys
    server = await startSandboxServer({dir})
    env = {...server.env, COLUMNS: '250', KMSCTL_HOME: home, KMSCTL_SANDBOX_DIR: server.dir}
  })

  after(async () => {
    await server?.stop()
  })

  it('seeds two keys in each of the ten account-regions', () => {
    expect(keys).to.have.length(20)
    expect(new Set(keys.map((k) => `${k.account}/${k.region}`)).size).to.equal(10)
  })

  describe('key disable / key enable --file with key ARNs of several accounts and regions', () => {
    it('plans every account-region, confirms once with the total, journals account, region and role, and undo puts every key back', async () => {
      const chosen = payments().filter((k) => k.account !== BROKEN)
      expect(chosen).to.have.length(8)
      const file = join(home, 'key-arns.txt')
      writeFileSync(file, ['# the payments keys of the organisation', ...chosen.map((k) => arnOf(k))].join('\n') + '\n')
      const before = await settledEventCount()
      const dry = await cli(['key', 'disable', '--file', file, '--role-name', ROLE, '--dry-run', '--json'])
      expect(dry.code, dry.stderr).to.equal(0)
      const plan = json<{dryRun: boolean; keys: Array<{account: string; key: string; region: string}>; summary: {planned: number}}>(dry)
      expect(plan.dryRun).to.equal(true)
      expect(plan.summary.planned).to.equal(8)
      expect(plan.keys.map((k) => `${k.account}/${k.region}/${k.key}`).sort()).to.deep.equal(chosen.map((k) => `${k.account}/${k.region}/${k.keyId}`).sort())
      // The dry run reads (DescribeKey, AssumeRole, ListAliases) but changes nothing.
      const events = readFileSync(join(server.dir, 'events.jsonl'), 'utf8').split('\n').slice(before).filter(Boolean).map((l) => JSON.parse(l) as {eventName: string})
      expect(events.map((e) => e.eventName)).not.to.include('DisableKey')

      // One confirmation for the whole batch: the text naming the total.
      const wrong = await cli(['key', 'disable', '--file', file, '--role-name', ROLE, '--confirm', 'disable 2 keys'])
      expect(wrong.code).to.equal(2)
      expect(wrong.stderr).to.contain('expected "disable 8 keys"')
      const r = await cli(['key', 'disable', '--file', file, '--role-name', ROLE, '--confirm', 'disable 8 keys', '--json'])
      expect(r.code, r.stderr).to.equal(0)
      const out = json<{batch: string; keys: Array<{account: string; outcome: string; region: string}>; targets: Array<{account: string; changed: number; region: string; role?: string}>}>(r)
      expect(out.keys.filter((k) => k.outcome === 'changed')).to.have.length(8)
      expect(out.targets).to.have.length(8)
      for (const t of out.targets) expect(t.role).to.equal(t.account === MANAGEMENT ? undefined : `arn:aws:iam::${t.account}:role/${ROLE}`)
      for (const k of chosen) expect(await stateOf(k), `${k.account}/${k.region}`).to.equal('Disabled')
      // The web keys next to them are untouched.
      expect(await stateOf(keys.find((k) => k.team === 'web' && k.account === MEMBERS[1] && k.region === 'eu-west-1')!)).to.equal('Enabled')

      const entries = journalEntries(out.batch)
      expect(entries).to.have.length(8)
      for (const e of entries) {
        expect(e.role).to.equal(e.account === MANAGEMENT ? undefined : `arn:aws:iam::${e.account}:role/${ROLE}`)
        expect(REGIONS).to.include(e.region)
      }

      const u = await cli(['undo', out.batch, '--confirm', 'undo 8 changes', '--json'])
      expect(u.code, u.stderr).to.equal(0)
      for (const k of chosen) expect(await stateOf(k), `${k.account}/${k.region}`).to.equal('Enabled')
    })

    it('enables from stdin too, and reports the account-region whose role cannot be assumed (exit 3, the others done)', async () => {
      const broken = payments().find((k) => k.account === BROKEN && k.region === 'us-east-1')!
      const member = payments().find((k) => k.account === MEMBERS[0] && k.region === 'eu-west-1')!
      const off = await cli(['key', 'disable', arnOf(member), '--role-name', ROLE, '--yes', '--json'])
      expect(off.code, off.stderr).to.equal(0)
      const r = await runCli(['key', 'enable', '-', '--role-name', ROLE, '--yes', '--json'], {env, input: `${arnOf(member)}\n${arnOf(broken)}\n`, timeoutMs: 120_000})
      expect(r.code, r.stderr).to.equal(3)
      const out = json<{keys: Array<{account: string; error?: {message: string}; outcome: string}>}>(r)
      expect(out.keys.find((k) => k.account === MEMBERS[0])!.outcome).to.equal('changed')
      const failed = out.keys.find((k) => k.account === BROKEN)!
      expect(failed.outcome).to.equal('failed')
      expect(failed.error!.message).to.contain(`Cannot assume arn:aws:iam::${BROKEN}:role/${ROLE}`)
      expect(await stateOf(member)).to.equal('Enabled')
    })

    it('refuses key ARNs of another account without a role, and a key that is not there, sending nothing', async () => {
      const before = await settledEventCount()
      const member = payments().find((k) => k.account === MEMBERS[2])!
      const noRole = await cli(['key', 'disable', arnOf(member), '--yes'])
      expect(noRole.code).to.equal(2)
      expect(noRole.stderr).to.contain(`is in account ${MEMBERS[2]}, not the caller's (${MANAGEMENT}), and no role to assume there is named.`)
      expect(noRole.stderr).to.contain('Try this: --role-name')
      const ghost = `arn:aws:kms:eu-west-1:${MEMBERS[1]}:key/00000000-0000-4000-8000-000000000000`
      const missing = await cli(['key', 'disable', arnOf(member), ghost, '--role-name', ROLE, '--yes'])
      expect(missing.code).to.equal(2)
      expect(missing.stderr).to.contain(`No key ${ghost} (${MEMBERS[1]}/eu-west-1): nothing was sent.`)
      // Reads only: nothing disabled.
      const events = readFileSync(join(server.dir, 'events.jsonl'), 'utf8').split('\n').slice(before).filter(Boolean).map((l) => JSON.parse(l) as {eventName: string})
      expect(events.map((e) => e.eventName)).not.to.include('DisableKey')
      expect(await stateOf(member)).to.equal('Enabled')
    })
  })
})
