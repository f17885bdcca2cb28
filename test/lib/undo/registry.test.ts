import {
  CreateAliasCommand,
  CreateGrantCommand,
  CreateKeyCommand,
  DeleteAliasCommand,
  DescribeKeyCommand,
  DisableKeyCommand,
  GetKeyPolicyCommand,
  KMSClient,
  ListAliasesCommand,
  ListGrantsCommand,
  PutKeyPolicyCommand,
  RevokeGrantCommand,
  ScheduleKeyDeletionCommand,
  UpdateAliasCommand,
} from '@aws-sdk/client-kms'
import {expect} from 'chai'
import {mkdtempSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {planStateChange} from '../../../src/lib/bulk/plan.js'
import {runStateChange} from '../../../src/lib/bulk/run.js'
import {selectKeys} from '../../../src/lib/bulk/select.js'
import {containKey} from '../../../src/lib/incident/contain.js'
import {samePolicy} from '../../../src/lib/incident/snapshot.js'
import {type ChangeContext, Journal, type JournalEntryInput} from '../../../src/lib/journal.js'
import {Pacer} from '../../../src/lib/pacing.js'
import {planUndo, reverseText, runUndo} from '../../../src/lib/undo/registry.js'
import {findEntry} from '../../../src/lib/undo/target.js'
import {ADMIN, APP_ROLE, CUSTOM_POLICY, incidentKey, keyView, sandboxKms} from '../incident/helpers.js'

describe('undo (in-process sandbox)', () => {
  let kms: KMSClient
  let journal: Journal
  let ctx: ChangeContext
  const state = async (keyId: string) => (await kms.send(new DescribeKeyCommand({KeyId: keyId}))).KeyMetadata?.KeyState
  const newKey = async () => (await kms.send(new CreateKeyCommand({}))).KeyMetadata!.KeyId!
  const record = (input: Omit<JournalEntryInput, 'region'>, after?: unknown, status: 'failed' | 'ok' = 'ok') => {
    const e = journal.begin({...input, region: 'us-east-1'})
    journal.finish(e.id, status === 'ok' ? {after, status} : {error: {code: 'ACCESS_DENIED', message: 'denied'}, status})
    return journal.get(e.id)!
  }

  const undo = async (id: string, options: {force?: boolean} = {}) => {
    const plan = await planUndo(kms, journal, findEntry(journal, id))
    if (!plan.possible) return {plan, result: undefined}
    if (plan.drift && !options.force) return {plan, result: undefined}
    return {plan, result: await runUndo(kms, journal, plan, ctx)}
  }

  beforeEach(async () => {
    ;({kms} = await sandboxKms())
    journal = new Journal({dir: mkdtempSync(join(tmpdir(), 'undo-journal-'))})
    ctx = {account: '111122223333', caller: ADMIN, command: ['undo'], journal, region: 'us-east-1'}
  })

  it('reverses key disable and key enable, and the undo can itself be undone', async () => {
    const keyId = await newKey()
    const sel = await selectKeys(kms, {refs: [keyId]})
    const [row] = await runStateChange({action: 'disable', items: planStateChange('disable', sel).items, journal: ctx, kms, pacer: new Pacer()})
    expect(await state(keyId)).to.equal('Disabled')

    const first = await undo(row.journalId!)
    expect(first.plan.description).to.equal(`Enable key ${keyId} (it was Enabled before ${row.journalId}).`)
    expect(first.result?.status).to.equal('undone')
    expect(await state(keyId)).to.equal('Enabled')
    const undoEntry = journal.get(first.result!.journalId!)!
    expect(undoEntry).to.deep.include({action: 'key.enable', before: {state: 'Disabled'}, reverses: row.journalId})

    // Undoing the same entry twice is refused.
    const twice = await undo(row.journalId!)
    expect(twice.plan.possible).to.equal(false)
    expect(twice.plan.reason).to.match(/^Already undone by j-/)

    // The undo (a key.enable) is undone in turn: the key is disabled again.
    const back = await undo(undoEntry.id)
    expect(back.result?.status).to.equal('undone')
    expect(await state(keyId)).to.equal('Disabled')
  })

  it('says there is nothing to undo when the key is already back, and refuses when it moved on', async () => {
    const keyId = await newKey()
    const e = record({action: 'key.enable', before: {state: 'Disabled'}, key: {keyId}}, {state: 'Enabled'})
    await kms.send(new DisableKeyCommand({KeyId: keyId}))
    const {plan} = await undo(e.id)
    expect(plan.possible).to.equal(false)
    expect(plan.reason).to.equal(`Key ${keyId} is already Disabled: nothing to undo.`)
  })

  it('puts back the policy from before a policy put, and flags a policy changed since', async () => {
    const keyId = (await kms.send(new CreateKeyCommand({Policy: CUSTOM_POLICY}))).KeyMetadata!.KeyId!
    const next = JSON.stringify({Statement: [{Action: 'kms:*', Effect: 'Allow', Principal: {AWS: ADMIN}, Resource: '*'}], Version: '2012-10-17'})
    await kms.send(new PutKeyPolicyCommand({KeyId: keyId, Policy: next, PolicyName: 'default'}))
    const e = record({action: 'policy.put', before: {policy: CUSTOM_POLICY, policyName: 'default'}, key: {keyId}, request: {KeyId: keyId, Policy: next, PolicyName: 'default'}})

    const third = JSON.stringify({Statement: [{Action: 'kms:*', Effect: 'Allow', Principal: {AWS: ADMIN}, Resource: '*', Sid: 'Third'}], Version: '2012-10-17'})
    await kms.send(new PutKeyPolicyCommand({KeyId: keyId, Policy: third, PolicyName: 'default'}))
    const drifted = await undo(e.id)
    expect(drifted.result).to.equal(undefined)
    expect(drifted.plan.drift).to.equal(`the policy of ${keyId} was changed again after ${e.id}; undo would overwrite that change too`)

    await kms.send(new PutKeyPolicyCommand({KeyId: keyId, Policy: next, PolicyName: 'default'}))
    const {result} = await undo(e.id)
    expect(result?.status).to.equal('undone')
    const now = (await kms.send(new GetKeyPolicyCommand({KeyId: keyId, PolicyName: 'default'}))).Policy
    expect(samePolicy(now, CUSTOM_POLICY)).to.equal(true)
    expect(journal.get(result!.journalId!)).to.deep.include({action: 'policy.put', reverses: e.id})
  })

  it('recreates a revoked grant with its parameters (either recorded shape), and revokes a created grant', async () => {
    const keyId = await newKey()
    const created = await kms.send(
      new CreateGrantCommand({Constraints: {EncryptionContextSubset: {app: 'pay'}}, GranteePrincipal: APP_ROLE, KeyId: keyId, Name: 'app', Operations: ['Decrypt']}),
    )
    const [grant] = (await kms.send(new ListGrantsCommand({KeyId: keyId}))).Grants!
    await kms.send(new RevokeGrantCommand({GrantId: created.GrantId, KeyId: keyId}))
    const e = record({action: 'grant.revoke', before: JSON.parse(JSON.stringify(grant)), key: {keyId}})
    const {plan, result} = await undo(e.id)
    expect(plan.description).to.include(`Recreate grant ${created.GrantId} for ${APP_ROLE} (Decrypt)`)
    expect(result?.status).to.equal('undone')
    const [again] = (await kms.send(new ListGrantsCommand({KeyId: keyId}))).Grants!
    expect(again).to.deep.include({GranteePrincipal: APP_ROLE, Name: 'app', Operations: ['Decrypt']})
    expect(again.Constraints).to.deep.equal({EncryptionContextSubset: {app: 'pay'}})
    expect(result?.grantId).to.equal(again.GrantId)

    // The recreate was journalled as a grant.create: undoing it revokes the new grant.
    const back = await undo(result!.journalId!)
    expect(back.plan.calls[0]).to.deep.equal({input: {GrantId: again.GrantId, KeyId: keyId}, operation: 'RevokeGrant'})
    expect(back.result?.status).to.equal('undone')
    expect((await kms.send(new ListGrantsCommand({KeyId: keyId}))).Grants).to.have.length(0)

    // The {grant: ...} shape is read too.
    const e2 = record({action: 'grant.revoke', before: {grant: JSON.parse(JSON.stringify(grant))}, key: {keyId}})
    expect((await undo(e2.id)).result?.status).to.equal('undone')
  })

  it('cancels a scheduled deletion and enables the key again; a completed deletion cannot be undone', async () => {
    const keyId = await newKey()
    await kms.send(new ScheduleKeyDeletionCommand({KeyId: keyId, PendingWindowInDays: 7}))
    const e = record({action: 'key.schedule-deletion', before: {enabled: true, state: 'Enabled'}, key: {keyId}})
    const {plan, result} = await undo(e.id)
    expect(plan.calls.map((c) => c.operation)).to.deep.equal(['CancelKeyDeletion', 'EnableKey'])
    expect(result?.status).to.equal('undone')
    expect(await state(keyId)).to.equal('Enabled')
    expect(journal.get(result!.journalId!)).to.deep.include({action: 'key.cancel-deletion', before: {state: 'PendingDeletion'}})

    const gone = record({action: 'key.schedule-deletion', before: {state: 'Enabled'}, key: {keyId: '0000dead-0000-4000-8000-000000000000'}})
    const deleted = await undo(gone.id)
    expect(deleted.plan.possible).to.equal(false)
    expect(deleted.plan.reason).to.equal('The key 0000dead-0000-4000-8000-000000000000 was deleted: a completed deletion cannot be undone. Data encrypted under it can no longer be decrypted.')
  })

  it('reverses alias create, update and delete', async () => {
    const k1 = await newKey()
    const k2 = await newKey()
    const target = async (name: string) => ((await kms.send(new ListAliasesCommand({}))).Aliases ?? []).find((a) => a.AliasName === name)?.TargetKeyId

    await kms.send(new CreateAliasCommand({AliasName: 'alias/a', TargetKeyId: k1}))
    const created = record(
      {action: 'alias.create', before: {aliasName: 'alias/a', exists: false}, key: {keyId: k1}, request: [{input: {AliasName: 'alias/a', TargetKeyId: k1}, operation: 'CreateAlias'}]},
      {aliasName: 'alias/a', targetKeyId: k1},
    )
    await kms.send(new UpdateAliasCommand({AliasName: 'alias/a', TargetKeyId: k2}))
    const updated = record(
      {action: 'alias.update', before: {aliasName: 'alias/a', targetKeyId: k1}, key: {keyId: k2}, request: [{input: {AliasName: 'alias/a', TargetKeyId: k2}, operation: 'UpdateAlias'}]},
      {aliasName: 'alias/a', targetKeyId: k2},
    )
    // Undoing the create now would delete an alias that points elsewhere: flagged.
    expect((await undo(created.id)).plan.drift).to.equal(`alias/a points at ${k2} now, not ${k1} as ${created.id} left it`)

    expect((await undo(updated.id)).result?.status).to.equal('undone')
    expect(await target('alias/a')).to.equal(k1)
    expect((await undo(created.id)).result?.status).to.equal('undone')
    expect(await target('alias/a')).to.equal(undefined)

    await kms.send(new CreateAliasCommand({AliasName: 'alias/b', TargetKeyId: k2}))
    await kms.send(new DeleteAliasCommand({AliasName: 'alias/b'}))
    const deleted = record({action: 'alias.delete', before: {aliasName: 'alias/b', targetKeyId: k2}, key: {keyId: k2}, request: [{input: {AliasName: 'alias/b'}, operation: 'DeleteAlias'}]})
    const {result} = await undo(deleted.id)
    expect(result?.status).to.equal('undone')
    expect(await target('alias/b')).to.equal(k2)
    expect(journal.get(result!.journalId!)).to.deep.include({action: 'alias.create', request: {aliasName: 'alias/b', targetKeyId: k2}})
  })

  it('undoes an incident contain with a restore', async () => {
    const keyId = await incidentKey(kms)
    const original = await keyView(kms, keyId)
    const {keys} = await selectKeys(kms, {refs: [keyId]})
    const contained = await containKey(kms, keys[0], {journal: ctx, revokeGrants: true})
    const {plan, result} = await undo(contained.journalId!)
    expect(plan.kind).to.equal('restore')
    expect(result?.status).to.equal('undone')
    expect(result?.restore?.newGrants).to.have.length(3)
    expect(await keyView(kms, keyId)).to.deep.equal(original)
    expect(await state(keyId)).to.equal('Enabled')
  })

  it('says plainly what cannot be undone', async () => {
    const failed = record({action: 'key.disable', before: {state: 'Enabled'}, key: {keyId: await newKey()}}, undefined, 'failed')
    expect((await undo(failed.id)).plan.reason).to.equal('The change failed (denied), so there is nothing to undo.')
    const created = record({action: 'key.create', before: null, key: {keyId: await newKey()}})
    expect((await undo(created.id)).plan.reason).to.equal('A key.create cannot be undone with kmsctl undo: a key cannot be un-created; schedule its deletion with kmsctl key schedule-deletion.')
    expect(reverseText('key.disable')).to.equal('enable the key')
    expect(reverseText('incident.restore')).to.include('cannot be undone')
  })

  it('finds entries by unique prefix and refuses ambiguous or unknown IDs', () => {
    const a = journal.begin({action: 'key.disable', batch: 'b-x', before: {}, region: 'us-east-1'})
    journal.begin({action: 'key.disable', batch: 'b-x', before: {}, region: 'us-east-1'})
    expect(findEntry(journal, a.id).id).to.equal(a.id)
    expect(() => findEntry(journal, 'j-')).to.throw('"j-" matches 2 journal entries.')
    expect(() => findEntry(journal, 'b-x')).to.throw('"b-x" is a batch of 2 entries; this takes one entry.')
    expect(() => findEntry(journal, 'j-nope')).to.throw('No journal entry or batch "j-nope".')
  })
})
