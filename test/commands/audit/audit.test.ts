import {DescribeKeyCommand, GetKeyPolicyCommand, GetKeyRotationStatusCommand, ListKeysCommand} from '@aws-sdk/client-kms'
import {runCommand} from '@oclif/test'
import {expect} from 'chai'
import {mkdtempSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {mockSdk} from '../../helpers/mock-sdk.js'
import {ACCT, customerKey, keyId, mockAuditReads} from '../../lib/audit/mock-reads.js'

const acct = ACCT
const id = keyId
const dir = mkdtempSync(join(tmpdir(), 'kmsctl-audit-cmd-'))

async function run(args: string[]): Promise<{stdout: string; stderr: string; exitCode?: number}> {
  process.exitCode = undefined
  const out = await runCommand(args)
  const exitCode = typeof process.exitCode === 'number' ? process.exitCode : undefined
  process.exitCode = undefined
  return {exitCode, stderr: out.stderr, stdout: out.stdout}
}

function baseline(name: string, accepted: object[]): string {
  const file = join(dir, name)
  writeFileSync(file, JSON.stringify({accepted, version: 1}))
  return file
}

describe('audit', () => {
  const sdk = mockSdk()
  beforeEach(() => {
    mockAuditReads(sdk.kms, {aliases: [['alias/payments', 1], ['alias/orders', 2]], listed: [1, 2]})
    sdk.kms.on(DescribeKeyCommand, {KeyId: 'alias/payments'}).resolves({KeyMetadata: customerKey(1)})
    // alias/payments does not rotate: one medium finding.
    sdk.kms.on(GetKeyRotationStatusCommand, {KeyId: id(1)}).resolves({KeyRotationEnabled: false})
    sdk.kms.on(GetKeyRotationStatusCommand, {KeyId: id(2)}).resolves({KeyRotationEnabled: true, RotationPeriodInDays: 365})
  })

  it('prints the findings grouped by key, a summary by check, and exits 0 without --fail-on', async () => {
    const {exitCode, stdout} = await run(['audit'])
    expect(exitCode).to.equal(0)
    expect(stdout).to.include('alias/payments')
    expect(stdout).to.include('MEDIUM')
    expect(stdout).to.include('kmsctl key rotation enable alias/payments')
    expect(stdout).to.not.include('alias/orders')
    expect(stdout.trimEnd().split('\n').pop()).to.equal('1 finding (0 high, 1 medium, 0 low) on 1 of 2 keys')
  })

  it('--fail-on: exit 1 at or above the threshold, 0 below it', async () => {
    expect((await run(['audit', '--fail-on', 'medium'])).exitCode).to.equal(1)
    expect((await run(['audit', '--fail-on', 'low'])).exitCode).to.equal(1)
    expect((await run(['audit', '--fail-on', 'high'])).exitCode).to.equal(0)
  })

  it('--json: one document with findings, keys and the summary', async () => {
    const {exitCode, stdout} = await run(['audit', '--json', '--fail-on', 'medium'])
    expect(exitCode).to.equal(1)
    const r = JSON.parse(stdout)
    expect(r.findings.map((f: {check: string; key: string}) => `${f.key} ${f.check}`)).to.deep.equal(['alias/payments rotation-off'])
    expect(r.keys).to.have.length(2)
    expect(r.summary).to.deep.include({findings: 1, keys: 2, suppressed: 0})
    expect(r.exitCode).to.equal(1)
  })

  it('a baseline entry suppresses the finding; once expired it counts again and is reported as expired', async () => {
    const ok = baseline('ok.json', [{check: 'rotation-off', expires: '2999-12-31', key: 'alias/payments', reason: 'rotated by hand'}])
    const accepted = await run(['audit', '--baseline', ok, '--fail-on', 'low', '--json'])
    expect(accepted.exitCode).to.equal(0)
    expect(JSON.parse(accepted.stdout).suppressed.map((f: {check: string}) => f.check)).to.deep.equal(['rotation-off'])

    const old = baseline('old.json', [{check: 'rotation-off', expires: '2020-01-31', key: 'alias/payments', reason: 'rotated by hand'}])
    const expired = await run(['audit', '--baseline', old, '--fail-on', 'low'])
    expect(expired.exitCode).to.equal(1)
    expect(expired.stderr).to.include('Warning: baseline entry for rotation-off on alias/payments expired on 2020-01-31 (rotated by hand): its findings count again.')
    expect(expired.stdout).to.include('(baseline entry expired 2020-01-31: rotated by hand)')
    expect(expired.stdout).to.include('1 whose baseline entry expired')
  })

  it('an unknown check ID: exit 2 with the closest IDs, nothing sent', async () => {
    const {exitCode, stderr} = await run(['audit', '--only', 'rotation-of'])
    expect(exitCode).to.equal(2)
    expect(stderr).to.equal('Error: --only "rotation-of" is not an audit check.\nTry this: did you mean rotation-off? (kmsctl audit checks lists them)\n')
    expect(sdk.kms.calls()).to.have.length(0)
    const skip = await run(['audit', '--skip', 'polcy-public', '--json'])
    expect(skip.exitCode).to.equal(2)
    expect(JSON.parse(skip.stdout).error.remedy).to.equal('Try this: did you mean policy-public or policy-lint? (kmsctl audit checks lists them)')
  })

  it('bad input is exit 2 and nothing sent: accounts, principals, a baseline without a reason', async () => {
    const r1 = await run(['audit', '--trusted-accounts', '1234'])
    expect(r1.exitCode).to.equal(2)
    expect(r1.stderr).to.include('--trusted-accounts "1234" is not a 12-digit account ID.')
    const r2 = await run(['audit', '--admin-principals', 'KeyAdmins'])
    expect(r2.exitCode).to.equal(2)
    const bad = baseline('bad.json', [{check: 'rotation-off', expires: '2999-01-01', key: '*'}])
    const r3 = await run(['audit', '--baseline', bad])
    expect(r3.exitCode).to.equal(2)
    expect(r3.stderr).to.include('has no "reason"')
    expect(sdk.kms.calls()).to.have.length(0)
  })

  it('--only limits the checks and the reads; KEYS limits the keys', async () => {
    const {stdout} = await run(['audit', 'alias/payments', '--only', 'no-alias,no-description', '--json'])
    const r = JSON.parse(stdout)
    expect(r.checks).to.deep.equal(['no-alias', 'no-description'])
    expect(r.keys.map((k: {keyId: string}) => k.keyId)).to.deep.equal([id(1)])
    expect(sdk.kms.commandCalls(GetKeyPolicyCommand)).to.have.length(0)
    expect(sdk.kms.commandCalls(ListKeysCommand)).to.have.length(0)
  })

  it('--sarif, --junit and --csv print their format', async () => {
    const sarif = JSON.parse((await run(['audit', '--sarif'])).stdout)
    expect(sarif.version).to.equal('2.1.0')
    expect(sarif.runs[0].results.map((r: {ruleId: string}) => r.ruleId)).to.deep.equal(['rotation-off'])
    const junit = (await run(['audit', '--junit'])).stdout
    expect(junit).to.match(/^<\?xml version="1.0" encoding="UTF-8"\?>\n<testsuites name="kmsctl audit" tests="\d+" failures="1" errors="0" skipped="0">/)
    const csv = (await run(['audit', '--csv'])).stdout.split('\r\n')
    expect(csv[0]).to.equal('key,keyId,keyArn,check,severity,title,message,remedy,command,baseline,fingerprint')
    expect(csv[1]).to.match(/^alias\/payments,00000001-.*,rotation-off,medium,/)
    const both = await run(['audit', '--sarif', '--junit'])
    expect(both.exitCode).to.equal(2)
  })
  it('across regions: the audit runs per region, findings carry account and region, a summary per region', async () => {
    const {exitCode, stdout} = await run(['audit', '--regions', 'us-east-1,eu-west-1', '--json'])
    expect(exitCode).to.equal(0)
    const r = JSON.parse(stdout)
    expect(r.targets.map((t: {region: string; seen: number}) => `${t.region}:${t.seen}`).sort()).to.deep.equal(['eu-west-1:2', 'us-east-1:2'])
    expect(r.findings.map((f: {account: string; check: string; region: string}) => `${f.account}/${f.region}/${f.check}`)).to.deep.equal([`${acct}/eu-west-1/rotation-off`, `${acct}/us-east-1/rotation-off`])
    expect(r.summary).to.include({findings: 2, keys: 4})
  })

  it('across regions, --fail-on still exits 1 when a finding at or above it remains', async () => {
    expect((await run(['audit', '--regions', 'us-east-1,eu-west-1', '--fail-on', 'medium', '--json'])).exitCode).to.equal(1)
  })

  it('a bad account ID: exit 2, nothing sent', async () => {
    const r = await run(['audit', '--accounts', '12345', '--role-name', 'Ops'])
    expect(r.exitCode).to.equal(2)
    expect(sdk.kms.calls()).to.have.length(0)
  })
})

describe('audit checks', () => {
  it('lists every check with its ID, severity and fix', async () => {
    const {stdout} = await runCommand(['audit', 'checks', '--json'])
    const checks = JSON.parse(stdout)
    expect(checks.find((c: {id: string}) => c.id === 'rotation-off')).to.deep.include({command: 'kmsctl key rotation enable {key}', group: 'lifecycle', severity: 'medium'})
    expect(checks.length).to.be.greaterThan(20)
    const table = await runCommand(['audit', 'checks'])
    expect(table.stdout).to.include('policy-public')
  })
})
