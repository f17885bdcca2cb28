// CloudTrail at organisation scale, end to end against `kmsctl sandbox serve`: the same selections
// through --source files, s3 and athena over one organization trail (three accounts, two regions,
// AWS services, cross-account calls, failures, a duplicate delivery, digest files) give the same
// eventID sets; hostile filter values give the right rows or a clear error; trail who agrees across
// sources; the sandbox's own events, exported in the organization layout, agree with CloudTrail Lake;
// and the AWS CLI v2 speaks to the sandbox's S3 and Athena.
import {expect} from 'chai'
import {spawn} from 'node:child_process'
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {type CliResult, json, runCli} from '../helpers/cli.js'
import {ACCOUNTS, ORG, type OrgTrail, writeOrgTrail} from '../helpers/org-trail.js'
import {type SandboxServer, startSandboxServer} from '../helpers/sandbox-server.js'

const AWS = '/usr/bin/aws'

describe('e2e: organisation trails through files, s3, athena and lake', function () {
  this.timeout(600_000)
  let server: SandboxServer
  let work: string
  let trail: OrgTrail

  const ids = (r: CliResult): string[] => {
    expect(r.code, r.stderr).to.equal(0)
    return (json<Array<{eventId: string}>>(r).map((e) => e.eventId) as string[]).sort()
  }

  const query = (source: 'athena' | 'files' | 's3', args: string[]): Promise<CliResult> => {
    const where = source === 'files' ? ['--source', 'files', trail.dir] : source === 's3' ? ['--source', 's3', 's3://org-trail'] : ['--source', 'athena', '--table', 'security.org_trail']
    return runCli(['trail', 'query', ...where, ...args, '--json'], {env: server.env})
  }

  function aws(...args: string[]): Promise<{code: number | null; stderr: string; stdout: string}> {
    return new Promise((resolve, reject) => {
      const child = spawn(AWS, ['--endpoint-url', server.url, '--output', 'json', ...args], {
        env: {
          AWS_ACCESS_KEY_ID: server.env.AWS_ACCESS_KEY_ID,
          AWS_CONFIG_FILE: '/dev/null',
          AWS_DEFAULT_REGION: 'us-east-1',
          AWS_PAGER: '',
          AWS_SECRET_ACCESS_KEY: server.env.AWS_SECRET_ACCESS_KEY,
          AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
          HOME: work,
          PATH: '/usr/bin:/bin',
        },
      })
      let stdout = ''
      let stderr = ''
      child.stdout.on('data', (d) => (stdout += d))
      child.stderr.on('data', (d) => (stderr += d))
      child.on('error', reject)
      child.on('close', (code) => resolve({code, stderr, stdout}))
    })
  }

  before(async () => {
    work = mkdtempSync(join(tmpdir(), 'kmsctl-trail-org-'))
    trail = writeOrgTrail(join(work, 'bucket'))
    server = await startSandboxServer({args: ['--bucket', `org-trail=${trail.dir}`]})
    const setup = await runCli(['trail', 'athena', 'setup', '--bucket', 's3://org-trail', '--database', 'security', '--table', 'org_trail', '--json'], {env: server.env})
    expect(setup.code, setup.stderr).to.equal(0)
    const out = json(setup)
    expect(out.org).to.equal(ORG)
    expect(out.accounts).to.deep.equal([...ACCOUNTS])
    expect(out.regions).to.deep.equal(['eu-west-1', 'us-east-1'])
    expect(out.sent).to.equal(true)
  })

  after(async () => {
    await server?.stop()
    rmSync(work, {force: true, recursive: true})
  })

  const key = () => trail.keys[0]
  const otherKey = () => trail.keys.find((k) => k.account === ACCOUNTS[1] && k.region === 'eu-west-1')!
  const selections: Array<[string, () => string[], number]> = [
    ['every KMS event', () => [], 1000],
    ['a key by ID', () => ['--key', key().id], 10],
    ['a key by ARN in another account', () => ['--key', otherKey().arn], 10],
    ['event names and globs', () => ['--event', 'Disable*,ScheduleKeyDeletion,Decrypt'], 100],
    ['a principal substring', () => ['--principal', 'payments'], 50],
    ['a principal glob', () => ['--principal', 'role/ci-*'], 20],
    ['a CIDR range', () => ['--ip', '10.0.0.0/8'], 50],
    ['one address', () => ['--ip', '203.0.113.7'], 1],
    ['a user agent', () => ['--user-agent', 'boto3'], 20],
    ['failed calls', () => ['--errors'], 20],
    ['refused calls', () => ['--denied', '--write'], 5],
    ['read-only calls in a window', () => ['--read-only', '--since', '2026-11-02T06:00:00Z', '--until', '2026-11-03T12:00:00Z'], 50],
    ['two accounts, one region', () => ['--accounts', `${ACCOUNTS[1]},${ACCOUNTS[2]}`, '--regions', 'eu-west-1'], 100],
    ['AWS service callers', () => ['--principal', 's3.amazonaws.com'], 5],
    ['cross-account callers', () => ['--principal', 'role/Reader'], 20],
    ['every service, one event', () => ['--all-services', '--event', 'AssumeRole'], 20],
  ]

  for (const [name, args, atLeast] of selections) {
    it(`gives the same events through files, s3 and athena: ${name}`, async () => {
      const [files, s3, athena] = await Promise.all([query('files', args()), query('s3', args()), query('athena', args())])
      const f = ids(files)
      expect(f.length, name).to.be.at.least(atLeast)
      expect(new Set(f).size).to.equal(f.length)
      expect(ids(s3)).to.deep.equal(f)
      expect(ids(athena)).to.deep.equal(f)
    })
  }

  it('counts --group-by the same way (Athena counts in SQL when every filter is exact)', async () => {
    for (const by of ['event', 'day', 'ip']) {
      // eslint-disable-next-line no-await-in-loop
      const [files, athena] = await Promise.all([query('files', ['--group-by', by, '--errors']), query('athena', ['--group-by', by, '--errors'])])
      expect(json(athena)).to.deep.equal(json(files))
    }
  })

  it('keeps digest files and duplicate deliveries out, and counts cross-account calls in both accounts', async () => {
    const r = await runCli(['trail', 'query', '--source', 's3', 's3://org-trail', '--principal', 'role/Reader'], {env: server.env})
    expect(r.code, r.stderr).to.equal(0)
    expect(r.stderr).to.match(/\d+ duplicates? dropped/)
    expect(r.stderr).to.not.match(/Could not read|Skipped/)
    const events = json<Array<{eventId: string; recipientAccount: string; sharedEventId?: string}>>(await query('s3', ['--principal', 'role/Reader']))
    const byShared = new Map<string, Set<string>>()
    for (const e of events) byShared.set(e.sharedEventId!, new Set([...(byShared.get(e.sharedEventId!) ?? []), e.recipientAccount]))
    expect([...byShared.values()].every((accounts) => accounts.size === 2)).to.equal(true)
  })

  it('prunes the listing to the accounts, regions and days asked for', async () => {
    const r = await runCli(['trail', 'query', '--source', 's3', 's3://org-trail', '--accounts', ACCOUNTS[0], '--regions', 'us-east-1', '--since', '2026-11-02T00:00:00Z', '--until', '2026-11-02T23:59:59Z'], {env: server.env})
    expect(r.code, r.stderr).to.equal(0)
    // Two date folders (the day, and the next for late deliveries) of one account and region.
    expect(r.stderr).to.match(/log objects read \([^)]+\) from 2 prefixes, 1 account, 1 region/)
  })

  it('reports what S3 refuses (the caller\'s IAM policies), reads the rest, and exits 3', async () => {
    const add = (key: string, allow: string) => runCli(['sandbox', 'principal', 'add', key, 'arn:aws:iam::111122223333:user/auditor', '--iam-allow', allow, '--sandbox-dir', server.dir, '--replace'], {env: server.env})
    expect((await add('AKIAORGTRAILLIST0001', 's3:ListBucket')).code).to.equal(0)
    expect((await add('AKIAORGTRAILNONE0001', 'kms:DescribeKey')).code).to.equal(0)
    const as = (key: string) => ({...server.env, AWS_ACCESS_KEY_ID: key})
    const args = ['trail', 'query', '--source', 's3', 's3://org-trail', '--accounts', ACCOUNTS[0], '--regions', 'us-east-1', '--since', '2026-11-02T00:00:00Z', '--until', '2026-11-02T12:00:00Z', '--json']
    const listOnly = await runCli(args, {env: as('AKIAORGTRAILLIST0001')})
    expect(listOnly.code).to.equal(3)
    expect(json(listOnly).error.details.events).to.deep.equal([])
    expect(json(listOnly).error.details.s3Failures.length).to.be.greaterThan(0)
    const refusedObjects = listOnly.stderr.split('\n').filter((l) => /Could not read s3:\/\/org-trail\/AWSLogs\/.+\.json\.gz: access denied \(s3:GetObject\): User: arn:aws:iam::111122223333:user\/auditor is not authorized/.test(l))
    expect(refusedObjects.length, listOnly.stderr.slice(0, 600)).to.be.greaterThan(0)
    const nothing = await runCli(args, {env: as('AKIAORGTRAILNONE0001')})
    expect(nothing.code).to.equal(3)
    expect(nothing.stderr).to.include('Could not read s3://org-trail/AWSLogs/: access denied (s3:ListBucket)')
  })

  it('S3 checks signatures as every other service does', async () => {
    const r = await runCli(['trail', 'query', '--source', 's3', 's3://org-trail', '--json'], {env: {...server.env, AWS_SECRET_ACCESS_KEY: 'not-the-sandbox-secret-0000000000000000'}})
    expect(r.code).to.equal(1)
    expect(json(r).error.awsCode).to.equal('SignatureDoesNotMatch')
  })

  describe('hostile filter values', () => {
    const cases: Array<[string, string[], boolean]> = [
      ['a quote in a principal', ['--principal', "o'brien"], true],
      ['SQL in a principal', ['--principal', "'; DROP TABLE org_trail; --"], false],
      ['a backslash in a principal', ['--principal', 'back\\slash'], true],
      ['unicode in a principal', ['--principal', 'jürgen'], true],
      ['quotes in a user agent', ['--user-agent', "'quoted'"], true],
      ['a backslash in a user agent', ['--user-agent', 'back\\slash'], true],
      ['LIKE wildcards taken literally', ['--user-agent', '%_%'], false],
      ['a glob with a quote', ['--principal', "*o'b*"], true],
    ]
    for (const [name, args, some] of cases) {
      it(`${name}: the right rows from every source`, async () => {
        const [files, s3, athena] = await Promise.all([query('files', args), query('s3', args), query('athena', args)])
        const f = ids(files)
        if (some) expect(f.length, name).to.be.greaterThan(0)
        else expect(f).to.deep.equal([])
        expect(ids(s3)).to.deep.equal(f)
        expect(ids(athena)).to.deep.equal(f)
      })
    }

    it('the table is still there after them', async () => {
      const r = await query('athena', ['--accounts', ACCOUNTS[0]])
      expect(ids(r).length).to.be.greaterThan(100)
    })

    it('a value the filters refuse is a usage error, and nothing is sent', async () => {
      const r = await runCli(['trail', 'query', '--source', 'athena', '--table', 'security.org_trail', '--event', "Decrypt'; DROP TABLE x; --", '--json'], {env: server.env})
      expect(r.code).to.equal(2)
      expect(json(r).error.code).to.equal('USAGE')
    })

    it('--print-sql shows the statement with the values escaped, and sends nothing', async () => {
      const r = await runCli(['trail', 'query', '--source', 'athena', '--table', 'security.org_trail', '--principal', "o'brien", '--since', '2026-11-02', '--print-sql', '--json'], {env: server.env})
      expect(r.code, r.stderr).to.equal(0)
      const out = json(r)
      expect(out.sql).to.not.include('brien')
      expect(out.parameters).to.include("'o''brien'")
      expect(out.inline).to.include("'o''brien'")
      expect(out.inline).to.include(`"timestamp" >= '2026/11/02'`)
    })
  })

  it('trail who gives the same callers from files, s3 and athena', async () => {
    const k = key()
    const who = (source: string[]) => runCli(['trail', 'who', k.id, ...source, '--since', '2026-10-01', '--json'], {env: server.env})
    const [files, s3, athena] = await Promise.all([who(['--source', 'files', trail.dir]), who(['--source', 's3', 's3://org-trail']), who(['--source', 'athena', '--table', 'security.org_trail'])])
    for (const r of [files, s3, athena]) expect(r.code, r.stderr).to.equal(0)
    const strip = (r: CliResult) => {
      const {callers, failures, total} = json(r)
      return {callers, failures, total}
    }

    expect(strip(files).total).to.be.greaterThan(10)
    expect(strip(s3)).to.deep.equal(strip(files))
    expect(strip(athena)).to.deep.equal(strip(files))
  })

  it('the sandbox\'s own events, exported in the organization layout, agree with CloudTrail Lake', async () => {
    const env = {...server.env}
    const created = await runCli(['key', 'create', '--alias', 'alias/org-demo', '--json'], {env})
    expect(created.code, created.stderr).to.equal(0)
    for (const region of ['us-east-1', 'eu-west-1']) {
      // eslint-disable-next-line no-await-in-loop
      await runCli(['key', 'describe', 'alias/org-demo', '--region', region, '--json'], {env})
    }

    await runCli(['key', 'list', '--json'], {env})
    // Queries record calls of their own (ListAliases, DescribeKey): compare up to the export.
    const until = new Date().toISOString()
    await new Promise((r) => setTimeout(r, 1100))
    const exported = await runCli(['sandbox', 'export-trail', '--org', 'o-sandboxorg01', '--bucket', 'exported', '--sandbox-dir', server.dir, '--json'], {env})
    expect(exported.code, exported.stderr).to.equal(0)
    const bucketDir = join(server.dir, 's3', 'exported')
    const lake = await runCli(['trail', 'query', '--source', 'lake', '--event-data-store', 'arn:aws:cloudtrail:us-east-1:111122223333:eventdatastore/EXAMPLE-sandbox', '--until', until, '--json'], {env})
    const files = await runCli(['trail', 'query', '--source', 'files', bucketDir, '--until', until, '--accounts', '111122223333', '--json'], {env})
    const s3 = await runCli(['trail', 'query', '--source', 's3', 's3://exported', '--until', until, '--accounts', '111122223333', '--json'], {env})
    const l = ids(lake)
    expect(l.length).to.be.at.least(4)
    expect(ids(files)).to.deep.equal(l)
    expect(ids(s3)).to.deep.equal(l)
    const byKey = await runCli(['trail', 'query', '--source', 'lake', '--event-data-store', 'EXAMPLE-sandbox', '--key', 'alias/org-demo', '--until', until, '--json'], {env})
    const byKeyFiles = await runCli(['trail', 'query', '--source', 's3', 's3://exported', '--key', 'alias/org-demo', '--until', until, '--json'], {env})
    expect(ids(byKey).length).to.be.at.least(2)
    expect(ids(byKeyFiles)).to.deep.equal(ids(byKey))
  })

  it('the AWS CLI v2 lists buckets and objects and runs an Athena query', async () => {
    const buckets = await aws('s3api', 'list-buckets')
    expect(buckets.code, buckets.stderr).to.equal(0)
    expect(JSON.parse(buckets.stdout).Buckets.map((b: {Name: string}) => b.Name)).to.include('org-trail')
    const listing = await aws('s3api', 'list-objects-v2', '--bucket', 'org-trail', '--prefix', `AWSLogs/${ORG}/`, '--delimiter', '/')
    expect(listing.code, listing.stderr).to.equal(0)
    expect(JSON.parse(listing.stdout).CommonPrefixes.map((p: {Prefix: string}) => p.Prefix)).to.deep.equal(ACCOUNTS.map((a) => `AWSLogs/${ORG}/${a}/`))
    const started = await aws('athena', 'start-query-execution', '--query-string', "SELECT count(*) AS n FROM security.org_trail WHERE account = '444455556666' AND eventsource = 'kms.amazonaws.com'")
    expect(started.code, started.stderr).to.equal(0)
    const id = JSON.parse(started.stdout).QueryExecutionId as string
    let state = 'QUEUED'
    for (let i = 0; i < 50 && state !== 'SUCCEEDED' && state !== 'FAILED'; i++) {
      // eslint-disable-next-line no-await-in-loop
      state = JSON.parse((await aws('athena', 'get-query-execution', '--query-execution-id', id)).stdout).QueryExecution.Status.State
      // eslint-disable-next-line no-await-in-loop
      if (state !== 'SUCCEEDED') await new Promise((r) => setTimeout(r, 200))
    }

    expect(state).to.equal('SUCCEEDED')
    const results = JSON.parse((await aws('athena', 'get-query-results', '--query-execution-id', id)).stdout)
    const count = Number(results.ResultSet.Rows[1].Data[0].VarCharValue)
    const viaKmsctl = ids(await query('files', ['--accounts', '444455556666']))
    // Duplicate deliveries are rows of the table; kmsctl drops them.
    expect(count).to.be.at.least(viaKmsctl.length)
  })
})
