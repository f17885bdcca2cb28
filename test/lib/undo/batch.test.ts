import {CreateGrantCommand, CreateKeyCommand, DescribeKeyCommand, type KMSClient, ListGrantsCommand} from '@aws-sdk/client-kms'
import {expect} from 'chai'
import {mkdtempSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {planStateChange} from '../../../src/lib/bulk/plan.js'
import {runStateChange} from '../../../src/lib/bulk/run.js'
import {selectKeys} from '../../../src/lib/bulk/select.js'
import {listKeyGrants} from '../../../src/lib/grants/list.js'
import {revokeGrants} from '../../../src/lib/grants/revoke.js'
import {containKeys} from '../../../src/lib/incident/contain.js'
import {type ChangeContext, Journal, newBatchId} from '../../../src/lib/journal.js'
import {Pacer} from '../../../src/lib/pacing.js'
import {exitCodeOf} from '../../../src/cli/exit-code.js'
import {type BatchUndoRow, originalRate, planBatchUndo, runBatchUndo, tallyBatchUndo} from '../../../src/lib/undo/batch.js'
import {findUndoTarget, lastChange} from '../../../src/lib/undo/target.js'
import {ADMIN, APP_ROLE, incidentKey, sandboxKms} from '../incident/helpers.js'

/** The exit code `undo BATCH` gives its rows: undone entries succeeded, failed and refused ones did not. */
function batchUndoExitCode(rows: readonly BatchUndoRow[], interrupted: boolean): number {
  const t = tallyBatchUndo(rows)
  return exitCodeOf({failed: t.failed + t.refused, interrupted, succeeded: t.undone})
}

describe('batch undo (in-process sandbox)', () => {
  let kms: KMSClient
  let journal: Journal
  const state = async (keyId: string) => (await kms.send(new DescribeKeyCommand({KeyId: keyId}))).KeyMetadata?.KeyState
  const newKey = async () => (await kms.send(new CreateKeyCommand({}))).KeyMetadata!.KeyId!
  const ctx = (batch?: string, command = ['undo']): ChangeContext => ({account: '111122223333', batch, caller: ADMIN, command, journal, region: 'us-east-1'})

  /** Plans and runs the undo of a batch, as `kmsctl undo BATCH --yes` does. */
  const undoBatch = async (batch: string, options: {force?: boolean} = {}) => {
    const target = findUndoTarget(journal, batch)
    if (target.kind !== 'batch') throw new Error('not a batch')
    const plan = await planBatchUndo(kms, journal, batch, target.records, {force: options.force, pacer: new Pacer()})
    const undo = newBatchId()
    const rows = await runBatchUndo(kms, journal, plan, ctx(undo), {pacer: new Pacer()})
    return {plan, rows, undo}
  }

  /** key disable KEY... as one batch. */
  const bulkDisable = async (keys: string[], action: 'disable' | 'enable' = 'disable') => {
    const batch = newBatchId()
    const sel = await selectKeys(kms, {refs: keys})
    await runStateChange({action, items: planStateChange(action, sel).items, journal: ctx(batch, ['key', action, ...keys, '--rate', '2']), kms, pacer: new Pacer()})
    return batch
  }

  /** Rows in the order of the keys given (entries written in the same millisecond have no order of their own). */
  const inKeyOrder = <R extends {key?: string}>(rows: readonly R[], keys: readonly string[]): R[] => keys.map((k) => rows.find((r) => r.key === k)!)

  beforeEach(async () => {
    ;({kms} = await sandboxKms())
    journal = new Journal({dir: mkdtempSync(join(tmpdir(), 'undo-batch-'))})
  })

  it('reverses a bulk disable, refuses a key changed since (named), skips it when forced again, and refuses a second undo', async () => {
    const keys = [await newKey(), await newKey(), await newKey()]
    const batch = await bulkDisable(keys)
    expect(await Promise.all(keys.map((k) => state(k)))).to.deep.equal(['Disabled', 'Disabled', 'Disabled'])
    expect(originalRate(journal.list({batch}))).to.equal(2)

    // The second key is changed again with kmsctl in between (enabled, then disabled again).
    await bulkDisable([keys[1]], 'enable')
    await bulkDisable([keys[1]], 'disable')

    const first = await undoBatch(batch)
    expect(inKeyOrder(first.plan.rows, keys).map((r) => [r.key, r.status])).to.deep.equal([
      [keys[0], 'planned'],
      [keys[1], 'refused'],
      [keys[2], 'planned'],
    ])
    expect(inKeyOrder(first.plan.rows, keys)[1].detail).to.match(new RegExp(`^changed since: key ${keys[1]} was changed again after j-\\S+ \\(key\\.enable, j-\\S+\\) \\(--force overwrites\\)$`))
    expect(inKeyOrder(first.rows, keys).map((r) => r.status)).to.deep.equal(['undone', 'refused', 'undone'])
    expect(await Promise.all(keys.map((k) => state(k)))).to.deep.equal(['Enabled', 'Disabled', 'Enabled'])
    expect(batchUndoExitCode(first.rows, false)).to.equal(3)
    expect(tallyBatchUndo(first.rows)).to.deep.include({refused: 1, total: 3, undone: 2})
    // The undo is itself a batch: one entry per key reversed, each naming the entry it reverses.
    const undoEntries = journal.list({batch: first.undo})
    expect(undoEntries.map((e) => [e.action, e.key?.keyId, e.outcome?.status])).to.have.deep.members([
      ['key.enable', keys[0], 'ok'],
      ['key.enable', keys[2], 'ok'],
    ])
    expect(undoEntries.map((e) => e.reverses).sort()).to.deep.equal(first.rows.filter((r) => r.status === 'undone').map((r) => r.entry).sort())

    // A second undo: the two reversed entries are skipped as already reversed; the changed key is still refused.
    const second = await undoBatch(batch)
    expect(inKeyOrder(second.plan.rows, keys).map((r) => r.status)).to.deep.equal(['skipped', 'refused', 'skipped'])
    expect(inKeyOrder(second.plan.rows, keys)[0].detail).to.match(/^Already undone by j-/)
    expect(second.plan.rows.filter((r) => r.status === 'planned')).to.have.length(0)

    // --force overwrites the later change.
    const forced = await undoBatch(batch, {force: true})
    expect(inKeyOrder(forced.rows, keys).map((r) => r.status)).to.deep.equal(['skipped', 'undone', 'skipped'])
    expect(await state(keys[1])).to.equal('Enabled')

    // An undo can be undone: the first undo's batch disables its two keys again.
    const redo = await undoBatch(first.undo)
    expect(redo.rows.map((r) => r.status)).to.deep.equal(['undone', 'undone'])
    expect(await state(keys[0])).to.equal('Disabled')
    expect(await state(keys[2])).to.equal('Disabled')
  })

  it('reverses a bulk revoke: every grant recreated with its parameters; a second undo is refused as already reversed', async () => {
    const keyId = await newKey()
    for (const op of ['Decrypt', 'Encrypt', 'GenerateDataKey']) {
      // eslint-disable-next-line no-await-in-loop
      await kms.send(new CreateGrantCommand({GranteePrincipal: APP_ROLE, KeyId: keyId, Name: `g-${op}`, Operations: [op as 'Decrypt']}))
    }

    const grants = await listKeyGrants(kms, keyId)
    const batch = newBatchId()
    const revoked = await revokeGrants(kms, grants, {batch, ctx: ctx(batch, ['grant', 'revoke', keyId, '--grantee', APP_ROLE])})
    expect(revoked.map((r) => r.status)).to.deep.equal(['revoked', 'revoked', 'revoked'])
    expect((await kms.send(new ListGrantsCommand({KeyId: keyId}))).Grants).to.deep.equal([])

    const first = await undoBatch(batch)
    expect(first.rows.map((r) => r.status)).to.deep.equal(['undone', 'undone', 'undone'])
    expect(first.rows.every((r) => r.grantId && !grants.some((g) => g.grantId === r.grantId))).to.equal(true)
    const now = (await kms.send(new ListGrantsCommand({KeyId: keyId}))).Grants ?? []
    expect(now.map((g) => [g.Name, g.GranteePrincipal, g.Operations]).sort()).to.deep.equal(grants.map((g) => [g.name, g.granteePrincipal, g.operations]).sort())

    const second = await undoBatch(batch)
    expect(second.plan.rows.map((r) => r.status)).to.deep.equal(['skipped', 'skipped', 'skipped'])
    expect(second.plan.rows.every((r) => /^Already undone by j-/.test(r.detail))).to.equal(true)
  })

  it('reverses a containment of several keys, refuses one whose key changed since, and skips them all on a second undo', async () => {
    const keys = [await incidentKey(kms, 'pay'), await incidentKey(kms, 'web'), await incidentKey(kms, 'ops')]
    const batch = newBatchId()
    const sel = await selectKeys(kms, {refs: keys})
    const contained = await containKeys(kms, sel.keys, {journal: ctx(batch, ['incident', 'contain', ...keys]), pacer: new Pacer(), revokeGrants: true})
    expect(contained.map((c) => c.status)).to.deep.equal(['contained', 'contained', 'contained'])
    // The third key is enabled again with kmsctl in between: its restore is refused, named.
    await bulkDisable([keys[2]], 'enable')

    const first = await undoBatch(batch)
    expect(inKeyOrder(first.rows, keys).map((r) => [r.action, r.key, r.status])).to.deep.equal([
      ['incident.contain', keys[0], 'undone'],
      ['incident.contain', keys[1], 'undone'],
      ['incident.contain', keys[2], 'refused'],
    ])
    expect(inKeyOrder(first.rows, keys)[2].detail).to.include(`key ${keys[2]} was changed again after`)
    expect(batchUndoExitCode(first.rows, false)).to.equal(3)
    expect(await Promise.all(keys.map((k) => state(k)))).to.deep.equal(['Enabled', 'Enabled', 'Enabled'])
    // Restores (and the grants they recreate) are journaled in the undo's own batch.
    const restores = journal.list({action: 'incident.restore', batch: first.undo})
    expect(restores.map((e) => [e.key?.keyId, e.reverses])).to.have.deep.members([
      [keys[0], inKeyOrder(first.rows, keys)[0].entry],
      [keys[1], inKeyOrder(first.rows, keys)[1].entry],
    ])
    expect(journal.list({action: 'grant.create', batch: first.undo})).to.have.length(6)

    const second = await undoBatch(batch)
    expect(inKeyOrder(second.plan.rows, keys).map((r) => r.status)).to.deep.equal(['skipped', 'skipped', 'refused'])
    expect(inKeyOrder(second.plan.rows, keys)[0].detail).to.match(/^Already undone by j-/)
  })

  it('--last finds the caller\'s most recent change, with its whole batch', async () => {
    const keys = [await newKey(), await newKey()]
    const batch = await bulkDisable(keys)
    const last = lastChange(journal, ADMIN)
    expect(last.kind).to.equal('batch')
    expect(last.kind === 'batch' && last.records.map((r) => r.key?.keyId)).to.have.members(keys)
    expect(last.kind === 'batch' && last.batch).to.equal(batch)
    expect(() => lastChange(journal, 'arn:aws:iam::111122223333:user/someone-else')).to.throw('The journal holds no change made by arn:aws:iam::111122223333:user/someone-else.')
  })
})
