import {runCommand} from '@oclif/test'
import {expect} from 'chai'
import {mkdtempSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {Journal} from '../../../src/lib/journal.js'

const K1 = '00000001-0000-4000-8000-000000000000'
const K2 = '00000002-0000-4000-8000-000000000000'
const ARN1 = `arn:aws:kms:us-east-1:111122223333:key/${K1}`

describe('journal list / journal show', () => {
  let journal: Journal
  const ids: string[] = []

  beforeEach(() => {
    const home = mkdtempSync(join(tmpdir(), 'kmsctl-journal-'))
    process.env.KMSCTL_HOME = home
    let t = Date.now() - 5 * 3_600_000
    journal = new Journal({dir: join(home, 'journal'), now: () => new Date((t += 3_600_000))})
    ids.length = 0
    const a = journal.begin({action: 'key.disable', batch: 'b-1', before: {state: 'Enabled'}, caller: 'arn:aws:iam::111122223333:user/oncall', key: {aliases: ['alias/pay'], arn: ARN1, keyId: K1}, region: 'us-east-1'})
    journal.finish(a.id, {after: {state: 'Disabled'}, status: 'ok'})
    const b = journal.begin({action: 'key.disable', batch: 'b-1', before: {state: 'Enabled'}, key: {keyId: K2}, region: 'us-east-1'})
    journal.finish(b.id, {error: {code: 'ACCESS_DENIED', message: 'denied'}, status: 'failed'})
    const c = journal.begin({action: 'policy.put', before: {policy: '{"Version":"2012-10-17","Statement":[]}'}, key: {keyId: K1}, region: 'us-east-1'})
    // c has no outcome: the process stopped.
    const d = journal.begin({action: 'key.enable', before: {state: 'Disabled'}, key: {aliases: ['alias/pay'], keyId: K1}, region: 'us-east-1', reverses: a.id})
    journal.finish(d.id, {after: {state: 'Enabled'}, status: 'ok'})
    ids.push(a.id, b.id, c.id, d.id)
    process.exitCode = undefined
  })

  afterEach(() => {
    process.exitCode = undefined
  })

  const listed = async (...args: string[]) => (JSON.parse((await runCommand(['journal', 'list', ...args, '--json'])).stdout) as Array<{id: string}>).map((r) => r.id)

  it('lists every entry oldest first, with filters by key, alias, time, action, batch and status', async () => {
    expect(await listed()).to.deep.equal(ids)
    expect(await listed('--key', K1)).to.deep.equal([ids[0], ids[2], ids[3]])
    expect(await listed('--key', ARN1)).to.deep.equal([ids[0], ids[2], ids[3]])
    expect(await listed('--key', 'alias/pay')).to.deep.equal([ids[0], ids[3]])
    // Entries are an hour apart (outcomes take a tick too): the last two are less than 90 minutes old.
    expect(await listed('--since', '90m')).to.deep.equal([ids[2], ids[3]])
    expect(await listed('--action', 'key.disable,key.enable')).to.deep.equal([ids[0], ids[1], ids[3]])
    expect(await listed('--batch', 'b-1')).to.deep.equal([ids[0], ids[1]])
    expect(await listed('--status', 'unfinished')).to.deep.equal([ids[2]])
    expect(await listed('--limit', '1')).to.deep.equal([ids[3]])
  })

  it('prints a table with the outcome, and "unfinished" for an entry without one', async () => {
    const {stdout, stderr} = await runCommand(['journal', 'list'])
    expect(stdout).to.match(new RegExp(`${ids[1]}\\s+key.disable\\s.*\\sfailed: denied`))
    expect(stdout).to.match(new RegExp(`${ids[2]}\\s+policy.put\\s.*\\sunfinished`))
    expect(stderr).to.include('4 entries.')
  })

  it('refuses a bad --since or --key with exit 2', async () => {
    const r = await runCommand(['journal', 'list', '--since', 'yesterday'])
    expect(process.exitCode).to.equal(2)
    expect(r.stderr).to.include('--since "yesterday" is not a time.')
    process.exitCode = undefined
    await runCommand(['journal', 'list', '--key', 'pay'])
    expect(process.exitCode).to.equal(2)
  })

  it('shows one entry in full, by ID or unique prefix, with what undoes it', async () => {
    const {stdout} = await runCommand(['journal', 'show', ids[0]])
    expect(stdout).to.match(/Action\s+key\.disable/)
    expect(stdout).to.match(/Caller\s+arn:aws:iam::111122223333:user\/oncall/)
    expect(stdout).to.include(`Undone by  ${ids[3]}`)
    expect(stdout).to.match(/Undo\s+enable the key/)
    expect(stdout).to.include('Before:\n{\n  "state": "Enabled"\n}')
    expect(stdout).to.include('After:\n{\n  "state": "Disabled"\n}')
    const json = JSON.parse((await runCommand(['journal', 'show', ids[2], '--json'])).stdout)
    expect(json).to.deep.include({action: 'policy.put', id: ids[2], reversedBy: []})
    expect(json.outcome).to.equal(undefined)
  })

  it('refuses an unknown or ambiguous entry with exit 2', async () => {
    const unknown = await runCommand(['journal', 'show', 'j-nope'])
    expect(process.exitCode).to.equal(2)
    expect(unknown.stderr).to.include('No journal entry or batch "j-nope".')
    process.exitCode = undefined
    const ambiguous = await runCommand(['journal', 'show', 'j-'])
    expect(process.exitCode).to.equal(2)
    expect(ambiguous.stderr).to.include('"j-" matches 4 journal entries.')
  })
})
