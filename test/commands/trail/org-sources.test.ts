import {AthenaClient, GetQueryExecutionCommand, GetQueryResultsCommand, StartQueryExecutionCommand, StopQueryExecutionCommand} from '@aws-sdk/client-athena'
import {GetObjectCommand, ListObjectsV2Command, S3Client} from '@aws-sdk/client-s3'
import {runCommand} from '@oclif/test'
import {mockClient} from 'aws-sdk-client-mock'
import {expect} from 'chai'
import {Readable} from 'node:stream'
import {gzipSync} from 'node:zlib'

import {EVENT_COLUMNS} from '../../../src/lib/trail/athena-sql.js'
import * as f from '../../lib/trail/fixtures.js'

async function run(args: string[]): Promise<{code: number; stderr: string; stdout: string}> {
  process.exitCode = undefined
  const out = await runCommand(args)
  const code = typeof process.exitCode === 'number' ? process.exitCode : out.error ? ((out.error as {oclif?: {exit?: number}}).oclif?.exit ?? 1) : 0
  process.exitCode = undefined
  return {code, stderr: out.stderr, stdout: out.stdout}
}

const ORG = 'o-exampleorgid'
const day = (account: string) => `AWSLogs/${ORG}/${account}/CloudTrail/us-east-1/2026/11/02/`

describe('trail query --source s3 and --source athena (mocked AWS)', () => {
  let s3: ReturnType<typeof mockClient>
  let athena: ReturnType<typeof mockClient>
  before(() => {
    s3 = mockClient(S3Client)
    athena = mockClient(AthenaClient)
  })
  after(() => {
    s3.restore()
    athena.restore()
  })
  beforeEach(() => {
    s3.reset()
    athena.reset()
  })

  it('s3: a prefix that cannot be listed is named on stderr, the rest is shown, exit 3', async () => {
    const good = f.record({eventTime: '2026-11-02T10:00:00Z'})
    s3.on(ListObjectsV2Command).resolves({})
    s3.on(ListObjectsV2Command, {Prefix: day('444455556666')}).rejects(Object.assign(new Error('Access Denied'), {$metadata: {httpStatusCode: 403}, name: 'AccessDenied'}))
    s3.on(ListObjectsV2Command, {Prefix: day('111122223333')}).resolves({Contents: [{Key: `${day('111122223333')}111122223333_CloudTrail_us-east-1_20261102T1005Z_ABCDEFGHIJKLMNOP.json.gz`}]})
    s3.on(GetObjectCommand).callsFake(() => ({Body: Readable.from([gzipSync(JSON.stringify({Records: [good]}))])}))
    const r = await run(['trail', 'query', '--source', 's3', `s3://trail/AWSLogs/${ORG}/`, '--accounts', '111122223333,444455556666', '--regions', 'us-east-1', '--since', '2026-11-02T00:00:00Z', '--until', '2026-11-02T12:00:00Z', '--workers', '0', '--json'])
    expect(r.code).to.equal(3)
    // Partial: an error document carrying the events found and the locations not read.
    const partial = JSON.parse(r.stdout).error
    expect(partial.code).to.equal('PARTIAL_FAILURE')
    expect(partial.details.events.map((e: {eventId: string}) => e.eventId)).to.deep.equal([good.eventID])
    expect(partial.details.s3Failures.map((x: {location: string}) => x.location)).to.deep.equal([`s3://trail/${day('444455556666')}`])
    expect(r.stderr).to.include(`Could not read s3://trail/${day('444455556666')}: access denied (s3:ListBucket)`)
  })

  it('s3: bad locations and misplaced flags are usage errors, nothing sent', async () => {
    for (const args of [
      ['--source', 's3'],
      ['--source', 's3', 'not-a-url'],
      ['--source', 'files', 's3://trail'],
      ['--source', 's3', 's3://trail', '--accounts', '12345'],
      ['--source', 's3', 's3://trail', '--table', 'a.b'],
      ['--source', 'api', '--accounts', '111122223333'],
    ]) {
      // eslint-disable-next-line no-await-in-loop
      const r = await run(['trail', 'query', ...args])
      expect(r.code, args.join(' ')).to.equal(2)
    }

    expect(s3.calls()).to.have.length(0)
  })

  it('athena: parameters sent, polled to the end, rows normalised and filtered locally; the cost on stderr', async () => {
    const rec = f.record({userIdentity: f.iamUser("o'brien")})
    const names = EVENT_COLUMNS.map(([, n]) => n)
    const row: Record<string, string | undefined> = {
      awsregion: rec.awsRegion,
      eventid: rec.eventID,
      eventname: rec.eventName,
      eventsource: rec.eventSource,
      eventtime: rec.eventTime,
      readonly: 'true',
      recipientaccountid: rec.recipientAccountId,
      requestparameters: JSON.stringify(rec.requestParameters),
      resources: `AWS::KMS::Key|${f.KEY_ARN}`,
      sourceipaddress: rec.sourceIPAddress,
      ui_accountid: f.ACCOUNT,
      ui_arn: `arn:aws:iam::${f.ACCOUNT}:user/o'brien`,
      ui_type: 'IAMUser',
      ui_username: "o'brien",
      useragent: rec.userAgent,
    }
    athena.on(StartQueryExecutionCommand).resolves({QueryExecutionId: 'q-1'})
    athena
      .on(GetQueryExecutionCommand)
      .resolvesOnce({QueryExecution: {Status: {State: 'RUNNING'}}})
      .resolves({QueryExecution: {Statistics: {DataScannedInBytes: 52_428_800}, Status: {State: 'SUCCEEDED'}}})
    athena.on(GetQueryResultsCommand).resolves({
      ResultSet: {
        ResultSetMetadata: {ColumnInfo: names.map((Name) => ({Name, Type: 'varchar'}))},
        Rows: [{Data: names.map((n) => ({VarCharValue: n}))}, {Data: names.map((n) => (row[n] === undefined ? {} : {VarCharValue: row[n]}))}],
      },
    })
    const r = await run(['trail', 'query', '--source', 'athena', '--table', 'security.cloudtrail', '--principal', "o'brien", '--key', f.KEY_ID, '--workgroup', 'sec', '--json'])
    expect(r.code, r.stderr).to.equal(0)
    const start = athena.commandCalls(StartQueryExecutionCommand)[0].args[0].input
    expect(start.WorkGroup).to.equal('sec')
    expect(start.QueryExecutionContext).to.deep.equal({Database: 'security'})
    expect(start.QueryString).to.not.include('brien')
    expect(start.ExecutionParameters).to.include("'o''brien'")
    expect(JSON.parse(r.stdout).map((e: {eventId: string; who: string}) => [e.eventId, e.who])).to.deep.equal([[rec.eventID, "user/o'brien"]])
    expect(r.stderr).to.match(/Athena query q-1: 50\.0 MB scanned, USD 0\.000238 \(USD 5 per TB, 10 MB minimum\)/)
  })

  it('athena: --print-sql prints the statement and sends nothing', async () => {
    const r = await run(['trail', 'query', '--source', 'athena', '--table', 'security.cloudtrail', '--event', 'Decrypt', '--group-by', 'event', '--print-sql'])
    expect(r.code).to.equal(0)
    expect(r.stdout).to.include(`WHERE eventsource = 'kms.amazonaws.com' AND eventname IN ('Decrypt')`)
    expect(r.stdout).to.include('GROUP BY value')
    expect(athena.calls()).to.have.length(0)
  })

  it('trail athena setup --print-sql: the statements, nothing sent', async () => {
    const r = await run(['trail', 'athena', 'setup', '--bucket', 's3://org-trail', '--org', ORG, '--database', 'security', '--table', 'cloudtrail', '--accounts', '111122223333', '--regions', 'us-east-1', '--print-sql', '--json'])
    expect(r.code, r.stderr).to.equal(0)
    const out = JSON.parse(r.stdout)
    expect(out.sent).to.equal(false)
    expect(out.statements[0]).to.equal('CREATE DATABASE IF NOT EXISTS `security`')
    expect(out.statements[1]).to.include(`LOCATION 's3://org-trail/AWSLogs/${ORG}/'`)
    expect(athena.calls()).to.have.length(0)
    expect(s3.calls()).to.have.length(0)
  })

  it('athena: Ctrl-C stops the query on the service', async () => {
    const {queryAthena} = await import('../../../src/lib/trail/sources/athena.js')
    athena.on(StartQueryExecutionCommand).resolves({QueryExecutionId: 'q-2'})
    athena.on(GetQueryExecutionCommand).resolves({QueryExecution: {Status: {State: 'RUNNING'}}})
    athena.on(StopQueryExecutionCommand).resolves({})
    const abort = new AbortController()
    const client = new AthenaClient({credentials: {accessKeyId: 'AKIAEXAMPLE', secretAccessKey: 'x'}, region: 'us-east-1'})
    const r = await queryAthena({client, signal: abort.signal, sleep: async () => abort.abort(), spec: {}, table: {database: 'security', table: 'cloudtrail'}})
    expect(r.interrupted).to.equal(true)
    expect(athena.commandCalls(StopQueryExecutionCommand).map((c) => c.args[0].input)).to.deep.equal([{QueryExecutionId: 'q-2'}])
  })
})
