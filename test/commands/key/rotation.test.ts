import {
  DescribeKeyCommand,
  DisableKeyRotationCommand,
  EnableKeyRotationCommand,
  GetKeyRotationStatusCommand,
  ListKeyRotationsCommand,
  RotateKeyOnDemandCommand,
} from '@aws-sdk/client-kms'
import {expect} from 'chai'

import {A, arn, awsError, commandContext, meta, sent} from '../alias/fixtures.js'

describe('key rotation status|enable|disable', () => {
  const t = commandContext()
  beforeEach(() => {
    t.kms.on(DescribeKeyCommand).resolves({KeyMetadata: meta(A)})
    t.kms.on(GetKeyRotationStatusCommand).resolves({KeyId: A, KeyRotationEnabled: false})
    t.kms.on(EnableKeyRotationCommand).resolves({})
    t.kms.on(DisableKeyRotationCommand).resolves({})
  })

  it('status shows on, period and next date', async () => {
    t.kms.on(GetKeyRotationStatusCommand).resolves({KeyRotationEnabled: true, NextRotationDate: new Date('2027-03-04T05:06:07Z'), RotationPeriodInDays: 180})
    const r = await t.run(['key', 'rotation', 'status', 'alias/app'])
    expect(r.code).to.equal(0)
    expect(r.stdout).to.match(/Automatic\s+on, every 180 days/)
    expect(r.stdout).to.match(/Next rotation\s+2027-03-04 05:06:07Z/)
    const j = await t.run(['key', 'rotation', 'status', 'alias/app', '--json'])
    expect(JSON.parse(j.stdout)).to.deep.include({enabled: true, keyId: A, nextRotationDate: '2027-03-04T05:06:07.000Z', periodDays: 180})
  })

  it('status of an AWS managed key works and says AWS rotates it', async () => {
    t.kms.on(DescribeKeyCommand).resolves({KeyMetadata: meta(A, {KeyManager: 'AWS'})})
    t.kms.on(GetKeyRotationStatusCommand).resolves({KeyRotationEnabled: true, RotationPeriodInDays: 365})
    const r = await t.run(['key', 'rotation', 'status', 'alias/aws/s3'])
    expect(r.code).to.equal(0)
    expect(r.stdout).to.contain('AWS managed key: AWS rotates it every year')
  })

  it('enable --period-days sends EnableKeyRotation and journals the previous setting', async () => {
    t.kms.on(GetKeyRotationStatusCommand).resolvesOnce({KeyRotationEnabled: false}).resolves({KeyRotationEnabled: true, NextRotationDate: new Date('2027-01-01T00:00:00Z'), RotationPeriodInDays: 90})
    const r = await t.run(['key', 'rotation', 'enable', 'alias/app', '--period-days', '90'])
    expect(r.code).to.equal(0)
    expect(t.kms.commandCalls(EnableKeyRotationCommand).map((c) => c.args[0].input)).to.deep.equal([{KeyId: A, RotationPeriodInDays: 90}])
    expect(r.stdout).to.equal('Automatic rotation of alias/app is on (every 90 days), next 2027-01-01 00:00:00Z.\n')
    expect(r.stderr).to.contain('It was off (journal j-')
    const [entry] = t.journal().readAll()
    expect(entry).to.deep.include({action: 'key.rotation', before: {enabled: false}})
    expect(entry.key).to.deep.include({arn: arn(A), keyId: A})
  })

  it('enable without a period sends no RotationPeriodInDays (KMS default)', async () => {
    await t.run(['key', 'rotation', 'enable', A])
    expect(t.kms.commandCalls(EnableKeyRotationCommand)[0].args[0].input).to.deep.equal({KeyId: A})
  })

  it('enable --dry-run prints the request and sends no change', async () => {
    const r = await t.run(['key', 'rotation', 'enable', A, '--period-days', '400', '--dry-run'])
    expect(r.code).to.equal(0)
    expect(r.stdout).to.equal(`Dry run: this request would be sent (nothing was sent):\nEnableKeyRotation {\n  "KeyId": "${A}",\n  "RotationPeriodInDays": 400\n}\n`)
    expect(t.kms.commandCalls(EnableKeyRotationCommand)).to.have.length(0)
    expect(t.journal().readAll()).to.have.length(0)
  })

  for (const days of ['89', '2561', '0']) {
    it(`enable --period-days ${days} exits 2 before any call`, async () => {
      const r = await t.run(['key', 'rotation', 'enable', A, '--period-days', days])
      expect(r.code).to.equal(2)
      expect(r.stderr).to.contain(`--period-days ${days} is outside KMS's range of 90..2560 days.`)
      expect(sent(t.kms)).to.deep.equal([])
    })
  }

  it('enable when already on with that period sends nothing', async () => {
    t.kms.on(GetKeyRotationStatusCommand).resolves({KeyRotationEnabled: true, RotationPeriodInDays: 365})
    const r = await t.run(['key', 'rotation', 'enable', A, '--period-days', '365'])
    expect(r.code).to.equal(0)
    expect(r.stderr).to.contain(`Automatic rotation of ${A} is already on (every 365 days): nothing to do.`)
    expect(t.kms.commandCalls(EnableKeyRotationCommand)).to.have.length(0)
  })

  it('disable sends DisableKeyRotation and records the period that was set', async () => {
    t.kms.on(GetKeyRotationStatusCommand).resolvesOnce({KeyRotationEnabled: true, RotationPeriodInDays: 730}).resolves({KeyRotationEnabled: false})
    const r = await t.run(['key', 'rotation', 'disable', A, '--json'])
    expect(r.code).to.equal(0)
    const doc = JSON.parse(r.stdout)
    expect(doc.before).to.deep.include({enabled: true, periodDays: 730})
    expect(doc.after).to.deep.include({enabled: false})
    expect(t.kms.commandCalls(DisableKeyRotationCommand).map((c) => c.args[0].input)).to.deep.equal([{KeyId: A}])
    expect(t.journal().readAll()[0].before).to.deep.equal({enabled: true, periodDays: 730})
  })

  it('disable --dry-run prints DisableKeyRotation and sends no change', async () => {
    t.kms.on(GetKeyRotationStatusCommand).resolves({KeyRotationEnabled: true, RotationPeriodInDays: 365})
    const r = await t.run(['key', 'rotation', 'disable', A, '--dry-run'])
    expect(r.code).to.equal(0)
    expect(r.stdout).to.equal(`Dry run: this request would be sent (nothing was sent):\nDisableKeyRotation {\n  "KeyId": "${A}"\n}\n`)
    expect(t.kms.commandCalls(DisableKeyRotationCommand)).to.have.length(0)
    expect(t.journal().readAll()).to.have.length(0)
  })

  it('disable of a disabled key reports its state (exit 1)', async () => {
    t.kms.on(GetKeyRotationStatusCommand).resolves({KeyRotationEnabled: true, RotationPeriodInDays: 365})
    t.kms.on(DisableKeyRotationCommand).rejects(awsError('KMSInvalidStateException', `${arn(A)} is disabled.`))
    const r = await t.run(['key', 'rotation', 'disable', A])
    expect(r.code).to.equal(1)
    expect(r.stderr).to.contain(`Key ${A} is in state Disabled: kms:DisableKeyRotation is not allowed.`)
  })

  const cannot: Array<[string, Record<string, unknown>, string[], string]> = [
    ['asymmetric', {KeySpec: 'RSA_2048', KeyUsage: 'SIGN_VERIFY'}, ['status'], 'asymmetric keys cannot rotate'],
    ['HMAC', {KeySpec: 'HMAC_256', KeyUsage: 'GENERATE_VERIFY_MAC'}, ['enable'], 'HMAC keys cannot rotate'],
    ['imported', {Origin: 'EXTERNAL'}, ['enable'], 'imported keys rotate on demand only'],
    ['AWS managed', {KeyManager: 'AWS'}, ['disable'], 'AWS managed key'],
    ['custom key store', {CustomKeyStoreId: 'cks-1234', Origin: 'AWS_CLOUDHSM'}, ['enable'], 'custom key stores cannot rotate'],
  ]
  for (const [what, extra, verb, reason] of cannot) {
    it(`${verb[0]} refuses ${what} keys with the reason (exit 2), sending nothing but DescribeKey`, async () => {
      t.kms.on(DescribeKeyCommand).resolves({KeyMetadata: meta(A, extra)})
      const r = await t.run(['key', 'rotation', ...verb, A])
      expect(r.code).to.equal(2)
      expect(r.stderr).to.contain(reason)
      expect(sent(t.kms)).to.deep.equal(['DescribeKey'])
    })
  }
})

describe('key rotate', () => {
  const t = commandContext()
  beforeEach(() => {
    t.kms.on(DescribeKeyCommand).resolves({KeyMetadata: meta(A, {CurrentKeyMaterialId: 'mat-1'})})
    t.kms.on(GetKeyRotationStatusCommand).resolves({KeyRotationEnabled: true, RotationPeriodInDays: 365})
    t.kms.on(RotateKeyOnDemandCommand).resolves({KeyId: A})
  })

  it('sends RotateKeyOnDemand and journals it', async () => {
    const r = await t.run(['key', 'rotate', 'alias/app'])
    expect(r.code).to.equal(0)
    expect(t.kms.commandCalls(RotateKeyOnDemandCommand).map((c) => c.args[0].input)).to.deep.equal([{KeyId: A}])
    expect(r.stdout).to.equal(`On-demand rotation of alias/app started (${A}).\n`)
    const [entry] = t.journal().readAll()
    expect(entry).to.deep.include({action: 'key.rotate'})
    expect(entry.before).to.deep.include({currentKeyMaterialId: 'mat-1', enabled: true})
  })

  it('--dry-run sends no RotateKeyOnDemand', async () => {
    const r = await t.run(['key', 'rotate', A, '--dry-run', '--json'])
    expect(JSON.parse(r.stdout)).to.deep.include({dryRun: true, requests: [{input: {KeyId: A}, operation: 'RotateKeyOnDemand'}]})
    expect(t.kms.commandCalls(RotateKeyOnDemandCommand)).to.have.length(0)
  })

  it('imported keys may rotate on demand', async () => {
    t.kms.on(DescribeKeyCommand).resolves({KeyMetadata: meta(A, {Origin: 'EXTERNAL'})})
    const r = await t.run(['key', 'rotate', A])
    expect(r.code).to.equal(0)
    expect(t.kms.commandCalls(RotateKeyOnDemandCommand)).to.have.length(1)
  })

  it('refuses asymmetric, AWS managed and replica keys (exit 2)', async () => {
    for (const extra of [
      {KeySpec: 'ECC_NIST_P256', KeyUsage: 'SIGN_VERIFY'},
      {KeyManager: 'AWS'},
      {MultiRegion: true, MultiRegionConfiguration: {MultiRegionKeyType: 'REPLICA', PrimaryKey: {Arn: 'arn:aws:kms:eu-west-1:111122223333:key/mrk-0123456789abcdef0123456789abcdef', Region: 'eu-west-1'}}},
    ]) {
      t.kms.on(DescribeKeyCommand).resolves({KeyMetadata: meta(A, extra)})
      // eslint-disable-next-line no-await-in-loop
      const r = await t.run(['key', 'rotate', A])
      expect(r.code, JSON.stringify(extra)).to.equal(2)
      expect(r.stderr).to.contain(`Cannot rotate ${A}: it is`)
    }

    expect(t.kms.commandCalls(RotateKeyOnDemandCommand)).to.have.length(0)
  })

  it('does not send a second rotation while one is in progress', async () => {
    t.kms.on(GetKeyRotationStatusCommand).resolves({KeyRotationEnabled: true, OnDemandRotationStartDate: new Date('2026-11-28T10:00:00Z'), RotationPeriodInDays: 365})
    const r = await t.run(['key', 'rotate', A])
    expect(r.code).to.equal(1)
    expect(r.stderr).to.contain(`An on-demand rotation of ${A} is already in progress (since 2026-11-28 10:00:00Z); nothing was sent.`)
    expect(t.kms.commandCalls(RotateKeyOnDemandCommand)).to.have.length(0)
  })

  it('explains the per-key limit (exit 1)', async () => {
    t.kms.on(RotateKeyOnDemandCommand).rejects(awsError('LimitExceededException', 'too many'))
    const r = await t.run(['key', 'rotate', A])
    expect(r.code).to.equal(1)
    expect(r.stderr).to.contain(`KMS allows only a limited number of on-demand rotations per key, and ${A} has reached it.`)
    expect(t.journal().readAll()[0].outcome?.status).to.equal('failed')
  })
})

describe('key rotations', () => {
  const t = commandContext()
  beforeEach(() => {
    t.kms.on(DescribeKeyCommand).resolves({KeyMetadata: meta(A)})
  })

  it('lists every page as a table, and as JSON', async () => {
    t.kms.on(ListKeyRotationsCommand)
      .resolvesOnce({NextMarker: 'p2', Rotations: [{KeyId: A, KeyMaterialId: 'mat-1', KeyMaterialState: 'NON_CURRENT', RotationDate: new Date('2026-03-01T00:00:00Z'), RotationType: 'AUTOMATIC'}], Truncated: true})
      .resolvesOnce({Rotations: [{KeyId: A, KeyMaterialId: 'mat-2', KeyMaterialState: 'CURRENT', RotationDate: new Date('2026-09-01T00:00:00Z'), RotationType: 'ON_DEMAND'}], Truncated: false})
    const r = await t.run(['key', 'rotations', 'alias/app'])
    expect(r.code).to.equal(0)
    expect(r.stdout).to.match(/2026-03-01 00:00:00Z\s+AUTOMATIC\s+NON_CURRENT\s+mat-1/)
    expect(r.stdout).to.match(/2026-09-01 00:00:00Z\s+ON_DEMAND\s+CURRENT\s+mat-2/)
    expect(r.stderr).to.contain('2 rotations')
    expect(t.kms.commandCalls(ListKeyRotationsCommand)[1].args[0].input.Marker).to.equal('p2')
  })

  it('says when a key has not rotated yet', async () => {
    t.kms.on(ListKeyRotationsCommand).resolves({Rotations: [], Truncated: false})
    const r = await t.run(['key', 'rotations', A])
    expect(r.stderr).to.contain(`${A} has not been rotated yet.`)
    const j = await t.run(['key', 'rotations', A, '--json'])
    expect(JSON.parse(j.stdout)).to.deep.equal({arn: arn(A), keyId: A, rotations: []})
  })

  it('refuses HMAC keys (exit 2)', async () => {
    t.kms.on(DescribeKeyCommand).resolves({KeyMetadata: meta(A, {KeySpec: 'HMAC_512', KeyUsage: 'GENERATE_VERIFY_MAC'})})
    const r = await t.run(['key', 'rotations', A])
    expect(r.code).to.equal(2)
    expect(t.kms.commandCalls(ListKeyRotationsCommand)).to.have.length(0)
  })
})
