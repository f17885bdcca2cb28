import {
  KMSClient,
  ListAliasesCommand,
  ListGrantsCommand,
  type ListGrantsCommandInput,
  ListKeysCommand,
  ListRetirableGrantsCommand,
} from '@aws-sdk/client-kms'
import {expect} from 'chai'

import {constraintText, listKeyGrants, listRetirableGrants, scanAllGrants, toGrantInfo, toGrantListEntry} from '../../../src/lib/grants/list.js'
import {Pacer} from '../../../src/lib/pacing.js'
import {APP, OPS, OTHER, entry, keyArn, keyId} from './fixtures.js'
import {mockSdk, sdk} from '../../helpers/mock-sdk.js'

const kms = new KMSClient({region: 'us-east-1'})

describe('grants/list', () => {
  mockSdk()

  describe('listKeyGrants', () => {
    it('reads every page, passing the marker back, and flattens the entries', async () => {
      const pages: Record<string, {Grants: unknown[]; Truncated: boolean; NextMarker?: string}> = {
        first: {Grants: [entry(1, 1), entry(1, 2)], NextMarker: 'm2', Truncated: true},
        m2: {Grants: [entry(1, 3)], NextMarker: 'm3', Truncated: true},
        m3: {Grants: [entry(1, 4, {Constraints: {EncryptionContextEquals: {tenant: 'acme'}}})], Truncated: false},
      }
      sdk.kms.on(ListGrantsCommand).callsFake((input: ListGrantsCommandInput) => pages[input.Marker ?? 'first'])
      const grants = await listKeyGrants(kms, keyArn(1))
      expect(grants.map((g) => g.name)).to.deep.equal(['grant-1-1', 'grant-1-2', 'grant-1-3', 'grant-1-4'])
      const calls = sdk.kms.commandCalls(ListGrantsCommand).map((c) => c.args[0].input)
      expect(calls.map((c) => c.Marker)).to.deep.equal([undefined, 'm2', 'm3'])
      expect(calls.every((c) => c.KeyId === keyArn(1) && c.Limit === 100)).to.equal(true)
      expect(grants[3]).to.deep.equal({
        constraints: {EncryptionContextEquals: {tenant: 'acme'}},
        creationDate: '2026-11-01T10:00:00.000Z',
        grantId: entry(1, 4).GrantId,
        granteePrincipal: APP,
        issuingAccount: 'arn:aws:iam::111122223333:root',
        keyArn: keyArn(1),
        keyId: keyId(1),
        name: 'grant-1-4',
        operations: ['Decrypt', 'GenerateDataKey'],
        retiringPrincipal: undefined,
      })
    })

    it('sends the grantee and grant ID filters to KMS, and applies them to what comes back', async () => {
      sdk.kms.on(ListGrantsCommand).resolves({Grants: [entry(1, 1), entry(1, 2, {GranteePrincipal: OTHER})], Truncated: false})
      const grants = await listKeyGrants(kms, keyArn(1), {grantee: APP})
      expect(grants.map((g) => g.grantId)).to.deep.equal([entry(1, 1).GrantId])
      expect(sdk.kms.commandCalls(ListGrantsCommand)[0].args[0].input).to.include({GranteePrincipal: APP, KeyId: keyArn(1)})
    })

    it('stops on a repeated marker instead of looping', async () => {
      sdk.kms.on(ListGrantsCommand).resolves({Grants: [], NextMarker: 'same', Truncated: true})
      let error: Error | undefined
      try {
        await listKeyGrants(kms, keyArn(1))
      } catch (error_) {
        error = error_ as Error
      }

      expect(error?.message).to.contain('same page marker twice')
      expect(sdk.kms.commandCalls(ListGrantsCommand)).to.have.length(2)
    })

    it('maps AWS errors', async () => {
      sdk.kms.on(ListGrantsCommand).rejects(Object.assign(new Error('not allowed'), {name: 'AccessDeniedException'}))
      try {
        await listKeyGrants(kms, keyArn(1))
        expect.fail('should have thrown')
      } catch (error) {
        expect((error as {code: string}).code).to.equal('ACCESS_DENIED')
        expect((error as Error).message).to.contain('kms:ListGrants')
      }
    })
  })

  describe('scanAllGrants', () => {
    function setup(keys: number, grantsPerKey: number) {
      sdk.kms.on(ListKeysCommand).resolves({Keys: Array.from({length: keys}, (_, i) => ({KeyArn: keyArn(i + 1), KeyId: keyId(i + 1)})), Truncated: false})
      sdk.kms.on(ListAliasesCommand).resolves({
        Aliases: [
          {AliasName: 'alias/aws/s3', TargetKeyId: keyId(1)},
          {AliasName: 'alias/payments', TargetKeyId: keyId(2)},
        ],
        Truncated: false,
      })
      sdk.kms.on(ListGrantsCommand).callsFake((input: ListGrantsCommandInput) => {
        const n = Number(input.KeyId!.split('/')[1].slice(0, 8))
        const all = Array.from({length: grantsPerKey}, (_, i) => entry(n, i, {GranteePrincipal: i % 2 === 0 ? APP : OTHER}))
        return {Grants: input.GranteePrincipal ? all.filter((g) => g.GranteePrincipal === input.GranteePrincipal) : all, Truncated: false}
      })
    }

    it('lists every customer-managed key and skips AWS-managed keys without a call', async () => {
      setup(5, 3)
      const r = await scanAllGrants(kms)
      expect(r.keysScanned).to.equal(4)
      expect(r.awsManagedSkipped).to.equal(1)
      expect(r.grants).to.have.length(12)
      const listed = sdk.kms.commandCalls(ListGrantsCommand).map((c) => c.args[0].input.KeyId)
      expect(listed).to.not.include(keyArn(1))
      expect(listed).to.have.members([keyArn(2), keyArn(3), keyArn(4), keyArn(5)])
      expect(r.grants.filter((g) => g.keyId === keyId(2)).every((g) => g.aliases?.[0] === 'alias/payments')).to.equal(true)
    })

    it('filters by grantee across keys', async () => {
      setup(4, 4)
      const r = await scanAllGrants(kms, {grantee: OTHER})
      expect(r.grants).to.have.length(6)
      expect(r.grants.every((g) => g.granteePrincipal === OTHER)).to.equal(true)
    })

    it('reports keys it cannot list, and leaves out keys deleted during the scan', async () => {
      setup(4, 1)
      sdk.kms
        .on(ListGrantsCommand, {KeyId: keyArn(3)})
        .rejects(Object.assign(new Error('denied'), {name: 'AccessDeniedException'}))
        .on(ListGrantsCommand, {KeyId: keyArn(4)})
        .rejects(Object.assign(new Error('gone'), {name: 'NotFoundException'}))
      const progress: number[] = []
      const r = await scanAllGrants(kms, {onProgress: (done) => progress.push(done)})
      expect(r.grants.map((g) => g.keyId)).to.deep.equal([keyId(2)])
      expect(r.failures).to.have.length(1)
      expect(r.failures[0]).to.include({code: 'ACCESS_DENIED', keyId: keyId(3)})
      expect(r.keysScanned).to.equal(2)
      expect(progress.sort()).to.deep.equal([1, 2, 3])
    })

    it('keeps at most `concurrency` ListGrants in flight', async () => {
      setup(41, 0)
      let inFlight = 0
      let peak = 0
      sdk.kms.on(ListGrantsCommand).callsFake(async () => {
        inFlight++
        peak = Math.max(peak, inFlight)
        await new Promise((r) => setTimeout(r, 5))
        inFlight--
        return {Grants: [], Truncated: false}
      })
      await scanAllGrants(kms, {pacer: new Pacer({concurrency: 4})})
      expect(sdk.kms.commandCalls(ListGrantsCommand)).to.have.length(40)
      expect(peak).to.equal(4)
    })

    it('paces ListGrants at the quota: at most 12 calls start per second at a 12/s rate', async function () {
      this.timeout(10_000)
      setup(31, 0)
      const starts: number[] = []
      sdk.kms.on(ListGrantsCommand).callsFake(async () => {
        starts.push(Date.now())
        return {Grants: [], Truncated: false}
      })
      const t0 = Date.now()
      await scanAllGrants(kms, {pacer: new Pacer({concurrency: 16, rates: {ListGrants: 12}})})
      const elapsed = Date.now() - t0
      expect(starts).to.have.length(30)
      // 30 calls at 12/s: two full windows must pass before the last 6 start.
      expect(elapsed).to.be.greaterThan(1900)
      // A loaded machine can only delay calls, never start them early: count what started in each window.
      const before = (ms: number) => starts.filter((t) => t < t0 + ms).length
      expect(before(950)).to.be.at.most(12)
      expect(before(1950)).to.be.at.most(24)
    })
  })

  describe('listRetirableGrants', () => {
    it('pages through ListRetirableGrants for the principal', async () => {
      sdk.kms
        .on(ListRetirableGrantsCommand, {Marker: undefined})
        .resolves({Grants: [entry(1, 1, {RetiringPrincipal: OPS})], NextMarker: 'p2', Truncated: true})
        .on(ListRetirableGrantsCommand, {Marker: 'p2'})
        .resolves({Grants: [entry(2, 1, {RetiringPrincipal: OPS})], Truncated: false})
      const grants = await listRetirableGrants(kms, OPS)
      expect(grants.map((g) => g.keyId)).to.deep.equal([keyId(1), keyId(2)])
      const calls = sdk.kms.commandCalls(ListRetirableGrantsCommand).map((c) => c.args[0].input)
      expect(calls.map((c) => [c.RetiringPrincipal, c.Marker])).to.deep.equal([
        [OPS, undefined],
        [OPS, 'p2'],
      ])
    })
  })

  it('round-trips a grant to the list entry the journal keeps', () => {
    const e = entry(3, 7, {Constraints: {EncryptionContextSubset: {a: '1'}}, RetiringPrincipal: OPS})
    expect(toGrantListEntry(toGrantInfo(e))).to.deep.equal(e)
    expect(constraintText(e.Constraints)).to.equal('subset a=1')
    expect(constraintText({EncryptionContextEquals: {a: '1', b: '2'}})).to.equal('equals a=1, b=2')
  })
})
