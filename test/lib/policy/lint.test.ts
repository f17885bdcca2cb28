import {expect} from 'chai'

import {KMS_REFUSED_CODES, kmsRefusals, lintPolicyText} from '../../../src/lib/policy/lint.js'
import {ACCOUNT, ADMIN, APP, OTHER, defaultPolicy} from './fixtures.js'

const codes = (doc: unknown, keyAccount?: string) => lintPolicyText(typeof doc === 'string' ? doc : JSON.stringify(doc), {keyAccount}).findings.map((f) => f.code)
const st = (extra: Record<string, unknown>) => ({Effect: 'Allow', Principal: {AWS: APP}, Action: 'kms:Decrypt', Resource: '*', ...extra})
const good = defaultPolicy([st({Sid: 'Use'})])

describe('policy lint', () => {
  it('a well-formed least-privilege policy has no findings', () => {
    const r = lintPolicyText(JSON.stringify(good))
    expect(r.findings).to.deep.equal([])
    expect(r.keyAccount).to.equal(ACCOUNT)
  })

  const rules: Array<[string, unknown, unknown]> = [
    ['invalid-json', '{"Statement": [}', good],
    ['invalid-structure', {Statement: [{Effect: 'Maybe', Principal: '*', Action: 'kms:*', Resource: '*'}]}, good],
    ['too-large', defaultPolicy([st({Sid: 'x'.repeat(33_000)})]), good],
    ['invalid-characters', defaultPolicy([st({Sid: 'caf\u00e9\u2603'})]), defaultPolicy([st({Sid: 'caf\u00e9'})])],
    ['missing-action', defaultPolicy([{Effect: 'Allow', Principal: {AWS: APP}, Resource: '*'}]), good],
    ['missing-resource', defaultPolicy([{Effect: 'Allow', Principal: {AWS: APP}, Action: 'kms:Decrypt'}]), good],
    ['resource-not-star', defaultPolicy([st({Resource: `arn:aws:kms:us-east-1:${ACCOUNT}:key/abc`})]), good],
    ['public-principal', defaultPolicy([st({Principal: '*'})]), defaultPolicy([st({Principal: '*', Condition: {StringEquals: {'kms:CallerAccount': ACCOUNT}}})])],
    ['kms-star-non-root', defaultPolicy([st({Action: 'kms:*'})]), good],
    ['separation-of-duties', defaultPolicy([st({Action: ['kms:Decrypt', 'kms:PutKeyPolicy']})]), defaultPolicy([st({Principal: {AWS: ADMIN}, Action: ['kms:PutKeyPolicy']}), st({})])],
    ['create-grant-unrestricted', defaultPolicy([st({Action: 'kms:CreateGrant'})]), defaultPolicy([st({Action: 'kms:CreateGrant', Condition: {Bool: {'kms:GrantIsForAWSResource': 'true'}}})])],
    ['cross-account', defaultPolicy([st({Principal: {AWS: `arn:aws:iam::${OTHER}:role/Reader`}})]), good],
    ['no-admin', {Statement: [st({})]}, {Statement: [st({Principal: {AWS: ADMIN}, Action: 'kms:PutKeyPolicy'}), st({})]}],
    ['context-never-matches', defaultPolicy([st({Action: 'kms:DescribeKey', Condition: {StringEquals: {'kms:EncryptionContext:app': 'web'}}})]), defaultPolicy([st({Condition: {StringEquals: {'kms:EncryptionContext:app': 'web'}}})])],
    ['unknown-action', defaultPolicy([st({Action: 'kms:Decrypts'})]), good],
    ['unknown-operator', defaultPolicy([st({Condition: {StringMaybe: {'kms:ViaService': 'x'}}})]), good],
    ['invalid-principal', defaultPolicy([st({Principal: {AWS: 'bob'}})]), good],
    ['invalid-action', defaultPolicy([st({Action: 'Decrypt'})]), good],
    ['duplicate-sid', defaultPolicy([st({Sid: 'Use'}), st({Sid: 'Use', Action: 'kms:Encrypt'})]), good],
    ['no-statement', {Statement: []}, good],
  ]
  for (const [code, failing, passing] of rules) {
    it(`${code}: flags the failing policy, not the passing one`, () => {
      expect(codes(failing)).to.include(code)
      expect(codes(passing)).to.not.include(code)
    })
  }

  it('tells what KMS itself refuses from what is advice', () => {
    expect(kmsRefusals(JSON.stringify(good))).to.deep.equal([])
    // Accepted by KMS, though lint calls it an error.
    expect(kmsRefusals(JSON.stringify(defaultPolicy([st({Principal: '*'})])))).to.deep.equal([])
    expect(kmsRefusals(JSON.stringify(defaultPolicy([st({Principal: {AWS: 'bob'}})]))).map((f) => f.code)).to.deep.equal(['invalid-principal'])
    expect(kmsRefusals('{"Statement": [}').map((f) => f.code)).to.deep.equal(['invalid-json'])
    expect(KMS_REFUSED_CODES.has('public-principal')).to.equal(false)
  })

  it('points findings at the statement, with severity', () => {
    const r = lintPolicyText(JSON.stringify(defaultPolicy([st({Sid: 'Public', Principal: '*'})])))
    const f = r.findings.find((x) => x.code === 'public-principal')!
    expect(f).to.deep.include({severity: 'error', sid: 'Public', statement: 1})
    expect(f.message).to.match(/^Statement "Public": allows Principal "\*"/)
    expect(r.errors).to.equal(1)
  })

  it('no-admin counts Denies: an admin statement that a Deny overrides does not keep the key manageable', () => {
    const doc = {Statement: [st({Principal: {AWS: ADMIN}, Action: 'kms:PutKeyPolicy'}), {Effect: 'Deny', Principal: '*', Action: 'kms:PutKeyPolicy', Resource: '*'}]}
    expect(codes(doc)).to.include('no-admin')
  })

  it('context-never-matches: contradictory conditions and limited context keys', () => {
    expect(codes(defaultPolicy([st({Condition: {StringEquals: {'kms:EncryptionContext:app': 'web'}, StringLike: {'kms:EncryptionContext:app': 'api-*'}}})]))).to.include('context-never-matches')
    expect(codes(defaultPolicy([st({Condition: {StringEquals: {'kms:EncryptionContext:app': 'api-1'}, StringLike: {'kms:EncryptionContext:app': 'api-*'}}})]))).to.not.include('context-never-matches')
    expect(codes(defaultPolicy([st({Condition: {StringEquals: {'kms:EncryptionContext:app': 'web'}, Null: {'kms:EncryptionContext:app': 'true'}}})]))).to.include('context-never-matches')
    expect(codes(defaultPolicy([st({Condition: {StringEquals: {'kms:EncryptionContext:app': 'web'}, 'ForAllValues:StringEquals': {'kms:EncryptionContextKeys': ['team']}}})]))).to.include('context-never-matches')
  })

  it('cross-account uses the given key account over the inferred one', () => {
    expect(codes(good, OTHER)).to.include('cross-account')
  })
})
