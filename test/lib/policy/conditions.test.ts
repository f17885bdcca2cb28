import {expect} from 'chai'

import {arnLike, evaluateCondition} from '../../../src/lib/policy/conditions.js'

const cond = (operator: string, key: string, values: string[]) => ({key, operator, values})

describe('policy conditions', () => {
  it('StringEquals is case-sensitive, StringEqualsIgnoreCase is not, key names are case-insensitive', () => {
    expect(evaluateCondition(cond('StringEquals', 'kms:ViaService', ['s3.x']), {'KMS:VIASERVICE': 's3.x'}).matched).to.equal(true)
    expect(evaluateCondition(cond('StringEquals', 'kms:ViaService', ['s3.x']), {'kms:ViaService': 'S3.x'}).matched).to.equal(false)
    expect(evaluateCondition(cond('StringEqualsIgnoreCase', 'kms:ViaService', ['s3.x']), {'kms:ViaService': 'S3.X'}).matched).to.equal(true)
  })

  it('negated operators match an absent key and no listed value', () => {
    expect(evaluateCondition(cond('StringNotEquals', 'kms:CallerAccount', ['1']), {}).matched).to.equal(true)
    expect(evaluateCondition(cond('StringNotEquals', 'kms:CallerAccount', ['1', '2']), {'kms:CallerAccount': '2'}).matched).to.equal(false)
    expect(evaluateCondition(cond('StringNotLike', 'k', ['a*']), {k: 'b'}).matched).to.equal(true)
  })

  it('Null tests presence', () => {
    expect(evaluateCondition(cond('Null', 'kms:EncryptionContextKeys', ['true']), {}).matched).to.equal(true)
    expect(evaluateCondition(cond('Null', 'kms:EncryptionContextKeys', ['false']), {}).matched).to.equal(false)
    expect(evaluateCondition(cond('Null', 'kms:EncryptionContextKeys', ['false']), {'kms:EncryptionContextKeys': ['a']}).matched).to.equal(true)
  })

  it('Numeric and Date comparisons', () => {
    expect(evaluateCondition(cond('NumericLessThanEquals', 'kms:ScheduleKeyDeletionPendingWindowInDays', ['30']), {'kms:ScheduleKeyDeletionPendingWindowInDays': 7}).matched).to.equal(true)
    expect(evaluateCondition(cond('NumericGreaterThanEquals', 'kms:ScheduleKeyDeletionPendingWindowInDays', ['14']), {'kms:ScheduleKeyDeletionPendingWindowInDays': 7}).matched).to.equal(false)
    expect(evaluateCondition(cond('NumericEquals', 'n', ['x']), {n: 1}).matched).to.equal(false)
    expect(evaluateCondition(cond('DateLessThan', 'aws:CurrentTime', ['2030-01-01T00:00:00Z']), {'aws:CurrentTime': '2026-11-28T12:00:00Z'}).matched).to.equal(true)
    expect(evaluateCondition(cond('DateGreaterThan', 'aws:CurrentTime', ['1893456000']), {'aws:CurrentTime': '2026-11-28T12:00:00Z'}).matched).to.equal(false)
  })

  it('ArnLike compares the six fields separately', () => {
    expect(arnLike('arn:aws:iam::*:role/App*', 'arn:aws:iam::111122223333:role/AppServer')).to.equal(true)
    expect(arnLike('arn:aws:iam::*:role/App*', 'arn:aws:iam::111122223333:user/AppServer')).to.equal(false)
    expect(arnLike('arn:aws:iam::1111222233?3:root', 'arn:aws:iam::111122223333:root')).to.equal(true)
  })


  it('a multi-valued key without a set qualifier matches when any value matches', () => {
    expect(evaluateCondition(cond('StringEquals', 'kms:GrantOperations', ['Decrypt']), {'kms:GrantOperations': ['Encrypt', 'Decrypt']}).matched).to.equal(true)
    expect(evaluateCondition(cond('ForAllValues:StringEquals', 'kms:GrantOperations', ['Decrypt']), {'kms:GrantOperations': ['Encrypt', 'Decrypt']}).matched).to.equal(false)
  })
})
