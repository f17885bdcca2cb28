// End-to-end: kmsctl across the accounts and regions of an organisation, the built binary against
// `kmsctl sandbox serve` over HTTP. The sandbox organisation has a management account (the sandbox
// account), three member accounts with OrganizationAccountAccessRole, and one account whose role
// has another name (so assuming OrganizationAccountAccessRole there is refused); two regions each.
// Keys are set up with the SDK through assumed roles; the AWS CLI v2 checks the sandbox's STS,
// Organizations, Account and CloudTrail answers.
import {AccountClient, ListRegionsCommand} from '@aws-sdk/client-account'
import {AssumeRoleCommand, STSClient} from '@aws-sdk/client-sts'
import {CreateAliasCommand, CreateGrantCommand, CreateKeyCommand, DescribeKeyCommand, KMSClient} from '@aws-sdk/client-kms'
import {expect} from 'chai'
import {mkdtempSync, readFileSync, readdirSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {runAws} from '../helpers/awscli.js'
import {json, runCli} from '../helpers/cli.js'
import {type SandboxServer, startSandboxServer} from '../helpers/sandbox-server.js'

const MANAGEMENT = '111122223333'
const MEMBERS = ['222233334444', '444455556666', '555566667777']
const BROKEN = '999988887777'
const REGIONS = ['us-east-1', 'eu-west-1']
const ROLE = 'OrganizationAccountAccessRole'
const APP_ROLE = `arn:aws:iam::${MANAGEMENT}:role/app`

type Credentials = {accessKeyId: string; secretAccessKey: string; sessionToken?: string}

/** The SDK's own send (other test files may mock the clients' send for the whole process). */
function unmocked<T extends {send: unknown}>(client: T, Ctor: {prototype: unknown}): T {
  const send = Object.getPrototypeOf(Ctor.prototype).send as (...a: unknown[]) => unknown
  ;(client as unknown as {send: unknown}).send = send.bind(client)
  return client
}

describe('e2e: across accounts and regions', function () {
  this.timeout(180_000)
  let server: SandboxServer
  let home: string
  let env: NodeJS.ProcessEnv
  const creds = new Map<string, Credentials>()
  /** Key IDs tagged team=payments, by account/region. */
  const payments = new Map<string, string>()

  const kms = (account: string, region: string) =>
    unmocked(new KMSClient({credentials: creds.get(account)!, endpoint: server.url, maxAttempts: 5, region}), KMSClient)

  async function assume(account: string, role: string): Promise<Credentials> {
    const sts = unmocked(
      new STSClient({credentials: {accessKeyId: server.env.AWS_ACCESS_KEY_ID!, secretAccessKey: server.env.AWS_SECRET_ACCESS_KEY!}, endpoint: server.url, region: 'us-east-1'}),
      STSClient,
    )
    const out = await sts.send(new AssumeRoleCommand({RoleArn: `arn:aws:iam::${account}:role/${role}`, RoleSessionName: 'e2e-setup'}))
    return {accessKeyId: out.Credentials!.AccessKeyId!, secretAccessKey: out.Credentials!.SecretAccessKey!, sessionToken: out.Credentials!.SessionToken!}
  }

  const cli = (args: string[]) => runCli(args, {env, timeoutMs: 120_000})
  const eventCount = () => readFileSync(join(server.dir, 'events.jsonl'), 'utf8').split('\n').filter((l) => l.trim()).length
  // The server appends CloudTrail records in batches: wait until the count stops moving (the calls of
  // the previous test may still be on their way to the file).
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

  before(async () => {
    server = await startSandboxServer()
    home = mkdtempSync(join(tmpdir(), 'kmsctl-org-home-'))
    env = {...server.env, KMSCTL_HOME: home, KMSCTL_SANDBOX_DIR: server.dir, COLUMNS: '250'}
    expect((await cli(['sandbox', 'org', 'seed', '--regions', REGIONS.join(',')])).code).to.equal(0)
    const broken = await cli(['sandbox', 'account', 'add', BROKEN, '--name', 'legacy', '--role-name', 'LegacyAdmin', '--regions', REGIONS.join(',')])
    expect(broken.code, broken.stderr).to.equal(0)
    creds.set(MANAGEMENT, {accessKeyId: server.env.AWS_ACCESS_KEY_ID!, secretAccessKey: server.env.AWS_SECRET_ACCESS_KEY!})
    for (const a of MEMBERS) creds.set(a, await assume(a, ROLE))
    creds.set(BROKEN, await assume(BROKEN, 'LegacyAdmin'))
    for (const account of [MANAGEMENT, ...MEMBERS, BROKEN]) {
      for (const region of REGIONS) {
        const client = kms(account, region)
        const pay = await client.send(new CreateKeyCommand({Description: `payments ${account} ${region}`, Tags: [{TagKey: 'team', TagValue: 'payments'}]}))
        await client.send(new CreateKeyCommand({Description: `web ${account} ${region}`, Tags: [{TagKey: 'team', TagValue: 'web'}]}))
        await client.send(new CreateAliasCommand({AliasName: 'alias/payments', TargetKeyId: pay.KeyMetadata!.KeyId}))
        payments.set(`${account}/${region}`, pay.KeyMetadata!.KeyId!)
        // One grant for the app role on the payments keys of the member accounts, in eu-west-1 only.
        if (MEMBERS.includes(account) && region === 'eu-west-1') {
          await client.send(new CreateGrantCommand({GranteePrincipal: APP_ROLE, KeyId: pay.KeyMetadata!.KeyId, Operations: ['Decrypt']}))
        }
      }
    }
  })

  after(async () => {
    await server?.stop()
  })

  it('keeps each account and region apart in the sandbox', async () => {
    const own = await kms(MEMBERS[0], 'us-east-1').send(new DescribeKeyCommand({KeyId: 'alias/payments'}))
    expect(own.KeyMetadata!.Arn).to.equal(`arn:aws:kms:us-east-1:${MEMBERS[0]}:key/${payments.get(`${MEMBERS[0]}/us-east-1`)}`)
    expect(own.KeyMetadata!.AWSAccountId).to.equal(MEMBERS[0])
    // A key ID of another account is not found in the caller's account.
    const other = payments.get(`${MEMBERS[1]}/us-east-1`)!
    const err = await kms(MEMBERS[0], 'us-east-1').send(new DescribeKeyCommand({KeyId: other})).catch((error: Error) => error)
    expect((err as Error).name).to.equal('NotFoundException')
  })

  it('lists the keys of every account and region, each with its account and region; the unreachable account is named (exit 3)', async () => {
    const r = await cli(['key', 'list', '--org', '--all-regions', '--role-name', ROLE, '--json'])
    expect(r.code, r.stderr).to.equal(3)
    const out = json<{keys: Array<{account: string; arn: string; region: string; aliases: string[]}>; targets: Array<{account: string; region: string; seen: number; error?: {message: string}; role?: string}>}>(r)
    expect(out.keys).to.have.length(16)
    for (const k of out.keys) expect(k.arn).to.equal(`arn:aws:kms:${k.region}:${k.account}:key/${k.arn.split('/').pop()}`)
    const places = new Set(out.keys.map((k) => `${k.account}/${k.region}`))
    expect([...places].sort()).to.deep.equal([MANAGEMENT, ...MEMBERS].flatMap((a) => REGIONS.map((g) => `${a}/${g}`)).sort())
    const failed = out.targets.filter((t) => t.error)
    expect(failed).to.have.length(1)
    expect(failed[0].account).to.equal(BROKEN)
    expect(failed[0].error!.message).to.equal(
      `Cannot assume arn:aws:iam::${BROKEN}:role/${ROLE} in account ${BROKEN}: User: arn:aws:iam::${MANAGEMENT}:user/sandbox-admin is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::${BROKEN}:role/${ROLE}`,
    )
    // The caller's own account is reached with the base credentials, the others through the role.
    expect(out.targets.find((t) => t.account === MANAGEMENT)!.role).to.equal(undefined)
    expect(out.targets.find((t) => t.account === MEMBERS[0])!.role).to.equal(`arn:aws:iam::${MEMBERS[0]}:role/${ROLE}`)
  })

  it('filters by tag in named accounts and regions, and renders Account and Region columns with a summary', async () => {
    const r = await cli(['key', 'list', '--accounts', `${MEMBERS[0]},${MEMBERS[2]}`, '--regions', 'eu-west-1', '--role-name', ROLE, '--tag', 'team=payments'])
    expect(r.code, r.stderr).to.equal(0)
    // Account (an account ID, left-aligned like an identifier) and Region lead the table.
    expect(r.stdout.split('\n')[0]).to.match(/^Account {7}Region\s+Alias/)
    expect(r.stdout).to.contain(`${MEMBERS[0]}  eu-west-1`)
    expect(r.stdout).to.contain(payments.get(`${MEMBERS[0]}/eu-west-1`))
    expect(r.stdout).to.contain(payments.get(`${MEMBERS[2]}/eu-west-1`))
    expect(r.stdout).not.to.contain(payments.get(`${MEMBERS[1]}/eu-west-1`))
    expect(r.stderr).to.contain('2 account-regions: 2 keys')
  })

  it('lists aliases across accounts and regions', async () => {
    const r = await cli(['alias', 'list', '--customer', '--accounts', [MANAGEMENT, ...MEMBERS].join(','), '--all-regions', '--role-name', ROLE, '--json'])
    expect(r.code, r.stderr).to.equal(0)
    const out = json<{aliases: Array<{account: string; aliasName: string; region: string; targetKeyId: string}>}>(r)
    expect(out.aliases).to.have.length(8)
    for (const a of out.aliases) {
      expect(a.aliasName).to.equal('alias/payments')
      expect(a.targetKeyId).to.equal(payments.get(`${a.account}/${a.region}`))
    }
  })

  it('finds what a grantee can do across the organisation', async () => {
    const r = await cli(['grant', 'list', '--grantee', APP_ROLE, '--org', '--exclude-accounts', BROKEN, '--all-regions', '--role-name', ROLE, '--json'])
    expect(r.code, r.stderr).to.equal(0)
    const out = json<{grants: Array<{account: string; region: string; keyId: string; operations: string[]}>}>(r)
    expect(out.grants.map((g) => `${g.account}/${g.region}`).sort()).to.deep.equal(MEMBERS.map((a) => `${a}/eu-west-1`).sort())
    for (const g of out.grants) {
      expect(g.keyId).to.equal(payments.get(`${g.account}/${g.region}`))
      expect(g.operations).to.deep.equal(['Decrypt'])
    }
  })

  it('refuses bad targets with one line and exit 2, sending nothing', async () => {
    const before = await settledEventCount()
    const cases: Array<[string[], string]> = [
      [['--accounts', '12345', '--role-name', ROLE], '--accounts "12345" is not an AWS account ID (12 digits).'],
      [['--regions', 'us-east-9'], '--regions "us-east-9" is not an AWS region.'],
      [['--accounts', MEMBERS[0], '--role-arn-template', `arn:aws:iam::${MEMBERS[0]}:role/${ROLE}`], 'has no {account} placeholder'],
      [['--accounts', MEMBERS[0]], 'needs the role to assume'],
    ]
    for (const [args, message] of cases) {
      // eslint-disable-next-line no-await-in-loop
      const r = await cli(['key', 'list', ...args])
      expect(r.code, args.join(' ')).to.equal(2)
      expect(r.stderr).to.contain(message)
      expect(r.stdout).to.equal('')
    }

    expect(await settledEventCount()).to.equal(before)
  })

  it('disables tagged keys across accounts in one batch, leaves the unreachable account named, and undo restores every account', async () => {
    const dry = await cli(['key', 'disable', '--tag', 'team=payments', '--org', '--regions', REGIONS.join(','), '--role-name', ROLE, '--dry-run', '--json'])
    expect(dry.code).to.equal(3)
    expect(json<{dryRun: boolean; summary: {planned: number}}>(dry).summary.planned).to.equal(8)
    for (const [place, id] of payments) {
      const [account, region] = place.split('/')
      // eslint-disable-next-line no-await-in-loop
      expect((await kms(account, region).send(new DescribeKeyCommand({KeyId: id}))).KeyMetadata!.KeyState).to.equal('Enabled')
    }

    // The confirmation names the change of the whole batch: a count alone, or another count, is refused.
    for (const text of ['8', 'disable 3 keys']) {
      // eslint-disable-next-line no-await-in-loop
      const wrong = await cli(['key', 'disable', '--tag', 'team=payments', '--org', '--regions', REGIONS.join(','), '--role-name', ROLE, '--confirm', text])
      expect(wrong.code, text).to.equal(2)
    }

    const r = await cli(['key', 'disable', '--tag', 'team=payments', '--org', '--regions', REGIONS.join(','), '--role-name', ROLE, '--confirm', 'disable 8 keys', '--json'])
    expect(r.code, r.stderr).to.equal(3)
    const out = json<{batch: string; keys: Array<{account: string; region: string; outcome: string; key: string}>; targets: Array<{account: string; region: string; changed?: number; error?: unknown}>}>(r)
    expect(out.keys.filter((k) => k.outcome === 'changed')).to.have.length(8)
    expect(out.keys.filter((k) => k.outcome === 'failed').map((k) => `${k.account}/${k.region}`).sort()).to.deep.equal(REGIONS.map((g) => `${BROKEN}/${g}`).sort())
    for (const [place, id] of payments) {
      const [account, region] = place.split('/')
      // eslint-disable-next-line no-await-in-loop
      const state = (await kms(account, region).send(new DescribeKeyCommand({KeyId: id}))).KeyMetadata!.KeyState
      expect(state, place).to.equal(account === BROKEN ? 'Enabled' : 'Disabled')
    }

    // Every journal entry names its account, region and role.
    const entries = readdirSync(join(home, 'journal')).flatMap((f) =>
      readFileSync(join(home, 'journal', f), 'utf8')
        .split('\n')
        .filter((l) => l.includes(`"batch":"${out.batch}"`) && l.includes('"type":"entry"'))
        .map((l) => JSON.parse(l) as {account: string; id: string; region: string; role?: string}),
    )
    expect(entries).to.have.length(8)
    for (const e of entries) {
      expect(e.role).to.equal(e.account === MANAGEMENT ? undefined : `arn:aws:iam::${e.account}:role/${ROLE}`)
      expect(REGIONS).to.include(e.region)
    }

    // Undo each entry of the batch: kmsctl goes back to the entry's account and region through its role.
    for (const e of entries) {
      // eslint-disable-next-line no-await-in-loop
      const u = await cli(['undo', e.id, '--yes'])
      expect(u.code, u.stderr).to.equal(0)
      if (e.role) expect(u.stderr).to.contain(`through role ${e.role}`)
    }

    for (const [place, id] of payments) {
      const [account, region] = place.split('/')
      // eslint-disable-next-line no-await-in-loop
      expect((await kms(account, region).send(new DescribeKeyCommand({KeyId: id}))).KeyMetadata!.KeyState, place).to.equal('Enabled')
    }

    // The whole batch at once: every account-region of it through its role, one confirmation.
    const again = await cli(['key', 'disable', '--tag', 'team=payments', '--org', '--exclude-accounts', BROKEN, '--regions', REGIONS.join(','), '--role-name', ROLE, '--confirm', 'disable 8 keys', '--json'])
    expect(again.code, again.stderr).to.equal(0)
    const batch = json<{batch: string}>(again).batch
    const bareCount = await cli(['undo', batch, '--confirm', '8'])
    expect(bareCount.code).to.equal(2)
    expect(bareCount.stderr).to.include('--confirm "8" does not match; expected "undo 8 changes".')
    const u = await cli(['undo', batch, '--confirm', 'undo 8 changes', '--json'])
    expect(u.code, u.stderr).to.equal(0)
    expect(json<{summary: {undone: number}}>(u).summary.undone).to.equal(8)
    for (const [place, id] of payments) {
      const [account, region] = place.split('/')
      // eslint-disable-next-line no-await-in-loop
      expect((await kms(account, region).send(new DescribeKeyCommand({KeyId: id}))).KeyMetadata!.KeyState, place).to.equal('Enabled')
    }
  })

  it('describes, contains and restores a key of another account given by ARN, through the configured role', async () => {
    const id = payments.get(`${MEMBERS[2]}/eu-west-1`)!
    const arn = `arn:aws:kms:eu-west-1:${MEMBERS[2]}:key/${id}`
    const d = await cli(['key', 'describe', arn, '--role-name', ROLE, '--json'])
    expect(d.code, d.stderr).to.equal(0)
    expect(json<{keyId: string; aliases: string[]}>(d)).to.include({keyId: id})
    expect(d.stderr).to.contain(`Through role arn:aws:iam::${MEMBERS[2]}:role/${ROLE}.`)
    const c = await cli(['incident', 'contain', arn, '--role-name', ROLE, '--yes', '--json'])
    expect(c.code, c.stderr).to.equal(0)
    const entry = json<{keys: Array<{journalId: string}>}>(c).keys[0].journalId
    expect((await kms(MEMBERS[2], 'eu-west-1').send(new DescribeKeyCommand({KeyId: id}))).KeyMetadata!.KeyState).to.equal('Disabled')
    const line = readdirSync(join(home, 'journal')).flatMap((f) => readFileSync(join(home, 'journal', f), 'utf8').split('\n')).find((l) => l.includes(`"id":"${entry}"`) && l.includes('"type":"entry"'))!
    expect(JSON.parse(line)).to.include({account: MEMBERS[2], region: 'eu-west-1', role: `arn:aws:iam::${MEMBERS[2]}:role/${ROLE}`})
    // Restore needs no flag: the entry says where, and through which role.
    const r = await cli(['incident', 'restore', entry, '--yes'])
    expect(r.code, r.stderr).to.equal(0)
    expect((await kms(MEMBERS[2], 'eu-west-1').send(new DescribeKeyCommand({KeyId: id}))).KeyMetadata!.KeyState).to.equal('Enabled')
  })

  describe('the AWS CLI against the sandbox organisation', () => {
    const target = () => ({accessKeyId: server.env.AWS_ACCESS_KEY_ID!, home: mkdtempSync(join(tmpdir(), 'kmsctl-aws-')), secretAccessKey: server.env.AWS_SECRET_ACCESS_KEY!, url: server.url})

    it('lists the accounts (paged) and describes the organisation', async () => {
      const r = await runAws(target(), ['organizations', 'list-accounts', '--page-size', '2'])
      expect(r.code, r.stderr).to.equal(0)
      expect(r.json.Accounts.map((a: {Id: string}) => a.Id).sort()).to.deep.equal([MANAGEMENT, ...MEMBERS, BROKEN].sort())
      expect(r.json.Accounts.every((a: {Status: string}) => a.Status === 'ACTIVE')).to.equal(true)
      const d = await runAws(target(), ['organizations', 'describe-organization'])
      expect(d.json.Organization.MasterAccountId).to.equal(MANAGEMENT)
      expect(d.json.Organization.Id).to.match(/^o-[a-z0-9]{10}$/)
    })

    it('lists the enabled regions of an account (account:ListRegions, with the SDK: the installed AWS CLI predates it)', async () => {
      const account = unmocked(new AccountClient({credentials: creds.get(MEMBERS[0])!, endpoint: server.url, region: 'us-east-1'}), AccountClient)
      const r = await account.send(new ListRegionsCommand({RegionOptStatusContains: ['ENABLED', 'ENABLED_BY_DEFAULT']}))
      expect(r.Regions).to.deep.equal([
        {RegionName: 'eu-west-1', RegionOptStatus: 'ENABLED_BY_DEFAULT'},
        {RegionName: 'us-east-1', RegionOptStatus: 'ENABLED_BY_DEFAULT'},
      ])
    })

    it('assumes a role, acts in that account only, and records AssumeRole in both accounts with one sharedEventID', async () => {
      const a = await runAws(target(), ['sts', 'assume-role', '--role-arn', `arn:aws:iam::${MEMBERS[1]}:role/${ROLE}`, '--role-session-name', 'cli-check'])
      expect(a.code, a.stderr).to.equal(0)
      const c = a.json.Credentials
      expect(c.AccessKeyId).to.match(/^ASIA[A-Z2-7]{16}$/)
      expect(a.json.AssumedRoleUser.Arn).to.equal(`arn:aws:sts::${MEMBERS[1]}:assumed-role/${ROLE}/cli-check`)
      const session = {...target(), accessKeyId: c.AccessKeyId, secretAccessKey: c.SecretAccessKey, sessionToken: c.SessionToken}
      const who = await runAws(session, ['sts', 'get-caller-identity'])
      expect(who.json.Account).to.equal(MEMBERS[1])
      const keys = await runAws(session, ['kms', 'list-keys'])
      expect(keys.json.Keys.map((k: {KeyArn: string}) => k.KeyArn.split(':')[4])).to.deep.equal([MEMBERS[1], MEMBERS[1]])
      const events = await runAws(session, ['cloudtrail', 'lookup-events', '--lookup-attributes', 'AttributeKey=EventName,AttributeValue=AssumeRole'])
      const inMember = events.json.Events.map((e: {CloudTrailEvent: string}) => JSON.parse(e.CloudTrailEvent)).find((e: {requestParameters: {roleSessionName: string}}) => e.requestParameters.roleSessionName === 'cli-check')
      expect(inMember.recipientAccountId).to.equal(MEMBERS[1])
      expect(inMember.userIdentity).to.deep.equal({accountId: MANAGEMENT, principalId: inMember.userIdentity.principalId, type: 'AWSAccount'})
      const mgmt = await runAws(target(), ['cloudtrail', 'lookup-events', '--lookup-attributes', 'AttributeKey=EventName,AttributeValue=AssumeRole'])
      const inManagement = mgmt.json.Events.map((e: {CloudTrailEvent: string}) => JSON.parse(e.CloudTrailEvent)).find((e: {requestParameters: {roleSessionName: string}}) => e.requestParameters.roleSessionName === 'cli-check')
      expect(inManagement.recipientAccountId).to.equal(MANAGEMENT)
      expect(inManagement.userIdentity.arn).to.equal(`arn:aws:iam::${MANAGEMENT}:user/sandbox-admin`)
      expect(inManagement.sharedEventID).to.equal(inMember.sharedEventID).and.to.match(/^[0-9a-f-]{36}$/)
      expect(inManagement.eventID).not.to.equal(inMember.eventID)
    })

    it('refuses a role the trust policy does not allow, as AWS does', async () => {
      const r = await runAws(target(), ['sts', 'assume-role', '--role-arn', `arn:aws:iam::${BROKEN}:role/${ROLE}`, '--role-session-name', 'cli-check'])
      expect(r.code).to.equal(254)
      expect(r.errorCode).to.equal('AccessDenied')
      expect(r.errorMessage).to.equal(`User: arn:aws:iam::${MANAGEMENT}:user/sandbox-admin is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::${BROKEN}:role/${ROLE}`)
      const bad = await runAws(target(), ['sts', 'assume-role', '--role-arn', `arn:aws:iam::${MEMBERS[0]}:role/${ROLE}`, '--role-session-name', 'a b'])
      expect(bad.errorCode).to.equal('ValidationError')
    })
  })
})
