import {CloudTrailClient, LookupEventsCommand} from '@aws-sdk/client-cloudtrail'
import {DescribeKeyCommand, KMSClient, ListAliasesCommand} from '@aws-sdk/client-kms'
import {runCommand} from '@oclif/test'
import {expect} from 'chai'
import {mkdirSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {gzipSync} from 'node:zlib'

import type {CloudTrailRecord} from '../../../src/lib/trail/normalise.js'
import * as f from '../../lib/trail/fixtures.js'
import {mockSdk, sdk} from '../../helpers/mock-sdk.js'

async function run(args: string[]): Promise<{code: number; stderr: string; stdout: string}> {
  process.exitCode = undefined
  const out = await runCommand(args)
  const code = typeof process.exitCode === 'number' ? process.exitCode : out.error ? ((out.error as {oclif?: {exit?: number}}).oclif?.exit ?? 1) : 0
  process.exitCode = undefined
  return {code, stderr: out.stderr, stdout: out.stdout}
}

const entry = (r: CloudTrailRecord) => ({CloudTrailEvent: JSON.stringify(r), EventId: r.eventID, EventName: r.eventName})

const EVENTS = [
  // LookupEvents answers newest first.
  f.record({eventTime: '2026-11-02T11:00:00Z', requestParameters: {keyId: 'alias/x'}, sourceIPAddress: '10.0.1.5', userIdentity: f.assumedRole('App', 'web-1'), vpcEndpointId: 'vpce-0abc'}),
  f.record({errorCode: 'AccessDenied', eventTime: '2026-11-02T10:30:00Z', userIdentity: f.iamUser('mallory')}),
  f.record({eventName: 'GenerateDataKey', eventTime: '2026-11-02T10:00:00Z', sourceIPAddress: 's3.amazonaws.com', userIdentity: {...f.assumedRole('App', 'web-1'), invokedBy: 's3.amazonaws.com'}}),
]

describe('trail query', () => {
  mockSdk()
  const columns = process.env.COLUMNS
  before(() => {
    process.env.COLUMNS = '200'
  })
  after(() => {
    process.env.COLUMNS = columns
  })
  beforeEach(() => {
    sdk.kms.on(DescribeKeyCommand).rejects(Object.assign(new Error('Alias arn:aws:kms:us-east-1:111122223333:alias/nope is not found.'), {name: 'NotFoundException'}))
    sdk.kms.on(DescribeKeyCommand, {KeyId: 'alias/x'}).resolves({KeyMetadata: {Arn: f.KEY_ARN, KeyId: f.KEY_ID} as never})
    sdk.kms.on(ListAliasesCommand).resolves({Aliases: [{AliasName: 'alias/x', TargetKeyId: f.KEY_ID}], Truncated: false})
    sdk.cloudtrail.on(LookupEventsCommand).resolves({Events: EVENTS.map(entry)})
  })

  it('--key alias: LookupEvents by the key ARN; a table oldest first with who, from and key', async () => {
    const r = await run(['trail', 'query', '--key', 'alias/x', '--rate', '100'])
    expect(r.code).to.equal(0)
    expect(sdk.cloudtrail.commandCalls(LookupEventsCommand)[0].args[0].input.LookupAttributes).to.deep.equal([{AttributeKey: 'ResourceName', AttributeValue: f.KEY_ARN}])
    const rows = r.stdout.split('\n').filter((l) => l.includes('2026-11-02'))
    expect(rows.map((l) => l.split(/ {2,}/).map((c) => c.trim()).filter(Boolean))).to.deep.equal([
      ['2026-11-02 10:00:00Z', 'GenerateDataKey', 'role/App (web-1) via s3.amazonaws.com', 's3.amazonaws.com', 'alias/x', 'ok'],
      ['2026-11-02 10:30:00Z', 'Decrypt', 'user/mallory', '203.0.113.10', 'alias/x', 'AccessDenied'],
      ['2026-11-02 11:00:00Z', 'Decrypt', 'role/App (web-1)', '10.0.1.5 (vpce-0abc)', 'alias/x', 'ok'],
    ])
    expect(r.stderr).to.contain('3 matching events, 1 LookupEvents page (ResourceName=' + f.KEY_ARN + ').')
  })

  it('--json: one array of normalised events', async () => {
    const r = await run(['trail', 'query', '--key', 'alias/x', '--denied', '--json', '--rate', '100'])
    const doc = JSON.parse(r.stdout)
    expect(doc).to.have.length(1)
    expect(doc[0]).to.deep.include({denied: true, event: 'Decrypt', from: '203.0.113.10', key: 'alias/x', keyArn: f.KEY_ARN, outcome: 'AccessDenied', time: '2026-11-02T10:30:00Z', who: 'user/mallory'})
  })

  it('--ndjson, --csv and --raw', async () => {
    const nd = await run(['trail', 'query', '--ndjson', '--rate', '100'])
    expect(nd.stdout.trim().split('\n').map((l) => JSON.parse(l).time)).to.deep.equal(['2026-11-02T11:00:00Z', '2026-11-02T10:30:00Z', '2026-11-02T10:00:00Z'])
    const csv = await run(['trail', 'query', '--csv', '--event', 'GenerateDataKey', '--rate', '100'])
    const lines = csv.stdout.trim().split('\n')
    expect(lines[0]).to.equal('time,event,who,principalType,principalArn,account,accessKeyId,from,vpcEndpoint,key,keyArn,outcome,errorMessage,region,userAgent,eventId')
    expect(lines[1]).to.equal(
      `2026-11-02T10:00:00Z,GenerateDataKey,role/App (web-1) via s3.amazonaws.com,AssumedRole,arn:aws:sts::${f.ACCOUNT}:assumed-role/App/web-1,${f.ACCOUNT},ASIAQ3EXAMPLE0000001,s3.amazonaws.com,,alias/x,${f.KEY_ARN},ok,,us-east-1,aws-cli/2.15.0 Python/3.11.6,${EVENTS[2].eventID}`,
    )
    const raw = await run(['trail', 'query', '--raw', '--principal', 'mallory', '--rate', '100'])
    expect(raw.stdout).to.equal(JSON.stringify(EVENTS[1]) + '\n')
  })

  it('--group-by principal: counts, failures, first and last seen', async () => {
    const r = await run(['trail', 'query', '--group-by', 'principal', '--json', '--rate', '100'])
    expect(JSON.parse(r.stdout)).to.deep.equal([
      {count: 1, errors: 0, first: '2026-11-02T11:00:00Z', last: '2026-11-02T11:00:00Z', value: 'role/App (web-1)'},
      {count: 1, errors: 0, first: '2026-11-02T10:00:00Z', last: '2026-11-02T10:00:00Z', value: 'role/App (web-1) via s3.amazonaws.com'},
      {count: 1, errors: 1, first: '2026-11-02T10:30:00Z', last: '2026-11-02T10:30:00Z', value: 'user/mallory'},
    ])
  })

  for (const [args, message] of [
    [['--since', 'yesterdayish'], '--since "yesterdayish" is not a time.'],
    [['--csv', '--raw'], '--csv and --raw exclude each other.'],
    [['--regions', 'us-east-1', '--all-regions'], '--regions and --all-regions exclude each other.'],
    [['--since', '1h', '--until', '2h'], '--since'],
    [['--ip', '10.0.0.0/40'], '--ip "10.0.0.0/40" is not an IP address or CIDR range.'],
    [['--group-by', 'colour'], '--group-by "colour" is not one of principal, event, key, ip, user-agent, day.'],
    [['--source', 'files'], '--source files needs one or more paths'],
    [['--source', 'lake'], '--source lake needs --event-data-store.'],
    [['--rate', '0'], '--rate "0" is not a rate'],
    [['--read-only', '--write'], '--read-only and --write exclude each other.'],
  ] as Array<[string[], string]>) {
    it(`bad input ${args.join(' ')}: one line, exit 2, nothing sent`, async () => {
      const r = await run(['trail', 'query', ...args])
      expect(r.code).to.equal(2)
      expect(r.stderr.split('\n')[0]).to.contain(message)
      expect(r.stdout).to.equal('')
      expect(sdk.cloudtrail.calls()).to.have.length(0)
      expect(sdk.kms.calls()).to.have.length(0)
    })
  }

  it('a key that does not resolve is an error naming it, and no event is read', async () => {
    const r = await run(['trail', 'query', '--key', 'alias/nope'])
    expect(r.code).to.equal(1)
    expect(r.stderr).to.contain('Alias alias/nope does not exist')
    expect(sdk.cloudtrail.commandCalls(LookupEventsCommand)).to.have.length(0)
  })

  it('--source files reads log files and sends nothing', async () => {
    const root = mkdtempSync(join(tmpdir(), 'kmsctl-trail-cmd-'))
    const dir = join(root, 'AWSLogs', f.ACCOUNT, 'CloudTrail', 'us-east-1', '2026', '11', '02')
    mkdirSync(dir, {recursive: true})
    writeFileSync(join(dir, `${f.ACCOUNT}_CloudTrail_us-east-1_20261102T1200Z_abcdefghijklmnop.json.gz`), gzipSync(JSON.stringify({Records: [...EVENTS].reverse()})))
    writeFileSync(join(dir, `${f.ACCOUNT}_CloudTrail_us-east-1_20261102T1205Z_brokenbrokenbrok.json.gz`), gzipSync('{"Records":[{"eventVersion":"1.08"'))
    const notTrail = join(dir, `${f.ACCOUNT}_CloudTrail_us-east-1_20261102T1210Z_notatraillogfile.json`)
    writeFileSync(notTrail, JSON.stringify({Events: [...EVENTS]}))
    const r = await run(['trail', 'query', '--source', 'files', root, '--principal', 'App', '--json'])
    // Partial: one error document whose details carry the events found and every file skipped, exit 3.
    const doc = JSON.parse(r.stdout)
    expect(doc.error, r.stdout + r.stderr).to.include({code: 'PARTIAL_FAILURE'})
    expect(doc.error.message).to.match(/^Found 2 matching events, but 2 log files skipped: /)
    expect(doc.error.details.events.map((e: {time: string}) => e.time)).to.deep.equal(['2026-11-02T10:00:00Z', '2026-11-02T11:00:00Z'])
    expect(doc.error.details.skipped.map((c: {file: string}) => c.file.split('_').pop())).to.deep.equal(['brokenbrokenbrok.json.gz', 'notatraillogfile.json'])
    expect(doc.error.details.skipped[0].reason).to.match(/truncated/)
    expect(doc.error.details.skipped[1].reason).to.equal('no Records array: not a CloudTrail log file')
    expect(doc.error.details.failures).to.deep.equal([])
    expect(r.stderr).to.match(/Warning: Skipped .*brokenbrokenbrok\.json\.gz: .*truncated/)
    expect(r.stderr).to.match(/Warning: Skipped .*notatraillogfile\.json: no Records array/)
    expect(r.code).to.equal(3)
    expect(sdk.cloudtrail.calls()).to.have.length(0)
    expect(sdk.kms.calls()).to.have.length(0)

    // Without --json: the table, a warning per skipped file, exit 3.
    const human = await run(['trail', 'query', '--source', 'files', root, '--principal', 'App'])
    expect(human.stdout).to.contain('10.0.1.5')
    expect(human.stderr).to.match(/Skipped .*notatraillogfile\.json: no Records array: not a CloudTrail log file/)
    expect(human.stderr).to.contain('2 skipped as unreadable')
    expect(human.code).to.equal(3)

    // Everything readable: the success shape is a bare array, exit 0.
    rmSync(notTrail)
    rmSync(join(dir, `${f.ACCOUNT}_CloudTrail_us-east-1_20261102T1205Z_brokenbrokenbrok.json.gz`))
    const ok = await run(['trail', 'query', '--source', 'files', root, '--principal', 'App', '--json'])
    expect(JSON.parse(ok.stdout).map((e: {time: string}) => e.time)).to.deep.equal(['2026-11-02T10:00:00Z', '2026-11-02T11:00:00Z'])
    expect(ok.code).to.equal(0)
  })

  it('--source files --event: a file without Records is reported even when the filter would pass it over', async () => {
    const root = mkdtempSync(join(tmpdir(), 'kmsctl-trail-cmd-'))
    writeFileSync(join(root, 'export.json'), JSON.stringify({Events: [{EventName: 'Decrypt'}]}))
    const r = await run(['trail', 'query', '--source', 'files', root, '--event', 'Encrypt', '--json'])
    const doc = JSON.parse(r.stdout)
    expect(doc.error.details).to.deep.equal({events: [], failures: [], s3Failures: [], skipped: [{file: join(root, 'export.json'), reason: 'no Records array: not a CloudTrail log file'}]})
    expect(r.code).to.equal(3)
  })
})

describe('trail who', () => {
  mockSdk()
  beforeEach(() => {
    sdk.kms.on(DescribeKeyCommand, {KeyId: 'alias/x'}).resolves({KeyMetadata: {Arn: f.KEY_ARN, KeyId: f.KEY_ID} as never})
    sdk.kms.on(ListAliasesCommand).resolves({Aliases: [{AliasName: 'alias/x', TargetKeyId: f.KEY_ID}], Truncated: false})
    const now = Date.now()
    const at = (minutesAgo: number) => new Date(now - minutesAgo * 60_000).toISOString().replace(/\.\d{3}Z$/, 'Z')
    sdk.cloudtrail.on(LookupEventsCommand).resolves({
      Events: [
        f.record({eventTime: at(10), userIdentity: f.assumedRole('App', 'web-1')}),
        f.record({eventName: 'Encrypt', eventTime: at(20), userIdentity: f.assumedRole('App', 'web-1')}),
        f.record({errorCode: 'AccessDenied', eventTime: at(30), userIdentity: f.iamUser('mallory')}),
      ].map(entry),
    })
  })

  it('groups the last 7 days of calls by principal and source, failures apart', async () => {
    const r = await run(['trail', 'who', 'alias/x', '--json', '--rate', '100'])
    expect(r.code).to.equal(0)
    const doc = JSON.parse(r.stdout)
    expect(doc.callers.map((c: {count: number; events: string[]; from: string; who: string}) => [c.who, c.from, c.count, c.events])).to.deep.equal([['role/App (web-1)', '203.0.113.10', 2, ['Decrypt', 'Encrypt']]])
    expect(doc.failures.map((c: {errors: string[]; who: string}) => [c.who, c.errors])).to.deep.equal([['user/mallory', ['AccessDenied']]])
    expect(doc).to.deep.include({key: 'alias/x', keyArn: f.KEY_ARN, source: 'api', total: 3})
    const input = sdk.cloudtrail.commandCalls(LookupEventsCommand)[0].args[0].input
    expect(Date.now() - input.StartTime!.getTime()).to.be.within(7 * 86_400_000, 7 * 86_400_000 + 60_000)
  })

  it('prints the callers and the failed calls', async () => {
    const r = await run(['trail', 'who', 'alias/x', '--rate', '100'])
    expect(r.stdout).to.match(/Calls on alias\/x \(arn:aws:kms:.*\) since .*: 3/)
    expect(r.stdout).to.match(/role\/App \(web-1\)\s+203\.0\.113\.10\s+2\s+Decrypt, Encrypt/)
    expect(r.stdout).to.contain('Failed calls: 1')
    expect(r.stdout).to.match(/user\/mallory\s+203\.0\.113\.10\s+1\s+AccessDenied/)
  })
})
