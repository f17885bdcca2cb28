import {expect} from 'chai'

import {globMatch, isGlob} from '../../src/lib/glob.js'

describe('glob (IAM and CloudTrail wildcards)', () => {
  it('* is any run of characters, slashes and newlines included; ? is exactly one character', () => {
    expect(globMatch('arn:aws:iam::*:role/*', 'arn:aws:iam::111122223333:role/app/worker')).to.equal(true)
    expect(globMatch('Create*', 'CreateKey')).to.equal(true)
    expect(globMatch('Create*', 'DescribeKey')).to.equal(false)
    expect(globMatch('a?c', 'abc')).to.equal(true)
    expect(globMatch('a?c', 'a/c')).to.equal(true)
    expect(globMatch('a?c', 'abbc')).to.equal(false)
    expect(globMatch('a?', 'a')).to.equal(false)
    expect(globMatch('*', '')).to.equal(true)
    expect(globMatch('a*', 'a\nb')).to.equal(true)
    expect(globMatch('aws-cli/2.*', 'aws-cli/2.15.0 Python/3.11')).to.equal(true)
  })

  it('everything else is literal: regex characters, brackets, braces, extglobs, negation, backslashes', () => {
    expect(globMatch('a.b*', 'a.bcd')).to.equal(true)
    expect(globMatch('a.b*', 'axbcd')).to.equal(false)
    for (const literal of ['a[b]c', '{a,b}', '!a', 'a+(b)', '@(a)', '(x)', 'a$', '^a', 'a|b', 'a\\b']) {
      expect(globMatch(literal, literal), literal).to.equal(true)
      expect(globMatch(`${literal}*`, `${literal}-x`), `${literal}*`).to.equal(true)
    }

    expect(globMatch('a[b]c', 'abc')).to.equal(false)
    expect(globMatch('{a,b}', 'a')).to.equal(false)
    expect(globMatch('!a', 'b')).to.equal(false)
    expect(globMatch('\\*', '\\x')).to.equal(true)
  })

  it('matches case-sensitively unless asked not to', () => {
    expect(globMatch('KMS:Decrypt', 'kms:decrypt')).to.equal(false)
    expect(globMatch('KMS:Decrypt', 'kms:decrypt', true)).to.equal(true)
    expect(globMatch('kms:*Key', 'KMS:DISABLEKEY', true)).to.equal(true)
    expect(globMatch('ab*', 'AB')).to.equal(false)
  })

  it('knows a pattern from a plain value', () => {
    expect(isGlob('Create*')).to.equal(true)
    expect(isGlob('a?')).to.equal(true)
    expect(isGlob('alias/[x]')).to.equal(false)
  })
})
