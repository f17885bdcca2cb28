import {DisableKeyCommand, EnableKeyCommand} from '@aws-sdk/client-kms'
import FakeTimers from '@sinonjs/fake-timers'
import {expect} from 'chai'
import {mkdtempSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {summaryLine} from '../../../src/lib/bulk/report.js'
import {runStateChange} from '../../../src/lib/bulk/run.js'
import {type ReportRow} from '../../../src/lib/bulk/plan.js'
import {tally} from '../../../src/lib/bulk/tally.js'
import {exitCodeOf} from '../../../src/cli/exit-code.js'
import {Journal} from '../../../src/lib/journal.js'
import {Pacer} from '../../../src/lib/pacing.js'
import {awsError, mockSdk} from '../../helpers/mock-sdk.js'

/** The exit code a bulk command gives its rows: through exitCodeOf, the one place that decides it. */
function bulkExitCode(rows: readonly ReportRow[], interrupted: boolean): number {
  const t = tally(rows)
  return exitCodeOf({failed: t.failed, interrupted, succeeded: t.total - t.failed})
}

const acct = '111122223333'
const id = (n: number) => `${String(n).padStart(8, '0')}-0000-4000-8000-000000000000`
const arn = (n: number) => `arn:aws:kms:us-east-1:${acct}:key/${id(n)}`

/**
 * Lets the event loop turn until `done()`, at most 10,000 turns: real I/O completes, and the fake
 * clock runs what is due now without moving forward.
 */
async function until(clock: FakeTimers.InstalledClock, done: () => boolean): Promise<void> {
  for (let i = 0; i < 10_000 && !done(); i++) {
    // eslint-disable-next-line no-await-in-loop
    await clock.tickAsync(0)
    // eslint-disable-next-line no-await-in-loop
    await new Promise<void>((resolve) => {
      setImmediate(resolve)
    })
  }
}

describe('bulk/run', () => {
  const sdk = mockSdk()
  const journalDir = () => mkdtempSync(join(tmpdir(), 'bulk-journal-'))
  const items = (ns: number[], state = 'Enabled') =>
    ns.map((n) => ({
      key: {aliases: n === 1 ? ['alias/pay'] : [], arn: arn(n), keyId: id(n), manager: 'CUSTOMER', metadata: {KeyId: id(n)}, ref: id(n), state},
      row: {arn: arn(n), before: state, key: id(n), outcome: 'planned' as const, ref: id(n)},
      send: true,
    }))

  it('journals each key before sending, then records the outcome', async () => {
    const journal = new Journal({dir: journalDir()})
    const order: string[] = []
    const origBegin = journal.beginDurable.bind(journal)
    journal.beginDurable = async (input) => {
      order.push(`journal ${input.key?.keyId}`)
      return origBegin(input)
    }

    sdk.kms.on(DisableKeyCommand).callsFake((input: {KeyId: string}) => {
      // The entry is on disk before the call is sent.
      const onDisk = new Journal({dir: journal.dir}).readAll().map((r) => r.key?.keyId)
      order.push(`send ${input.KeyId}${onDisk.includes(input.KeyId) ? '' : ' (not journaled)'}`)
      return {}
    })
    const rows = await runStateChange({
      action: 'disable',
      items: items([1, 2]),
      journal: {batch: 'b-1', caller: 'arn:aws:iam::111122223333:user/ops', journal, region: 'us-east-1'},
      kms: sdk.kmsClient(),
      pacer: new Pacer(),
      workers: 1,
    })
    expect(order).to.deep.equal([`journal ${id(1)}`, `send ${id(1)}`, `journal ${id(2)}`, `send ${id(2)}`])
    expect(rows.map((r) => [r.key, r.before, r.after, r.outcome])).to.deep.equal([
      [id(1), 'Enabled', 'Disabled', 'changed'],
      [id(2), 'Enabled', 'Disabled', 'changed'],
    ])
    const recs = journal.list({batch: 'b-1'})
    expect(recs.map((r) => [r.action, r.key?.keyId, r.before, r.outcome?.status, r.outcome?.after])).to.deep.equal([
      ['key.disable', id(1), {state: 'Enabled'}, 'ok', {state: 'Disabled'}],
      ['key.disable', id(2), {state: 'Enabled'}, 'ok', {state: 'Disabled'}],
    ])
    expect(recs[0].caller).to.equal('arn:aws:iam::111122223333:user/ops')
    expect(rows[0].journalId).to.equal(recs[0].id)
  })

  it('sends each key once (retries are the client\'s), and reports a key that failed with the attempts the client made', async () => {
    sdk.kms.on(EnableKeyCommand, {KeyId: id(1)}).resolves({$metadata: {attempts: 2}})
    sdk.kms.on(EnableKeyCommand, {KeyId: id(2)}).rejects(awsError('AccessDeniedException', 'not allowed'))
    sdk.kms.on(EnableKeyCommand, {KeyId: id(3)}).rejects(Object.assign(awsError('ThrottlingException', 'Rate exceeded'), {$metadata: {attempts: 3, httpStatusCode: 400}}))
    const journal = new Journal({dir: journalDir()})
    const rows = await runStateChange({
      action: 'enable',
      items: items([1, 2, 3], 'Disabled'),
      journal: {journal, region: 'us-east-1'},
      kms: sdk.kmsClient(),
      pacer: new Pacer(),
    })
    expect(rows.map((r) => [r.outcome, r.after, r.attempts, r.error?.code])).to.deep.equal([
      ['changed', 'Enabled', 2, undefined],
      ['failed', 'Disabled', 1, 'ACCESS_DENIED'],
      ['failed', 'Disabled', 3, 'THROTTLED'],
    ])
    expect(sdk.kms.commandCalls(EnableKeyCommand)).to.have.length(3)
    const byKey = (a: unknown[], b: unknown[]) => String(a[0]).localeCompare(String(b[0]))
    expect(journal.readAll().map((r) => [r.key?.keyId, r.outcome?.status]).sort(byKey)).to.deep.equal([
      [id(1), 'ok'],
      [id(2), 'failed'],
      [id(3), 'failed'],
    ])
    expect(bulkExitCode(rows, false)).to.equal(3)
  })

  describe('with a fake clock', () => {
    let clock: FakeTimers.InstalledClock
    beforeEach(() => {
      clock = FakeTimers.install({toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date']})
    })
    afterEach(() => clock.uninstall())

    it('on interrupt, drops the queued calls at once (no waiting for the rate), lets the call in flight finish, reports the rest as not sent', async () => {
      const controller = new AbortController()
      const sent: string[] = []
      let release: () => void = () => {}
      sdk.kms.on(DisableKeyCommand).callsFake(async (input: {KeyId: string}) => {
        sent.push(input.KeyId)
        controller.abort()
        await new Promise<void>((resolve) => {
          release = resolve
        })
        return {}
      })
      const journal = new Journal({dir: journalDir()})
      let settled = false
      const run = runStateChange({
        action: 'disable',
        items: items([1, 2, 3, 4, 5, 6]),
        journal: {journal, region: 'us-east-1'},
        kms: sdk.kmsClient(),
        // One call every 10 s: without dropping the queue the run would take a minute.
        pacer: new Pacer({rates: {DisableKey: 0.1}}),
        signal: controller.signal,
      }).finally(() => {
        settled = true
      })
      // The journal is written off the event loop: let real I/O complete, with the fake clock still.
      await until(clock, () => sent.length > 0)
      expect(sent).to.deep.equal([id(1)])
      expect(settled).to.equal(false)
      release()
      // No time passes on the clock: the run ends because the queue was dropped, not waited out.
      await until(clock, () => settled)
      expect(settled).to.equal(true)
      const rows = await run
      expect(sent).to.deep.equal([id(1)])
      expect(rows.map((r) => r.outcome)).to.deep.equal(['changed', 'not-sent', 'not-sent', 'not-sent', 'not-sent', 'not-sent'])
      expect(rows[2]).to.deep.include({after: 'Enabled', reason: 'interrupted before it was sent'})
      expect(journal.readAll().map((r) => r.key?.keyId)).to.deep.equal([id(1)])
      expect(bulkExitCode(rows, true)).to.equal(130)
      expect(summaryLine('disable', tally(rows))).to.equal('Disabled 1 of 6 keys; 5 not sent (interrupted).')
    })

    it('paces calls at the rate given', async () => {
      const starts: number[] = []
      sdk.kms.on(DisableKeyCommand).callsFake(() => {
        starts.push(Date.now())
        return {}
      })
      const t0 = Date.now()
      const run = runStateChange({action: 'disable', items: items([1, 2, 3, 4, 5, 6, 7]), kms: sdk.kmsClient(), pacer: new Pacer({rates: {DisableKey: 5}})})
      await clock.tickAsync(999)
      expect(starts).to.have.length(5)
      await clock.tickAsync(1000)
      await run
      const late = starts.map((s) => s - t0).slice(5)
      expect(late).to.have.length(2)
      for (const ms of late) expect(ms).to.be.within(1000, 1999)
    })
  })

  it('classifies exit codes', () => {
    const row = (outcome: string) => ({key: 'k', outcome, ref: 'k'}) as never
    expect(bulkExitCode([row('changed'), row('unchanged'), row('skipped')], false)).to.equal(0)
    expect(bulkExitCode([row('failed')], false)).to.equal(1)
    expect(bulkExitCode([row('failed'), row('changed')], false)).to.equal(3)
  })
})
