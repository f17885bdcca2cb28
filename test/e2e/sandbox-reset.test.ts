// `kmsctl sandbox reset`: typed confirmation, --confirm, --yes, --dry-run, no-TTY refusal, and the
// real prompt through a pseudo-terminal. Nothing is deleted unless confirmed.
import {CreateKeyCommand} from '@aws-sdk/client-kms'
import {expect} from 'chai'
import {mkdtempSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {sandboxStatus} from '../../src/sandbox/admin.js'
import {json, runCli} from '../helpers/cli.js'
import {runInPty} from '../helpers/pty.js'
import {newSandbox} from '../sandbox/helpers.js'

async function sandboxWithKeys(n: number): Promise<string> {
  const sb = await newSandbox(mkdtempSync(join(tmpdir(), 'kmsctl-reset-')))
  for (let i = 0; i < n; i++) await sb.kms.send(new CreateKeyCommand({}))
  return sb.dir
}

describe('e2e: kmsctl sandbox reset', () => {
  it('refuses without a terminal and without --confirm/--yes (exit 2), deleting nothing', async () => {
    const dir = await sandboxWithKeys(2)
    const r = await runCli(['sandbox', 'reset', '--sandbox-dir', dir])
    expect(r.code).to.equal(2)
    expect(r.stderr).to.contain('Confirmation required to reset the sandbox')
    expect(r.stderr).to.contain('Try this: --confirm reset or --yes')
    expect(r.stdout).to.equal('')
    expect(sandboxStatus(dir).keys).to.equal(2)
    const j = await runCli(['sandbox', 'reset', '--json', '--sandbox-dir', dir])
    expect(j.code).to.equal(2)
    expect(json(j).error.code).to.equal('CONFIRMATION_REQUIRED')
    expect(sandboxStatus(dir).keys).to.equal(2)
  })

  it('a mismatching --confirm is refused; a matching one resets', async () => {
    const dir = await sandboxWithKeys(2)
    const wrong = await runCli(['sandbox', 'reset', '--confirm', 'yes-please', '--sandbox-dir', dir])
    expect(wrong.code).to.equal(2)
    expect(wrong.stderr).to.contain('--confirm "yes-please" does not match')
    expect(sandboxStatus(dir).keys).to.equal(2)
    const ok = await runCli(['sandbox', 'reset', '--confirm', 'reset', '--json', '--sandbox-dir', dir])
    expect(ok.code, ok.stderr).to.equal(0)
    expect(json(ok)).to.deep.include({dir, dryRun: false})
    expect(json(ok).removed).to.deep.equal({aliases: 0, events: 2, grants: 0, keys: 2})
    expect(sandboxStatus(dir)).to.include({eventsRecorded: 0, keys: 0})
  })

  it('--yes resets and says so on stderr; --dry-run deletes nothing', async () => {
    const dir = await sandboxWithKeys(1)
    const dry = await runCli(['sandbox', 'reset', '--dry-run', '--json', '--sandbox-dir', dir])
    expect(dry.code).to.equal(0)
    expect(json(dry)).to.deep.include({dryRun: true})
    expect(sandboxStatus(dir).keys).to.equal(1)
    const yes = await runCli(['sandbox', 'reset', '--yes', '--sandbox-dir', dir])
    expect(yes.code, yes.stderr).to.equal(0)
    expect(yes.stderr).to.contain('Confirmed with --yes: reset the sandbox.')
    expect(yes.stdout).to.equal(`Sandbox reset: deleted 1 key, 0 aliases, 0 grants and 1 CloudTrail event in ${dir}.\n`)
    expect(sandboxStatus(dir).keys).to.equal(0)
  })

  it('prompts on a terminal: a wrong answer is asked again, then declines (exit 4); typing "reset" resets', async () => {
    const dir = await sandboxWithKeys(1)
    const declined = runInPty(['sandbox', 'reset', '--sandbox-dir', dir], {NO_COLOR: '1'})
    await declined.waitFor('To reset the sandbox, type reset:')
    expect(declined.output()).to.contain(`This deletes 1 key, 0 aliases, 0 grants and 1 CloudTrail event in ${dir}.`)
    declined.write('nope\r')
    // Said to be wrong and asked again; Enter alone stops.
    await declined.waitFor('"nope" does not match. Type reset exactly (2 more tries)')
    declined.write('\r')
    expect(await declined.exit).to.equal(4)
    expect(sandboxStatus(dir).keys).to.equal(1)
    const confirmed = runInPty(['sandbox', 'reset', '--sandbox-dir', dir], {NO_COLOR: '1'})
    await confirmed.waitFor('type reset')
    confirmed.write('reset\r')
    expect(await confirmed.exit).to.equal(0)
    expect(confirmed.output()).to.contain('Sandbox reset: deleted 1 key,')
    expect(sandboxStatus(dir).keys).to.equal(0)
  })
})
