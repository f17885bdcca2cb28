import {expect} from 'chai'

import {checkLockout} from '../../../src/lib/policy/lockout.js'
import {ACCOUNT, ADMIN, APP, KEY_ARN, defaultPolicy, policyOf} from './fixtures.js'

const session = `arn:aws:sts::${ACCOUNT}:assumed-role/KeyAdmin/alice`
const admins = (extra: Record<string, unknown> = {}) => ({Sid: 'Admins', Effect: 'Allow', Principal: {AWS: ADMIN}, Action: ['kms:PutKeyPolicy', 'kms:Describe*'], Resource: '*', ...extra})
const current = policyOf({Statement: [admins(), {Sid: 'Use', Effect: 'Allow', Principal: {AWS: APP}, Action: 'kms:Decrypt', Resource: '*'}]})

describe('policy lockout check', () => {
  it('passes when the caller (a session of the admin role) keeps kms:PutKeyPolicy', () => {
    const r = checkLockout(current, {callerArn: session, current, keyArn: KEY_ARN})
    expect(r.ok).to.equal(true)
    expect(r.message).to.contain('statement "Admins"')
  })

  it('passes with a note when the account root delegates to IAM', () => {
    const r = checkLockout(policyOf(defaultPolicy()), {callerArn: session, keyArn: KEY_ARN})
    expect(r.ok).to.equal(true)
    expect(r.note).to.contain('IAM policy must allow kms:PutKeyPolicy')
  })

  it('refuses and names the removed statement', () => {
    const next = policyOf({Statement: [{Sid: 'Use', Effect: 'Allow', Principal: {AWS: APP}, Action: 'kms:Decrypt', Resource: '*'}]})
    const r = checkLockout(next, {callerArn: session, current, keyArn: KEY_ARN})
    expect(r.ok).to.equal(false)
    expect(r.message).to.equal(`The new policy would lock you out: ${session} could no longer call kms:PutKeyPolicy (statement "Admins", which allowed it, is removed).`)
  })

  it('refuses when the statement no longer includes the action, or a Deny takes it', () => {
    const narrowed = policyOf({Statement: [admins({Action: 'kms:Describe*'})]})
    expect(checkLockout(narrowed, {callerArn: session, current, keyArn: KEY_ARN}).message).to.contain('statement "Admins" no longer includes kms:PutKeyPolicy')
    const denied = policyOf({Statement: [admins(), {Sid: 'Freeze', Effect: 'Deny', Principal: '*', Action: 'kms:Put*', Resource: '*'}]})
    const r = checkLockout(denied, {callerArn: session, current, keyArn: KEY_ARN})
    expect(r.ok).to.equal(false)
    expect(r.message).to.contain('statement "Freeze" denies it')
  })

  it('refuses when a condition the caller cannot meet is added', () => {
    const next = policyOf({Statement: [admins({Condition: {Bool: {'aws:MultiFactorAuthPresent': 'true'}}})]})
    const r = checkLockout(next, {callerArn: session, current, keyArn: KEY_ARN})
    expect(r.ok).to.equal(false)
    expect(r.message).to.contain('has a condition you do not meet (aws:MultiFactorAuthPresent is absent')
    expect(r.missingKeys).to.deep.equal(['aws:MultiFactorAuthPresent'])
    expect(checkLockout(next, {callerArn: session, context: {'aws:MultiFactorAuthPresent': true}, current, keyArn: KEY_ARN}).ok).to.equal(true)
  })
})
