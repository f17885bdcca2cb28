import type {KeyMetadata} from '@aws-sdk/client-kms'

import {expect} from 'chai'

import {IMPLEMENTATIONS, buildReport, failsAt, runChecks} from '../../../src/lib/audit/audit.js'
import {CHECKS, checkById, checkForLintCode, selectChecks, validateCheckIds} from '../../../src/lib/audit/registry.js'
import {type AuditOptions, DEFAULT_OPTIONS, type KeyFacts} from '../../../src/lib/audit/types.js'
import {KmsctlError} from '../../../src/lib/errors.js'
import {DAY_MS} from '../../../src/lib/time.js'

const NOW = new Date('2026-12-01T12:00:00Z')
const ACCOUNT = '111122223333'
const KEY_ID = '1234abcd-12ab-34cd-56ef-1234567890ab'
const ARN = `arn:aws:kms:us-east-1:${ACCOUNT}:key/${KEY_ID}`
const options: AuditOptions = {...DEFAULT_OPTIONS, now: NOW}
const ROOT = {Action: 'kms:*', Effect: 'Allow', Principal: {AWS: `arn:aws:iam::${ACCOUNT}:root`}, Resource: '*'}

function facts(extra: Partial<KeyFacts> = {}, meta: Partial<KeyMetadata> = {}): KeyFacts {
  return {
    account: ACCOUNT,
    aliases: ['alias/app'],
    arn: ARN,
    grants: [],
    keyId: KEY_ID,
    lastUsage: {status: 'ok', time: new Date(NOW.getTime() - DAY_MS).toISOString(), trackingSince: '2026-01-01T00:00:00.000Z'},
    metadata: {
      Arn: ARN,
      CreationDate: new Date('2025-01-01T00:00:00Z'),
      Description: 'app data',
      KeyId: KEY_ID,
      KeyManager: 'CUSTOMER',
      KeySpec: 'SYMMETRIC_DEFAULT',
      KeyState: 'Enabled',
      KeyUsage: 'ENCRYPT_DECRYPT',
      Origin: 'AWS_KMS',
      ...meta,
    },
    policyText: JSON.stringify({Statement: [ROOT], Version: '2012-10-17'}),
    region: 'us-east-1',
    rotation: {periodDays: 365, status: 'on'},
    tags: {owner: 'team-a'},
    unavailable: {},
    ...extra,
  }
}

const checksOf = (k: KeyFacts, o: AuditOptions = options) => runChecks([k], CHECKS, o).findings.map((f) => f.check)
const withPolicy = (...statements: object[]) => facts({policyText: JSON.stringify({Statement: [ROOT, ...statements], Version: '2012-10-17'})})

describe('audit checks', () => {
  it('a well-kept key raises nothing', () => {
    expect(runChecks([facts()], CHECKS, options)).to.deep.equal({findings: [], notChecked: []})
  })

  it('policy-deleted-principal: a unique ID in the policy', () => {
    const k = withPolicy({Action: 'kms:Decrypt', Effect: 'Allow', Principal: {AWS: 'AROAJ52OTH4H7LEXAMPLE'}, Resource: '*', Sid: 'Gone'})
    expect(checksOf(k)).to.deep.equal(['policy-deleted-principal'])
    expect(runChecks([k], CHECKS, options).findings[0].message).to.equal('Statement "Gone" (Allow) names AROAJ52OTH4H7LEXAMPLE, the unique ID KMS shows for a principal that was deleted.')
  })

  it('grant-deleted-principal: a grant whose grantee is a unique ID', () => {
    const k = facts({grants: [{grantId: 'a'.repeat(64), granteePrincipal: 'AIDAJQABLZS4A3QDU576Q', keyArn: ARN, keyId: KEY_ID, operations: ['Decrypt']}]})
    expect(checksOf(k)).to.deep.equal(['grant-deleted-principal'])
  })

  it('a grant to a service principal or to the key account is fine', () => {
    const k = facts({
      grants: [
        {grantId: 'b'.repeat(64), granteePrincipal: 'dynamodb.us-east-1.amazonaws.com', keyArn: ARN, keyId: KEY_ID, operations: ['Decrypt']},
        {grantId: 'c'.repeat(64), granteePrincipal: `arn:aws:iam::${ACCOUNT}:role/App`, keyArn: ARN, keyId: KEY_ID, operations: ['Decrypt']},
      ],
    })
    expect(checksOf(k)).to.deep.equal([])
  })

  it('policy-public: Principal "*" without a limiting condition; with aws:PrincipalOrgID it is not public', () => {
    expect(checksOf(withPolicy({Action: 'kms:Decrypt', Effect: 'Allow', Principal: {AWS: '*'}, Resource: '*'}))).to.deep.equal(['policy-public'])
    const limited = withPolicy({Action: 'kms:Decrypt', Condition: {StringEquals: {'aws:PrincipalOrgID': 'o-abc123'}}, Effect: 'Allow', Principal: {AWS: '*'}, Resource: '*'})
    expect(checksOf(limited)).to.deep.equal([])
  })

  it('policy-admin-to-non-admin: kms:* to a role, unless the role is in --admin-principals (kms:* also means separation of duties and unrestricted CreateGrant)', () => {
    const k = withPolicy({Action: 'kms:*', Effect: 'Allow', Principal: {AWS: `arn:aws:iam::${ACCOUNT}:role/Ops`}, Resource: '*'})
    expect(checksOf(k)).to.deep.equal(['policy-admin-to-non-admin', 'policy-separation-of-duties', 'policy-create-grant-unrestricted'])
    expect(checksOf(k, {...options, adminPrincipals: [`arn:aws:iam::${ACCOUNT}:role/Ops`]})).to.deep.equal(['policy-separation-of-duties', 'policy-create-grant-unrestricted'])
    const admin = withPolicy({Action: ['kms:ScheduleKeyDeletion'], Effect: 'Allow', Principal: {AWS: `arn:aws:iam::${ACCOUNT}:user/dev`}, Resource: '*', Sid: 'Dev'})
    expect(runChecks([admin], CHECKS, options).findings.map((f) => f.message)).to.deep.equal([
      `Statement "Dev" allows kms:ScheduleKeyDeletion to arn:aws:iam::${ACCOUNT}:user/dev, which is not an administrator (the account root).`,
    ])
  })

  it('policy-cross-account: another account, unless trusted', () => {
    const k = withPolicy({Action: 'kms:Decrypt', Effect: 'Allow', Principal: {AWS: '444455556666'}, Resource: '*'})
    expect(checksOf(k)).to.deep.equal(['policy-cross-account'])
    expect(checksOf(k, {...options, trustedAccounts: ['444455556666']})).to.deep.equal([])
  })

  it('every policy lint finding becomes an audit finding: malformed, unknown action, context that never matches', () => {
    const malformed = facts({policyText: JSON.stringify({Statement: [{...ROOT, Resource: undefined}], Version: '2012-10-17'})})
    expect(checksOf(malformed)).to.include('policy-malformed')
    expect(checksOf(withPolicy({Action: 'kms:Decrpyt', Effect: 'Allow', Principal: {AWS: `arn:aws:iam::${ACCOUNT}:role/App`}, Resource: '*'}))).to.deep.equal(['policy-unknown-action'])
    const never = withPolicy({
      Action: 'kms:DescribeKey',
      Condition: {StringEquals: {'kms:EncryptionContext:app': 'web'}},
      Effect: 'Allow',
      Principal: {AWS: `arn:aws:iam::${ACCOUNT}:role/App`},
      Resource: '*',
    })
    expect(checksOf(never)).to.deep.equal(['policy-context-never-matches'])
    expect(checksOf(facts({policyText: '{not json'}))).to.deep.equal(['policy-malformed'])
  })

  it('maps each lint code to one check', () => {
    const codes = ['invalid-json', 'invalid-structure', 'unknown-operator', 'missing-principal', 'too-large', 'invalid-characters', 'missing-action', 'missing-resource', 'resource-not-star']
    for (const c of codes) expect(checkForLintCode(c).id).to.equal('policy-malformed')
    expect(checkForLintCode('public-principal').id).to.equal('policy-public')
    expect(checkForLintCode('no-admin').id).to.equal('policy-no-admin')
    expect(checkForLintCode('separation-of-duties').id).to.equal('policy-separation-of-duties')
    expect(checkForLintCode('create-grant-unrestricted').id).to.equal('policy-create-grant-unrestricted')
    expect(checkForLintCode('something-new').id).to.equal('policy-lint')
  })

  it('rotation-off only where automatic rotation is possible', () => {
    expect(checksOf(facts({rotation: {status: 'off'}}))).to.deep.equal(['rotation-off'])
    expect(checksOf(facts({rotation: {reason: 'keys with imported material rotate on demand only', status: 'n/a'}}, {Origin: 'EXTERNAL'}))).to.deep.equal([])
  })

  it('disabled-long from the journal says so; within the limit it is fine', () => {
    const k = facts({disabledSince: {detail: 'kmsctl journal: key.disable at 2026-06-01T00:00:00.000Z', source: 'journal', time: '2026-06-01T00:00:00.000Z'}}, {KeyState: 'Disabled'})
    const r = runChecks([k], CHECKS, options).findings.filter((f) => f.check === 'disabled-long')
    expect(r.map((f) => f.message)).to.deep.equal(['Disabled for 183 days (since 2026-06-01; kmsctl journal: key.disable at 2026-06-01T00:00:00.000Z), more than 90.'])
    expect(checksOf(k, {...options, disabledDays: 200})).to.not.include('disabled-long')
  })

  it('disabled-long that cannot be told is reported as not checked, with why', () => {
    const k = facts({unavailable: {LookupEvents: 'not allowed: cloudtrail:LookupEvents'}}, {KeyState: 'Disabled'})
    expect(runChecks([k], CHECKS, options).notChecked).to.deep.equal([
      {check: 'disabled-long', keyId: KEY_ID, reason: 'when the key was disabled is not known (CloudTrail: not allowed: cloudtrail:LookupEvents)'},
    ])
  })

  it('pending-deletion-in-use from CloudTrail: refused calls on a key pending deletion show it is still needed', () => {
    const k = facts(
      {
        lastUsage: {status: 'ok', time: '2026-01-01T00:00:00.000Z'},
        trail: {
          callers: [],
          count: 4,
          events: [{event: 'Decrypt', eventId: 'e1', from: '10.0.0.1', outcome: 'KMSInvalidStateException', time: '2026-11-30T10:00:00Z', who: 'role/App'}],
          pages: 1,
          status: 'ok',
          truncated: false,
        },
      },
      {DeletionDate: new Date('2026-12-07T00:00:00Z'), KeyState: 'PendingDeletion'},
    )
    const f = runChecks([k], CHECKS, options).findings.filter((x) => x.check === 'pending-deletion-in-use')
    expect(f.map((x) => x.message)).to.deep.equal([
      '4 cryptographic call(s) in CloudTrail within 30 days, the newest Decrypt by role/App at 2026-11-30T10:00:00Z (KMSInvalidStateException). It will be deleted on 2026-12-07.',
    ])
    const quiet = facts({lastUsage: {status: 'ok', time: '2026-01-01T00:00:00.000Z'}, trail: {callers: [], count: 0, events: [], pages: 1, status: 'ok', truncated: false}}, {KeyState: 'PendingDeletion'})
    expect(checksOf(quiet)).to.deep.equal(['alias-to-unusable-key'])
  })

  it('unused: never used since tracking began more than N days ago', () => {
    const k = facts({lastUsage: {status: 'ok', trackingSince: '2026-03-01T00:00:00.000Z'}})
    const f = runChecks([k], CHECKS, options).findings
    expect(f.map((x) => x.message)).to.deep.equal(['Never used since KMS began tracking use (2026-03-01), 275 days ago (from GetKeyLastUsage).'])
  })

  it('a read that failed makes its checks "not checked", not clean', () => {
    const k = facts({policyText: undefined, unavailable: {GetKeyPolicy: 'not allowed: kms:GetKeyPolicy'}})
    const r = runChecks([k], CHECKS, options)
    expect(r.findings).to.deep.equal([])
    expect(r.notChecked.map((n) => n.check)).to.deep.equal(CHECKS.filter((c) => c.group === 'policy').map((c) => c.id))
    expect(r.notChecked[0].reason).to.equal('GetKeyPolicy: not allowed: kms:GetKeyPolicy')
  })

  it('--require-tags none requires nothing; several tags are each required', () => {
    expect(checksOf(facts({tags: {}}), {...options, requireTags: []})).to.deep.equal([])
    const r = runChecks([facts({tags: {owner: 'a'}})], CHECKS, {...options, requireTags: ['owner', 'cost-center']}).findings
    expect(r.map((f) => f.message)).to.deep.equal(['The key has no "cost-center" tag.'])
  })

  it('--fail-on compares severities: low < medium < high', () => {
    const r = runChecks([facts({rotation: {status: 'off'}})], CHECKS, options).findings
    expect(failsAt(r, 'low')).to.equal(true)
    expect(failsAt(r, 'medium')).to.equal(true)
    expect(failsAt(r, 'high')).to.equal(false)
    expect(failsAt(r, undefined)).to.equal(false)
    expect(buildReport([facts({rotation: {status: 'off'}})], {checks: CHECKS, failOn: 'medium', options}).exitCode).to.equal(1)
    expect(buildReport([facts({rotation: {status: 'off'}})], {checks: CHECKS, failOn: 'high', options}).exitCode).to.equal(0)
  })
})

describe('audit check registry', () => {
  it('has unique IDs, and an implementation and a one-line reason for each', () => {
    const ids = CHECKS.map((c) => c.id)
    expect(new Set(ids).size).to.equal(ids.length)
    for (const c of CHECKS) {
      expect(IMPLEMENTATIONS[c.id], c.id).to.be.a('function')
      expect(c.reason, c.id).to.not.include('\n')
      if (c.command) expect(c.command, c.id).to.match(/^kmsctl /)
    }
  })

  it('an unknown check ID is a usage error with the closest IDs', () => {
    let error: KmsctlError | undefined
    try {
      validateCheckIds(['rotation-of'], '--only')
    } catch (error_) {
      error = error_ as KmsctlError
    }

    expect(error?.exitCode).to.equal(2)
    expect(error?.message).to.equal('--only "rotation-of" is not an audit check.')
    expect(error?.remedy).to.equal('Try this: did you mean rotation-off? (kmsctl audit checks lists them)')
  })

  it('--only and --skip select checks in registry order', () => {
    expect(selectChecks(['unused', 'rotation-off'], []).map((c) => c.id)).to.deep.equal(['rotation-off', 'unused'])
    expect(selectChecks([], ['rotation-off']).map((c) => c.id)).to.not.include('rotation-off')
    expect(checkById('policy-public').severity).to.equal('high')
  })
})
