import {expect} from 'chai'
import {mkdirSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {gzipSync} from 'node:zlib'

import {
  athenaCostUsd,
  buildAthenaQuery,
  buildCreateTable,
  inlineParameters,
  likePattern,
  parseTableName,
  sqlString,
} from '../../../src/lib/trail/athena-sql.js'
import {compileFilter, keyFormsFromInput} from '../../../src/lib/trail/filters.js'
import {normalise} from '../../../src/lib/trail/normalise.js'
import {recordFromAthenaRow} from '../../../src/lib/trail/sources/athena.js'
import {buildFilterSpec} from '../../../src/lib/trail/spec.js'
import {sqlEngine} from '../../../src/sandbox/sql/engine.js'
import * as f from './fixtures.js'

const TABLE = {database: 'security', table: 'cloudtrail'}

describe('athena SQL builder', () => {
  it('sends every value as an execution parameter, quotes doubled, never in the statement', () => {
    const hostile = "x'; DROP TABLE cloudtrail; --"
    const q = buildAthenaQuery(TABLE, buildFilterSpec({principal: ["o'brien"], userAgent: [hostile], event: ['Decrypt', 'Gen*']}))
    expect(q.sql).to.not.include('brien')
    expect(q.sql).to.not.include('DROP')
    expect(q.sql).to.not.include('Decrypt')
    expect(q.parameters).to.include("'o''brien'")
    expect(q.parameters).to.include("'x''; drop table cloudtrail; --'")
    expect(q.parameters).to.include("'Decrypt'")
    expect(q.parameters).to.include("'Gen%'")
    expect(q.sql.split('?').length - 1).to.equal(q.parameters.length)
    expect(q.sql).to.match(/^SELECT .* FROM "security"\."cloudtrail" WHERE eventsource = \? AND \(eventname IN \(\?\) OR eventname LIKE \? ESCAPE '\\'\)/)
  })

  it('prunes by the partition columns: accounts, regions and the days of the window (a day of delivery delay)', () => {
    const spec = buildFilterSpec({since: '2026-11-02T10:00:00.500Z', until: '2026-11-03T08:00:00Z'})
    const q = buildAthenaQuery(TABLE, {...spec, accounts: ['111122223333'], regions: ['eu-west-1']}, {accounts: ['111122223333'], regions: ['eu-west-1']})
    const inline = inlineParameters(q)
    expect(inline).to.include("account IN ('111122223333')")
    expect(inline).to.include("recipientaccountid IN ('111122223333')")
    expect(inline).to.include("region IN ('eu-west-1')")
    expect(inline).to.include("awsregion IN ('eu-west-1')")
    expect(inline).to.include(`"timestamp" >= '2026/11/02'`)
    expect(inline).to.include(`"timestamp" <= '2026/11/04'`)
    // Events are to the second: since rounds up, until rounds down.
    expect(inline).to.include("eventtime >= '2026-11-02T10:00:01Z'")
    expect(inline).to.include("eventtime <= '2026-11-03T08:00:00Z'")
  })

  it('counts --group-by in SQL when every filter is exact, and rows otherwise', () => {
    const exact = buildAthenaQuery(TABLE, buildFilterSpec({errors: true, event: ['Decrypt']}), {}, 'event')
    expect(exact.grouped).to.equal(true)
    expect(exact.sql).to.match(/GROUP BY value/)
    expect(exact.sql).to.include('SELECT DISTINCT eventid')
    const withKey = buildAthenaQuery(TABLE, {...buildFilterSpec({}), keys: [keyFormsFromInput(f.KEY_ID)]}, {}, 'event')
    expect(withKey.grouped).to.equal(false)
    expect(buildAthenaQuery(TABLE, buildFilterSpec({}), {}, 'principal').grouped).to.equal(false)
  })

  it('leaves to the local filter what SQL cannot say exactly (CIDR ranges, principal globs, words of the description)', () => {
    const where = (input: Parameters<typeof buildFilterSpec>[0]) => inlineParameters(buildAthenaQuery(TABLE, buildFilterSpec(input))).split(' WHERE ')[1]
    const q = where({ip: ['10.0.0.0/8'], principal: ['role/ci-*']})
    expect(q).to.not.include('sourceipaddress')
    expect(q).to.not.include('useridentity.arn')
    expect(where({principal: ['role']})).to.not.include('useridentity.arn')
    expect(where({principal: ['payments']})).to.include("strpos(lower(useridentity.arn), 'payments') > 0")
    expect(where({ip: ['203.0.113.7']})).to.include("sourceipaddress IN ('203.0.113.7', '::ffff:203.0.113.7')")
  })

  it('escapes LIKE wildcards and doubles quotes', () => {
    expect(likePattern('50%_off\\', false)).to.equal('%50\\%\\_off\\\\%')
    expect(likePattern('Create*?', true)).to.equal('Create%_')
    expect(sqlString("it's")).to.equal("'it''s'")
    expect(() => sqlString('a\u0000b')).to.throw(/NUL/)
    expect(inlineParameters({parameters: ["'a'"], sql: "SELECT '?' AS q WHERE x = ?"})).to.equal("SELECT '?' AS q WHERE x = 'a'")
  })

  it('checks table names', () => {
    expect(parseTableName('Security.CloudTrail')).to.deep.equal({database: 'security', table: 'cloudtrail'})
    for (const bad of ['cloudtrail', 'a.b.c', 'a.b;drop', 'a."b"']) expect(() => parseTableName(bad), bad).to.throw(/DATABASE\.TABLE/)
  })

  it('creates the table with partition projection over the organization layout', () => {
    const sql = buildCreateTable({accounts: ['111122223333', '444455556666'], location: {bucket: 'org-trail', prefix: 'trails/'}, org: 'o-exampleorgid', regions: ['us-east-1', 'eu-west-1'], start: '2024/01/01', table: TABLE})
    expect(sql).to.match(/^CREATE EXTERNAL TABLE IF NOT EXISTS `security`\.`cloudtrail` \(/)
    expect(sql).to.include('PARTITIONED BY (account STRING, region STRING, `timestamp` STRING)')
    expect(sql).to.include("LOCATION 's3://org-trail/trails/AWSLogs/o-exampleorgid/'")
    expect(sql).to.include("'projection.account.values'='111122223333,444455556666'")
    expect(sql).to.include("'projection.region.values'='us-east-1,eu-west-1'")
    expect(sql).to.include("'projection.timestamp.range'='2024/01/01,NOW'")
    expect(sql).to.include("'storage.location.template'='s3://org-trail/trails/AWSLogs/o-exampleorgid/${account}/CloudTrail/${region}/${timestamp}'")
    expect(sql).to.include("STORED AS INPUTFORMAT 'com.amazon.emr.cloudtrail.CloudTrailInputFormat'")
    expect(() => buildCreateTable({accounts: ['1'], location: {bucket: 'b', prefix: ''}, regions: ['us-east-1'], start: '2024/01/01', table: TABLE})).to.throw(/12-digit/)
    expect(() => buildCreateTable({accounts: ['111122223333'], location: {bucket: 'b', prefix: "x'y/"}, regions: ['us-east-1'], start: '2024/01/01', table: TABLE})).to.throw(/characters/)
  })

  it('prices data scanned at USD 5 per TB with a 10 MB minimum', () => {
    expect(athenaCostUsd(0)).to.equal(athenaCostUsd(10 * 1_048_576))
    expect(athenaCostUsd(1_099_511_627_776)).to.equal(5)
  })
})

describe('athena SQL, executed in the sandbox engine', function () {
  this.timeout(60_000)
  let dir: string
  const records = [
    f.record({userIdentity: f.iamUser("o'brien")}),
    f.record({userAgent: "agent 'quoted' with back\\slash"}),
    f.record({userIdentity: f.iamUser('jürgen'), eventName: 'GenerateDataKey'}),
    f.record({errorCode: 'AccessDenied', errorMessage: 'no', userIdentity: f.iamUser('mallory'), userAgent: '100%_sure'}),
    f.record({requestParameters: {keyId: 'alias/it\'s-mine'}, resources: undefined}),
    f.record({eventSource: 'sts.amazonaws.com', eventName: 'AssumeRole', resources: undefined}),
  ]

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'kmsctl-athena-sql-'))
    const folder = join(dir, f.ACCOUNT, 'CloudTrail', 'us-east-1', '2026', '11', '02')
    mkdirSync(folder, {recursive: true})
    const file = join(folder, `${f.ACCOUNT}_CloudTrail_us-east-1_20261102T1005Z_ABCDEFGHIJKLMNOP.json.gz`)
    writeFileSync(file, gzipSync(JSON.stringify({Records: records})))
    const engine = await sqlEngine()
    await engine.defineAthenaTable({database: 'security', files: [file], root: dir, table: 'cloudtrail'})
  })

  after(() => rmSync(dir, {force: true, recursive: true}))

  const run = async (input: Parameters<typeof buildFilterSpec>[0]) => {
    const spec = buildFilterSpec(input)
    const q = buildAthenaQuery(TABLE, spec)
    const result = await (await sqlEngine()).query(q.sql, q.parameters)
    const predicate = compileFilter(spec)
    const viaSql = result.rows
      .map((row) => recordFromAthenaRow(Object.fromEntries(row.map((v, i) => [result.columns[i].name, v ?? undefined]))))
      .map((r) => normalise(r))
      .filter((e) => predicate(e))
      .map((e) => e.eventId)
    const local = records.map((r) => normalise(r)).filter((e) => predicate(e)).map((e) => e.eventId)
    return {local, viaSql}
  }

  for (const [name, input, count] of [
    ['a quote', {principal: ["o'brien"]}, 1],
    ['SQL in a value', {principal: ["'; DROP TABLE cloudtrail; --"]}, 0],
    ['a backslash and quotes', {userAgent: ["'quoted' with back\\slash"]}, 1],
    ['unicode', {principal: ['JÜRGEN']}, 1],
    ['LIKE wildcards as text', {userAgent: ['%_']}, 1],
    ['a glob with a quote', {principal: ["*o'b*"]}, 1],
    ['an alias with a quote', {key: ["alias/it's-mine"]}, 1],
    ['every service', {allServices: true, event: ['AssumeRole']}, 1],
    ['denied', {denied: true}, 1],
  ] as const) {
    it(`gives the local filter's answer: ${name}`, async () => {
      const {local, viaSql} = await run(input as Parameters<typeof buildFilterSpec>[0])
      expect(local).to.have.length(count)
      expect(viaSql).to.deep.equal(local)
    })
  }
})
