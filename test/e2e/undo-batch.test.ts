// End-to-end: undoing a whole batch with the built binary against `kmsctl sandbox serve` over HTTP:
// a bulk disable by tag, with one key changed in between; a second undo; an undo of the undo
// (--last); a containment of several keys.
import {CreateKeyCommand, DescribeKeyCommand, type KMSClient} from '@aws-sdk/client-kms'
import {expect} from 'chai'
import {mkdtempSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {json, runCli} from '../helpers/cli.js'
import {type SandboxServer, sandboxKmsClient, startSandboxServer} from '../helpers/sandbox-server.js'
import {incidentKey} from '../lib/incident/helpers.js'

describe('e2e: undo a batch', function () {
  this.timeout(180_000)
  let server: SandboxServer
  let kms: KMSClient
  let env: NodeJS.ProcessEnv
  const stateOf = async (keyId: string) => (await kms.send(new DescribeKeyCommand({KeyId: keyId}))).KeyMetadata?.KeyState
  const kmsctl = (...args: string[]) => runCli(args, {env})

  before(async () => {
    server = await startSandboxServer()
    kms = sandboxKmsClient(server)
  })

  after(async () => {
    kms?.destroy()
    await server?.stop()
  })

  beforeEach(() => {
    env = {...server.env, KMSCTL_HOME: mkdtempSync(join(tmpdir(), 'kmsctl-e2e-undo-batch-'))}
  })

  it('reverses a bulk disable, refuses the key changed since, refuses a second undo, and can undo the undo (--last)', async () => {
    const keys: string[] = []
    for (let i = 0; i < 3; i++) {
      // eslint-disable-next-line no-await-in-loop
      keys.push((await kms.send(new CreateKeyCommand({Tags: [{TagKey: 'team', TagValue: 'e2e-undo-batch'}]}))).KeyMetadata!.KeyId!)
    }

    const disabled = await kmsctl('key', 'disable', '--tag', 'team=e2e-undo-batch', '--yes', '--json')
    expect(disabled.code, disabled.stderr).to.equal(0)
    const {batch} = json(disabled)
    expect(batch).to.match(/^b-/)
    // One key is changed again with kmsctl in between (enabled, then disabled by someone else's run).
    const changed = keys[1]
    expect((await kmsctl('key', 'enable', changed, '--yes', '--json')).code).to.equal(0)
    expect((await kmsctl('key', 'disable', changed, '--yes', '--json')).code).to.equal(0)

    const dry = await kmsctl('undo', batch, '--dry-run', '--json')
    expect(dry.code, dry.stderr).to.equal(0)
    const plan = json(dry)
    expect(plan).to.deep.include({batch, dryRun: true})
    const status = (rows: Array<{key: string; status: string}>) => Object.fromEntries(rows.map((r) => [r.key, r.status]))
    expect(status(plan.entries)).to.deep.equal({[keys[0]]: 'planned', [keys[1]]: 'refused', [keys[2]]: 'planned'})
    expect(plan.entries.find((r: {key: string}) => r.key === changed).detail).to.include(`key ${changed} was changed again after`)

    // Asked once, with the text naming the change (like every bulk action); nothing is sent without it.
    const noConfirm = await kmsctl('undo', batch)
    expect(noConfirm.code).to.equal(2)
    expect(noConfirm.stderr).to.include('Try this: --confirm "undo 2 changes" or --yes')
    // A bare count is not the confirmation: refused, naming the text expected.
    const wrong = await kmsctl('undo', batch, '--confirm', '2', '--json')
    expect(wrong.code).to.equal(2)
    expect(json(wrong).error.message).to.equal('--confirm "2" does not match; expected "undo 2 changes".')
    expect(await Promise.all(keys.map((k) => stateOf(k)))).to.deep.equal(['Disabled', 'Disabled', 'Disabled'])

    const undo = await kmsctl('undo', batch, '--confirm', 'undo 2 changes', '--json')
    expect(undo.code, undo.stderr).to.equal(3)
    const undone = json(undo)
    expect(status(undone.entries)).to.deep.equal({[keys[0]]: 'undone', [keys[1]]: 'refused', [keys[2]]: 'undone'})
    expect(undone.summary).to.deep.include({refused: 1, total: 3, undone: 2})
    expect(undone.undoBatch).to.match(/^b-/)
    expect(await Promise.all(keys.map((k) => stateOf(k)))).to.deep.equal(['Enabled', 'Disabled', 'Enabled'])

    // A second undo has nothing left: the two are already reversed, the third is still refused.
    const again = await kmsctl('undo', batch, '--yes', '--json')
    expect(again.code).to.equal(1)
    const refusal = json(again).error
    expect(refusal.message).to.match(/^Batch b-\S+ not undone: 1 entry was changed since/)

    // The undo is a batch of its own, and the caller's last change: --last reverses it.
    const redo = await kmsctl('undo', '--last', '--yes', '--json')
    expect(redo.code, redo.stderr).to.equal(0)
    expect(json(redo).batch).to.equal(undone.undoBatch)
    expect(await Promise.all(keys.map((k) => stateOf(k)))).to.deep.equal(['Disabled', 'Disabled', 'Disabled'])
  })

  it('reverses a containment of several keys with one confirmation', async () => {
    const keys = [await incidentKey(kms, 'e2e-ub-1'), await incidentKey(kms, 'e2e-ub-2')]
    const contain = await kmsctl('incident', 'contain', ...keys, '--revoke-grants', '--yes', '--json')
    expect(contain.code, contain.stderr).to.equal(0)
    const {batch} = json(contain)
    expect(await Promise.all(keys.map((k) => stateOf(k)))).to.deep.equal(['Disabled', 'Disabled'])

    const undo = await kmsctl('undo', batch, '--confirm', 'undo 2 changes', '--json')
    expect(undo.code, undo.stderr).to.equal(0)
    expect(json(undo).entries.map((r: {action: string; status: string}) => [r.action, r.status])).to.deep.equal([
      ['incident.contain', 'undone'],
      ['incident.contain', 'undone'],
    ])
    expect(await Promise.all(keys.map((k) => stateOf(k)))).to.deep.equal(['Enabled', 'Enabled'])
    const listed = json(await kmsctl('journal', 'list', '--batch', json(undo).undoBatch, '--json'))
    expect(JSON.stringify(listed)).to.include('incident.restore')
  })
})
