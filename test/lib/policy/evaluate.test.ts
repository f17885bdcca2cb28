import {expect} from 'chai'

import {evaluate, finalDecision} from '../../../src/lib/policy/evaluate.js'
import {ACCOUNT, ADMIN, APP, APP_SESSION, KEY_ARN, OTHER, USER, defaultPolicy, policyOf} from './fixtures.js'

const ask = (doc: unknown, principal: string, action: string, context = {}) =>
  evaluate(policyOf(doc), {action, context, keyArn: KEY_ARN, principal})

describe('policy evaluate', () => {
  it('denies by default when no statement matches', () => {
    const r = ask({Statement: [{Effect: 'Allow', Principal: {AWS: ADMIN}, Action: 'kms:Decrypt', Resource: '*'}]}, USER, 'kms:Decrypt')
    expect(r.decision).to.equal('implicit-deny')
    expect(r.statements).to.deep.equal([])
    expect(r.reason).to.contain('default deny')
  })

  it('allows a principal named in an Allow, with the deciding statement', () => {
    const r = ask(defaultPolicy([{Sid: 'Use', Effect: 'Allow', Principal: {AWS: [USER]}, Action: ['kms:Decrypt', 'kms:Encrypt'], Resource: '*'}]), USER, 'kms:Decrypt')
    expect(r.decision).to.equal('allow')
    expect(r.statements.map((s) => s.sid)).to.deep.equal(['Use'])
    expect(r.crossAccount).to.equal(false)
  })

  it('matches action names case-insensitively, with * and ? wildcards, and a bare action as kms:', () => {
    const doc = {Statement: [{Effect: 'Allow', Principal: {AWS: USER}, Action: ['KMS:generatedatakey*', 'kms:Re?ncrypt*'], Resource: '*'}]}
    expect(ask(doc, USER, 'kms:GenerateDataKeyWithoutPlaintext').decision).to.equal('allow')
    expect(ask(doc, USER, 'kms:ReEncryptFrom').decision).to.equal('allow')
    expect(ask(doc, USER, 'GenerateDataKey').decision).to.equal('allow')
    expect(ask(doc, USER, 'kms:Decrypt').decision).to.equal('implicit-deny')
  })

  it('lets an explicit Deny win over an Allow', () => {
    const doc = defaultPolicy([
      {Sid: 'Use', Effect: 'Allow', Principal: {AWS: USER}, Action: 'kms:*', Resource: '*'},
      {Sid: 'NoDecrypt', Effect: 'Deny', Principal: '*', Action: 'kms:Decrypt', Resource: '*'},
    ])
    const r = ask(doc, USER, 'kms:Decrypt')
    expect(r.decision).to.equal('deny')
    expect(r.statements.map((s) => s.sid)).to.deep.equal(['NoDecrypt'])
    expect(ask(doc, USER, 'kms:Encrypt').decision).to.equal('allow')
  })

  it('reports the account root principal as delegated to IAM, never as allowed', () => {
    const r = ask(defaultPolicy(), USER, 'kms:Decrypt')
    expect(r.decision).to.equal('delegated-to-iam')
    expect(r.statements[0].sid).to.equal('Enable IAM User Permissions')
    expect(finalDecision(r, false)).to.equal('deny')
    expect(finalDecision(r, true)).to.equal('allow')
  })

  it('treats an account ID as its root principal, and the root user itself as allowed', () => {
    const doc = {Statement: [{Effect: 'Allow', Principal: {AWS: ACCOUNT}, Action: 'kms:*', Resource: '*'}]}
    expect(ask(doc, USER, 'kms:Decrypt').decision).to.equal('delegated-to-iam')
    expect(ask(doc, `arn:aws:iam::${ACCOUNT}:root`, 'kms:Decrypt').decision).to.equal('allow')
    expect(ask(doc, `arn:aws:iam::${OTHER}:user/bob`, 'kms:Decrypt').decision).to.equal('implicit-deny')
  })

  it('denies every principal of an account named by its root in a Deny', () => {
    const doc = defaultPolicy([{Effect: 'Deny', Principal: {AWS: `arn:aws:iam::${ACCOUNT}:root`}, Action: 'kms:ScheduleKeyDeletion', Resource: '*'}])
    expect(ask(doc, USER, 'kms:ScheduleKeyDeletion').decision).to.equal('deny')
  })

  it('matches an assumed-role session as its role (path in the policy) and as its session ARN', () => {
    const withPath = {Statement: [{Effect: 'Allow', Principal: {AWS: `arn:aws:iam::${ACCOUNT}:role/service/App`}, Action: 'kms:Decrypt', Resource: '*'}]}
    expect(ask(withPath, APP_SESSION, 'kms:Decrypt').decision).to.equal('allow')
    const bySession = {Statement: [{Effect: 'Allow', Principal: {AWS: APP_SESSION}, Action: 'kms:Decrypt', Resource: '*'}]}
    expect(ask(bySession, APP_SESSION, 'kms:Decrypt').decision).to.equal('allow')
    const otherRole = {Statement: [{Effect: 'Allow', Principal: {AWS: `arn:aws:iam::${ACCOUNT}:role/Apps`}, Action: 'kms:Decrypt', Resource: '*'}]}
    expect(ask(otherRole, APP_SESSION, 'kms:Decrypt').decision).to.equal('implicit-deny')
  })

  it('matches service principals', () => {
    const doc = {Statement: [{Effect: 'Allow', Principal: {Service: 'logs.us-east-1.amazonaws.com'}, Action: 'kms:Encrypt*', Resource: '*'}]}
    expect(ask(doc, 'logs.us-east-1.amazonaws.com', 'kms:Encrypt').decision).to.equal('allow')
    expect(ask(doc, 'sns.amazonaws.com', 'kms:Encrypt').decision).to.equal('implicit-deny')
  })

  it('NotAction in an Allow allows everything but the listed actions', () => {
    const doc = {Statement: [{Effect: 'Allow', Principal: {AWS: USER}, NotAction: ['kms:ScheduleKeyDeletion', 'kms:Put*'], Resource: '*'}]}
    expect(ask(doc, USER, 'kms:Decrypt').decision).to.equal('allow')
    expect(ask(doc, USER, 'kms:PutKeyPolicy').decision).to.equal('implicit-deny')
  })

  it('NotPrincipal in a Deny spares a session only when its account, role and session are all listed', () => {
    const deny = (listed: string[]) =>
      defaultPolicy([
        {Sid: 'Use', Effect: 'Allow', Principal: {AWS: APP}, Action: 'kms:Decrypt', Resource: '*'},
        {Sid: 'OnlyApp', Effect: 'Deny', NotPrincipal: {AWS: listed}, Action: 'kms:Decrypt', Resource: '*'},
      ])
    expect(ask(deny([APP]), APP_SESSION, 'kms:Decrypt').decision).to.equal('deny')
    expect(ask(deny([APP, APP_SESSION, ACCOUNT]), APP_SESSION, 'kms:Decrypt').decision).to.equal('allow')
    expect(ask(deny([APP, APP_SESSION, ACCOUNT]), USER, 'kms:Decrypt').decision).to.equal('deny')
  })

  it('applies encryption context conditions (StringEquals is case-sensitive on values)', () => {
    const doc = {
      Statement: [
        {Effect: 'Allow', Principal: {AWS: USER}, Action: 'kms:Decrypt', Resource: '*', Condition: {StringEquals: {'kms:EncryptionContext:Dept': 'IT'}}},
      ],
    }
    expect(ask(doc, USER, 'kms:Decrypt', {'kms:encryptioncontext:dept': 'IT'}).decision).to.equal('allow')
    expect(ask(doc, USER, 'kms:Decrypt', {'kms:EncryptionContext:Dept': 'it'}).decision).to.equal('implicit-deny')
    const r = ask(doc, USER, 'kms:Decrypt', {})
    expect(r.decision).to.equal('implicit-deny')
    expect(r.trace[0].conditions[0].reason).to.contain('absent')
  })

  it('IfExists matches when the key is absent but still checks it when present', () => {
    const doc = {
      Statement: [{Effect: 'Allow', Principal: {AWS: USER}, Action: 'kms:Decrypt', Resource: '*', Condition: {StringEqualsIfExists: {'kms:ViaService': 's3.us-east-1.amazonaws.com'}}}],
    }
    expect(ask(doc, USER, 'kms:Decrypt').decision).to.equal('allow')
    expect(ask(doc, USER, 'kms:Decrypt', {'kms:ViaService': 's3.us-east-1.amazonaws.com'}).decision).to.equal('allow')
    expect(ask(doc, USER, 'kms:Decrypt', {'kms:ViaService': 'ec2.us-east-1.amazonaws.com'}).decision).to.equal('implicit-deny')
  })

  it('ForAnyValue and ForAllValues over kms:EncryptionContextKeys (derived from the context)', () => {
    const any = {Statement: [{Effect: 'Allow', Principal: {AWS: USER}, Action: 'kms:Encrypt', Resource: '*', Condition: {'ForAnyValue:StringEquals': {'kms:EncryptionContextKeys': ['app', 'team']}}}]}
    expect(ask(any, USER, 'kms:Encrypt', {'kms:EncryptionContext:app': 'x', 'kms:EncryptionContext:other': 'y'}).decision).to.equal('allow')
    expect(ask(any, USER, 'kms:Encrypt', {'kms:EncryptionContext:other': 'y'}).decision).to.equal('implicit-deny')
    expect(ask(any, USER, 'kms:Encrypt').decision).to.equal('implicit-deny')
    const all = {Statement: [{Effect: 'Allow', Principal: {AWS: USER}, Action: 'kms:Encrypt', Resource: '*', Condition: {'ForAllValues:StringEquals': {'kms:EncryptionContextKeys': ['app', 'team']}}}]}
    expect(ask(all, USER, 'kms:Encrypt', {'kms:EncryptionContext:app': 'x', 'kms:EncryptionContext:team': 'y'}).decision).to.equal('allow')
    expect(ask(all, USER, 'kms:Encrypt', {'kms:EncryptionContext:app': 'x', 'kms:EncryptionContext:other': 'y'}).decision).to.equal('implicit-deny')
    expect(ask(all, USER, 'kms:Encrypt').decision).to.equal('allow')
  })

  it('derives aws:PrincipalArn (the role for a session) and kms:CallerAccount', () => {
    const doc = {
      Statement: [
        {Effect: 'Allow', Principal: '*', Action: 'kms:Decrypt', Resource: '*', Condition: {StringEquals: {'kms:CallerAccount': ACCOUNT}, ArnLike: {'aws:PrincipalArn': `arn:aws:iam::${ACCOUNT}:role/A*`}}},
      ],
    }
    expect(ask(doc, APP_SESSION, 'kms:Decrypt').decision).to.equal('allow')
    expect(ask(doc, USER, 'kms:Decrypt').decision).to.equal('implicit-deny')
    expect(ask(doc, `arn:aws:sts::${OTHER}:assumed-role/App/x`, 'kms:Decrypt').decision).to.equal('implicit-deny')
  })

  it('flags cross-account callers: a key policy allow needs their own IAM policy too', () => {
    const bob = `arn:aws:iam::${OTHER}:user/bob`
    const r = ask({Statement: [{Effect: 'Allow', Principal: {AWS: bob}, Action: 'kms:Decrypt', Resource: '*'}]}, bob, 'kms:Decrypt')
    expect(r.decision).to.equal('allow')
    expect(r.crossAccount).to.equal(true)
    expect(finalDecision(r, false)).to.equal('deny')
    expect(finalDecision(r, true)).to.equal('allow')
    const viaRoot = ask({Statement: [{Effect: 'Allow', Principal: {AWS: OTHER}, Action: 'kms:Decrypt', Resource: '*'}]}, bob, 'kms:Decrypt')
    expect(viaRoot.decision).to.equal('delegated-to-iam')
  })

  it('kms:GrantIsForAWSResource with Bool, and kms:ViaService with StringLike', () => {
    const doc = {
      Statement: [
        {Effect: 'Allow', Principal: {AWS: APP}, Action: 'kms:CreateGrant', Resource: '*', Condition: {Bool: {'kms:GrantIsForAWSResource': true}, StringLike: {'kms:ViaService': 'ec2.*.amazonaws.com'}}},
      ],
    }
    expect(ask(doc, APP, 'kms:CreateGrant', {'kms:GrantIsForAWSResource': true, 'kms:ViaService': 'ec2.eu-west-1.amazonaws.com'}).decision).to.equal('allow')
    expect(ask(doc, APP, 'kms:CreateGrant', {'kms:GrantIsForAWSResource': 'TRUE', 'kms:ViaService': 'ec2.eu-west-1.amazonaws.com'}).decision).to.equal('allow')
    expect(ask(doc, APP, 'kms:CreateGrant', {'kms:GrantIsForAWSResource': false, 'kms:ViaService': 'ec2.eu-west-1.amazonaws.com'}).decision).to.equal('implicit-deny')
    expect(ask(doc, APP, 'kms:CreateGrant', {'kms:GrantIsForAWSResource': true}).decision).to.equal('implicit-deny')
  })

  it('a Deny with NotIpAddress applies when the source IP is outside, and (negated) when it is absent', () => {
    const doc = defaultPolicy([
      {Sid: 'Use', Effect: 'Allow', Principal: {AWS: USER}, Action: 'kms:Decrypt', Resource: '*'},
      {Sid: 'OnlyOffice', Effect: 'Deny', Principal: '*', Action: 'kms:*', Resource: '*', Condition: {NotIpAddress: {'aws:SourceIp': ['192.0.2.0/24', '2001:db8::/32']}}},
    ])
    expect(ask(doc, USER, 'kms:Decrypt', {'aws:SourceIp': '192.0.2.17'}).decision).to.equal('allow')
    expect(ask(doc, USER, 'kms:Decrypt', {'aws:SourceIp': '2001:db8::1'}).decision).to.equal('allow')
    expect(ask(doc, USER, 'kms:Decrypt', {'aws:SourceIp': '198.51.100.1'}).decision).to.equal('deny')
    expect(ask(doc, USER, 'kms:Decrypt', {}).decision).to.equal('deny')
  })

  it('only matches the Resource patterns given the key ARN', () => {
    const doc = {Statement: [{Effect: 'Allow', Principal: {AWS: USER}, Action: 'kms:Decrypt', Resource: 'arn:aws:kms:*:*:key/other'}]}
    expect(ask(doc, USER, 'kms:Decrypt').decision).to.equal('implicit-deny')
  })

  it('reports every statement in the trace with why it did or did not apply', () => {
    const r = ask(defaultPolicy([{Sid: 'Use', Effect: 'Allow', Principal: {AWS: APP}, Action: 'kms:Decrypt', Resource: '*'}]), USER, 'kms:Encrypt')
    expect(r.trace.map((t) => [t.sid, t.principal, t.action, t.applies])).to.deep.equal([
      ['Enable IAM User Permissions', 'account', true, true],
      ['Use', 'none', false, false],
    ])
  })
})
