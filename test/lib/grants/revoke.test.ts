import {CreateGrantCommand, DescribeKeyCommand, KMSClient, ListGrantsCommand, RetireGrantCommand, RevokeGrantCommand} from '@aws-sdk/client-kms'
import {expect} from 'chai'
import {mkdtempSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {createGrant} from '../../../src/lib/grants/create.js'
import {type GrantInfo, toGrantInfo} from '../../../src/lib/grants/list.js'
import {createRequestFor, grantsFromJournal, recreateGrants, recreateGrantsDetailed} from '../../../src/lib/grants/recreate.js'
import {keyForGrant, lookupGrant, retireByToken, revokeGrants, selectGrants} from '../../../src/lib/grants/revoke.js'
import {type ChangeContext, Journal} from '../../../src/lib/journal.js'
import {APP, OPS, OTHER, entry, keyArn, keyId, symmetricMetadata} from './fixtures.js'
import {mockSdk, sdk} from '../../helpers/mock-sdk.js'

const kms = new KMSClient({region: 'us-east-1'})

function context(): ChangeContext {
  return {account: '111122223333', caller: 'arn:aws:iam::111122223333:user/admin', command: ['grant', 'revoke'], journal: new Journal({dir: mkdtempSync(join(tmpdir(), 'grants-journal-'))}), region: 'us-east-1'}
}

const denied = () => Object.assign(new Error('not allowed'), {name: 'AccessDeniedException'})
const notFound = () => Object.assign(new Error('grant not found'), {name: 'NotFoundException'})

/** Revokes the grants with KMS denying the second and no longer having the third; the others are revoked. */
async function revokeMixed(grants: GrantInfo[], ctx: ChangeContext) {
  sdk.kms
    .on(RevokeGrantCommand)
    .resolves({})
    .on(RevokeGrantCommand, {GrantId: grants[1].grantId})
    .rejects(denied())
    .on(RevokeGrantCommand, {GrantId: grants[2].grantId})
    .rejects(notFound())
  return revokeGrants(kms, grants, {ctx})
}

describe('grants/revoke and recreate', () => {
  mockSdk()

  it('journals the full grant definition BEFORE RevokeGrant is sent, then the outcome', async () => {
    const ctx = context()
    const g = toGrantInfo(entry(1, 1, {Constraints: {EncryptionContextEquals: {tenant: 'acme'}}, RetiringPrincipal: OPS}))
    let seenAtRevoke: unknown
    sdk.kms.on(RevokeGrantCommand).callsFake(() => {
      seenAtRevoke = ctx.journal.readAll()
      return {}
    })
    const [r] = await revokeGrants(kms, [g], {ctx})
    expect(r.status).to.equal('revoked')
    const atRevoke = seenAtRevoke as Array<{action: string; before: Record<string, unknown>; outcome?: unknown}>
    expect(atRevoke).to.have.length(1)
    expect(atRevoke[0].action).to.equal('grant.revoke')
    expect(atRevoke[0].outcome).to.equal(undefined)
    expect(atRevoke[0].before).to.deep.equal(JSON.parse(JSON.stringify(entry(1, 1, {Constraints: {EncryptionContextEquals: {tenant: 'acme'}}, RetiringPrincipal: OPS}))))
    const [rec] = ctx.journal.readAll()
    expect(rec.outcome?.status).to.equal('ok')
    expect(rec.request).to.deep.equal({GrantId: g.grantId, KeyId: keyArn(1)})
    expect(rec.key).to.include({arn: keyArn(1), keyId: keyId(1)})
    expect(sdk.kms.commandCalls(RevokeGrantCommand)[0].args[0].input).to.deep.equal({GrantId: g.grantId, KeyId: keyArn(1)})
  })

  it('reports each grant: revoked, failed, already gone; groups them in one batch', async () => {
    const ctx = context()
    const grants = [entry(1, 1), entry(1, 2), entry(2, 1)].map((e) => toGrantInfo(e))
    const results = await revokeMixed(grants, ctx)
    expect(results.map((r) => r.status)).to.deep.equal(['revoked', 'failed', 'already-gone'])
    expect(results[1].error?.code).to.equal('ACCESS_DENIED')
    const recs = ctx.journal.readAll()
    expect(new Set(recs.map((r) => r.batch)).size).to.equal(1)
    expect(recs[0].batch).to.match(/^b-\d{8}T\d{6}Z-[0-9a-f]{6}$/)
    expect(recs.map((r) => r.outcome?.status).sort()).to.deep.equal(['failed', 'ok', 'skipped'])
  })

  it('retires by key ARN and grant ID with RetireGrant when asked', async () => {
    const ctx = context()
    sdk.kms.on(RetireGrantCommand).resolves({})
    const [r] = await revokeGrants(kms, [toGrantInfo(entry(1, 1))], {ctx, mode: 'retire'})
    expect(r.status).to.equal('revoked')
    expect(sdk.kms.commandCalls(RevokeGrantCommand)).to.have.length(0)
    expect(sdk.kms.commandCalls(RetireGrantCommand)[0].args[0].input).to.deep.equal({GrantId: entry(1, 1).GrantId, KeyId: keyArn(1)})
    expect(ctx.journal.readAll()[0].action).to.equal('grant.retire')
  })

  it('retires by token without writing the token to the journal', async () => {
    const ctx = {...context(), command: ['grant', 'retire', '--token', 'SECRETISH-TOKEN']}
    sdk.kms.on(RetireGrantCommand).resolves({})
    await retireByToken(kms, 'SECRETISH-TOKEN', ctx)
    expect(sdk.kms.commandCalls(RetireGrantCommand)[0].args[0].input).to.deep.equal({GrantToken: 'SECRETISH-TOKEN'})
    expect(JSON.stringify(ctx.journal.readAll())).to.not.contain('SECRETISH-TOKEN')
  })

  it('looks a grant up before removing it, and falls back to its ID when listing is denied', async () => {
    sdk.kms.on(ListGrantsCommand).resolves({Grants: [entry(1, 5)], Truncated: false})
    const found = await lookupGrant(kms, {keyArn: keyArn(1), keyId: keyId(1)}, entry(1, 5).GrantId!)
    expect(found.readable).to.equal(true)
    expect(found.grant.operations).to.deep.equal(['Decrypt', 'GenerateDataKey'])
    expect(sdk.kms.commandCalls(ListGrantsCommand)[0].args[0].input).to.include({GrantId: entry(1, 5).GrantId, KeyId: keyArn(1)})

    sdk.kms.on(ListGrantsCommand).resolves({Grants: [], Truncated: false})
    try {
      await lookupGrant(kms, {keyArn: keyArn(1), keyId: keyId(1)}, 'f'.repeat(64))
      expect.fail('should have thrown')
    } catch (error) {
      expect((error as {code: string}).code).to.equal('NOT_FOUND')
    }

    sdk.kms.on(ListGrantsCommand).rejects(denied())
    const blind = await lookupGrant(kms, {keyArn: keyArn(1), keyId: keyId(1)}, 'f'.repeat(64))
    expect(blind.readable).to.equal(false)
    expect(blind.grant).to.include({grantId: 'f'.repeat(64), keyArn: keyArn(1)})
  })

  it('uses a key ARN as given and resolves anything else with DescribeKey', async () => {
    sdk.kms.on(DescribeKeyCommand).resolves({KeyMetadata: symmetricMetadata(4)})
    expect(await keyForGrant(kms, keyArn(9))).to.deep.equal({keyArn: keyArn(9), keyId: keyId(9), ref: keyArn(9)})
    expect(sdk.kms.commandCalls(DescribeKeyCommand)).to.have.length(0)
    expect(await keyForGrant(kms, 'alias/four')).to.deep.equal({keyArn: keyArn(4), keyId: keyId(4), ref: 'alias/four'})
  })

  it('selects a key\'s grants by grantee, and refuses a scan without --grantee', async () => {
    sdk.kms.on(ListGrantsCommand).resolves({Grants: [entry(1, 1), entry(1, 2, {GranteePrincipal: OTHER})], Truncated: false})
    const sel = await selectGrants(kms, {grantee: OTHER, keyArn: keyArn(1), keyId: keyId(1)})
    expect(sel.grants.map((g) => g.granteePrincipal)).to.deep.equal([OTHER])
    try {
      await selectGrants(kms, {all: true})
      expect.fail('should have thrown')
    } catch (error) {
      expect((error as {exitCode: number}).exitCode).to.equal(2)
    }
  })

  describe('recreate', () => {
    it('builds the CreateGrant request from a listed grant', () => {
      expect(createRequestFor(entry(1, 1, {Constraints: {EncryptionContextSubset: {a: '1'}}, RetiringPrincipal: OPS}))).to.deep.equal({
        Constraints: {EncryptionContextSubset: {a: '1'}},
        GranteePrincipal: APP,
        KeyId: keyArn(1),
        Name: 'grant-1-1',
        Operations: ['Decrypt', 'GenerateDataKey'],
        RetiringPrincipal: OPS,
      })
      // Empty constraint maps (as some listings return them) are not sent.
      expect(createRequestFor(entry(1, 1, {Constraints: {EncryptionContextEquals: {}}})).Constraints).to.equal(undefined)
    })

    it('recreateGrants returns the new grant IDs in order', async () => {
      let n = 0
      sdk.kms.on(CreateGrantCommand).callsFake(() => ({GrantId: `new${++n}`.padEnd(64, '0'), GrantToken: 'tok'}))
      const ids = await recreateGrants(kms, [entry(1, 1), entry(2, 1)])
      expect(ids).to.have.length(2)
      expect(ids.every((id) => id.startsWith('new'))).to.equal(true)
      const sent = sdk.kms.commandCalls(CreateGrantCommand).map((c) => c.args[0].input.KeyId)
      expect(sent).to.have.members([keyArn(1), keyArn(2)])
    })

    it('recreateGrants throws a partial failure listing what was made', async () => {
      sdk.kms.on(CreateGrantCommand).resolves({GrantId: 'n'.repeat(64)}).on(CreateGrantCommand, {KeyId: keyArn(2)}).rejects(denied())
      try {
        await recreateGrants(kms, [entry(1, 1), entry(2, 1)])
        expect.fail('should have thrown')
      } catch (error) {
        const e = error as {code: string; exitCode: number; details: {created: unknown[]; failed: unknown[]}}
        expect(e.code).to.equal('PARTIAL_FAILURE')
        expect(e.exitCode).to.equal(3)
        expect(e.details.created).to.have.length(1)
        expect(e.details.failed).to.have.length(1)
      }
    })

    it('finds the revoked grants of a batch and skips failed, gone and already recreated ones', async () => {
      const ctx = context()
      const grants = [entry(1, 1), entry(1, 2), entry(2, 1), entry(3, 1)].map((e) => toGrantInfo(e))
      const results = await revokeMixed(grants, ctx)
      const batch = ctx.journal.readAll()[0].batch!
      const found = grantsFromJournal(ctx.journal, batch)
      expect(found).to.have.length(4)
      const bySource = new Map(found.map((f) => [f.grant?.GrantId, f]))
      expect(bySource.get(grants[0].grantId)?.skip).to.equal(undefined)
      expect(bySource.get(grants[1].grantId)?.skip).to.contain('revoke failed')
      expect(bySource.get(grants[2].grantId)?.skip).to.contain('already gone')
      expect(bySource.get(grants[3].grantId)?.skip).to.equal(undefined)

      // One entry by its own ID.
      const single = grantsFromJournal(ctx.journal, results[0].journalId)
      expect(single).to.have.length(1)
      expect(single[0].grant?.GrantId).to.equal(grants[0].grantId)

      // After a recreate, the same batch has nothing left to recreate.
      sdk.kms.on(CreateGrantCommand).resolves({GrantId: 'r'.repeat(64)})
      const todo = found.filter((f) => !f.skip)
      await recreateGrantsDetailed(kms, todo.map((t) => t.grant!), {ctx, reverses: todo.map((t) => t.record.id)})
      const again = grantsFromJournal(ctx.journal, batch)
      expect(again.filter((f) => !f.skip)).to.have.length(0)
      expect(again.find((f) => f.grant?.GrantId === grants[0].grantId)?.skip).to.equal(`already recreated as ${'r'.repeat(64)}`)
    })

    it('refuses journal entries that are not grant removals, and unknown IDs', async () => {
      const ctx = context()
      const e = ctx.journal.begin({action: 'key.disable', before: {KeyState: 'Enabled'}, region: 'us-east-1'})
      expect(() => grantsFromJournal(ctx.journal, e.id)).to.throw(/is a key.disable, not a grant revoke/)
      expect(() => grantsFromJournal(ctx.journal, 'b-nothing')).to.throw(/No grant revoke in the journal/)
    })
  })

  describe('createGrant', () => {
    it('checks operations against the key type before sending anything', async () => {
      sdk.kms.on(DescribeKeyCommand).resolves({KeyMetadata: {...symmetricMetadata(1), KeySpec: 'HMAC_256', KeyUsage: 'GENERATE_VERIFY_MAC'}})
      try {
        await createGrant(kms, {contextEquals: {}, grantee: APP, key: keyId(1), operations: ['Decrypt']}, {ctx: context()})
        expect.fail('should have thrown')
      } catch (error) {
        expect((error as Error).message).to.equal('A grant on an HMAC key cannot allow Decrypt.')
      }

      expect(sdk.kms.commandCalls(CreateGrantCommand)).to.have.length(0)
    })

    it('sends the request and journals it with the new grant ID (never the token)', async () => {
      const ctx = context()
      sdk.kms.on(DescribeKeyCommand).resolves({KeyMetadata: symmetricMetadata(1)})
      sdk.kms.on(CreateGrantCommand).resolves({GrantId: 'g'.repeat(64), GrantToken: 'TOKEN-VALUE'})
      const r = await createGrant(kms, {contextSubset: {tenant: 'acme'}, grantee: APP, key: 'alias/one', name: 'n1', operations: ['decrypt'], retiringPrincipal: OPS}, {ctx})
      expect(r).to.include({grantId: 'g'.repeat(64), grantToken: 'TOKEN-VALUE', keyId: keyId(1)})
      expect(sdk.kms.commandCalls(CreateGrantCommand)[0].args[0].input).to.deep.equal({
        Constraints: {EncryptionContextSubset: {tenant: 'acme'}},
        GranteePrincipal: APP,
        KeyId: keyArn(1),
        Name: 'n1',
        Operations: ['Decrypt'],
        RetiringPrincipal: OPS,
      })
      const [rec] = ctx.journal.readAll()
      expect(rec.action).to.equal('grant.create')
      expect(rec.outcome?.after).to.deep.equal({grantId: 'g'.repeat(64), keyArn: keyArn(1)})
      expect(JSON.stringify(rec)).to.not.contain('TOKEN-VALUE')
    })
  })
})
