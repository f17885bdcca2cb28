import {expect} from 'chai'
import {mkdtempSync, readFileSync, readdirSync, appendFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import type {AwsClients} from '../../src/lib/aws/clients.js'
import {Journal, changeContext, changeOrigin, commandLine} from '../../src/lib/journal.js'

describe('journal', () => {
  it('appends an entry before the change and its outcome after, and reads them back merged', () => {
    const dir = mkdtempSync(join(tmpdir(), 'journal-'))
    let t = Date.parse('2026-11-28T10:00:00Z')
    const j = new Journal({dir, now: () => new Date((t += 1000))})
    const e = j.begin({action: 'key.disable', before: {state: 'Enabled'}, key: {keyId: 'k1'}, region: 'us-east-1'})
    expect(e.id).to.match(/^j-20261128T100001Z-[0-9a-f]{6}$/)
    expect(j.get(e.id)?.outcome).to.equal(undefined)
    j.finish(e.id, {after: {state: 'Disabled'}, status: 'ok'})
    const rec = j.get(e.id)
    expect(rec?.before).to.deep.equal({state: 'Enabled'})
    expect(rec?.outcome?.status).to.equal('ok')
    expect(readdirSync(dir)).to.deep.equal(['2026-11-28.jsonl'])
    expect(readFileSync(join(dir, '2026-11-28.jsonl'), 'utf8').trim().split('\n')).to.have.length(2)
  })

  it('filters by key and time and resolves a unique ID prefix', () => {
    const dir = mkdtempSync(join(tmpdir(), 'journal-'))
    let t = Date.parse('2026-11-28T10:00:00Z')
    const j = new Journal({dir, now: () => new Date((t += 3_600_000))})
    const a = j.begin({action: 'key.disable', before: {}, key: {arn: 'arn:aws:kms:us-east-1:1:key/k1', keyId: 'k1'}, region: 'us-east-1'})
    j.begin({action: 'key.enable', before: {}, key: {keyId: 'k2'}, region: 'us-east-1'})
    expect(j.list({keyId: 'k1'}).map((r) => r.id)).to.deep.equal([a.id])
    expect(j.list({keyId: 'arn:aws:kms:us-east-1:1:key/k1'})).to.have.length(1)
    expect(j.list({since: new Date('2026-11-28T11:30:00Z')}).map((r) => r.action)).to.deep.equal(['key.enable'])
    expect(j.get(a.id.slice(0, -2))?.id).to.equal(a.id)
  })

  it('skips a torn last line left by a crash', () => {
    const dir = mkdtempSync(join(tmpdir(), 'journal-'))
    const j = new Journal({dir, now: () => new Date('2026-11-28T10:00:00Z')})
    const e = j.begin({action: 'key.disable', before: {state: 'Enabled'}, region: 'us-east-1'})
    appendFileSync(join(dir, '2026-11-28.jsonl'), '{"type":"entry","id":"j-torn')
    expect(new Journal({dir}).readAll().map((r) => r.id)).to.deep.equal([e.id])
  })

  it('spells the command line as typed', () => {
    expect(commandLine('grant:revoke', ['--grantee', 'x'])).to.deep.equal(['grant', 'revoke', '--grantee', 'x'])
    expect(commandLine(undefined, ['a'])).to.deep.equal(['a'])
  })

  it('records the caller when STS answers, and still records the change when it does not', async () => {
    const ok = {callerIdentity: async () => ({account: '111122223333', arn: 'arn:aws:iam::111122223333:user/a', userId: 'AIDA'}), region: async () => 'eu-west-1'}
    expect(await changeOrigin(ok as unknown as AwsClients, ['x'])).to.deep.equal({account: '111122223333', caller: 'arn:aws:iam::111122223333:user/a', command: ['x'], region: 'eu-west-1'})
    const denied = Object.assign(new Error('not authorized to perform: sts:GetCallerIdentity'), {$metadata: {httpStatusCode: 403}, name: 'AccessDenied'})
    const failing = {callerIdentity: async () => Promise.reject(denied), region: async () => 'eu-west-1'}
    const warnings: string[] = []
    expect(await changeOrigin(failing as unknown as AwsClients, ['x'], {warn: (m) => warnings.push(m)})).to.deep.equal({command: ['x'], region: 'eu-west-1'})
    expect(warnings).to.have.length(1)
    expect(warnings[0]).to.match(/^The journal will not name the caller: /)
  })

  it('stops before any change when the credential is expired or missing (one error policy for every command)', async () => {
    const expired = Object.assign(new Error('The security token included in the request is expired'), {$metadata: {httpStatusCode: 403}, name: 'ExpiredTokenException'})
    const missing = Object.assign(new Error('Could not load credentials from any providers'), {name: 'CredentialsProviderError'})
    for (const [error, code] of [
      [expired, 'EXPIRED_TOKEN'],
      [missing, 'NO_CREDENTIALS'],
    ] as const) {
      const aws = {callerIdentity: async () => Promise.reject(error), region: async () => 'eu-west-1'}
      const journal = new Journal({dir: mkdtempSync(join(tmpdir(), 'journal-ctx-'))})
      // eslint-disable-next-line no-await-in-loop
      const err = await changeContext(aws as unknown as AwsClients, journal, ['key', 'disable'], {batch: 'b-1'}).catch((error_: Error) => error_)
      expect(err).to.have.property('code', code)
      expect(journal.readAll()).to.deep.equal([])
    }
  })

  it('durable entries appended together are each on disk when their promise resolves, whole lines, one per entry', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'journal-group-'))
    const j = new Journal({dir, now: () => new Date('2026-11-28T10:00:00Z')})
    const onDiskWhenResolved: boolean[] = []
    const entries = await Promise.all(
      Array.from({length: 25}, (_, i) =>
        j.beginDurable({action: 'key.disable', before: {state: 'Enabled'}, key: {keyId: `k${i}`}, region: 'us-east-1'}).then((e) => {
          onDiskWhenResolved.push(new Journal({dir}).readAll().some((r) => r.id === e.id))
          return e
        }),
      ),
    )
    expect(onDiskWhenResolved).to.have.length(25)
    expect(onDiskWhenResolved.every(Boolean)).to.equal(true)
    await Promise.all(entries.map((e, i) => j.finishDurable(e.id, i === 3 ? {error: {code: 'X', message: 'no'}, status: 'failed'} : {status: 'ok'})))
    const lines = readFileSync(join(dir, '2026-11-28.jsonl'), 'utf8').split('\n').filter(Boolean)
    expect(lines).to.have.length(50)
    const records = new Journal({dir}).readAll()
    expect(records.map((r) => r.key?.keyId).sort()).to.deep.equal(Array.from({length: 25}, (_, i) => `k${i}`).sort())
    expect(records.filter((r) => r.outcome?.status === 'failed').map((r) => r.key?.keyId)).to.deep.equal(['k3'])
  })
})
