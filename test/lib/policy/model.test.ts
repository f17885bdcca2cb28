import {expect} from 'chai'

import {parseOperator, parsePolicy, stablePolicyJson} from '../../../src/lib/policy/model.js'

describe('policy model', () => {
  it('normalises Statement object vs list, strings vs lists, account IDs, order and duplicates', () => {
    const a = parsePolicy(JSON.stringify({Statement: {Effect: 'Allow', Principal: {AWS: '111122223333'}, Action: 'kms:Decrypt', Resource: '*'}}))
    const b = parsePolicy(JSON.stringify({Statement: [{Resource: ['*'], Action: ['kms:Decrypt', 'KMS:decrypt'], Principal: {AWS: ['arn:aws:iam::111122223333:root']}, Effect: 'Allow'}]}))
    expect(a.problems).to.deep.equal([])
    expect(a.policy!.statements[0].principal).to.deep.equal({not: false, values: [{type: 'AWS', value: 'arn:aws:iam::111122223333:root'}]})
    const strip = (r: typeof a) => r.policy!.statements.map(({raw: _raw, ...rest}) => rest)
    expect(strip(a)).to.deep.equal(strip(b))
  })

  it('normalises conditions: values as strings, sorted, operator in canonical case', () => {
    const {policy} = parsePolicy(JSON.stringify({
      Statement: [{Effect: 'Allow', Principal: '*', Action: 'kms:*', Resource: '*', Condition: {'foranyvalue:stringlikeifexists': {k: ['b', 'a']}, Bool: {'kms:GrantIsForAWSResource': true}}}],
    }))
    expect(policy!.statements[0].conditions).to.deep.equal([
      {key: 'kms:GrantIsForAWSResource', operator: 'Bool', values: ['true']},
      {key: 'k', operator: 'ForAnyValue:StringLikeIfExists', values: ['a', 'b']},
    ])
  })

  it('reports invalid JSON, missing Statement, bad Effect, both Action and NotAction, unknown operators', () => {
    expect(parsePolicy('{"Statement": [').problems[0].code).to.equal('invalid-json')
    expect(parsePolicy('{}').problems[0].message).to.contain('no Statement')
    const bad = parsePolicy(JSON.stringify({Statement: [
      {Sid: 'A', Effect: 'Permit', Principal: '*', Action: 'kms:*', Resource: '*'},
      {Sid: 'B', Effect: 'Allow', Principal: '*', Action: 'kms:*', NotAction: 'kms:Decrypt', Resource: '*'},
      {Sid: 'C', Effect: 'Allow', Principal: '*', Action: 'kms:*', Resource: '*', Condition: {StringSortOf: {k: 'v'}}},
    ]}))
    expect(bad.problems.map((p) => [p.code, p.sid])).to.deep.equal([['invalid-structure', 'A'], ['invalid-structure', 'B'], ['unknown-operator', 'C']])
    expect(bad.policy!.statements).to.have.length(0)
  })

  it('refuses more than 32,768 bytes and characters outside Latin-1', () => {
    const big = JSON.stringify({Statement: [{Sid: 'x'.repeat(33_000), Effect: 'Allow', Principal: '*', Action: 'kms:*', Resource: '*'}]})
    expect(parsePolicy(big).problems.map((p) => p.code)).to.include('too-large')
    const emoji = parsePolicy('{"Statement": [{"Sid": "caf\u00e9 \u2603", "Effect": "Allow", "Principal": "*", "Action": "kms:*", "Resource": "*"}]}')
    expect(emoji.problems.map((p) => p.code)).to.deep.equal(['invalid-characters'])
    expect(emoji.problems[0].message).to.contain('U+2603')
  })

  it('parses operators with qualifiers', () => {
    expect(parseOperator('ForAllValues:StringEqualsIfExists')).to.deep.include({base: 'StringEquals', ifExists: true, set: 'ForAllValues'})
    expect(parseOperator('NullIfExists')).to.equal(undefined)
    expect(parseOperator('Sometimes:StringEquals')).to.equal(undefined)
  })

  it('prints JSON with a stable key order', () => {
    expect(stablePolicyJson({Statement: [{Resource: '*', Action: 'a', Effect: 'Allow', Sid: 's', Principal: '*'}], Version: '2012-10-17'})).to.equal(
      '{\n  "Version": "2012-10-17",\n  "Statement": [\n    {\n      "Sid": "s",\n      "Effect": "Allow",\n      "Principal": "*",\n      "Action": "a",\n      "Resource": "*"\n    }\n  ]\n}\n',
    )
  })
})
