import {expect} from 'chai'

import {diffPolicies} from '../../../src/lib/policy/diff.js'
import {ACCOUNT, APP, USER, defaultPolicy, policyOf} from './fixtures.js'

const use = (extra: Record<string, unknown> = {}) => ({Sid: 'Use', Effect: 'Allow', Principal: {AWS: APP}, Action: ['kms:Decrypt', 'kms:Encrypt'], Resource: '*', ...extra})

describe('policy diff', () => {
  it('finds no difference between equivalent policies written differently', () => {
    const a = policyOf(defaultPolicy([use(), {Effect: 'Deny', Principal: '*', Action: 'kms:ScheduleKeyDeletion', Resource: '*'}]))
    const b = policyOf({
      Version: '2012-10-17',
      Statement: [
        {Resource: ['*'], Action: ['KMS:ScheduleKeyDeletion'], Principal: {AWS: '*'}, Effect: 'Deny'},
        {Sid: 'Use', Effect: 'Allow', Principal: {AWS: [APP, APP]}, Action: ['kms:Encrypt', 'kms:Decrypt'], Resource: '*'},
        {Sid: 'Enable IAM User Permissions', Effect: 'Allow', Principal: {AWS: ACCOUNT}, Action: ['kms:*'], Resource: '*'},
      ],
    })
    const d = diffPolicies(a, b)
    expect(d.changes).to.deep.equal([])
    expect(d.access).to.equal('unchanged')
    expect(d.unchanged).to.equal(3)
  })

  it('reports an added Allow as widening and a removed Allow as narrowing', () => {
    const before = policyOf(defaultPolicy())
    const after = policyOf(defaultPolicy([use()]))
    const widen = diffPolicies(before, after)
    expect(widen.changes.map((c) => [c.kind, c.access, c.after?.sid])).to.deep.equal([['added', 'widened', 'Use']])
    expect(widen.access).to.equal('widened')
    const narrow = diffPolicies(after, before)
    expect(narrow.changes.map((c) => [c.kind, c.access])).to.deep.equal([['removed', 'narrowed']])
  })

  it('a changed statement: new principal or action widens, new condition narrows', () => {
    const before = policyOf(defaultPolicy([use()]))
    const more = diffPolicies(before, policyOf(defaultPolicy([use({Principal: {AWS: [APP, USER]}, Action: ['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey*']})])))
    expect(more.changes).to.have.length(1)
    expect(more.changes[0].kind).to.equal('changed')
    expect(more.changes[0].access).to.equal('widened')
    expect(more.changes[0].reasons).to.deep.equal([`statement "Use": adds principal ${USER}`, 'statement "Use": adds action kms:GenerateDataKey*'])
    const cond = diffPolicies(before, policyOf(defaultPolicy([use({Condition: {StringEquals: {'kms:ViaService': 's3.us-east-1.amazonaws.com'}}})])))
    expect(cond.access).to.equal('narrowed')
    expect(cond.changes[0].reasons[0]).to.contain('adds condition StringEquals kms:ViaService')
    const removed = diffPolicies(policyOf(defaultPolicy([use({Condition: {StringEquals: {'kms:ViaService': 's3.us-east-1.amazonaws.com'}}})])), before)
    expect(removed.access).to.equal('widened')
    expect(removed.widenedBy[0]).to.contain('removes condition')
  })

  it('removing a Deny widens access, and a Deny gaining actions narrows it', () => {
    const deny = (actions: string[]) => ({Sid: 'NoDelete', Effect: 'Deny', Principal: '*', Action: actions, Resource: '*'})
    const base = policyOf(defaultPolicy([deny(['kms:ScheduleKeyDeletion'])]))
    expect(diffPolicies(base, policyOf(defaultPolicy())).access).to.equal('widened')
    expect(diffPolicies(base, policyOf(defaultPolicy([deny(['kms:ScheduleKeyDeletion', 'kms:DisableKey'])]))).access).to.equal('narrowed')
  })

  it('a renamed Sid alone is a neutral change', () => {
    const d = diffPolicies(policyOf(defaultPolicy([use()])), policyOf(defaultPolicy([use({Sid: 'Usage'})])))
    expect(d.changes.map((c) => [c.kind, c.access])).to.deep.equal([['changed', 'neutral']])
    expect(d.access).to.equal('neutral')
  })

  it('more values in a negated condition narrow an Allow', () => {
    const c = (vals: string[]) => use({Condition: {StringNotEquals: {'kms:CallerAccount': vals}}})
    const d = diffPolicies(policyOf(defaultPolicy([c(['1'])])), policyOf(defaultPolicy([c(['1', '2'])])))
    expect(d.access).to.equal('narrowed')
  })
})
