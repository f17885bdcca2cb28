import {expect} from 'chai'

import {KmsctlError} from '../../../src/lib/errors.js'
import {chooseLookupAttribute} from '../../../src/lib/trail/attribute.js'
import {type FilterSpec, compileFilter, keyFormsFromInput, rawNeedles} from '../../../src/lib/trail/filters.js'
import {groupBy, parseGroupBy} from '../../../src/lib/trail/group.js'
import {type CloudTrailRecord, normalise} from '../../../src/lib/trail/normalise.js'
import {buildFilterSpec} from '../../../src/lib/trail/spec.js'
import * as f from './fixtures.js'
import {rawAdmits} from './prefilter-helpers.js'

const NOW = new Date('2026-11-02T12:00:00Z')

function usage(fn: () => unknown): KmsctlError {
  try {
    fn()
  } catch (error) {
    expect(error).to.be.instanceOf(KmsctlError)
    expect((error as KmsctlError).exitCode).to.equal(2)
    return error as KmsctlError
  }

  throw new Error('expected a usage error')
}

function matches(spec: FilterSpec, record: CloudTrailRecord): boolean {
  return compileFilter(spec)(normalise(record))
}

/** The raw pre-filter must never reject a record the exact filter accepts. */
function needlesAdmit(spec: FilterSpec, record: CloudTrailRecord): boolean {
  return rawAdmits(spec, JSON.stringify(record))
}

function check(spec: FilterSpec, record: CloudTrailRecord, expected: boolean): void {
  expect(matches(spec, record), JSON.stringify(spec)).to.equal(expected)
  if (expected) expect(needlesAdmit(spec, record), `needles ${JSON.stringify(rawNeedles(spec))}`).to.equal(true)
}

describe('trail filters', () => {
  describe('building the spec from flags', () => {
    it('relative times, ISO 8601 dates and times', () => {
      const spec = buildFilterSpec({now: NOW, since: '2h', until: '2026-11-02T11:30:00Z'})
      expect(spec.since).to.equal('2026-11-02T10:00:00.000Z')
      expect(spec.until).to.equal('2026-11-02T11:30:00.000Z')
      expect(buildFilterSpec({now: NOW, since: '7d'}).since).to.equal('2026-10-26T12:00:00.000Z')
      expect(buildFilterSpec({now: NOW, since: '2026-11-01'}).since).to.equal('2026-11-01T00:00:00.000Z')
    })

    it('bad values are usage errors naming the flag, before anything else', () => {
      expect(usage(() => buildFilterSpec({since: 'yesterday-ish'})).message).to.equal('--since "yesterday-ish" is not a time.')
      expect(usage(() => buildFilterSpec({now: NOW, since: '1h', until: '2h'})).message).to.match(/^--since .* is after --until/)
      expect(usage(() => buildFilterSpec({ip: ['10.0.0.0/33']})).message).to.equal('--ip "10.0.0.0/33" is not an IP address or CIDR range.')
      expect(usage(() => buildFilterSpec({ip: ['bogus']})).remedy).to.match(/--ip 203\.0\.113\.7/)
      expect(usage(() => buildFilterSpec({key: ['payments']})).message).to.match(/is not a key ID, key ARN or alias/)
      expect(usage(() => buildFilterSpec({event: ['Decrypt;rm']})).message).to.match(/not an event name/)
      expect(usage(() => buildFilterSpec({readOnly: true, write: true})).message).to.match(/exclude each other/)
      expect(usage(() => parseGroupBy('color')).message).to.equal('--group-by "color" is not one of principal, event, key, ip, user-agent, day.')
    })

    it('comma lists and repeated flags', () => {
      expect(buildFilterSpec({event: ['Decrypt,GenerateDataKey', 'Encrypt']}).events).to.deep.equal(['Decrypt', 'GenerateDataKey', 'Encrypt'])
    })

    it('key forms: ID, ARN (with its region), alias name, alias ARN', () => {
      expect(keyFormsFromInput(f.KEY_ID)).to.deep.equal({aliases: [], id: f.KEY_ID, input: f.KEY_ID})
      expect(keyFormsFromInput(f.KEY_ARN)).to.deep.include({arn: f.KEY_ARN, id: f.KEY_ID, region: 'us-east-1'})
      expect(keyFormsFromInput('alias/payments').aliases).to.deep.equal(['alias/payments'])
      expect(keyFormsFromInput(`arn:aws:kms:us-east-1:${f.ACCOUNT}:alias/payments`).aliases).to.deep.equal(['alias/payments'])
    })
  })

  describe('matching', () => {
    it('KMS events only by default; --all-services widens', () => {
      const s3 = f.record({eventName: 'GetObject', eventSource: 's3.amazonaws.com', resources: []})
      check({}, s3, false)
      check({allServices: true}, s3, true)
      check({}, f.record(), true)
    })

    it('key by ID matches resources[] ARN, the ID as sent and responseElements.keyId', () => {
      const spec = {keys: [keyFormsFromInput(f.KEY_ID)]}
      check(spec, f.record(), true)
      check(spec, f.record({requestParameters: {keyId: 'alias/payments'}}), true)
      check(spec, f.record({requestParameters: {}, resources: [], responseElements: {keyId: f.KEY_ARN}}), true)
      check(spec, f.record({requestParameters: {keyId: f.OTHER_KEY_ID}, resources: [{ARN: f.OTHER_KEY_ARN, type: 'AWS::KMS::Key'}]}), false)
    })

    it('key by alias matches the alias as sent (name or ARN), and its resolved key', () => {
      const unresolved = {keys: [keyFormsFromInput('alias/payments')]}
      check(unresolved, f.record({requestParameters: {keyId: 'alias/payments'}}), true)
      check(unresolved, f.record({requestParameters: {keyId: `arn:aws:kms:us-east-1:${f.ACCOUNT}:alias/payments`}}), true)
      check(unresolved, f.record(), false)
      const resolved = {keys: [{...keyFormsFromInput('alias/payments'), arn: f.KEY_ARN, id: f.KEY_ID}]}
      check(resolved, f.record(), true)
      check(resolved, f.record({requestParameters: {keyId: 'alias/other'}, resources: [{ARN: f.OTHER_KEY_ARN, type: 'AWS::KMS::Key'}]}), false)
    })

    it('key by ARN: a multi-Region key ID in another region does not match', () => {
      const mrk = 'mrk-1234abcd12ab34cd56ef1234567890ab'
      const spec = {keys: [keyFormsFromInput(`arn:aws:kms:us-east-1:${f.ACCOUNT}:key/${mrk}`)]}
      check(spec, f.record({requestParameters: {keyId: mrk}, resources: []}), true)
      check(spec, f.record({awsRegion: 'eu-west-1', requestParameters: {keyId: mrk}, resources: [{ARN: `arn:aws:kms:eu-west-1:${f.ACCOUNT}:key/${mrk}`, type: 'AWS::KMS::Key'}]}), false)
    })

    it('event names and globs, case-sensitive as CloudTrail', () => {
      check({events: ['Decrypt', 'Encrypt']}, f.record(), true)
      check({events: ['GenerateDataKey*']}, f.record({eventName: 'GenerateDataKeyWithoutPlaintext'}), true)
      check({events: ['Create*']}, f.record(), false)
      check({events: ['decrypt']}, f.record(), false)
      check({events: ['*crypt']}, f.record(), true)
    })

    it('principal: substring or glob of the ARN, user name, session, the role behind it', () => {
      const role = f.record({userIdentity: f.assumedRole('Payments', 'i-0abc123')})
      check({principals: ['payments']}, role, true)
      check({principals: ['i-0abc']}, role, true)
      check({principals: ['arn:aws:iam::*:role/service/Pay*']}, role, true)
      check({principals: ['Pay*']}, role, true)
      check({principals: ['alice']}, role, false)
      check({principals: ['alice']}, f.record(), true)
      check({principals: ['s3.amazonaws.com']}, f.record({userIdentity: f.awsService()}), true)
      check({principals: [f.OTHER]}, f.record({userIdentity: f.awsAccount()}), true)
    })

    it('access key, user agent', () => {
      check({accessKeys: ['AKIAIOSFODNN7EXAMPLE']}, f.record(), true)
      check({accessKeys: ['AKIAOTHER']}, f.record(), false)
      check({userAgents: ['aws-cli/*']}, f.record(), true)
      check({userAgents: ['boto3']}, f.record(), false)
    })

    it('IP addresses and CIDR ranges (v4, v6); service names never match a range', () => {
      check({ips: ['203.0.113.0/24']}, f.record(), true)
      check({ips: ['203.0.113.10']}, f.record(), true)
      check({ips: ['10.0.0.0/8']}, f.record(), false)
      check({ips: ['2001:db8::/32']}, f.record({sourceIPAddress: '2001:db8::5'}), true)
      check({ips: ['0.0.0.0/0']}, f.record({sourceIPAddress: 's3.amazonaws.com'}), false)
    })

    it('time bounds are inclusive', () => {
      check({since: '2026-11-02T10:00:00.000Z'}, f.record(), true)
      check({until: '2026-11-02T09:59:59.000Z'}, f.record(), false)
    })

    it('--errors, --denied, --read-only, --write', () => {
      const denied = f.record({errorCode: 'AccessDenied'})
      const failed = f.record({errorCode: 'KMSInvalidStateException'})
      check({errors: true}, failed, true)
      check({errors: true}, f.record(), false)
      check({denied: true}, denied, true)
      check({denied: true}, f.record({errorCode: 'AccessDeniedException'}), true)
      check({denied: true}, failed, false)
      check({readOnly: true}, f.record(), true)
      check({write: true}, f.record(), false)
      check({write: true}, f.record({eventName: 'DisableKey', readOnly: false}), true)
    })

    it('all filters are ANDed', () => {
      const spec = buildFilterSpec({event: ['Decrypt'], key: [f.KEY_ID], now: NOW, principal: ['alice'], since: '1d'})
      check(spec, f.record(), true)
      check(spec, f.record({eventName: 'Encrypt'}), false)
      check(spec, f.record({userIdentity: f.iamUser('mallory')}), false)
    })

  })

  describe('lookup attribute choice', () => {
    it('most selective first', () => {
      const key = keyFormsFromInput(f.KEY_ARN)
      expect(chooseLookupAttribute({accessKeys: ['AKIA1'], events: ['Decrypt'], keys: [key]}).attribute).to.deep.equal({AttributeKey: 'AccessKeyId', AttributeValue: 'AKIA1'})
      expect(chooseLookupAttribute({events: ['Decrypt'], keys: [key]}).attribute).to.deep.equal({AttributeKey: 'ResourceName', AttributeValue: f.KEY_ARN})
      expect(chooseLookupAttribute({events: ['Decrypt'], keys: [keyFormsFromInput('alias/x')]}).attribute).to.deep.equal({AttributeKey: 'EventName', AttributeValue: 'Decrypt'})
      expect(chooseLookupAttribute({events: ['Decrypt', 'Encrypt']}).attribute).to.deep.equal({AttributeKey: 'EventSource', AttributeValue: 'kms.amazonaws.com'})
      expect(chooseLookupAttribute({events: ['Gen*']}).attribute?.AttributeKey).to.equal('EventSource')
      expect(chooseLookupAttribute({principals: ['alice']}).attribute?.AttributeKey).to.equal('EventSource')
      expect(chooseLookupAttribute({allServices: true, write: true}).attribute).to.deep.equal({AttributeKey: 'ReadOnly', AttributeValue: 'false'})
      expect(chooseLookupAttribute({allServices: true}).attribute).to.equal(undefined)
    })
  })

  describe('group-by', () => {
    it('counts, failures, first and last seen, most calls first', () => {
      const events = [
        f.record({eventTime: '2026-11-02T10:00:00Z'}),
        f.record({errorCode: 'AccessDenied', eventTime: '2026-11-02T08:00:00Z'}),
        f.record({eventTime: '2026-11-03T10:00:00Z', userIdentity: f.assumedRole('App', 's')}),
        f.record({eventTime: '2026-11-01T10:00:00Z'}),
      ].map((r) => normalise(r))
      expect(groupBy(events, 'principal')).to.deep.equal([
        {count: 3, errors: 1, first: '2026-11-01T10:00:00Z', last: '2026-11-02T10:00:00Z', value: 'user/alice'},
        {count: 1, errors: 0, first: '2026-11-03T10:00:00Z', last: '2026-11-03T10:00:00Z', value: 'role/App (s)'},
      ])
      expect(groupBy(events, 'day').map((g) => [g.value, g.count])).to.deep.equal([
        ['2026-11-02', 2],
        ['2026-11-01', 1],
        ['2026-11-03', 1],
      ])
    })
  })
})
