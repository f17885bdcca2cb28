import {
  DisableKeyRotationCommand,
  EnableKeyRotationCommand,
  GetKeyRotationStatusCommand,
  ListKeyRotationsCommand,
  RotateKeyOnDemandCommand,
} from '@aws-sdk/client-kms'
import {expect} from 'chai'
import {mkdtempSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {KmsctlError} from '../../src/lib/errors.js'
import {Journal} from '../../src/lib/journal.js'
import type {ResolvedKey} from '../../src/lib/key-ref.js'
import {
  assertCanRotate,
  changeRotation,
  getRotationStatus,
  listRotations,
  rotateOnDemand,
  rotationRefusal,
  validateRotationPeriod,
} from '../../src/lib/rotation.js'
import {mockSdk} from '../helpers/mock-sdk.js'

const ID = '55555555-5555-4555-8555-555555555555'
const ARN = `arn:aws:kms:us-east-1:111122223333:key/${ID}`
const key = (extra: Record<string, unknown> = {}, ref = 'alias/app'): ResolvedKey => ({
  arn: ARN,
  keyId: ID,
  metadata: {Arn: ARN, KeyId: ID, KeyManager: 'CUSTOMER', KeySpec: 'SYMMETRIC_DEFAULT', KeyState: 'Enabled', KeyUsage: 'ENCRYPT_DECRYPT', Origin: 'AWS_KMS', ...extra} as never,
  ref,
})
const ctx = async () => ({account: '111122223333', caller: 'arn:aws:iam::111122223333:user/ops', command: ['key', 'rotation', 'enable'], region: 'us-east-1'})

describe('rotation', () => {
  const sdk = mockSdk()
  const kms = sdk.kmsClient()
  let journal: Journal
  beforeEach(() => {
    journal = new Journal({dir: mkdtempSync(join(tmpdir(), 'kmsctl-journal-'))})
  })

  it('validates the period range 90..2560', () => {
    expect(validateRotationPeriod(90)).to.equal(90)
    expect(validateRotationPeriod(2560)).to.equal(2560)
    expect(() => validateRotationPeriod(89)).to.throw("--period-days 89 is outside KMS's range of 90..2560 days.").with.property('exitCode', 2)
    expect(() => validateRotationPeriod(2561)).to.throw().with.property('remedy', 'Try this: --period-days 365 (the default period)')
    expect(() => validateRotationPeriod(100.5)).to.throw().with.property('code', 'USAGE')
  })

  it('says why keys cannot rotate, by action', () => {
    expect(rotationRefusal(key().metadata, 'enable')).to.equal(undefined)
    expect(rotationRefusal(key({KeySpec: 'RSA_2048'}).metadata, 'status')).to.equal('it is an asymmetric key (RSA_2048); asymmetric keys cannot rotate')
    expect(rotationRefusal(key({KeySpec: 'HMAC_256'}).metadata, 'on-demand')).to.equal('it is an HMAC key (HMAC_256); HMAC keys cannot rotate')
    expect(rotationRefusal(key({CustomKeyStoreId: 'cks-1', Origin: 'AWS_CLOUDHSM'}).metadata, 'history')).to.contain('custom key store')
    // Imported material: on demand yes, automatic no.
    expect(rotationRefusal(key({Origin: 'EXTERNAL'}).metadata, 'on-demand')).to.equal(undefined)
    expect(rotationRefusal(key({Origin: 'EXTERNAL'}).metadata, 'enable')).to.contain('imported keys rotate on demand only')
    // AWS managed: status yes, changes no.
    expect(rotationRefusal(key({KeyManager: 'AWS'}).metadata, 'status')).to.equal(undefined)
    expect(rotationRefusal(key({KeyManager: 'AWS'}).metadata, 'disable')).to.contain('AWS managed key')
    const replica = {MultiRegionConfiguration: {MultiRegionKeyType: 'REPLICA', PrimaryKey: {Arn: 'arn:aws:kms:eu-west-1:111122223333:key/mrk-1', Region: 'eu-west-1'}}}
    expect(rotationRefusal(key(replica).metadata, 'on-demand')).to.contain('rotation is set on the primary key (arn:aws:kms:eu-west-1:111122223333:key/mrk-1)')
  })

  it('refuses with exit 2 naming the key and the reason', () => {
    try {
      assertCanRotate(key({KeySpec: 'ECC_NIST_P256'}), 'enable')
      expect.fail('should throw')
    } catch (error) {
      const e = error as KmsctlError
      expect(e.message).to.equal('Cannot enable automatic rotation of alias/app: it is an asymmetric key (ECC_NIST_P256); asymmetric keys cannot rotate.')
      expect(e.exitCode).to.equal(2)
      expect(e.code).to.equal('REFUSED')
    }
  })

  it('reads the status', async () => {
    sdk.kms.on(GetKeyRotationStatusCommand).resolves({KeyRotationEnabled: true, NextRotationDate: new Date('2027-01-01T00:00:00Z'), RotationPeriodInDays: 180})
    const s = await getRotationStatus(kms, key())
    expect(s).to.deep.include({enabled: true, keyId: ID, nextRotationDate: '2027-01-01T00:00:00.000Z', periodDays: 180})
  })

  it('enables with a period, journals the previous setting, and reads the status back', async () => {
    sdk.kms.on(GetKeyRotationStatusCommand).resolvesOnce({KeyRotationEnabled: false}).resolves({KeyRotationEnabled: true, RotationPeriodInDays: 180})
    sdk.kms.on(EnableKeyRotationCommand).resolves({})
    const r = await changeRotation(kms, key(), {context: ctx, enable: true, journal, periodDays: 180})
    expect(sdk.kms.commandCalls(EnableKeyRotationCommand).map((c) => c.args[0].input)).to.deep.equal([{KeyId: ID, RotationPeriodInDays: 180}])
    expect(r.after).to.deep.include({enabled: true, periodDays: 180})
    const [entry] = journal.readAll()
    expect(entry).to.deep.include({action: 'key.rotation', before: {enabled: false}, region: 'us-east-1'})
    expect(entry.key).to.deep.include({keyId: ID})
    expect(entry.outcome).to.deep.include({after: {enabled: true, periodDays: 180}, status: 'ok'})
    expect(entry.id).to.equal(r.journalId)
  })

  it('sends nothing when already in the requested state, or under dry run', async () => {
    sdk.kms.on(GetKeyRotationStatusCommand).resolves({KeyRotationEnabled: true, RotationPeriodInDays: 365})
    let r = await changeRotation(kms, key(), {context: ctx, enable: true, journal, periodDays: 365})
    expect(r.unchanged).to.equal(true)
    r = await changeRotation(kms, key(), {context: ctx, enable: true, journal})
    expect(r.unchanged).to.equal(true)
    r = await changeRotation(kms, key(), {context: ctx, dryRun: true, enable: true, journal, periodDays: 90})
    expect(r).to.deep.include({dryRun: true, unchanged: false})
    expect(r.requests).to.deep.equal([{input: {KeyId: ID, RotationPeriodInDays: 90}, operation: 'EnableKeyRotation'}])
    expect(sdk.kms.commandCalls(EnableKeyRotationCommand)).to.have.length(0)
    expect(journal.readAll()).to.have.length(0)
  })

  it('disables, recording the period that was set; a KMS failure is journaled as failed', async () => {
    sdk.kms.on(GetKeyRotationStatusCommand).resolves({KeyRotationEnabled: true, RotationPeriodInDays: 730})
    sdk.kms.on(DisableKeyRotationCommand).rejects(Object.assign(new Error('Key is disabled'), {name: 'KMSInvalidStateException'}))
    try {
      await changeRotation(kms, key(), {context: ctx, enable: false, journal})
      expect.fail('should throw')
    } catch (error) {
      expect((error as KmsctlError).code).to.equal('INVALID_STATE')
    }

    const [entry] = journal.readAll()
    expect(entry.before).to.deep.equal({enabled: true, periodDays: 730})
    expect(entry.outcome?.status).to.equal('failed')
  })

  it('rotates on demand and explains a rotation in progress and the per-key limit', async () => {
    sdk.kms.on(RotateKeyOnDemandCommand).resolvesOnce({KeyId: ID})
      .rejectsOnce(Object.assign(new Error('in progress'), {name: 'ConflictException'}))
      .rejectsOnce(Object.assign(new Error('limit'), {name: 'LimitExceededException'}))
    expect(await rotateOnDemand(kms, key())).to.deep.equal({keyId: ID})
    const e1 = (await rotateOnDemand(kms, key()).catch((error) => error)) as KmsctlError
    expect(e1.message).to.equal('An on-demand rotation of alias/app is already in progress.')
    const e2 = (await rotateOnDemand(kms, key()).catch((error) => error)) as KmsctlError
    expect(e2.code).to.equal('LIMIT_EXCEEDED')
    expect(e2.message).to.contain('limited number of on-demand rotations per key')
  })

  it('lists every page of rotations', async () => {
    sdk.kms.on(ListKeyRotationsCommand)
      .resolvesOnce({NextMarker: 'n1', Rotations: [{KeyId: ID, KeyMaterialId: 'm1', RotationDate: new Date('2026-01-01T00:00:00Z'), RotationType: 'AUTOMATIC'}], Truncated: true})
      .resolvesOnce({Rotations: [{KeyId: ID, KeyMaterialId: 'm2', KeyMaterialState: 'CURRENT', RotationDate: new Date('2026-06-01T00:00:00Z'), RotationType: 'ON_DEMAND'}], Truncated: false})
    const list = await listRotations(kms, key())
    expect(list.map((r) => [r.keyMaterialId, r.rotationType, r.rotationDate])).to.deep.equal([
      ['m1', 'AUTOMATIC', '2026-01-01T00:00:00.000Z'],
      ['m2', 'ON_DEMAND', '2026-06-01T00:00:00.000Z'],
    ])
    const calls = sdk.kms.commandCalls(ListKeyRotationsCommand).map((c) => c.args[0].input)
    expect(calls).to.deep.equal([{KeyId: ID, Limit: 1000, Marker: undefined}, {KeyId: ID, Limit: 1000, Marker: 'n1'}])
  })
})
