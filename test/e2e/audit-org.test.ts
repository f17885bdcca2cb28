// End-to-end: kmsctl audit across the accounts and regions of the sandbox organisation (the built
// binary against `kmsctl sandbox serve`), one of whose accounts cannot be reached through the role.
import {AssumeRoleCommand, STSClient} from '@aws-sdk/client-sts'
import {CreateKeyCommand, KMSClient} from '@aws-sdk/client-kms'
import {expect} from 'chai'
import {mkdtempSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {json, runCli} from '../helpers/cli.js'
import {type SandboxServer, startSandboxServer} from '../helpers/sandbox-server.js'

const MANAGEMENT = '111122223333'
const MEMBER = '222233334444'
const BROKEN = '999988887777'
const ROLE = 'OrganizationAccountAccessRole'
const REGIONS = ['us-east-1', 'eu-west-1']

/** The SDK's own send (other test files may mock the clients' send for the whole process). */
function unmocked<T extends {send: unknown}>(client: T, Ctor: {prototype: unknown}): T {
  const send = Object.getPrototypeOf(Ctor.prototype).send as (...a: unknown[]) => unknown
  ;(client as unknown as {send: unknown}).send = send.bind(client)
  return client
}

type Finding = {account: string; check: string; fingerprint: string; keyArn: string; region: string; severity: string}
type Report = {exitCode: number; findings: Finding[]; keys: Array<{account: string; region: string}>; targets: Array<{account: string; error?: {message: string}; region: string; seen: number}>}

describe('e2e: audit across accounts and regions', function () {
  this.timeout(180_000)
  let server: SandboxServer
  let env: NodeJS.ProcessEnv
  const cli = (args: string[]) => runCli(args, {env, timeoutMs: 120_000})
  const where = ['--accounts', `${MANAGEMENT},${MEMBER},${BROKEN}`, '--regions', 'us-east-1', '--role-name', ROLE]

  before(async () => {
    server = await startSandboxServer()
    env = {...server.env, COLUMNS: '250', KMSCTL_HOME: mkdtempSync(join(tmpdir(), 'kmsctl-audit-org-')), KMSCTL_SANDBOX_DIR: server.dir}
    expect((await cli(['sandbox', 'org', 'seed', '--regions', REGIONS.join(',')])).code).to.equal(0)
    const broken = await cli(['sandbox', 'account', 'add', BROKEN, '--name', 'legacy', '--role-name', 'LegacyAdmin', '--regions', REGIONS.join(',')])
    expect(broken.code, broken.stderr).to.equal(0)
    const base = {accessKeyId: server.env.AWS_ACCESS_KEY_ID!, secretAccessKey: server.env.AWS_SECRET_ACCESS_KEY!}
    const sts = unmocked(new STSClient({credentials: base, endpoint: server.url, region: 'us-east-1'}), STSClient)
    const out = await sts.send(new AssumeRoleCommand({RoleArn: `arn:aws:iam::${MEMBER}:role/${ROLE}`, RoleSessionName: 'e2e-setup'}))
    const member = {accessKeyId: out.Credentials!.AccessKeyId!, secretAccessKey: out.Credentials!.SecretAccessKey!, sessionToken: out.Credentials!.SessionToken!}
    // One key (rotation off, no owner tag) in the management account and one in the member account.
    for (const credentials of [base, member]) {
      const kms = unmocked(new KMSClient({credentials, endpoint: server.url, maxAttempts: 5, region: 'us-east-1'}), KMSClient)
      await kms.send(new CreateKeyCommand({Description: 'audited'}))
    }
  })

  after(async () => {
    await server?.stop()
  })

  it('audits each account-region: findings carry account and region; the unreachable account is exit 3', async () => {
    const r = await cli(['audit', ...where, '--json'])
    expect(r.code, r.stderr).to.equal(3)
    const out = json<Report>(r)
    expect(out.exitCode).to.equal(3)
    expect(out.targets.map((t) => `${t.account}/${t.region}:${t.error ? 'failed' : t.seen}`).sort()).to.deep.equal([`${MANAGEMENT}/us-east-1:1`, `${MEMBER}/us-east-1:1`, `${BROKEN}/us-east-1:failed`].sort())
    expect(out.targets.find((t) => t.error)!.error!.message).to.contain(`Cannot assume arn:aws:iam::${BROKEN}:role/${ROLE}`)
    expect(out.keys.map((k) => `${k.account}/${k.region}`).sort()).to.deep.equal([`${MANAGEMENT}/us-east-1`, `${MEMBER}/us-east-1`])
    const rotation = out.findings.filter((f) => f.check === 'rotation-off')
    expect(rotation.map((f) => f.account)).to.deep.equal([MANAGEMENT, MEMBER])
    for (const f of rotation) {
      expect(f.region).to.equal('us-east-1')
      expect(f.keyArn).to.match(new RegExp(`^arn:aws:kms:us-east-1:${f.account}:key/`))
    }

    expect(new Set(rotation.map((f) => f.fingerprint)).size).to.equal(2)
  })

  it('--fail-on: exit 1 when a finding at or above it remains, even with an account-region failed', async () => {
    const r = await cli(['audit', ...where, '--fail-on', 'medium', '--json'])
    expect(r.code, r.stderr).to.equal(1)
    const clean = await cli(['audit', '--accounts', MEMBER, '--regions', 'eu-west-1', '--role-name', ROLE, '--fail-on', 'high'])
    expect(clean.code, clean.stderr).to.equal(0)
    expect(clean.stdout).to.contain('No customer-managed key to audit.')
    expect(clean.stdout).to.contain('1 account-region: 0 keys')
  })

  it('renders Account and Region columns and a closing summary per account-region', async () => {
    const r = await cli(['audit', ...where, '--only', 'rotation-off'])
    expect(r.code, r.stderr).to.equal(3)
    const header = r.stdout.split('\n').find((l) => l.includes('Severity'))!
    expect(header.trim()).to.match(/^Account\s+Region\s+Key\s+Severity\s+Check\s+Finding/)
    expect(r.stdout).to.match(new RegExp(`${MANAGEMENT}\\s+us-east-1\\s+`))
    expect(r.stdout).to.match(new RegExp(`${MEMBER}\\s+us-east-1\\s+`))
    expect(r.stdout).to.contain('3 account-regions: 2 keys, 1 failed')
    expect(r.stdout).to.contain(`Failed: ${BROKEN}/us-east-1: Cannot assume`)
  })

  it('CSV leads with account and region; SARIF and JUnit name them', async () => {
    const csv = await cli(['audit', ...where, '--only', 'rotation-off', '--csv'])
    expect(csv.code).to.equal(3)
    const lines = csv.stdout.trim().split('\r\n')
    expect(lines[0]).to.equal('account,region,key,keyId,keyArn,check,severity,title,message,remedy,command,baseline,fingerprint')
    expect(lines.slice(1).map((l) => l.split(',').slice(0, 2).join(','))).to.deep.equal([`${MANAGEMENT},us-east-1`, `${MEMBER},us-east-1`])
    expect(csv.stderr).to.contain('3 account-regions: 2 keys, 1 failed')

    const sarif = await cli(['audit', ...where, '--only', 'rotation-off', '--sarif'])
    type Result = {locations: Array<{logicalLocations: Array<{name: string}>; physicalLocation: {artifactLocation: {uri: string}}}>; partialFingerprints: Record<string, string>; properties: {account: string; region: string}}
    const results = (JSON.parse(sarif.stdout) as {runs: Array<{results: Result[]}>}).runs[0].results
    expect(results.map((x) => x.properties.account)).to.deep.equal([MANAGEMENT, MEMBER])
    for (const x of results) {
      expect(x.locations[0].logicalLocations[0].name).to.match(new RegExp(`^${x.properties.account}/us-east-1/`))
      expect(x.locations[0].physicalLocation.artifactLocation.uri).to.match(new RegExp(`^kms/${x.properties.account}/us-east-1/key/`))
    }

    expect(new Set(results.map((x) => x.partialFingerprints['kmsctlFinding/v1'])).size).to.equal(2)

    const junit = await cli(['audit', ...where, '--only', 'rotation-off', '--junit'])
    expect(junit.stdout).to.contain(`classname="kmsctl.audit.${MANAGEMENT}.us-east-1.`)
    expect(junit.stdout).to.contain(`classname="kmsctl.audit.${MEMBER}.us-east-1.`)
  })

  it('without account or region flags, audits the caller\'s region as before (no Account column)', async () => {
    const r = await cli(['audit', '--only', 'rotation-off', '--csv'])
    expect(r.code, r.stderr).to.equal(0)
    const lines = r.stdout.trim().split('\r\n')
    expect(lines[0]).to.equal('key,keyId,keyArn,check,severity,title,message,remedy,command,baseline,fingerprint')
    expect(lines).to.have.length(2)
    const j = json<{findings: Array<Record<string, unknown>>; targets?: unknown}>(await cli(['audit', '--only', 'rotation-off', '--json']))
    expect(j.targets).to.equal(undefined)
    expect(j.findings[0]).to.not.have.property('account')
  })
})
