// The raw pre-filter of the files source never drops a record the exact filter keeps: property-style
// checks over generated records and filters (fixed seed), with tricky values (quotes, backslashes,
// slashes, non-ASCII, the two characters whose lower case is ASCII), every way JSON may spell them
// (\/ and \uXXXX escapes, upper- or lower-case hex, spaces between tokens), patterns in any case and
// globs, and addresses in the forms the --ip filter accepts (and the legacy ones it does not).
import {expect} from 'chai'

import {type FilterSpec, compileFilter, keyFormsFromInput, rawNeedles} from '../../../src/lib/trail/filters.js'
import {type CloudTrailRecord, normalise} from '../../../src/lib/trail/normalise.js'
import * as f from './fixtures.js'
import {rawAdmits} from './prefilter-helpers.js'

function prng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296
  }
}

const rand = prng(20_261_205)
const pick = <T>(list: readonly T[]): T => list[Math.floor(rand() * list.length)]
const chance = (p: number) => rand() < p

const NAMES = ['alice', 'Payments', 'PAYMENTS-admin', 'ops"quoted', 'back\\slash', 'path/to/role', 'Kelvin\u212Aey', 'K-admin', 'İnfra', 'istanbul', 'émile', 'data_eng+ci@example.com', 'role', 'user', 'via', 'account 9', 'x (y)', 'svc[1]', 'a/b/c/deep/e/f', '////']
const AGENTS = ['aws-cli/2.15.0 Python/3.11.6', 'Boto3/1.34.0 md/Botocore#1.34.0', 'console.amazonaws.com', 'kmsctl/0.1.0 "quoted"', 'AWS Internal', 'Mozilla/5.0 (X11; \u212Aernel)', 'İOS-app/1']
const IPS = ['203.0.113.10', '10.1.2.3', '10.255.0.1', '::ffff:10.1.2.3', '2001:db8::1', '2001:DB8:0:0:0:0:0:2', 's3.amazonaws.com', 'AWS Internal', '192.168.0.1', '0xa.1.2.3', '010.1.2.3', '167772161']

function identity(): Record<string, unknown> {
  const name = pick(NAMES)
  switch (Math.floor(rand() * 6)) {
    case 0:
      return f.iamUser(name)
    case 1:
      return f.assumedRole(name, pick(NAMES).replaceAll('/', '-'))
    case 2:
      return f.awsService(chance(0.5) ? 's3.amazonaws.com' : name)
    case 3:
      return {...f.awsInternal(), accountId: chance(0.5) ? f.ACCOUNT : f.OTHER}
    case 4:
      return {...f.samlUser(), userName: name}
    default:
      return {...f.federatedUser(), arn: `arn:aws:sts::${f.ACCOUNT}:federated-user/${name}`}
  }
}

function generateRecord(): CloudTrailRecord {
  const overrides: Partial<CloudTrailRecord> = {
    eventName: pick(['Decrypt', 'Encrypt', 'GenerateDataKey', 'DisableKey', 'CreateGrant']),
    sourceIPAddress: pick(IPS),
    userAgent: pick(AGENTS),
    userIdentity: identity() as CloudTrailRecord['userIdentity'],
  }
  if (chance(0.3)) {
    const ref = pick([f.KEY_ID, f.KEY_ID.toUpperCase(), f.KEY_ARN, 'alias/pay/ments', f.OTHER_KEY_ID])
    overrides.requestParameters = {keyId: ref}
    overrides.resources = []
  }

  if (chance(0.3)) overrides.errorCode = pick(['AccessDenied', 'AccessDeniedException', 'ThrottlingException'])
  if (chance(0.2)) overrides.eventSource = 's3.amazonaws.com'
  if (chance(0.5)) overrides.userIdentity = {...overrides.userIdentity, accessKeyId: pick(['AKIAIOSFODNN7EXAMPLE', 'ASIA"ODD\\KEY', 'AKIA/SLASH', 'AK/1/2/3/4/5', '////'])}
  return f.record(overrides)
}

/** A JSON string literal, each character escaped as \uXXXX with probability p (hex in either case). */
function quote(s: string, p: number): string {
  let out = ''
  for (const ch of JSON.stringify(s).slice(1, -1).match(/\\u[\da-f]{4}|\\.|[\s\S]/gi) ?? []) {
    if (ch.length === 1 && chance(p)) {
      const hex = ch.charCodeAt(0).toString(16).padStart(4, '0')
      out += `\\u${chance(0.5) ? hex : hex.toUpperCase()}`
    } else out += ch
  }

  return `"${out}"`
}

/** JSON text of a value, in one of the ways a writer may spell it. */
function spell(value: unknown, style: {escapes: number; slashes: boolean; spaces: boolean}): string {
  const sp = style.spaces ? ' ' : ''
  if (typeof value === 'string') {
    const q = quote(value, style.escapes)
    return style.slashes ? q.replaceAll('/', '\\/') : q
  }

  if (Array.isArray(value)) return `[${value.map((v) => spell(v, style)).join(`,${sp}`)}]`
  if (value && typeof value === 'object') {
    return `{${Object.entries(value)
      .map(([k, v]) => `${quote(k, style.escapes)}${sp}:${sp}${spell(v, style)}`)
      .join(`,${sp}`)}}`
  }

  return JSON.stringify(value)
}

/** A piece of a value as a user might type it: a substring in any case, or a glob around it. */
function patternFrom(value: string, glob: boolean): string {
  const a = Math.floor(rand() * value.length)
  const b = a + 1 + Math.floor(rand() * (value.length - a))
  let piece = value.slice(a, b)
  piece = [...piece].map((ch) => (chance(0.3) ? (chance(0.5) ? ch.toUpperCase() : ch.toLowerCase()) : ch)).join('')
  if (!glob) return piece
  if (chance(0.3)) piece = piece.replace(/.(?!$)/, '?')
  return `${a > 0 ? '*' : ''}${piece}${b < value.length ? '*' : ''}`
}

function specFor(record: CloudTrailRecord): FilterSpec {
  const event = normalise(record)
  const spec: FilterSpec = {}
  if (chance(0.5)) {
    const values = [event.principal.arn, event.principal.name, event.principal.issuerName, event.principal.invokedBy, event.principal.account, event.who].filter((v): v is string => Boolean(v))
    if (values.length > 0) spec.principals = [patternFrom(pick(values), chance(0.3)), ...(chance(0.2) ? [pick(NAMES)] : [])]
  }

  if (chance(0.4) && event.userAgent) spec.userAgents = [patternFrom(event.userAgent, chance(0.3))]
  if (chance(0.3)) spec.keys = [keyFormsFromInput(pick([f.KEY_ID, f.KEY_ARN, 'alias/pay/ments', f.OTHER_KEY_ID]))]
  if (chance(0.3)) spec.events = [chance(0.5) ? event.event : `${event.event.slice(0, 3)}*`]
  if (chance(0.3)) spec.accessKeys = [event.principal.accessKeyId ?? 'AKIAIOSFODNN7EXAMPLE']
  if (chance(0.3)) spec.ips = [pick(['10.0.0.0/8', '10.1.2.3', '::ffff:10.1.0.0/112', '2001:db8::/32', '203.0.113.0/24'])]
  if (chance(0.15)) spec.errors = true
  if (chance(0.15)) spec.denied = true
  if (chance(0.2)) spec.allServices = true
  return spec
}

describe('trail files: the raw pre-filter never drops a matching record', () => {
  it('over 2,000 generated records and filters, each record spelt four ways', () => {
    let matched = 0
    let pruned = 0
    for (let i = 0; i < 2000; i++) {
      const record = generateRecord()
      const spec = specFor(record)
      const keep = compileFilter(spec)(normalise(record))
      const plain = JSON.stringify(record)
      const spellings = [
        plain,
        spell(record, {escapes: 0, slashes: true, spaces: false}),
        spell(record, {escapes: 0.15, slashes: false, spaces: false}),
        spell(record, {escapes: 0.05, slashes: true, spaces: true}),
      ]
      for (const text of spellings) {
        expect(JSON.parse(text), 'the spelling is the same record').to.deep.equal(record)
        const admitted = rawAdmits(spec, text)
        if (keep && !admitted) expect.fail(`dropped a match: spec ${JSON.stringify(spec)}, needles ${JSON.stringify(rawNeedles(spec))}\nrecord ${text}`)
      }

      if (keep) matched++
      else if (!rawAdmits(spec, plain)) pruned++
    }

    // The generator must exercise both sides: many matches, and many records pruned without parsing.
    expect(matched).to.be.greaterThan(200)
    expect(pruned).to.be.greaterThan(200)
  })

  it('escaped quotes, \\u escapes of plain letters, and case', () => {
    const r = f.record({userIdentity: f.iamUser('ops"team'), userAgent: 'MyAgent/1.0'})
    const text = JSON.stringify(r).replace('MyAgent', '\\u004dy\\u0041gent')
    expect(JSON.parse(text)).to.deep.equal(r)
    expect(rawAdmits({userAgents: ['myagent']}, text)).to.equal(true)
    expect(rawAdmits({principals: ['OPS"TEAM']}, JSON.stringify(r))).to.equal(true)
    expect(rawAdmits({principals: ['ops"t*']}, JSON.stringify(r))).to.equal(true)
    // And it does prune: neither value is in the record.
    expect(rawAdmits({userAgents: ['boto3']}, JSON.stringify(r))).to.equal(false)
    expect(rawAdmits({principals: ['payments']}, JSON.stringify(r))).to.equal(false)
  })

  it('values with many slashes: searched by a piece (never quoted as if whole), or not at all', () => {
    for (const value of ['AK/1/2/345/6/7', '////', 'x/y']) {
      const r = f.record({userAgent: value, userIdentity: {...f.iamUser('alice'), accessKeyId: value}})
      for (const text of [JSON.stringify(r), JSON.stringify(r).replaceAll('/', '\\/')]) {
        expect(rawAdmits({accessKeys: [value]}, text), value).to.equal(true)
        expect(rawAdmits({userAgents: [value]}, text), value).to.equal(true)
      }
    }
  })

  it('key IDs compare in any case: a record naming the key in capitals is kept', () => {
    const upper = f.KEY_ID.toUpperCase()
    const r = f.record({requestParameters: {keyId: upper}, resources: []})
    const spec: FilterSpec = {keys: [{aliases: [], id: f.KEY_ID, input: f.KEY_ID}]}
    expect(compileFilter(spec)(normalise(r))).to.equal(true)
    expect(rawAdmits(spec, JSON.stringify(r))).to.equal(true)
    const mrk = 'mrk-1234abcd12ab34cd56ef1234567890ab'
    const m = f.record({requestParameters: {keyId: mrk.toUpperCase()}, resources: []})
    const mspec: FilterSpec = {keys: [{aliases: [], id: mrk, input: mrk}]}
    expect(compileFilter(mspec)(normalise(m))).to.equal(true)
    expect(rawAdmits(mspec, JSON.stringify(m))).to.equal(true)
    expect(rawAdmits(spec, JSON.stringify(f.record({requestParameters: {keyId: f.OTHER_KEY_ID}, resources: []})))).to.equal(false)
  })

  it('the two characters whose lower case is ASCII: KELVIN SIGN (k) and U+0130 (i)', () => {
    const r = f.record({userIdentity: f.iamUser('\u212Aate-\u0130nfra')})
    expect(compileFilter({principals: ['kate']})(normalise(r))).to.equal(true)
    expect(rawAdmits({principals: ['kate']}, JSON.stringify(r))).to.equal(true)
    expect(compileFilter({principals: ['i\u0307nfra']})(normalise(r))).to.equal(true)
    expect(rawAdmits({principals: ['i\u0307nfra']}, JSON.stringify(r))).to.equal(true)
  })

  it('principal pieces that the who column could make up (role/, " via ") do not prune', () => {
    const r = f.record({userIdentity: f.assumedRole('Payments', 'build')})
    // "role/payments (build)": matches the who column, not any single value of the record.
    expect(compileFilter({principals: ['payments (build']})(normalise(r))).to.equal(true)
    expect(rawAdmits({principals: ['payments (build']}, JSON.stringify(r))).to.equal(true)
    expect(rawNeedles({principals: ['role/x'], allServices: true})).to.deep.equal([])
  })

  it('--ip reads the address itself: every form ipaddr accepts, escapes, and pruning of the rest', () => {
    for (const ip of ['10.1.2.3', '::ffff:10.1.2.3', '::FFFF:10.1.2.3', '::ffff:a01:203']) {
      const r = f.record({sourceIPAddress: ip})
      expect(compileFilter({ips: ['10.0.0.0/8']})(normalise(r)), ip).to.equal(true)
      expect(rawAdmits({ips: ['10.0.0.0/8']}, JSON.stringify(r)), ip).to.equal(true)
    }

    // Legacy IPv4 spellings are not addresses to the filter, and the pre-filter agrees.
    for (const ip of ['0xa.1.2.3', '167772161', '010.1.2.3']) {
      const r = f.record({sourceIPAddress: ip})
      expect(compileFilter({ips: ['10.0.0.0/8']})(normalise(r)), ip).to.equal(false)
      expect(rawAdmits({ips: ['10.0.0.0/8']}, JSON.stringify(r)), ip).to.equal(false)
    }

    const escaped = JSON.stringify(f.record({sourceIPAddress: '10.1.2.3'})).replace('"10.1.2.3"', '"10\\u002e1.2.3"')
    expect(rawAdmits({ips: ['10.0.0.0/8']}, escaped)).to.equal(true)
    expect(rawAdmits({ips: ['10.0.0.0/8']}, JSON.stringify(f.record({sourceIPAddress: '203.0.113.10'})))).to.equal(false)
    expect(rawAdmits({ips: ['10.0.0.0/8']}, JSON.stringify(f.record({sourceIPAddress: 's3.amazonaws.com'})))).to.equal(false)
  })

  it('--ip on plain dotted-decimal addresses is exact: admitted exactly when the filter keeps the record', () => {
    const octet = () => Math.floor(rand() * 256)
    let kept = 0
    for (let i = 0; i < 1000; i++) {
      const address = chance(0.5) ? `10.${octet()}.${octet()}.${octet()}` : `${octet()}.${octet()}.${octet()}.${octet()}`
      const bits = Math.floor(rand() * 33)
      const range = pick([`10.${octet()}.0.0/${bits}`, `${address}`, `::ffff:10.${octet()}.0.0/${96 + bits}`, `::/${bits}`, `${octet()}.0.0.0/${Math.min(bits, 8)}`])
      const spec: FilterSpec = {allServices: true, ips: [range]}
      const r = f.record({sourceIPAddress: address})
      const keep = compileFilter(spec)(normalise(r))
      if (keep) kept++
      expect(rawAdmits(spec, JSON.stringify(r)), `${address} in ${range}`).to.equal(keep)
    }

    expect(kept).to.be.greaterThan(100)
  })
})

