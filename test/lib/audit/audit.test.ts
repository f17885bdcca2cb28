import {expect} from 'chai'

import {type AuditReport, IMPLEMENTATIONS, buildReport, runAudit} from '../../../src/lib/audit/audit.js'
import {collectFacts} from '../../../src/lib/audit/collect.js'
import {CHECKS} from '../../../src/lib/audit/registry.js'
import {DEFAULT_OPTIONS} from '../../../src/lib/audit/types.js'
import {DAY_MS} from '../../../src/lib/time.js'
import {Pacer} from '../../../src/lib/pacing.js'
import {newSandbox} from '../../sandbox/helpers.js'
import {ADMIN_ROLE, type Seeded, TRUSTED_ACCOUNT, seedAuditKeys} from './seed.js'

describe('audit over a seeded sandbox', () => {
  let seeded: Seeded
  let report: AuditReport
  let sandbox: Awaited<ReturnType<typeof newSandbox>>

  before(async () => {
    sandbox = await newSandbox()
    const offsetBefore = process.env.KMSCTL_SANDBOX_NOW_OFFSET_MS
    try {
      seeded = await seedAuditKeys(sandbox.kms, async (daysAgo) => {
        process.env.KMSCTL_SANDBOX_NOW_OFFSET_MS = String(-daysAgo * DAY_MS)
      })
    } finally {
      if (offsetBefore === undefined) delete process.env.KMSCTL_SANDBOX_NOW_OFFSET_MS
      else process.env.KMSCTL_SANDBOX_NOW_OFFSET_MS = offsetBefore
    }

    report = await runAudit({
      checks: CHECKS,
      deps: {cloudtrail: async () => sandbox.cloudtrail, journal: {readAll: () => []}, kms: sandbox.kms, region: 'us-east-1'},
      options: {...DEFAULT_OPTIONS, adminPrincipals: [ADMIN_ROLE], grantThreshold: 3, now: new Date(), trustedAccounts: [TRUSTED_ACCOUNT]},
      pacer: new Pacer({concurrency: 32}),
    })
  })

  it('raises exactly the expected findings on each key, and nothing on the clean keys', () => {
    const got: Record<string, string[]> = {}
    const expected: Record<string, string[]> = {}
    for (const [name, k] of Object.entries(seeded)) {
      expected[name] = k.expect
      got[name] = [...new Set(report.findings.filter((f) => f.keyId === k.keyId).map((f) => f.check))].sort()
    }

    expect(got).to.deep.equal(expected)
    expect(report.keys).to.have.length(Object.keys(seeded).length)
  })

  it('could check every check on every key, and audited every key', () => {
    expect(report.notChecked).to.deep.equal([])
    expect(report.failed).to.deep.equal([])
    expect(report.skipped).to.deep.equal([])
    expect(report.exitCode).to.equal(0)
  })

  it('says how it knows a key was disabled for long', () => {
    const f = report.findings.find((x) => x.check === 'disabled-long')!
    expect(f.message).to.equal('Disabled for more than 90 days (CloudTrail: no DisableKey or CancelKeyDeletion in its 90 days).')
    expect(f.evidence).to.include({atLeastDays: 90, source: 'cloudtrail'})
  })

  it('names the evidence of use of a key pending deletion, and the command that cancels it', () => {
    const f = report.findings.find((x) => x.check === 'pending-deletion-in-use')!
    expect(f.message).to.match(/^Used 0 days ago \(Encrypt at .+, from GetKeyLastUsage\), within 30 days\. It will be deleted on \d{4}-\d{2}-\d{2}\.$/)
    expect(f.command).to.equal(`kmsctl key cancel-deletion ${seeded['pending-deletion'].alias}`)
    expect(f.severity).to.equal('high')
  })

  it('reports the unused key from its last use 100 days ago', () => {
    const f = report.findings.find((x) => x.check === 'unused')!
    expect(f.message).to.match(/^Last used 100 days ago \(Encrypt at .+, from GetKeyLastUsage\), more than 90\.$/)
  })

  it('reports only the grant to the untrusted account', () => {
    const f = report.findings.filter((x) => x.check === 'grant-cross-account')
    expect(f).to.have.length(1)
    expect(f[0].message).to.include('arn:aws:iam::444455556666:role/Partner')
    expect(f[0].command).to.match(/^kmsctl grant revoke alias\/audit-grant-cross-account [0-9a-f]{64}$/)
  })

  it('fills each remedy command with the key\'s alias', () => {
    const f = report.findings.find((x) => x.check === 'rotation-off')!
    expect(f.command).to.equal('kmsctl key rotation enable alias/audit-rotation-off')
    const a = report.findings.find((x) => x.check === 'alias-to-unusable-key' && x.keyId === seeded['alias-disabled'].keyId)!
    expect(a.command).to.equal('kmsctl alias update alias/audit-alias-disabled NEW_KEY')
  })

  it('gives stable fingerprints: the same facts give the same fingerprints', () => {
    const again = buildReport([], {checks: CHECKS, options: {...DEFAULT_OPTIONS, now: new Date()}})
    expect(again.findings).to.deep.equal([])
    const fps = report.findings.map((f) => f.fingerprint)
    expect(new Set(fps).size).to.equal(fps.length)
    for (const fp of fps) expect(fp).to.match(/^[0-9a-f]{32}$/)
  })

  it('knows when a key was disabled from CloudTrail\'s DisableKey event, and from the journal first', async () => {
    const deps = {cloudtrail: async () => sandbox.cloudtrail, kms: sandbox.kms, region: 'us-east-1'}
    const source = {refs: [seeded['alias-disabled'].keyId]}
    const opts = {disabledDays: 90, needs: new Set(['trail'] as const), now: new Date(), recentDays: 30}
    const fromTrail = await collectFacts({...deps, journal: {readAll: () => []}}, source, opts)
    expect(fromTrail.keys[0].disabledSince?.source).to.equal('cloudtrail')
    expect(fromTrail.keys[0].disabledSince?.detail).to.match(/^CloudTrail: DisableKey at \d{4}-/)
    const time = '2026-01-02T03:04:05.000Z'
    const journal = {readAll: () => [{action: 'key.disable', before: {}, id: 'j-1', key: {keyId: seeded['alias-disabled'].keyId}, outcome: {id: 'j-1', status: 'ok' as const, time}, region: 'us-east-1', time}]}
    const fromJournal = await collectFacts({...deps, journal}, source, opts)
    expect(fromJournal.keys[0].disabledSince).to.deep.equal({detail: `kmsctl journal: key.disable at ${time}`, source: 'journal', time})
  })

  it('has an implementation for every registered check, and no other', () => {
    expect(Object.keys(IMPLEMENTATIONS).sort()).to.deep.equal(CHECKS.map((c) => c.id).sort())
  })
})
