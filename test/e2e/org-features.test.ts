// End-to-end: what every listing and change across accounts and regions shares, the built binary
// against `kmsctl sandbox serve`: --csv and --ndjson with Account and Region, policy lint and trail
// query --source api across accounts, key disable/enable --file with key ARNs of several accounts,
// grant recreate in another account, the live progress line on a terminal, and bad input refused
// before anything is sent. The sandbox organisation: the management account, three member accounts
// with OrganizationAccountAccessRole, one account whose role has another name, two regions each,
// two seeded keys in every account-region (team=payments aliased alias/payments, team=web).
import {AssumeRoleCommand, STSClient} from '@aws-sdk/client-sts'
import {CreateGrantCommand, KMSClient, PutKeyPolicyCommand} from '@aws-sdk/client-kms'
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

/** The SDK's own send (other test files may mock the clients' send for the whole process). */
function unmocked<T extends {send: unknown}>(client: T, Ctor: {prototype: unknown}): T {
  const send = Object.getPrototypeOf(Ctor.prototype).send as (...a: unknown[]) => unknown
  ;(client as unknown as {send: unknown}).send = send.bind(client)
  return client
}

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

  /** The events recorded after the first `before`, once the server's batched appends have settled (no line half-written). */
  const settledEventsSince = async (before: number) => {
    await settledEventCount()
    return readFileSync(join(server.dir, 'events.jsonl'), 'utf8').split('\n').filter((l) => l.trim()).slice(before).map((l) => JSON.parse(l) as {eventName: string})
  }

  /** A KMS client in a member account, through the role (to set a test's scene with the SDK). */
  async function memberKms(account: string, region: string): Promise<KMSClient> {
    const base = {accessKeyId: server.env.AWS_ACCESS_KEY_ID!, secretAccessKey: server.env.AWS_SECRET_ACCESS_KEY!}
    const sts = unmocked(new STSClient({credentials: base, endpoint: server.url, region}), STSClient)
    const out = await sts.send(new AssumeRoleCommand({RoleArn: `arn:aws:iam::${account}:role/${ROLE}`, RoleSessionName: 'e2e-setup'}))
    const c = out.Credentials!
    return unmocked(new KMSClient({credentials: {accessKeyId: c.AccessKeyId!, secretAccessKey: c.SecretAccessKey!, sessionToken: c.SessionToken}, endpoint: server.url, region}), KMSClient)
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
      const dry = await cli(['key', 'disable', '--file', file, '--role-name', ROLE, '--max-parallel', '3', '--dry-run', '--json'])
      expect(dry.code, dry.stderr).to.equal(0)
      const plan = json<{dryRun: boolean; keys: Array<{account: string; key: string; region: string}>; summary: {planned: number}}>(dry)
      expect(plan.dryRun).to.equal(true)
      expect(plan.summary.planned).to.equal(8)
      expect(plan.keys.map((k) => `${k.account}/${k.region}/${k.key}`).sort()).to.deep.equal(chosen.map((k) => `${k.account}/${k.region}/${k.keyId}`).sort())
      // The dry run reads (DescribeKey, AssumeRole, ListAliases) but changes nothing.
      const events = await settledEventsSince(before)
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

    it('asks once at the terminal for the whole batch, after the plan of every account-region; a wrong answer is asked again', async () => {
      const chosen = keys.filter((k) => k.team === 'web' && k.region === 'us-east-1' && k.account !== BROKEN)
      const file = join(home, 'web-arns.txt')
      writeFileSync(file, chosen.map((k) => arnOf(k)).join('\n') + '\n')
      const term = runInPty(['key', 'disable', '--file', file, '--role-name', ROLE], env, {cols: 160})
      await term.waitFor('To disable 4 keys in 4 account-regions, type disable 4 keys:')
      // The plan came first: each key with its account and region.
      for (const k of chosen) expect(term.output()).to.match(new RegExp(`${k.account}\\s+us-east-1\\s+${k.keyId}`))
      term.write('disable 3 keys\r')
      await term.waitFor('does not match')
      term.write('disable 4 keys\r')
      expect(await term.exit).to.equal(0)
      for (const k of chosen) expect(await stateOf(k), k.account).to.equal('Disabled')
      const undo = await cli(['undo', '--last', '--yes'])
      expect(undo.code, undo.stderr).to.equal(0)
      for (const k of chosen) expect(await stateOf(k), k.account).to.equal('Enabled')
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
      const events = await settledEventsSince(before)
      expect(events.map((e) => e.eventName)).not.to.include('DisableKey')
      expect(await stateOf(member)).to.equal('Enabled')
    })
  })
  describe('--csv and --ndjson of the listings across accounts', () => {
    it('key list --ndjson: one JSON object a line, each with its account and region, the summary on stderr only', async () => {
      const r = await cli(['key', 'list', '--org', '--exclude-accounts', BROKEN, '--regions', REGIONS.join(','), '--role-name', ROLE, '--tag', 'team=payments', '--ndjson'])
      expect(r.code, r.stderr).to.equal(0)
      const lines = r.stdout.trimEnd().split('\n')
      expect(lines).to.have.length(8)
      const rows = lines.map((l) => JSON.parse(l) as {account: string; keyId: string; region: string})
      expect(rows.map((k) => `${k.account}/${k.region}/${k.keyId}`).sort()).to.deep.equal(payments().filter((k) => k.account !== BROKEN).map((k) => `${k.account}/${k.region}/${k.keyId}`).sort())
      expect(Object.keys(rows[0]).slice(0, 2)).to.deep.equal(['account', 'region'])
      expect(r.stderr).to.contain('8 account-regions: 8 keys')
    })

    it('key list, alias list and grant list --csv: Account and Region lead the header', async () => {
      const where = ['--accounts', MEMBERS.join(','), '--regions', REGIONS.join(','), '--role-name', ROLE]
      const k = await cli(['key', 'list', ...where, '--csv', '--columns', 'account,region,key-id,state'])
      expect(k.code, k.stderr).to.equal(0)
      const klines = k.stdout.trimEnd().split('\n')
      expect(klines[0]).to.equal('account,region,key-id,state')
      expect(klines).to.have.length(13)
      expect(klines).to.include(`${MEMBERS[1]},eu-west-1,${payments().find((x) => x.account === MEMBERS[1] && x.region === 'eu-west-1')!.keyId},Enabled`)
      const a = await cli(['alias', 'list', '--customer', ...where, '--csv'])
      expect(a.code, a.stderr).to.equal(0)
      expect(a.stdout.split('\n')[0]).to.match(/^account,region,alias,key-id/)
      expect(a.stdout.trimEnd().split('\n')).to.have.length(7)
      const g = await cli(['grant', 'list', '--grantee', `arn:aws:iam::${MANAGEMENT}:root`, ...where, '--ndjson'])
      expect(g.code, g.stderr).to.equal(0)
      expect(g.stdout).to.equal('')
      expect(g.stderr).to.contain('6 account-regions: 0 grants')
    })

    it('audit --ndjson: one finding a line, each with its account and region', async () => {
      const r = await cli(['audit', '--accounts', `${MEMBERS[0]},${MEMBERS[1]}`, '--regions', 'eu-west-1', '--role-name', ROLE, '--only', 'rotation-off', '--ndjson'])
      expect(r.code, r.stderr).to.equal(0)
      const rows = r.stdout.trimEnd().split('\n').map((l) => JSON.parse(l) as {account: string; check: string; keyId: string; region: string})
      expect(rows.map((f) => `${f.account}/${f.region}/${f.check}`).sort()).to.deep.equal([MEMBERS[0], MEMBERS[0], MEMBERS[1], MEMBERS[1]].map((a) => `${a}/eu-west-1/rotation-off`).sort())
      for (const f of rows) expect(keys.find((k) => k.keyId === f.keyId)!.account).to.equal(f.account)
      expect(r.stderr).to.contain('2 account-regions: 4 keys')
    })

    it('refuses --ndjson with --json or --csv (exit 2)', async () => {
      const r = await cli(['key', 'list', '--ndjson', '--csv'])
      expect(r.code).to.equal(2)
      expect(r.stderr).to.match(/--(ndjson|csv) and --(ndjson|csv) exclude each other\./)
    })
  })

  describe('policy lint over many keys, across accounts', () => {
    it('lints every customer-managed key of every account-region: one row per finding with Account and Region, the broken account named (exit 3)', async () => {
      const target = payments().find((k) => k.account === MEMBERS[1] && k.region === 'eu-west-1')!
      const kms = await memberKms(MEMBERS[1], 'eu-west-1')
      const policy = {
        Statement: [
          {Action: 'kms:*', Effect: 'Allow', Principal: {AWS: `arn:aws:iam::${MEMBERS[1]}:root`}, Resource: '*', Sid: 'Root'},
          {Action: 'kms:Decrypt', Effect: 'Allow', Principal: {AWS: `arn:aws:iam::${MANAGEMENT}:root`}, Resource: '*', Sid: 'Partner'},
        ],
        Version: '2012-10-17',
      }
      await kms.send(new PutKeyPolicyCommand({KeyId: target.keyId, Policy: JSON.stringify(policy), PolicyName: 'default'}))
      const r = await cli(['policy', 'lint', '--org', '--regions', REGIONS.join(','), '--role-name', ROLE, '--json'])
      expect(r.code, r.stderr).to.equal(3)
      const out = json<{errors: number; findings: Array<{account: string; code: string; keyId: string; message: string; region: string; sid?: string}>; keys: Array<{account: string}>; kind: string; targets: Array<{account: string; error?: {message: string}}>; warnings: number}>(r)
      expect(out.kind).to.equal('keys')
      expect(out.keys).to.have.length(16)
      expect(out.errors).to.equal(0)
      expect(out.findings).to.deep.equal([{account: MEMBERS[1], alias: 'alias/payments', code: 'cross-account', keyArn: arnOf(target), keyId: target.keyId, message: out.findings[0].message, region: 'eu-west-1', severity: 'warning', sid: 'Partner', statement: 1}])
      expect(out.targets.filter((t) => t.error).map((t) => t.account)).to.deep.equal([BROKEN, BROKEN])
      // --strict: the warning fails the lint (exit 1 takes precedence over 3); the table and CSV show where.
      const strict = await cli(['policy', 'lint', '--org', '--regions', REGIONS.join(','), '--role-name', ROLE, '--strict'])
      expect(strict.code).to.equal(1)
      expect(strict.stdout.split('\n')[0]).to.match(/^Account\s+Region\s+Key\s+Severity\s+Rule/)
      expect(strict.stdout).to.contain(`${MEMBERS[1]}  eu-west-1`)
      expect(strict.stderr).to.contain('16 key policies linted: 0 errors, 1 warning in 1 key.')
      expect(strict.stderr).to.contain(`Failed: ${BROKEN}/us-east-1: Cannot assume`)
      const csv = await cli(['policy', 'lint', '--accounts', MEMBERS[1], '--regions', 'eu-west-1', '--role-name', ROLE, '--csv'])
      expect(csv.code, csv.stderr).to.equal(0)
      expect(csv.stdout.split('\n')[0]).to.equal('account,region,key,key-id,severity,rule,statement,finding')
      expect(csv.stdout.split('\n')[1]).to.match(new RegExp(`^${MEMBERS[1]},eu-west-1,alias/payments,${target.keyId},warning,cross-account,Partner,`))
      // One region, no organisation flags: --all-keys, and --tag narrows it.
      const here = await cli(['policy', 'lint', '--all-keys', '--tag', 'team=web', '--json'])
      expect(here.code, here.stderr).to.equal(0)
      expect(json<{keys: unknown[]}>(here).keys).to.have.length(1)
    })
  })

  describe('trail query --source api across accounts', () => {
    it('reads LookupEvents in every account-region through the role: events gain Account and Region, the unreachable account is a failed row (exit 3)', async () => {
      const r = await cli(['trail', 'query', '--org', '--regions', REGIONS.join(','), '--role-name', ROLE, '--event', 'DisableKey', '--since', '1h', '--json'])
      expect(r.code, r.stderr).to.equal(3)
      const out = json<{events: Array<{account: string; event: string; keyId: string; region: string}>; targets: Array<{account: string; error?: {message: string}; region: string; role?: string; seen: number}>}>(r)
      // The tests above disabled the payments keys outside the broken account (and the web keys of us-east-1).
      const places = new Set(out.events.map((e) => `${e.account}/${e.region}`))
      expect([...places].sort()).to.deep.equal(GOOD.flatMap((a) => REGIONS.map((g) => `${a}/${g}`)).sort())
      for (const e of out.events) {
        expect(e.event).to.equal('DisableKey')
        // Each event names a key of the account-region it was read in.
        expect(keys.filter((k) => k.account === e.account && k.region === e.region).map((k) => k.keyId)).to.include(e.keyId)
      }

      for (const k of payments().filter((x) => x.account !== BROKEN)) expect(out.events.map((e) => e.keyId), `${k.account}/${k.region}`).to.include(k.keyId)

      expect(out.targets).to.have.length(10)
      const failed = out.targets.filter((t) => t.error)
      expect(failed.map((t) => `${t.account}/${t.region}`).sort()).to.deep.equal(REGIONS.map((g) => `${BROKEN}/${g}`).sort())
      expect(failed[0].error!.message).to.contain(`Cannot assume arn:aws:iam::${BROKEN}:role/${ROLE}`)
      expect(out.targets.find((t) => t.account === MEMBERS[2] && t.region === 'us-east-1')!.role).to.equal(`arn:aws:iam::${MEMBERS[2]}:role/${ROLE}`)
      // --group-by counts the events of every account-region together.
      const g = await cli(['trail', 'query', '--org', '--exclude-accounts', BROKEN, '--regions', REGIONS.join(','), '--role-name', ROLE, '--event', 'DisableKey', '--since', '1h', '--group-by', 'event', '--json'])
      expect(g.code, g.stderr).to.equal(0)
      const groups = json<{groups: Array<{count: number; value: string}>; targets: unknown[]}>(g)
      expect(groups.groups).to.deep.equal([{...groups.groups[0], count: out.events.length, value: 'DisableKey'}])
      expect(groups.targets).to.have.length(8)
    })

    it('resolves --key alias/payments in each account, streams --ndjson and --csv with the account, and says which account-region failed', async () => {
      const where = ['--accounts', [MANAGEMENT, MEMBERS[0], BROKEN].join(','), '--regions', 'eu-west-1', '--role-name', ROLE]
      const nd = await cli(['trail', 'query', ...where, '--key', 'alias/payments', '--event', 'DisableKey', '--ndjson'])
      expect(nd.code).to.equal(3)
      const events = nd.stdout.trimEnd().split('\n').map((l) => JSON.parse(l) as {account: string; keyId: string})
      expect(new Set(events.map((e) => e.account))).to.deep.equal(new Set([MANAGEMENT, MEMBERS[0]]))
      for (const e of events) expect(e.keyId).to.equal(payments().find((k) => k.account === e.account && k.region === 'eu-west-1')!.keyId)
      expect(nd.stderr).to.contain(`Failed: ${BROKEN}/eu-west-1: Cannot assume`)
      const csv = await cli(['trail', 'query', ...where, '--event', 'DisableKey', '--csv'])
      expect(csv.code).to.equal(3)
      const lines = csv.stdout.trimEnd().split('\n')
      expect(lines[0]).to.match(/^account,region,time,event,who,principalType,principalArn,principalAccount,/)
      expect(lines.slice(1).every((l) => l.startsWith(`${MANAGEMENT},eu-west-1,`) || l.startsWith(`${MEMBERS[0]},eu-west-1,`))).to.equal(true)
      // The table: Account and Region columns lead.
      const table = await cli(['trail', 'query', '--accounts', MEMBERS[0], '--regions', 'eu-west-1', '--role-name', ROLE, '--event', 'DisableKey'])
      expect(table.code, table.stderr).to.equal(0)
      expect(table.stdout.split('\n')[0]).to.match(/^Account\s+Region\s+Time\s+Event/)
    })
  })

  describe('trail who with a key ARN of another account', () => {
    it('reads that account\'s CloudTrail through the role, and says which role', async () => {
      const key = payments().find((k) => k.account === MEMBERS[1] && k.region === 'eu-west-1')!
      const r = await cli(['trail', 'who', arnOf(key), '--since', '1h', '--role-name', ROLE, '--json'])
      expect(r.code, r.stderr).to.equal(0)
      expect(r.stderr).to.contain(`Through role arn:aws:iam::${MEMBERS[1]}:role/${ROLE}.`)
      const out = json<{callers: Array<{events: string[]; who: string}>; keyArn: string}>(r)
      expect(out.keyArn).to.equal(arnOf(key))
      const ops = out.callers.flatMap((c) => c.events)
      expect(ops).to.include('DisableKey')
      expect(ops).to.include('EnableKey')
      // The role flags are for LookupEvents: with a log source they are refused.
      const other = await cli(['trail', 'who', arnOf(key), '--since', '1h', '--source', 'files', join(home, 'none'), '--role-name', ROLE])
      expect(other.code).to.equal(2)
      expect(other.stderr).to.contain('are for --source api')
    })
  })

  describe('the progress line', () => {
    it('shows account-regions done and keys so far on a terminal, then clears it; piped, stderr has no progress and stdout only the table', async () => {
      const args = ['key', 'list', '--org', '--exclude-accounts', BROKEN, '--regions', REGIONS.join(','), '--role-name', ROLE]
      const term = runInPty(args, env, {cols: 160})
      expect(await term.exit).to.equal(0)
      expect(term.output()).to.contain('Account-regions: 8/8 done, 16 keys so far')
      // Rewritten in place and erased at the end: it is not left on the screen.
      expect(term.screenLines().some((l) => l.includes('Account-regions:'))).to.equal(false)
      expect(term.screenLines().some((l) => /^Account\s+Region\s+Alias/.test(l))).to.equal(true)
      const piped = await cli(args)
      expect(piped.code).to.equal(0)
      expect(piped.stderr).not.to.contain('Account-regions:')
      expect(piped.stdout.split('\n')[0]).to.match(/^Account\s+Region\s+Alias/)
      expect(piped.stdout.trimEnd().split('\n')).to.have.length(17)
    })

    it('fits the new tables to 80 and 120 columns, Account and Region kept', async () => {
      for (const cols of [80, 120]) {
        for (const args of [
          ['policy', 'lint', '--accounts', MEMBERS[1], '--regions', 'eu-west-1', '--role-name', ROLE],
          ['trail', 'query', '--accounts', MEMBERS[0], '--regions', 'eu-west-1', '--role-name', ROLE, '--event', 'DisableKey'],
        ]) {
          const term = runInPty(args, {...env, COLUMNS: ''}, {cols})
          // eslint-disable-next-line no-await-in-loop
          expect(await term.exit, args.join(' ')).to.equal(0)
          const lines = term.screenLines().filter((l) => l.trim())
          for (const l of lines) expect(l.length, `${cols}: ${l}`).to.be.at.most(cols)
          expect(lines.some((l) => /^Account\s+Region\s/.test(l)), `${cols}: ${args[0]}`).to.equal(true)
        }
      }
    })

    it('shows the progress of trail query across accounts too', async () => {
      const term = runInPty(['trail', 'query', '--accounts', MEMBERS.join(','), '--regions', 'us-east-1', '--role-name', ROLE, '--event', 'DisableKey'], env, {cols: 160})
      expect(await term.exit).to.equal(0)
      expect(term.output()).to.match(/Account-regions: 3\/3 done, \d+ events so far/)
    })
  })
  describe('grants across accounts: revoke by grantee, recreate where they were', () => {
    const APP = `arn:aws:iam::${MANAGEMENT}:role/app`
    it('revokes the grantee\'s grants in every account-region after one confirmation, and grant recreate makes them again there, through the recorded role', async () => {
      for (const a of MEMBERS) {
        const key = payments().find((k) => k.account === a && k.region === 'us-east-1')!
        const kms = await memberKms(a, 'us-east-1')
        await kms.send(new CreateGrantCommand({GranteePrincipal: APP, KeyId: key.keyId, Name: `app-${a}`, Operations: ['Decrypt', 'Encrypt']}))
      }

      const where = ['--accounts', MEMBERS.join(','), '--regions', 'us-east-1', '--role-name', ROLE]
      const dry = await cli(['grant', 'revoke', '--grantee', APP, ...where, '--dry-run', '--json'])
      expect(dry.code, dry.stderr).to.equal(0)
      expect(json<{grants: Array<{account: string}>}>(dry).grants.map((g) => g.account).sort()).to.deep.equal([...MEMBERS].sort())
      const wrong = await cli(['grant', 'revoke', '--grantee', APP, ...where, '--confirm', 'revoke 3 grants'])
      expect(wrong.code).to.equal(2)
      const r = await cli(['grant', 'revoke', '--grantee', APP, ...where, '--confirm', APP, '--json'])
      expect(r.code, r.stderr).to.equal(0)
      const out = json<{batch: string; results: Array<{account: string; region: string; status: string}>; revoked: number; targets: Array<{account: string; changed: number}>}>(r)
      expect(out.revoked).to.equal(3)
      expect(out.results.map((x) => `${x.account}/${x.region}/${x.status}`).sort()).to.deep.equal(MEMBERS.map((a) => `${a}/us-east-1/revoked`).sort())
      for (const e of journalEntries(out.batch)) expect(e.role).to.equal(`arn:aws:iam::${e.account}:role/${ROLE}`)
      const none = await cli(['grant', 'list', '--grantee', APP, ...where, '--json'])
      expect(json<{grants: unknown[]}>(none).grants).to.have.length(0)

      const re = await cli(['grant', 'recreate', out.batch, '--json'])
      expect(re.code, re.stderr).to.equal(0)
      expect(json<{created: number}>(re).created).to.equal(3)
      for (const a of MEMBERS) expect(re.stderr).to.contain(`Account ${a}, us-east-1: through role arn:aws:iam::${a}:role/${ROLE}.`)
      const back = await cli(['grant', 'list', '--grantee', APP, ...where, '--json'])
      const grants = json<{grants: Array<{account: string; name: string; operations: string[]}>}>(back).grants
      expect(grants.map((g) => `${g.account}/${g.name}`).sort()).to.deep.equal(MEMBERS.map((a) => `${a}/app-${a}`).sort())
      // The new grants are journaled in their account too, with the role.
      const created = journalEntries(json<{batch: string}>(re).batch)
      expect(created.map((e) => `${e.action}/${e.account}/${e.role}`).sort()).to.deep.equal(MEMBERS.map((a) => `grant.create/${a}/arn:aws:iam::${a}:role/${ROLE}`).sort())
    })

    it('revokes one grant of a key of another account by its key ARN, and recreates it there from the entry', async () => {
      const key = payments().find((k) => k.account === MEMBERS[2] && k.region === 'us-east-1')!
      const list = await cli(['grant', 'list', '--grantee', APP, '--accounts', MEMBERS[2], '--regions', 'us-east-1', '--role-name', ROLE, '--json'])
      const grantId = json<{grants: Array<{grantId: string}>}>(list).grants[0].grantId
      const r = await cli(['grant', 'revoke', arnOf(key), grantId, '--role-name', ROLE, '--json'])
      expect(r.code, r.stderr).to.equal(0)
      expect(r.stderr).to.contain(`Through role arn:aws:iam::${MEMBERS[2]}:role/${ROLE}.`)
      const entry = json<{results: Array<{journalId: string}>}>(r).results[0].journalId
      const line = readdirSync(join(home, 'journal')).flatMap((f) => readFileSync(join(home, 'journal', f), 'utf8').split('\n')).find((l) => l.includes(`"id":"${entry}"`) && l.includes('"type":"entry"'))!
      expect(JSON.parse(line)).to.include({account: MEMBERS[2], action: 'grant.revoke', region: 'us-east-1', role: `arn:aws:iam::${MEMBERS[2]}:role/${ROLE}`})
      const re = await cli(['grant', 'recreate', entry, '--json'])
      expect(re.code, re.stderr).to.equal(0)
      expect(json<{results: Array<{status: string}>}>(re).results[0].status).to.equal('created')
      const after = await cli(['grant', 'list', arnOf(key), '--role-name', ROLE, '--json'])
      expect(after.code, after.stderr).to.equal(0)
      expect(after.stderr).to.contain(`Through role arn:aws:iam::${MEMBERS[2]}:role/${ROLE}.`)
      expect(json<{grants: Array<{grantId: string; granteePrincipal: string}>}>(after).grants.map((g) => g.granteePrincipal)).to.deep.equal([APP])
    })
  })
  describe('bad input: one line naming the fix, exit 2, nothing sent', () => {
    it('refuses bad targets, roles and combinations on every command across accounts, before any request', async () => {
      const file = join(home, 'bad-arns.txt')
      writeFileSync(file, `arn:aws:kms:eu-west-1:${MEMBERS[0]}:key/${payments()[0].keyId}\nnot a key ref\n`)
      const good = join(home, 'good-arns.txt')
      writeFileSync(good, `arn:aws:kms:eu-west-1:${MEMBERS[0]}:key/${payments()[0].keyId}\n`)
      const template = `arn:aws:iam::${MEMBERS[0]}:role/${ROLE}`
      const cases: Array<{args: string[]; env?: NodeJS.ProcessEnv; message: string}> = [
        {args: ['policy', 'lint', '--accounts', '12345', '--role-name', ROLE], message: '--accounts "12345" is not an AWS account ID (12 digits).'},
        {args: ['policy', 'lint', '--all-keys', '--regions', 'eu-west-9'], message: '--regions "eu-west-9" is not an AWS region.'},
        {args: ['policy', 'lint', '--org', '--role-arn-template', template], message: 'has no {account} placeholder'},
        {args: ['policy', 'lint', 'alias/payments', '--org', '--role-name', ROLE], message: 'one policy or key is linted alone'},
        {args: ['policy', 'lint', '--all-keys', '--account', MEMBERS[0]], message: '--account is for one policy file'},
        {args: ['policy', 'lint'], message: 'Nothing to lint'},
        {args: ['trail', 'query', '--accounts', '1111-2222-3333', '--role-name', ROLE], message: '--accounts "1111-2222-3333" is not an AWS account ID (12 digits).'},
        {args: ['trail', 'query', '--org', '--regions', 'us-east-7', '--role-name', ROLE], message: '--regions "us-east-7" is not an AWS region.'},
        {args: ['trail', 'query', '--org'], message: 'needs the role to assume'},
        {args: ['trail', 'query', '--source', 'files', join(home, 'x'), '--org', '--role-name', ROLE], message: '--org is for --source api'},
        {args: ['trail', 'query', '--org', '--role-name', ROLE, '--external-id', 'x'], message: '--external-id must be 2 to 1,224'},
        {args: ['trail', 'who', 'alias/payments', '--accounts', MEMBERS[0]], message: '--accounts is for --source s3, athena, files or lake here'},
        {args: ['key', 'disable', '--file', file, '--role-name', ROLE, '--yes'], message: 'bad-arns.txt, line 2:'},
        {args: ['key', 'disable', '--file', good, '--accounts', MEMBERS[0], '--role-name', ROLE, '--yes'], message: 'key ARNs already say their account and region'},
        {args: ['key', 'enable', '--file', good, '--role-arn-template', 'arn:aws:iam::{account}:user/Ops', '--yes'], message: 'does not make an IAM role ARN'},
        {args: ['key', 'enable', '--file', good, '--yes'], env: {KMSCTL_ROLE_NAME: 'not a role!'}, message: 'KMSCTL_ROLE_NAME "not a role!" is not an IAM role name'},
        {args: ['grant', 'revoke', '--grantee', `arn:aws:iam::${MANAGEMENT}:role/app`, '--accounts', '99998888777', '--role-name', ROLE, '--yes'], message: '--accounts "99998888777" is not an AWS account ID'},
        {args: ['grant', 'revoke', 'alias/payments', '--all', '--org', '--role-name', ROLE, '--yes'], message: 'grants are revoked by --grantee'},
        {args: ['grant', 'list', '--grantee', `arn:aws:iam::${MANAGEMENT}:role/app`, '--org', '--role-name', ROLE, '--max-parallel', '0'], message: '--max-parallel'},
        {args: ['alias', 'list', '--org', '--role-name', ROLE, '--exclude-accounts', 'abc'], message: '--exclude-accounts "abc" is not an AWS account ID'},
        {args: ['audit', '--accounts', MEMBERS[0], '--role-name', ROLE, '--role-arn-template', 'arn:aws:iam::{account}:role/Ops'], message: '--role-name and --role-arn-template both name the role to assume.'},
        {args: ['alias', 'list', '--org', '--role-name', ROLE, '--ndjson', '--columns', 'alias'], message: 'exclude each other'},
      ]
      const before = await settledEventCount()
      for (const c of cases) {
        // eslint-disable-next-line no-await-in-loop
        const r = await cli(c.args, c.env)
        const label = c.args.join(' ')
        expect(r.code, `${label}\n${r.stderr}`).to.equal(2)
        expect(r.stdout, label).to.equal('')
        const lines = r.stderr.trimEnd().split('\n')
        expect(lines[0], label).to.contain(c.message)
        expect(lines[0], label).to.match(/^Error: /)
        // The fix, on the line after (when the error has one), and nothing else.
        expect(lines.length, label).to.be.at.most(2)
        if (lines[1]) expect(lines[1], label).to.match(/^Try this|^See --help/)
      }

      expect(await settledEventCount()).to.equal(before)
    })
  })
})
