import AjvDraft04 from 'ajv-draft-04'
import ajvFormats from 'ajv-formats'
import {expect} from 'chai'

import {type AuditReport, buildReport} from '../../../src/lib/audit/audit.js'
import {applyBaseline, isExpired, parseBaseline} from '../../../src/lib/audit/baseline.js'
import {csvField, toCsv} from '../../../src/lib/audit/csv.js'
import {toJunit} from '../../../src/lib/audit/junit.js'
import {CHECKS} from '../../../src/lib/audit/registry.js'
import {toSarif} from '../../../src/lib/audit/sarif.js'
import {DEFAULT_OPTIONS, type KeyFacts} from '../../../src/lib/audit/types.js'
import {KmsctlError} from '../../../src/lib/errors.js'
import {sarifSchema} from '../../helpers/sarif-schema.js'

// CommonJS packages whose module object is also their default export.
const Ajv = AjvDraft04.default
const addFormats = ajvFormats.default

const schema = sarifSchema()

const NOW = new Date('2026-12-01T12:00:00Z')
const ACCOUNT = '111122223333'

function key(n: number, extra: Partial<KeyFacts> = {}): KeyFacts {
  const keyId = `${String(n).padStart(8, '0')}-0000-4000-8000-000000000000`
  const arn = `arn:aws:kms:us-east-1:${ACCOUNT}:key/${keyId}`
  return {
    account: ACCOUNT,
    aliases: [`alias/app-${n}`],
    arn,
    grants: [],
    keyId,
    lastUsage: {status: 'ok', time: '2026-11-30T00:00:00.000Z'},
    metadata: {Arn: arn, CreationDate: new Date('2025-01-01T00:00:00Z'), Description: 'd', KeyId: keyId, KeyManager: 'CUSTOMER', KeySpec: 'SYMMETRIC_DEFAULT', KeyState: 'Enabled', Origin: 'AWS_KMS'},
    policyText: JSON.stringify({Statement: [{Action: 'kms:*', Effect: 'Allow', Principal: {AWS: `arn:aws:iam::${ACCOUNT}:root`}, Resource: '*'}]}),
    region: 'us-east-1',
    rotation: {status: 'on'},
    tags: {owner: 'x'},
    unavailable: {},
    ...extra,
  }
}

const public1 = JSON.stringify({
  Statement: [
    {Action: 'kms:*', Effect: 'Allow', Principal: {AWS: `arn:aws:iam::${ACCOUNT}:root`}, Resource: '*'},
    {Action: 'kms:Decrypt', Effect: 'Allow', Principal: '*', Resource: '*', Sid: 'Anyone'},
  ],
})
const keys = [key(1, {policyText: public1, rotation: {status: 'off'}}), key(2, {aliases: [], tags: {}}), key(3)]

function report(extra: Parameters<typeof buildReport>[1] extends infer T ? Partial<T> : never = {}): AuditReport {
  return buildReport(keys, {checks: CHECKS, options: {...DEFAULT_OPTIONS, now: NOW}, region: 'us-east-1', ...extra})
}

describe('audit outputs', () => {
  describe('SARIF', () => {
    // The schema has one pattern that is not valid with the u flag ("language"): plain RegExp, as draft-04 means.
    const ajv = new Ajv({allErrors: true, strict: false, unicodeRegExp: false})
    addFormats(ajv)
    const validate = ajv.compile(schema)

    it('validates against the SARIF 2.1.0 schema, with and without findings', () => {
      for (const r of [report(), buildReport([key(3)], {checks: CHECKS, options: {...DEFAULT_OPTIONS, now: NOW}})]) {
        const log = toSarif(r, '0.1.0')
        const ok = validate(log)
        expect(ok, JSON.stringify(validate.errors?.slice(0, 3))).to.equal(true)
      }
    })

    it('the schema validator does reject a broken log', () => {
      const log = toSarif(report(), '0.1.0') as {runs: Array<{results: Array<Record<string, unknown>>}>}
      log.runs[0].results[0].level = 'fatal'
      expect(validate(log)).to.equal(false)
    })

    it('has rules with help and a default level, and results with a key location and a fingerprint', () => {
      const log = toSarif(report(), '0.1.0') as any
      const run = log.runs[0]
      expect(log.version).to.equal('2.1.0')
      expect(run.tool.driver.rules.map((r: {id: string}) => r.id)).to.deep.equal(CHECKS.map((c) => c.id))
      const rule = run.tool.driver.rules.find((r: {id: string}) => r.id === 'policy-public')
      expect(rule.defaultConfiguration).to.deep.equal({level: 'error'})
      expect(rule.help.text).to.match(/Fix: .*kmsctl policy put KEY --file fixed-policy.json$/)
      expect(rule.properties['security-severity']).to.equal('8.0')
      const result = run.results.find((r: {ruleId: string}) => r.ruleId === 'policy-public')
      expect(result.level).to.equal('error')
      expect(result.locations[0].logicalLocations[0]).to.deep.equal({fullyQualifiedName: keys[0].arn, kind: 'resource', name: 'alias/app-1'})
      expect(result.locations[0].physicalLocation.artifactLocation.uri).to.equal(`kms/${ACCOUNT}/us-east-1/key/${keys[0].keyId}`)
      expect(result.partialFingerprints['kmsctlFinding/v1']).to.match(/^[0-9a-f]{32}$/)
      expect(run.tool.driver.rules[result.ruleIndex].id).to.equal('policy-public')
    })

    it('the same findings give the same fingerprints on another run', () => {
      const a = (toSarif(report(), '0.1.0') as any).runs[0].results.map((r: any) => r.partialFingerprints['kmsctlFinding/v1'])
      const b = (toSarif(report(), '0.1.0') as any).runs[0].results.map((r: any) => r.partialFingerprints['kmsctlFinding/v1'])
      expect(a).to.deep.equal(b)
      expect(new Set(a).size).to.equal(a.length)
    })

    it('keeps accepted findings with an external suppression', () => {
      const baseline = parseBaseline(JSON.stringify({accepted: [{check: 'no-alias', expires: '2027-01-31', key: keys[1].keyId, reason: 'batch job key'}]}))
      const log = toSarif(report({baseline}), '0.1.0') as any
      expect(validate(log)).to.equal(true)
      const r = log.runs[0].results.find((x: any) => x.ruleId === 'no-alias')
      expect(r.suppressions).to.deep.equal([{justification: 'batch job key (accepted until 2027-01-31)', kind: 'external', status: 'accepted'}])
    })
  })

  describe('JUnit', () => {
    it('has one test case per key and check, a failure per key and check with findings', () => {
      const r = report()
      const xml = toJunit(r)
      expect(xml.startsWith('<?xml version="1.0" encoding="UTF-8"?>\n<testsuites name="kmsctl audit"')).to.equal(true)
      expect(xml.match(/<testcase /g)).to.have.length(keys.length * CHECKS.length)
      const failing = new Set(r.findings.map((f) => `${f.keyId} ${f.check}`)).size
      expect(xml.match(/<failure /g)).to.have.length(failing)
      expect(xml).to.include(`tests="${keys.length * CHECKS.length}" failures="${failing}" errors="0" skipped="0"`)
      expect(xml).to.include('<failure message="Statement &quot;Anyone&quot;: allows Principal &quot;*&quot;')
      expect(xml).to.include('type="high"')
      expect(xml).to.include('<testsuite name="alias/app-1 (00000001-0000-4000-8000-000000000000)"')
    })

    it('an accepted finding is a skipped case with the reason', () => {
      const baseline = parseBaseline(JSON.stringify({accepted: [{check: 'rotation-off', expires: '2027-01-31', key: 'alias/app-1', reason: 'rotated by hand'}]}))
      expect(toJunit(report({baseline}))).to.include('<skipped message="accepted until 2027-01-31: rotated by hand"/>')
    })
  })

  describe('CSV', () => {
    it('one row per finding, quoted where needed', () => {
      const csv = toCsv(report())
      const lines = csv.trimEnd().split('\r\n')
      expect(lines[0]).to.equal('key,keyId,keyArn,check,severity,title,message,remedy,command,baseline,fingerprint')
      expect(lines).to.have.length(1 + report().findings.length)
      expect(lines.find((l) => l.includes(',policy-public,'))).to.include('"Statement ""Anyone"": allows Principal ""*""')
      expect(csvField('=cmd()')).to.equal(`"'=cmd()"`)
      expect(csvField('plain')).to.equal('plain')
    })
  })

  describe('baseline', () => {
    it('suppresses an accepted finding; an expired entry counts again and is marked', () => {
      const baseline = parseBaseline(
        JSON.stringify({
          accepted: [
            {check: 'rotation-off', expires: '2027-01-31', key: 'alias/app-1', reason: 'rotated by hand'},
            {check: 'no-alias', expires: '2026-11-30', key: keys[1].arn, reason: 'was temporary'},
            {check: 'multi-region', expires: '2027-01-31', key: '*', reason: 'by design'},
          ],
        }),
        'b.json',
      )
      const r = report({baseline, failOn: 'low'})
      expect(r.suppressed.map((f) => f.check)).to.deep.equal(['rotation-off'])
      const expired = r.findings.find((f) => f.check === 'no-alias')!
      expect(expired.baseline).to.deep.equal({expires: '2026-11-30', reason: 'was temporary', status: 'expired'})
      expect(r.summary.expiredBaseline).to.equal(1)
      expect(r.baseline!.entries.map((e) => e.status)).to.deep.equal(['accepted', 'expired', 'unused'])
      expect(r.exitCode).to.equal(1)
    })

    it('all findings accepted: --fail-on passes', () => {
      const r0 = report()
      const accepted = r0.findings.map((f) => ({check: f.check, expires: '2027-01-31', fingerprint: f.fingerprint, reason: 'accepted'}))
      const r = report({baseline: parseBaseline(JSON.stringify({accepted})), failOn: 'low'})
      expect(r.findings).to.deep.equal([])
      expect(r.exitCode).to.equal(0)
    })

    it('an entry is good through its expiry day (UTC)', () => {
      expect(isExpired({expires: '2026-12-01'}, new Date('2026-12-01T23:59:59Z'))).to.equal(false)
      expect(isExpired({expires: '2026-12-01'}, new Date('2026-12-02T00:00:00Z'))).to.equal(true)
    })

    it('rejects entries without a reason, an expiry date or a known check', () => {
      const bad = (entry: object) => {
        try {
          parseBaseline(JSON.stringify({accepted: [entry]}), 'b.json')
        } catch (error) {
          return `${(error as KmsctlError).exitCode} ${(error as KmsctlError).message}`
        }

        return 'accepted'
      }

      expect(bad({check: 'rotation-off', expires: '2027-01-01', key: '*'})).to.equal('2 b.json, accepted[0] has no "reason": say why the finding is accepted.')
      expect(bad({check: 'rotation-off', key: '*', reason: 'r'})).to.equal('2 b.json, accepted[0] has no valid "expires" date (YYYY-MM-DD).')
      expect(bad({check: 'rotation', expires: '2027-01-01', key: '*', reason: 'r'})).to.equal('2 b.json, accepted[0]: check "rotation" is not an audit check.')
      expect(bad({check: 'rotation-off', expires: '2027-01-01', reason: 'r'})).to.equal('2 b.json, accepted[0] names neither "key" nor "fingerprint".')
    })

    it('matches by key ID, ARN, alias or fingerprint', () => {
      const r0 = report()
      const f = r0.findings.find((x) => x.check === 'rotation-off')!
      for (const k of [f.keyId, f.keyArn, 'alias/app-1']) {
        const out = applyBaseline(r0.findings, parseBaseline(JSON.stringify({accepted: [{check: 'rotation-off', expires: '2027-01-01', key: k, reason: 'r'}]})), () => ['alias/app-1'], NOW)
        expect(out.suppressed.map((x) => x.fingerprint), k).to.deep.equal([f.fingerprint])
      }
    })
  })
})
