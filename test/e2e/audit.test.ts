// End-to-end: `kmsctl audit` as a user and a CI job run it, the built binary against `kmsctl sandbox
// serve` over HTTP, on a sandbox seeded with one key per finding and clean keys that raise nothing.
import {KMSClient} from '@aws-sdk/client-kms'
import AjvDraft04 from 'ajv-draft-04'
import ajvFormats from 'ajv-formats'
import {expect} from 'chai'
import {mkdtempSync, readFileSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {projectRoot, runCli} from '../helpers/cli.js'
import {type SandboxServer, startSandboxServer} from '../helpers/sandbox-server.js'
import {AUDIT_ARGS, type Seeded, seedAuditKeys} from '../lib/audit/seed.js'
import {sarifSchema} from '../helpers/sarif-schema.js'

// CommonJS packages whose module object is also their default export.
const Ajv = AjvDraft04.default
const addFormats = ajvFormats.default

const DAY_MS = 86_400_000

function sdkFor(server: SandboxServer): KMSClient {
  const client = new KMSClient({
    credentials: {accessKeyId: server.env.AWS_ACCESS_KEY_ID!, secretAccessKey: server.env.AWS_SECRET_ACCESS_KEY!},
    endpoint: server.url,
    maxAttempts: 5,
    region: server.env.AWS_REGION!,
  })
  const base = Object.getPrototypeOf(KMSClient.prototype) as {send: KMSClient['send']}
  client.send = base.send.bind(client) as KMSClient['send']
  return client
}

describe('e2e: audit', function () {
  this.timeout(180_000)
  let server: SandboxServer
  let seeded: Seeded
  let env: NodeJS.ProcessEnv
  const work = mkdtempSync(join(tmpdir(), 'kmsctl-audit-e2e-'))

  before(async () => {
    server = await startSandboxServer()
    env = {...server.env, KMSCTL_HOME: join(work, 'home')}
    const kms = sdkFor(server)
    seeded = await seedAuditKeys(kms, async (daysAgo) => {
      const when = daysAgo === 0 ? 'now' : new Date(Date.now() - daysAgo * DAY_MS).toISOString()
      const r = await runCli(['sandbox', 'clock', 'set', when, '--sandbox-dir', server.dir], {env})
      if (r.code !== 0) throw new Error(`sandbox clock set ${when}: ${r.stderr}`)
    })
    kms.destroy()
  })

  after(async () => {
    await server?.stop()
  })

  const audit = (args: string[]) => runCli(['audit', ...AUDIT_ARGS, ...args], {env})

  it('finds exactly the seeded findings, and nothing on the clean keys', async () => {
    const r = await audit(['--json'])
    expect(r.code, r.stderr).to.equal(0)
    const report = JSON.parse(r.stdout)
    const got: Record<string, string[]> = {}
    const expected: Record<string, string[]> = {}
    for (const [name, k] of Object.entries(seeded)) {
      expected[name] = k.expect
      got[name] = [...new Set(report.findings.filter((f: {keyId: string}) => f.keyId === k.keyId).map((f: {check: string}) => f.check))].sort() as string[]
    }

    expect(got).to.deep.equal(expected)
    expect(report.notChecked).to.deep.equal([])
    expect(report.summary.keys).to.equal(Object.keys(seeded).length)
  })

  it('prints a table grouped by key, and a summary; no colour when stdout is not a terminal', async () => {
    // NO_COLOR unset: only the pipe stops the colour.
    const r = await runCli(['audit', ...AUDIT_ARGS], {env: {...env, FORCE_COLOR: undefined, NO_COLOR: undefined}})
    expect(r.code).to.equal(0)
    expect(r.stdout).to.include('alias/audit-policy-public')
    expect(r.stdout).to.include('kmsctl key cancel-deletion alias/audit-pending-deletion')
    expect(r.stdout).to.match(/\d+ findings \(\d+ high, \d+ medium, \d+ low\) on \d+ of 22 keys\n$/)
    // eslint-disable-next-line no-control-regex
    expect(r.stdout).to.not.match(/\u001B\[/)
  })

  it('--fail-on high exits 1; a baseline that accepts every high finding makes it pass; an expired entry fails it again', async () => {
    expect((await audit(['--fail-on', 'high'])).code).to.equal(1)
    const r = JSON.parse((await audit(['--json'])).stdout)
    const highs = r.findings.filter((f: {severity: string}) => f.severity === 'high')
    expect(highs.length).to.be.greaterThan(0)
    const file = join(work, 'baseline.json')
    const accepted = highs.map((f: {check: string; keyId: string}) => ({check: f.check, expires: '2999-12-31', key: f.keyId, reason: 'accepted for the test'}))
    writeFileSync(file, JSON.stringify({accepted, version: 1}))
    const pass = await audit(['--fail-on', 'high', '--baseline', file])
    expect(pass.code, pass.stdout).to.equal(0)
    accepted[0].expires = '2021-01-01'
    writeFileSync(file, JSON.stringify({accepted, version: 1}))
    const fail = await audit(['--fail-on', 'high', '--baseline', file])
    expect(fail.code).to.equal(1)
    expect(fail.stderr).to.include(`baseline entry for ${accepted[0].check} on ${accepted[0].key} expired on 2021-01-01`)
  })

  it('--sarif is valid SARIF 2.1.0', async () => {
    const r = await audit(['--sarif'])
    expect(r.code).to.equal(0)
    const schema = sarifSchema()
    const ajv = new Ajv({allErrors: true, strict: false, unicodeRegExp: false})
    addFormats(ajv)
    const validate = ajv.compile(schema)
    const log = JSON.parse(r.stdout)
    expect(validate(log), JSON.stringify(validate.errors?.slice(0, 3))).to.equal(true)
    expect(log.runs[0].results.length).to.be.greaterThan(10)
  })

  it('--junit: one test case per key and check', async () => {
    const r = await audit(['--junit', '--only', 'rotation-off,no-alias'])
    expect(r.code).to.equal(0)
    expect(r.stdout.match(/<testcase /g)).to.have.length(2 * Object.keys(seeded).length)
    expect(r.stdout.match(/<failure /g)).to.have.length(2)
  })

  it('audits the keys named, and fixing a finding clears it', async () => {
    const key = seeded['rotation-off'].alias!
    const before = JSON.parse((await audit([key, '--json'])).stdout)
    expect(before.findings.map((f: {check: string}) => f.check)).to.deep.equal(['rotation-off'])
    const fix = await runCli(['key', 'rotation', 'enable', key], {env})
    expect(fix.code, fix.stderr).to.equal(0)
    const after = JSON.parse((await audit([key, '--json'])).stdout)
    expect(after.findings).to.deep.equal([])
  })

  it('colours severities when asked to (FORCE_COLOR), and reads the keys from --file', async () => {
    const list = join(work, 'keys.txt')
    writeFileSync(list, `# keys to audit\n${seeded['policy-public'].alias}\n${seeded.clean.keyId}  # clean\n`)
    const r = await runCli(['audit', ...AUDIT_ARGS, '--file', list], {env: {...env, FORCE_COLOR: '1'}})
    expect(r.code, r.stderr).to.equal(0)
    expect(r.stdout).to.include('\u001B[')
    expect(r.stdout).to.match(/1 finding \(1 high, 0 medium, 0 low\) on 1 of 2 keys/)
  })

  it('an unknown check ID is exit 2 with the closest IDs', async () => {
    const r = await audit(['--skip', 'multiregion'])
    expect(r.code).to.equal(2)
    expect(r.stderr).to.equal('Error: --skip "multiregion" is not an audit check.\nTry this: did you mean multi-region? (kmsctl audit checks lists them)\n')
  })
})
