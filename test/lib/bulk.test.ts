import {DescribeKeyCommand, DisableKeyCommand, EnableKeyCommand, KMSClient, ListAliasesCommand, ListKeysCommand, ListResourceTagsCommand} from '@aws-sdk/client-kms'
import {mockClient} from 'aws-sdk-client-mock'
import {expect} from 'chai'
import {mkdtempSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {Readable} from 'node:stream'

import {
  bulkExitCode,
  isRetryable,
  parseRefList,
  planStateChange,
  readRefList,
  runStateChange,
  selectKeys,
  summaryLine,
  tally,
  validateSource,
  whyNot,
} from '../../src/lib/bulk.js'
import {KmsctlError} from '../../src/lib/errors.js'
import {Journal} from '../../src/lib/journal.js'
import {Pacer} from '../../src/lib/pacing.js'

const acct = '111122223333'
const id = (n: number) => `${String(n).padStart(8, '0')}-0000-4000-8000-000000000000`
const arn = (n: number) => `arn:aws:kms:us-east-1:${acct}:key/${id(n)}`
const meta = (n: number, extra: Record<string, unknown> = {}) => ({Arn: arn(n), KeyId: id(n), KeyManager: 'CUSTOMER', KeyState: 'Enabled', ...extra})

function awsError(name: string, message = name, status = 400) {
  return Object.assign(new Error(message), {$fault: status >= 500 ? 'server' : 'client', $metadata: {httpStatusCode: status}, name})
}

describe('bulk: reference lists', () => {
  it('reads one reference a line, skipping blanks and # comments', () => {
    const text = `# compromised keys\n${id(1)}\n\n  alias/payments   # the main one\n${arn(2)}\r\n#${id(3)}\n`
    expect(parseRefList(text, 'keys.txt')).to.deep.equal([id(1), 'alias/payments', arn(2)])
  })

  it('names the line of a malformed reference', () => {
    expect(() => parseRefList(`${id(1)}\npayments\n`, 'keys.txt'))
      .to.throw(KmsctlError, 'keys.txt, line 2: "payments" is not a key ID')
      .with.property('exitCode', 2)
  })

  it('reads the list from stdin for "-"', async () => {
    const got = await readRefList('-', Readable.from([Buffer.from(`${id(1)}\n`), Buffer.from('alias/x\n')]))
    expect(got).to.deep.equal({name: 'stdin', text: `${id(1)}\nalias/x\n`})
  })

  it('refuses an unreadable file with exit 2', async () => {
    const err = await readRefList('/nonexistent/keys.txt').catch((error) => error)
    expect(err).to.be.instanceOf(KmsctlError)
    expect(err.message).to.equal('Cannot read --file /nonexistent/keys.txt: ENOENT.')
    expect(err.exitCode).to.equal(2)
  })

  it('needs at least one key or tag, and removes duplicates', () => {
    expect(() => validateSource({refs: []})).to.throw('No key given.')
    expect(() => validateSource({listName: 'stdin', listText: '# nothing\n'})).to.throw('stdin names no key.')
    expect(validateSource({listText: `${id(1)}\n`, refs: [id(1), 'alias/a']})).to.deep.equal([id(1), 'alias/a'])
    expect(validateSource({tags: {team: 'payments'}})).to.deep.equal([])
  })
})

describe('bulk: selection and plan', () => {
  const kms = mockClient(KMSClient)
  beforeEach(() => {
    kms.reset()
    kms.on(ListAliasesCommand).resolves({Aliases: [{AliasName: 'alias/pay', TargetKeyId: id(1)}, {AliasName: 'alias/aws/s3', TargetKeyId: id(5)}]})
    kms.on(ListKeysCommand).resolves({Keys: [1, 2, 3, 4, 5].map((n) => ({KeyArn: arn(n), KeyId: id(n)}))})
    kms.on(DescribeKeyCommand).callsFake((input: {KeyId: string}) => {
      const n = [1, 2, 3, 4, 5].find((k) => input.KeyId === id(k) || input.KeyId === arn(k) || (input.KeyId === 'alias/pay' && k === 1))
      if (!n) throw awsError('NotFoundException', `Key '${input.KeyId}' does not exist`)
      const states: Record<number, Record<string, unknown>> = {2: {KeyState: 'Disabled'}, 3: {KeyState: 'PendingDeletion'}, 5: {KeyManager: 'AWS'}}
      return {KeyMetadata: meta(n, states[n])}
    })
    kms.on(ListResourceTagsCommand).callsFake((input: {KeyId: string}) => ({
      Tags: input.KeyId === id(4) || input.KeyId === id(1) ? [{TagKey: 'team', TagValue: 'payments'}] : [{TagKey: 'team', TagValue: 'web'}],
    }))
  })

  it('resolves references, finds tagged customer-managed keys, and lists each key once', async () => {
    const sel = await selectKeys(kms as unknown as KMSClient, {refs: ['alias/pay', id(2), 'alias/nope'], tags: {team: 'payments'}})
    expect(sel.keys.map((k) => [k.ref, k.keyId, k.state, k.aliases])).to.deep.equal([
      ['alias/pay', id(1), 'Enabled', ['alias/pay']],
      [id(2), id(2), 'Disabled', []],
      [id(4), id(4), 'Enabled', []],
    ])
    expect(sel.unresolved.map((u) => [u.ref, u.error.code])).to.deep.equal([['alias/nope', 'NOT_FOUND']])
    // AWS-managed keys are never asked for tags.
    expect(kms.commandCalls(ListResourceTagsCommand).map((c) => c.args[0].input.KeyId)).to.not.include(id(5))
  })

  it('says why each key is or is not sent', async () => {
    const sel = await selectKeys(kms as unknown as KMSClient, {refs: [1, 2, 3, 5].map(id)})
    const plan = planStateChange('disable', sel)
    expect(plan.items.map((i) => [i.key.keyId, i.send, i.row.outcome, i.row.reason])).to.deep.equal([
      [id(1), true, 'planned', 'will disable'],
      [id(2), false, 'unchanged', 'already Disabled'],
      [id(3), false, 'skipped', 'pending deletion: cancel it first (kmsctl key cancel-deletion KEY)'],
      [id(5), false, 'skipped', 'AWS-managed keys cannot be disabled'],
    ])
    expect(whyNot('enable', {manager: 'CUSTOMER', state: 'Disabled'})).to.equal(undefined)
    expect(whyNot('enable', {manager: 'CUSTOMER', state: 'Enabled'})).to.deep.equal({outcome: 'unchanged', reason: 'already Enabled'})
    expect(whyNot('enable', {manager: 'CUSTOMER', state: 'PendingImport'})?.outcome).to.equal('skipped')
  })
})

describe('bulk: run', () => {
  const kms = mockClient(KMSClient)
  const journalDir = () => mkdtempSync(join(tmpdir(), 'bulk-journal-'))
  const items = (ns: number[]) =>
    ns.map((n) => ({
      key: {aliases: n === 1 ? ['alias/pay'] : [], arn: arn(n), keyId: id(n), manager: 'CUSTOMER', metadata: {KeyId: id(n)}, ref: id(n), state: 'Enabled'},
      row: {arn: arn(n), before: 'Enabled', key: id(n), outcome: 'planned' as const, ref: id(n)},
      send: true,
    }))
  beforeEach(() => kms.reset())

  it('journals each key before sending, then records the outcome', async () => {
    const journal = new Journal({dir: journalDir()})
    const order: string[] = []
    const origBegin = journal.begin.bind(journal)
    journal.begin = (input) => {
      order.push(`journal ${input.key?.keyId}`)
      return origBegin(input)
    }

    kms.on(DisableKeyCommand).callsFake((input: {KeyId: string}) => {
      order.push(`send ${input.KeyId}`)
      return {}
    })
    const rows = await runStateChange({
      action: 'disable',
      items: items([1, 2]),
      journal: {batch: 'b-1', caller: 'arn:aws:iam::111122223333:user/ops', journal, region: 'us-east-1'},
      kms: kms as unknown as KMSClient,
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

  it('retries throttling and server errors, and reports a key that keeps failing', async () => {
    let calls1 = 0
    kms.on(EnableKeyCommand, {KeyId: id(1)}).callsFake(() => {
      calls1++
      if (calls1 <= 2) throw awsError(calls1 === 1 ? 'ThrottlingException' : 'KMSInternalException', 'boom', calls1 === 1 ? 400 : 500)
      return {}
    })
    kms.on(EnableKeyCommand, {KeyId: id(2)}).rejects(awsError('AccessDeniedException', 'not allowed'))
    kms.on(EnableKeyCommand, {KeyId: id(3)}).rejects(awsError('ThrottlingException', 'Rate exceeded'))
    const journal = new Journal({dir: journalDir()})
    const rows = await runStateChange({
      action: 'enable',
      backoffMs: 1,
      items: items([1, 2, 3]).map((i) => ({...i, key: {...i.key, state: 'Disabled'}, row: {...i.row, before: 'Disabled'}})),
      journal: {journal, region: 'us-east-1'},
      kms: kms as unknown as KMSClient,
      pacer: new Pacer(),
      retries: 2,
    })
    expect(rows.map((r) => [r.outcome, r.after, r.attempts, r.error?.code])).to.deep.equal([
      ['changed', 'Enabled', 3, undefined],
      ['failed', 'Disabled', 1, 'ACCESS_DENIED'],
      ['failed', 'Disabled', 3, 'THROTTLED'],
    ])
    // One journal entry per key, however many attempts.
    // Entries written in the same millisecond have no order among themselves: compare by key.
    const byKey = (a: unknown[], b: unknown[]) => String(a[0]).localeCompare(String(b[0]))
    expect(journal.readAll().map((r) => [r.key?.keyId, r.outcome?.status]).sort(byKey)).to.deep.equal([
      [id(1), 'ok'],
      [id(2), 'failed'],
      [id(3), 'failed'],
    ])
    expect(bulkExitCode(rows, false)).to.equal(3)
  })

  it('on interrupt, sends no new call, lets the call in flight finish, and reports the rest as not sent', async () => {
    const controller = new AbortController()
    const sent: string[] = []
    kms.on(DisableKeyCommand).callsFake(async (input: {KeyId: string}) => {
      sent.push(input.KeyId)
      if (sent.length === 2) controller.abort()
      await new Promise((r) => setTimeout(r, 30))
      return {}
    })
    const journal = new Journal({dir: journalDir()})
    const rows = await runStateChange({
      action: 'disable',
      items: items([1, 2, 3, 4, 5, 6]),
      journal: {journal, region: 'us-east-1'},
      kms: kms as unknown as KMSClient,
      // 2 calls a second: the third call would start a second after the first.
      pacer: new Pacer({rates: {DisableKey: 2}}),
      signal: controller.signal,
    })
    expect(sent).to.deep.equal([id(1), id(2)])
    expect(rows.map((r) => r.outcome)).to.deep.equal(['changed', 'changed', 'not-sent', 'not-sent', 'not-sent', 'not-sent'])
    expect(rows[2]).to.deep.include({after: 'Enabled', reason: 'interrupted before it was sent'})
    // Only the keys really sent are in the journal.
    expect(journal.readAll().map((r) => r.key?.keyId).sort()).to.deep.equal([id(1), id(2)])
    expect(bulkExitCode(rows, true)).to.equal(130)
    expect(summaryLine('disable', tally(rows))).to.equal('Disabled 2 of 6 keys; 4 not sent (interrupted).')
  })

  it('paces calls at the rate given', async () => {
    const starts: number[] = []
    kms.on(DisableKeyCommand).callsFake(() => {
      starts.push(Date.now())
      return {}
    })
    const t0 = Date.now()
    await runStateChange({action: 'disable', items: items([1, 2, 3, 4, 5, 6, 7]), kms: kms as unknown as KMSClient, pacer: new Pacer({rates: {DisableKey: 5}})})
    // 5 in the first second, the 6th and 7th not before one second.
    const late = starts.map((s) => s - t0).filter((ms) => ms >= 950)
    expect(late).to.have.length(2)
  })

  it('classifies retryable errors and exit codes', () => {
    expect(isRetryable(awsError('ThrottlingException'))).to.equal(true)
    expect(isRetryable(awsError('Whatever', 'x', 503))).to.equal(true)
    expect(isRetryable(awsError('NotFoundException'))).to.equal(false)
    const row = (outcome: string) => ({key: 'k', outcome, ref: 'k'}) as never
    expect(bulkExitCode([row('changed'), row('unchanged'), row('skipped')], false)).to.equal(0)
    expect(bulkExitCode([row('failed')], false)).to.equal(1)
    expect(bulkExitCode([row('failed'), row('changed')], false)).to.equal(3)
  })
})
