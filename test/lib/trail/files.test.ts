import {expect} from 'chai'
import {mkdirSync, mkdtempSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {gzipSync} from 'node:zlib'

import {KmsctlError} from '../../../src/lib/errors.js'
import {keyFormsFromInput, rawNeedles} from '../../../src/lib/trail/filters.js'
import type {CloudTrailRecord} from '../../../src/lib/trail/normalise.js'
import type {FileMatch} from '../../../src/lib/trail/sources/file-scan.js'
import {fileInWindow, listLogFiles, logFileDates, queryFiles} from '../../../src/lib/trail/sources/files.js'
import {ScanError, scanRecords} from '../../../src/lib/trail/sources/raw-scan.js'
import {buildFilterSpec} from '../../../src/lib/trail/spec.js'
import * as f from './fixtures.js'

function logDir(): string {
  return mkdtempSync(join(tmpdir(), 'kmsctl-trail-'))
}

/** Writes a log file in the account (or organization) layout; returns its path. */
function writeLog(root: string, day: string, records: CloudTrailRecord[], opts: {gz?: boolean; org?: string; stamp?: string; text?: string} = {}): string {
  const [y, m, d] = day.split('-')
  const parts = opts.org ? ['AWSLogs', opts.org, f.ACCOUNT] : ['AWSLogs', f.ACCOUNT]
  const dir = join(root, ...parts, 'CloudTrail', 'us-east-1', y, m, d)
  mkdirSync(dir, {recursive: true})
  const stamp = opts.stamp ?? `${y}${m}${d}T2355Z`
  const name = `${f.ACCOUNT}_CloudTrail_us-east-1_${stamp}_${Math.random().toString(36).slice(2, 18).padEnd(16, 'x')}.json${opts.gz === false ? '' : '.gz'}`
  const text = opts.text ?? JSON.stringify({Records: records})
  writeFileSync(join(dir, name), opts.gz === false ? text : gzipSync(text))
  return join(dir, name)
}

async function collect(paths: string[], spec = buildFilterSpec({}), extra: {raw?: boolean; workers?: number} = {}) {
  const matches: FileMatch[] = []
  const result = await queryFiles({onMatches: (m) => matches.push(...m), paths, spec, ...extra})
  return {matches, result}
}

describe('trail files source', () => {
  describe('raw scanner', () => {
    const records = [f.record({eventName: 'Encrypt'}), f.record(), f.record({requestParameters: {keyId: 'a "quoted" },{"eventVersion": name'}})]

    for (const [name, text] of [
      ['compact (the fast path)', JSON.stringify({Records: records})],
      ['pretty-printed (the exact path)', JSON.stringify({Records: records}, null, 2)],
      ['Records not first', JSON.stringify({other: {x: [1, 2]}, Records: records})],
    ] as const) {
      it(`splits the records of a ${name} file exactly`, () => {
        const buf = Buffer.from(text)
        const seen: unknown[] = []
        const stats = scanRecords(buf, [], (s, e) => seen.push(JSON.parse(buf.toString('utf8', s, e))))
        expect(seen).to.deep.equal(records)
        expect(stats.records).to.equal(3)
        expect(stats.fast).to.equal(name.startsWith('compact'))
      })
    }

    it('hands over only records that contain a needle of every group', () => {
      const buf = Buffer.from(JSON.stringify({Records: records}))
      const seen: string[] = []
      scanRecords(buf, [['"Decrypt"'], [f.KEY_ID]], (s, e) => seen.push(JSON.parse(buf.toString('utf8', s, e)).eventID))
      expect(seen).to.deep.equal([records[1].eventID, records[2].eventID])
    })

    it('the fast path and the exact path agree on which records pass the needles', () => {
      const many = Array.from({length: 200}, (_, i) =>
        f.record({eventName: i % 3 === 0 ? 'Decrypt' : 'Encrypt', requestParameters: {keyId: i % 5 === 0 ? f.KEY_ID : f.OTHER_KEY_ID}, resources: []}),
      )
      const buf = Buffer.from(JSON.stringify({Records: many}))
      const fast: number[] = []
      const exact: number[] = []
      scanRecords(buf, [['"Decrypt"'], [f.KEY_ID]], (s) => fast.push(s))
      scanRecords(buf, [['"Decrypt"'], [f.KEY_ID]], (s) => exact.push(s), {exact: true})
      expect(fast).to.deep.equal(exact)
      expect(fast).to.have.length(14)
    })

    it('a truncated file is a ScanError', () => {
      const text = JSON.stringify({Records: records})
      expect(() => scanRecords(Buffer.from(text.slice(0, -40)), [], () => {})).to.throw(ScanError, /truncated/)
      expect(() => scanRecords(Buffer.from(text.slice(0, -40) + '}'), [], () => {}, {exact: true})).to.throw(ScanError)
      expect(() => scanRecords(Buffer.from('{"foo":1}'), [], () => {})).to.throw(ScanError, /not a CloudTrail log file/)
    })

    it('needles of the KMS default, an event and a key', () => {
      expect(rawNeedles(buildFilterSpec({event: ['Decrypt', 'Gen*'], key: [f.KEY_ID]}))).to.deep.equal([['\\u', '"Decrypt"', '"Gen'], ['\\u', '-1234567890'], ['\\u', '"kms.amazonaws.com"']])
      expect(rawNeedles(buildFilterSpec({allServices: true}))).to.deep.equal([])
    })
  })

  describe('listing and dates', () => {
    it('walks directories, both layouts, .json.gz and .json, and leaves digest files out', async () => {
      const root = logDir()
      const a = writeLog(root, '2026-11-01', [f.record()])
      const b = writeLog(root, '2026-11-02', [f.record()], {gz: false, org: 'o-exampleorg'})
      mkdirSync(join(root, 'AWSLogs', f.ACCOUNT, 'CloudTrail-Digest'), {recursive: true})
      writeFileSync(join(root, 'AWSLogs', f.ACCOUNT, 'CloudTrail-Digest', 'x.json.gz'), gzipSync('{}'))
      writeFileSync(join(root, 'notes.txt'), 'not a log')
      const files = await listLogFiles([root])
      expect(files.map((x) => x.path).sort()).to.deep.equal([a, b].sort())
    })

    it('reads the date folder and the delivery time from the path', () => {
      const dates = logFileDates(`/x/AWSLogs/${f.ACCOUNT}/CloudTrail/us-east-1/2026/11/02/${f.ACCOUNT}_CloudTrail_us-east-1_20261102T1035Z_abcdefghijklmnop.json.gz`)
      expect(new Date(dates.day!).toISOString()).to.equal('2026-11-02T00:00:00.000Z')
      expect(new Date(dates.delivered!).toISOString()).to.equal('2026-11-02T10:35:00.000Z')
    })

    it('skips files delivered before --since, and well after --until', () => {
      const file = {day: Date.parse('2026-11-02'), delivered: Date.parse('2026-11-02T10:35:00Z'), path: 'x'}
      expect(fileInWindow(file, Date.parse('2026-11-02T10:00:00Z'))).to.equal(true)
      expect(fileInWindow(file, Date.parse('2026-11-03T10:00:00Z'))).to.equal(false)
      expect(fileInWindow(file, undefined, Date.parse('2026-11-02T09:00:00Z'))).to.equal(true)
      expect(fileInWindow(file, undefined, Date.parse('2026-10-30T00:00:00Z'))).to.equal(false)
      expect(fileInWindow({path: 'no-dates.json'}, Date.parse('2030-01-01'))).to.equal(true)
    })

    it('a missing path is a usage error naming it', async () => {
      try {
        await listLogFiles(['/nonexistent/trail'])
        expect.fail('no error')
      } catch (error) {
        expect((error as KmsctlError).exitCode).to.equal(2)
        expect((error as KmsctlError).message).to.equal('No such file or directory: /nonexistent/trail')
      }
    })
  })

  describe('querying', () => {
    for (const workers of [0, 2]) {
      it(`filters, drops duplicates, keeps file order (${workers} workers)`, async () => {
        const root = logDir()
        const dup = f.record({eventTime: '2026-11-01T10:00:00Z'})
        writeLog(root, '2026-11-01', [dup, f.record({eventName: 'Encrypt', eventTime: '2026-11-01T10:01:00Z'}), f.record({eventSource: 's3.amazonaws.com'})])
        writeLog(root, '2026-11-02', [f.record({eventTime: '2026-11-02T09:00:00Z', userIdentity: f.assumedRole()}), dup], {org: 'o-exampleorg'})
        writeLog(root, '2026-11-03', [f.record({eventTime: '2026-11-03T09:00:00Z', requestParameters: {keyId: f.OTHER_KEY_ID}, resources: []})], {gz: false})
        const {matches, result} = await collect([root], buildFilterSpec({key: [f.KEY_ID]}), {workers})
        expect(matches.map((m) => `${m.event.time} ${m.event.event} ${m.event.who}`)).to.deep.equal([
          '2026-11-01T10:00:00Z Decrypt user/alice',
          '2026-11-01T10:01:00Z Encrypt user/alice',
          '2026-11-02T09:00:00Z Decrypt role/Payments (i-0abc123)',
        ])
        expect(result).to.deep.include({corrupt: [], duplicates: 1, files: 3, matched: 3, skippedByDate: 0})
      })
    }

    it('--raw keeps each record exactly as it was in the file', async () => {
      const root = logDir()
      const rec = f.record()
      writeLog(root, '2026-11-01', [rec, f.record({eventName: 'Encrypt'})])
      const {matches} = await collect([root], buildFilterSpec({event: ['Decrypt']}), {raw: true})
      expect(matches.map((m) => m.raw)).to.deep.equal([JSON.stringify(rec)])
    })

    it('date folders outside --since are not read', async () => {
      const root = logDir()
      writeLog(root, '2026-10-01', [f.record({eventTime: '2026-10-01T10:00:00Z'})])
      writeLog(root, '2026-11-02', [f.record({eventTime: '2026-11-02T10:00:00Z'})])
      const {matches, result} = await collect([root], buildFilterSpec({now: new Date('2026-11-03T00:00:00Z'), since: '7d'}))
      expect(result.skippedByDate).to.equal(1)
      expect(result.files).to.equal(1)
      expect(matches).to.have.length(1)
    })

    it('a truncated or corrupt file is reported by name and skipped; the others are read', async () => {
      const root = logDir()
      const good = writeLog(root, '2026-11-01', [f.record()])
      const text = JSON.stringify({Records: [f.record(), f.record()]})
      const truncatedGz = writeLog(root, '2026-11-02', [], {text})
      const {writeFileSync: write, readFileSync} = await import('node:fs')
      write(truncatedGz, readFileSync(truncatedGz).subarray(0, 60))
      const truncatedJson = writeLog(root, '2026-11-03', [], {gz: false, text: text.slice(0, text.length / 2)})
      const notGzip = writeLog(root, '2026-11-04', [], {text})
      write(notGzip, Buffer.from([0x1f, 0x8b, 8, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9]))
      const {matches, result} = await collect([root], buildFilterSpec({}), {workers: 2})
      expect(matches.map((m) => m.event.eventId)).to.have.length(1)
      expect(result.corrupt.map((c) => c.file).sort()).to.deep.equal([notGzip, truncatedGz, truncatedJson].sort())
      expect(result.corrupt.find((c) => c.file === truncatedGz)!.reason).to.equal('truncated gzip data')
      expect(result.corrupt.find((c) => c.file === truncatedJson)!.reason).to.match(/truncated/)
      expect(good).to.be.a('string')
    })

    it('an alias is resolved from the logs themselves: calls that sent the ID are found too', async () => {
      const root = logDir()
      writeLog(root, '2026-11-01', [
        f.record({eventName: 'CreateAlias', readOnly: false, requestParameters: {aliasName: 'alias/payments', targetKeyId: f.KEY_ID}, resources: []}),
        f.record({eventTime: '2026-11-01T11:00:00Z'}),
        f.record({requestParameters: {keyId: f.OTHER_KEY_ID}, resources: [{ARN: f.OTHER_KEY_ARN, type: 'AWS::KMS::Key'}]}),
      ])
      const {matches, result} = await collect([root], buildFilterSpec({event: ['Decrypt'], key: ['alias/payments']}))
      expect(result.learned).to.deep.equal([['alias/payments', f.KEY_ID]])
      expect(matches.map((m) => [m.event.keyId, m.event.key])).to.deep.equal([[f.KEY_ID, 'alias/payments']])
    })

    it('an already resolved key keeps its forms', async () => {
      const root = logDir()
      writeLog(root, '2026-11-01', [f.record()])
      const key = {...keyFormsFromInput('alias/payments'), arn: f.KEY_ARN, id: f.KEY_ID}
      const {matches, result} = await collect([root], {keys: [key]})
      expect(result.learned).to.deep.equal([])
      expect(matches).to.have.length(1)
    })

    it('an abort stops the reading and says so', async () => {
      const root = logDir()
      for (let i = 1; i <= 9; i++) writeLog(root, `2026-11-0${i}`, [f.record()])
      const abort = new AbortController()
      abort.abort()
      const result = await queryFiles({paths: [root], signal: abort.signal, spec: {}, workers: 2})
      expect(result.interrupted).to.equal(true)
      expect(result.matched).to.be.lessThan(9)
    })
  })
})
