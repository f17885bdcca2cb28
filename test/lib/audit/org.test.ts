import AjvDraft04 from 'ajv-draft-04'
import ajvFormats from 'ajv-formats'
import {expect} from 'chai'

import {buildReport} from '../../../src/lib/audit/audit.js'
import {toCsv} from '../../../src/lib/audit/csv.js'
import {toJunit} from '../../../src/lib/audit/junit.js'
import {mergeAuditReports} from '../../../src/lib/audit/org.js'
import {CHECKS, type Severity} from '../../../src/lib/audit/registry.js'
import {toSarif} from '../../../src/lib/audit/sarif.js'
import {DEFAULT_OPTIONS, type KeyFacts} from '../../../src/lib/audit/types.js'
import type {TargetSummary} from '../../../src/lib/org/run.js'
import {sarifSchema} from '../../helpers/sarif-schema.js'

const NOW = new Date('2026-12-01T12:00:00Z')
const KEY_ID = '00000001-0000-4000-8000-000000000000'

function key(account: string, region: string): KeyFacts {
  const arn = `arn:aws:kms:${region}:${account}:key/${KEY_ID}`
  return {
    account,
    aliases: ['alias/app'],
    arn,
    grants: [],
    keyId: KEY_ID,
    lastUsage: {status: 'ok', time: '2026-11-30T00:00:00.000Z'},
    metadata: {Arn: arn, CreationDate: new Date('2025-01-01T00:00:00Z'), Description: 'd', KeyId: KEY_ID, KeyManager: 'CUSTOMER', KeySpec: 'SYMMETRIC_DEFAULT', KeyState: 'Enabled', Origin: 'AWS_KMS'},
    policyText: JSON.stringify({Statement: [{Action: 'kms:*', Effect: 'Allow', Principal: {AWS: `arn:aws:iam::${account}:root`}, Resource: '*'}]}),
    region,
    rotation: {status: 'off'},
    tags: {owner: 'x'},
    unavailable: {},
  }
}

const checks = CHECKS.filter((c) => c.id === 'rotation-off')
const options = {...DEFAULT_OPTIONS, now: NOW}
const {now: _now, ...rest} = options

function merged(failOn?: Severity, failedTarget = true) {
  // The same key ID in two account-regions: still two keys, two findings, two fingerprints.
  const parts = [
    {account: '222233334444', region: 'us-east-1', report: buildReport([key('222233334444', 'us-east-1')], {checks, failOn, options, region: 'us-east-1'})},
    {account: '111122223333', region: 'eu-west-1', report: buildReport([key('111122223333', 'eu-west-1')], {checks, failOn, options, region: 'eu-west-1'})},
  ]
  const targets: TargetSummary[] = [
    {account: '111122223333', failed: 0, region: 'eu-west-1', seen: 1},
    {account: '222233334444', failed: 0, region: 'us-east-1', seen: 1},
    ...(failedTarget ? [{account: '999988887777', error: {code: 'ACCESS_DENIED', message: 'Cannot assume'}, failed: 1, region: 'us-east-1', seen: 0}] : []),
  ]
  return mergeAuditReports(parts, targets, {checks: checks.map((c) => c.id), failOn, generatedAt: NOW.toISOString(), options: rest})
}

describe('audit across accounts and regions (merged report)', () => {
  it('marks findings and keys with account and region, sorted by account then region', () => {
    const r = merged()
    expect(r.findings.map((f) => `${f.account}/${f.region}/${f.check}`)).to.deep.equal(['111122223333/eu-west-1/rotation-off', '222233334444/us-east-1/rotation-off'])
    expect(r.keys.map((k) => `${k.account}/${k.region}`)).to.deep.equal(['222233334444/us-east-1', '111122223333/eu-west-1'])
    expect(new Set(r.findings.map((f) => f.fingerprint)).size).to.equal(2)
    expect(r.summary).to.include({findings: 2, keys: 2})
    expect(r.summary.byCheck).to.deep.equal([{check: 'rotation-off', findings: 2, notChecked: 0, severity: 'medium', suppressed: 0, title: 'Automatic rotation off'}])
    expect(r.region).to.equal('eu-west-1,us-east-1')
    expect(r.targets).to.have.length(3)
  })

  it('exit code: 1 when --fail-on trips (even with a failed account-region), else 3 for a failed account-region, else 0', () => {
    expect(merged('medium').exitCode).to.equal(1)
    expect(merged('high').exitCode).to.equal(3)
    expect(merged(undefined).exitCode).to.equal(3)
    expect(merged('high', false).exitCode).to.equal(0)
  })

  it('CSV leads with account and region; JUnit classnames and SARIF locations name them', () => {
    const r = merged()
    const csv = toCsv(r).split('\r\n')
    expect(csv[0]).to.equal('account,region,key,keyId,keyArn,check,severity,title,message,remedy,command,baseline,fingerprint')
    expect(csv[1].startsWith('111122223333,eu-west-1,alias/app,')).to.equal(true)
    const junit = toJunit(r)
    expect(junit).to.contain('classname="kmsctl.audit.222233334444.us-east-1.alias/app"')
    expect(junit).to.contain('classname="kmsctl.audit.111122223333.eu-west-1.alias/app"')
    // Each key's failure belongs to its own account-region only.
    expect(junit.match(/<failure /g)).to.have.length(2)
    const sarif = toSarif(r, '0.1.0') as {runs: Array<{results: Array<{locations: Array<{logicalLocations: Array<{name: string}>}>; properties: Record<string, unknown>}>}>}
    const names = sarif.runs[0].results.map((x) => x.locations[0].logicalLocations[0].name)
    expect(names).to.deep.equal(['111122223333/eu-west-1/alias/app', '222233334444/us-east-1/alias/app'])
    expect(sarif.runs[0].results[0].properties).to.include({account: '111122223333', region: 'eu-west-1'})
    const ajv = new AjvDraft04.default({allErrors: true, strict: false, unicodeRegExp: false})
    ajvFormats.default(ajv)
    const validate = ajv.compile(sarifSchema())
    expect(validate(sarif), JSON.stringify(validate.errors?.slice(0, 3))).to.equal(true)
  })

  it('one region as before: no account or region in CSV, JUnit or SARIF', () => {
    const r = buildReport([key('111122223333', 'us-east-1')], {checks, options, region: 'us-east-1'})
    expect(toCsv(r).split('\r\n')[0]).to.equal('key,keyId,keyArn,check,severity,title,message,remedy,command,baseline,fingerprint')
    expect(toJunit(r)).to.contain('classname="kmsctl.audit.alias/app"')
    const sarif = toSarif(r, '0.1.0') as {runs: Array<{results: Array<{locations: Array<{logicalLocations: Array<{name: string}>}>; properties: Record<string, unknown>}>}>}
    expect(sarif.runs[0].results[0].locations[0].logicalLocations[0].name).to.equal('alias/app')
    expect(sarif.runs[0].results[0].properties).to.not.have.property('account')
  })
})
