import {DescribeKeyCommand, GetKeyPolicyCommand, KMSClient, ListGrantsCommand, PutKeyPolicyCommand} from '@aws-sdk/client-kms'
import {expect} from 'chai'
import {mkdtempSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {selectKeys} from '../../../src/lib/bulk/select.js'
import {KmsctlError} from '../../../src/lib/errors.js'
import {containKey} from '../../../src/lib/incident/contain.js'
import {assertNoLockout, lockPolicy, normaliseAdmins} from '../../../src/lib/incident/lock-policy.js'
import {containEntries, restoreFromEntry} from '../../../src/lib/incident/restore.js'
import {samePolicy} from '../../../src/lib/incident/snapshot.js'
import {Journal} from '../../../src/lib/journal.js'
import {ADMIN, APP_ROLE, CUSTOM_POLICY, incidentKey, keyView, sandboxKms} from './helpers.js'

const keyArn = 'arn:aws:kms:us-east-1:111122223333:key/00000001-0000-4000-8000-000000000000'

describe('incident: lock policy', () => {
  it('keeps the administrators and denies everyone else', () => {
    const doc = JSON.parse(lockPolicy([ADMIN, APP_ROLE]))
    expect(doc.Statement[0]).to.deep.include({Action: 'kms:*', Effect: 'Allow', Principal: {AWS: [ADMIN, APP_ROLE]}})
    expect(doc.Statement[1]).to.deep.include({Condition: {ArnNotEquals: {'aws:PrincipalArn': [ADMIN, APP_ROLE]}}, Effect: 'Deny', Principal: {AWS: '*'}})
  })

  it('refuses a policy that would lock the caller out, naming the --admin to add', () => {
    const err = (() => {
      try {
        assertNoLockout(lockPolicy([APP_ROLE]), 'arn:aws:sts::111122223333:assumed-role/Responder/alice', keyArn)
      } catch (error) {
        return error as KmsctlError
      }
    })()
    expect(err?.exitCode).to.equal(2)
    expect(err?.message).to.include('would lock you out')
    expect(err?.remedy).to.equal('Try this: add --admin arn:aws:iam::111122223333:role/Responder')
  })

  it('accepts the caller as an administrator, also through its role', () => {
    expect(() => assertNoLockout(lockPolicy([ADMIN]), ADMIN, keyArn)).to.not.throw()
    expect(() => assertNoLockout(lockPolicy(['arn:aws:iam::111122223333:role/Responder']), 'arn:aws:sts::111122223333:assumed-role/Responder/alice', keyArn)).to.not.throw()
  })

  it('checks --admin values', () => {
    expect(normaliseAdmins(['111122223333', ADMIN, ADMIN])).to.deep.equal(['arn:aws:iam::111122223333:root', ADMIN])
    expect(() => normaliseAdmins(['arn:aws:sts::111122223333:assumed-role/Responder/alice'])).to.throw('is a role session')
    expect(() => normaliseAdmins(['alice'])).to.throw('is not an IAM user, role or account root ARN')
    expect(() => normaliseAdmins([])).to.throw('--lock-policy needs at least one --admin')
  })
})

describe('incident: contain then restore (in-process sandbox)', () => {
  let kms: KMSClient
  let journal: Journal
  const ctx = () => ({account: '111122223333', caller: ADMIN, command: ['incident', 'contain'], journal, region: 'us-east-1'})

  beforeEach(async () => {
    ;({kms} = await sandboxKms())
    journal = new Journal({dir: mkdtempSync(join(tmpdir(), 'incident-journal-'))})
  })

  it('snapshots, disables, revokes every grant and locks the policy; restore brings back an equivalent key', async () => {
    const keyId = await incidentKey(kms)
    const original = await keyView(kms, keyId)
    const {keys} = await selectKeys(kms, {refs: ['alias/pay']})
    const result = await containKey(kms, keys[0], {journal: ctx(), lock: {admins: [ADMIN], policy: lockPolicy([ADMIN])}, revokeGrants: true})
    expect(result).to.deep.include({after: 'Disabled', before: 'Enabled', grantsRevoked: 3, policyReplaced: true, status: 'contained'})
    expect((await kms.send(new DescribeKeyCommand({KeyId: keyId}))).KeyMetadata?.KeyState).to.equal('Disabled')
    expect((await kms.send(new ListGrantsCommand({KeyId: keyId}))).Grants).to.have.length(0)
    const locked = (await kms.send(new GetKeyPolicyCommand({KeyId: keyId, PolicyName: 'default'}))).Policy
    expect(samePolicy(locked, lockPolicy([ADMIN]))).to.equal(true)

    const record = journal.get(result.journalId!)!
    expect(record.action).to.equal('incident.contain')
    const snap = record.before as Record<string, any>
    expect(snap).to.deep.include({aliases: ['alias/pay', 'alias/pay-legacy'], state: 'Enabled', tags: {env: 'prod', team: 'payments'}})
    expect(snap.rotation).to.deep.equal({enabled: true, periodDays: 180})
    expect(snap.grants).to.have.length(3)
    expect(samePolicy(snap.policy, CUSTOM_POLICY)).to.equal(true)
    expect(record.outcome?.status).to.equal('ok')

    const [rec] = containEntries(journal, [result.journalId!])
    const plan = await restoreFromEntry(kms, rec, {dryRun: true})
    expect(plan.status).to.equal('planned')
    expect(plan.steps.map((s) => [s.kind, s.status])).to.deep.equal([
      ['restore-policy', 'planned'],
      ['enable', 'planned'],
      ['recreate-grant', 'planned'],
      ['recreate-grant', 'planned'],
      ['recreate-grant', 'planned'],
    ])
    // The dry run sent nothing.
    expect((await kms.send(new DescribeKeyCommand({KeyId: keyId}))).KeyMetadata?.KeyState).to.equal('Disabled')

    const restored = await restoreFromEntry(kms, rec, {journal: ctx()})
    expect(restored.status).to.equal('restored')
    expect(restored.after).to.equal('Enabled')
    expect(restored.newGrants).to.have.length(3)
    expect(restored.newGrants.map((g) => g.replaces).sort()).to.deep.equal(snap.grants.map((g: any) => g.GrantId).sort())
    for (const g of restored.newGrants) expect(g.grantId).to.be.a('string').and.not.equal(g.replaces)
    expect(restored.drift).to.deep.equal([])
    expect(await keyView(kms, keyId)).to.deep.equal(original)
    expect((await kms.send(new DescribeKeyCommand({KeyId: keyId}))).KeyMetadata?.KeyState).to.equal('Enabled')

    const restoreEntry = journal.get(restored.journalId!)!
    expect(restoreEntry).to.deep.include({action: 'incident.restore', reverses: result.journalId})
    // Restoring again finds nothing to do.
    const again = await restoreFromEntry(kms, rec, {journal: ctx()})
    expect(again.status).to.equal('nothing-to-do')
  })

  it('with --dry-run takes the snapshot but changes nothing and writes no entry', async () => {
    const keyId = await incidentKey(kms)
    const before = await keyView(kms, keyId)
    const {keys} = await selectKeys(kms, {refs: [keyId]})
    const result = await containKey(kms, keys[0], {dryRun: true, journal: ctx(), lock: {admins: [ADMIN], policy: lockPolicy([ADMIN])}, revokeGrants: true})
    expect(result.status).to.equal('planned')
    expect(result.steps.map((s) => s.kind)).to.deep.equal(['disable', 'revoke-grant', 'revoke-grant', 'revoke-grant', 'lock-policy'])
    expect(await keyView(kms, keyId)).to.deep.equal(before)
    expect(journal.readAll()).to.have.length(0)
  })

  it('restores from an entry whose outcome was never written (process killed mid-contain)', async () => {
    const keyId = await incidentKey(kms)
    const original = await keyView(kms, keyId)
    const {keys} = await selectKeys(kms, {refs: [keyId]})
    const j = ctx()
    // The process dies after the entry and the first changes, before the outcome.
    const dead = {...j, journal: Object.assign(Object.create(journal) as Journal, {finish: () => ({}) as never})}
    const result = await containKey(kms, keys[0], {journal: dead, revokeGrants: true})
    expect(journal.get(result.journalId!)?.outcome).to.equal(undefined)
    const [rec] = containEntries(journal, [result.journalId!])
    const restored = await restoreFromEntry(kms, rec, {journal: j})
    expect(restored.status).to.equal('restored')
    expect(await keyView(kms, keyId)).to.deep.equal(original)
  })

  it('reports drift it does not change, and leaves a policy edited after contain alone', async () => {
    const keyId = await incidentKey(kms)
    const {keys} = await selectKeys(kms, {refs: [keyId]})
    const result = await containKey(kms, keys[0], {journal: ctx(), lock: {admins: [ADMIN], policy: lockPolicy([ADMIN])}})
    const edited = JSON.stringify({Statement: [{Action: 'kms:*', Effect: 'Allow', Principal: {AWS: ADMIN}, Resource: '*', Sid: 'Edited'}], Version: '2012-10-17'})
    await kms.send(new PutKeyPolicyCommand({KeyId: keyId, Policy: edited, PolicyName: 'default'}))
    const [rec] = containEntries(journal, [result.journalId!])
    const restored = await restoreFromEntry(kms, rec, {journal: ctx()})
    expect(restored.steps.find((s) => s.kind === 'restore-policy')).to.deep.include({status: 'skipped'})
    expect(restored.drift.join('\n')).to.include('the key policy was changed after contain')
    expect(samePolicy((await kms.send(new GetKeyPolicyCommand({KeyId: keyId, PolicyName: 'default'}))).Policy, edited)).to.equal(true)
  })

  it('finds contain entries by ID, prefix or batch, and refuses other entries', () => {
    const e1 = journal.begin({action: 'incident.contain', batch: 'b-1', before: {}, region: 'us-east-1'})
    const e2 = journal.begin({action: 'incident.contain', batch: 'b-1', before: {}, region: 'us-east-1'})
    const other = journal.begin({action: 'key.disable', before: {}, region: 'us-east-1'})
    expect(containEntries(journal, ['b-1']).map((r) => r.id)).to.have.members([e1.id, e2.id])
    expect(containEntries(journal, [e1.id]).map((r) => r.id)).to.deep.equal([e1.id])
    expect(() => containEntries(journal, [other.id])).to.throw(`Journal entry ${other.id} is a key.disable, not an incident contain.`)
    expect(() => containEntries(journal, ['j-nope'])).to.throw('No journal entry or batch "j-nope".')
  })
})
