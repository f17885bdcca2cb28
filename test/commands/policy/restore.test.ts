import {readFileSync, readdirSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {expect} from 'chai'

import {Journal} from '../../../src/lib/journal.js'
import {DEFAULT_POLICY, KEY_ID, ROOT_STATEMENT, USE_STATEMENT, policyText, setupPolicyMocks} from './helpers.js'

describe('policy restore', () => {
  const h = setupPolicyMocks()

  async function putNew(): Promise<{backup: string; journalId: string}> {
    const p = join(h.dir, 'new.json')
    writeFileSync(p, policyText([ROOT_STATEMENT, USE_STATEMENT]))
    const r = JSON.parse((await h.run(['policy', 'put', KEY_ID, '--file', p, '--yes', '--json'])).stdout)
    return {backup: r.backup, journalId: r.journalId}
  }

  it('puts the backup back byte for byte, and backs up what it overwrites', async () => {
    const {backup} = await putNew()
    const {exitCode, stdout} = await h.run(['policy', 'restore', KEY_ID, '--from', backup, '--yes'])
    expect(exitCode).to.equal(undefined)
    expect(h.puts()[1].Policy).to.equal(DEFAULT_POLICY)
    expect(h.state.policy).to.equal(DEFAULT_POLICY)
    expect(stdout).to.contain(`Restored the key policy of ${KEY_ID} (read back: identical).`)
    expect(readdirSync(join(h.home, 'backups'))).to.have.length(2)
    const entries = new Journal().readAll()
    expect(entries.map((e) => [e.action, e.outcome?.status])).to.deep.equal([['policy.put', 'ok'], ['policy.restore', 'ok']])
  })

  it('restores from a journal entry ID', async () => {
    const {journalId} = await putNew()
    const {exitCode} = await h.run(['policy', 'restore', 'alias/payments', '--from', journalId, '--confirm', 'alias/payments'])
    expect(exitCode).to.equal(undefined)
    expect(h.state.policy).to.equal(DEFAULT_POLICY)
  })

  it('does nothing when the policy is already exactly the backup', async () => {
    const p = join(h.dir, 'b.json')
    writeFileSync(p, DEFAULT_POLICY)
    const {exitCode, stderr} = await h.run(['policy', 'restore', KEY_ID, '--from', p, '--yes'])
    expect(exitCode).to.equal(undefined)
    expect(stderr).to.contain('nothing to restore')
    expect(h.puts()).to.have.length(0)
  })

  it('--dry-run prints the exact bytes that would be sent', async () => {
    const {backup} = await putNew()
    const {stdout} = await h.run(['policy', 'restore', KEY_ID, '--from', backup, '--dry-run'])
    expect(stdout).to.contain(DEFAULT_POLICY)
    expect(h.puts()).to.have.length(1)
    expect(readFileSync(backup, 'utf8')).to.equal(DEFAULT_POLICY)
  })

  it('an unknown backup or journal entry is a usage error with nothing sent', async () => {
    const missing = await h.run(['policy', 'restore', KEY_ID, '--from', join(h.dir, 'nope.json'), '--yes'])
    expect(missing.exitCode).to.equal(2)
    expect(missing.stderr).to.contain('no such file')
    const unknown = await h.run(['policy', 'restore', KEY_ID, '--from', 'j-20990101T000000Z-abcdef', '--yes'])
    expect(unknown.exitCode).to.equal(2)
    expect(unknown.stderr).to.contain('no policy put or restore with that journal entry ID')
    expect(h.kms.calls()).to.have.length(0)
  })
})
