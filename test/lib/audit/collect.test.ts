import {
  DescribeKeyCommand,
  GetKeyLastUsageCommand,
  GetKeyPolicyCommand,
  GetKeyRotationStatusCommand,
  KMSClient,
  ListAliasesCommand,
  ListGrantsCommand,
  ListKeysCommand,
  ListResourceTagsCommand,
} from '@aws-sdk/client-kms'
import {expect} from 'chai'

import {runAudit} from '../../../src/lib/audit/audit.js'
import {collectFacts} from '../../../src/lib/audit/collect.js'
import {CHECKS, selectChecks} from '../../../src/lib/audit/registry.js'
import {DEFAULT_OPTIONS} from '../../../src/lib/audit/types.js'
import {Pacer} from '../../../src/lib/pacing.js'
import {mockSdk} from '../../helpers/mock-sdk.js'

const acct = '111122223333'
const id = (n: number) => `${String(n).padStart(8, '0')}-0000-4000-8000-000000000000`
const arn = (n: number) => `arn:aws:kms:us-east-1:${acct}:key/${id(n)}`
const READS = new Set(['DescribeKey', 'GetKeyLastUsage', 'GetKeyPolicy', 'GetKeyRotationStatus', 'ListAliases', 'ListGrants', 'ListKeys', 'ListResourceTags'])

describe('audit reads', () => {
  const sdk = mockSdk()
  beforeEach(() => {
    sdk.kms.on(ListKeysCommand).resolves({Keys: [1, 2, 3].map((n) => ({KeyArn: arn(n), KeyId: id(n)})), Truncated: false})
    sdk.kms.on(ListAliasesCommand).resolves({Aliases: [{AliasName: 'alias/app', TargetKeyId: id(1)}, {AliasName: 'alias/aws/s3', TargetKeyId: id(3)}], Truncated: false})
    for (const n of [1, 2]) {
      sdk.kms.on(DescribeKeyCommand, {KeyId: id(n)}).resolves({
        KeyMetadata: {Arn: arn(n), CreationDate: new Date(), Description: 'd', KeyId: id(n), KeyManager: 'CUSTOMER', KeySpec: 'SYMMETRIC_DEFAULT', KeyState: 'Enabled', Origin: 'AWS_KMS'},
      })
    }

    sdk.kms.on(GetKeyPolicyCommand, {KeyId: id(1)}).resolves({Policy: JSON.stringify({Statement: [{Action: 'kms:*', Effect: 'Allow', Principal: {AWS: `arn:aws:iam::${acct}:root`}, Resource: '*'}]})})
    sdk.kms.on(GetKeyPolicyCommand, {KeyId: id(2)}).rejects(Object.assign(new Error('User is not authorized to perform: kms:GetKeyPolicy'), {$metadata: {httpStatusCode: 400}, name: 'AccessDeniedException'}))
    sdk.kms.on(GetKeyRotationStatusCommand).resolves({KeyRotationEnabled: true})
    sdk.kms.on(ListGrantsCommand).resolves({Grants: [], Truncated: false})
    sdk.kms.on(ListResourceTagsCommand).resolves({Tags: [{TagKey: 'owner', TagValue: 'x'}], Truncated: false})
    sdk.kms.on(GetKeyLastUsageCommand).resolves({KeyLastUsage: {Operation: 'Decrypt', Timestamp: new Date()}, TrackingStartDate: new Date('2026-01-01T00:00:00Z')})
  })

  const deps = () => ({journal: {readAll: () => []}, kms: new KMSClient({region: 'us-east-1'}), region: 'us-east-1'})

  it('sends only reads, never to AWS-managed keys, and records a denied read against its key', async () => {
    const r = await runAudit({checks: CHECKS, deps: deps(), options: {...DEFAULT_OPTIONS, now: new Date()}, pacer: new Pacer()})
    const sent = sdk.kms.calls().map((c) => (c.args[0] as {constructor: {name: string}}).constructor.name.replace(/Command$/, ''))
    expect(sent.filter((op) => !READS.has(op))).to.deep.equal([])
    expect(sdk.kms.calls().some((c) => (c.args[0] as {input: {KeyId?: string}}).input.KeyId === id(3))).to.equal(false)
    // Sorted by label: the key ID of key 2, then alias/app.
    expect(r.keys.map((k) => k.keyId)).to.deep.equal([id(2), id(1)])
    expect(r.notChecked.filter((n) => n.keyId === id(2)).map((n) => n.reason)).to.include('GetKeyPolicy: not allowed: kms:GetKeyPolicy')
    expect(r.notChecked.filter((n) => n.keyId === id(1))).to.deep.equal([])
  })

  it('makes only the calls the selected checks need', async () => {
    await collectFacts(deps(), undefined, {disabledDays: 90, needs: new Set(selectChecks(['rotation-off'], []).flatMap((c) => c.needs)), now: new Date(), recentDays: 30})
    expect(sdk.kms.commandCalls(GetKeyRotationStatusCommand)).to.have.length(2)
    expect(sdk.kms.commandCalls(GetKeyPolicyCommand)).to.have.length(0)
    expect(sdk.kms.commandCalls(ListGrantsCommand)).to.have.length(0)
    expect(sdk.kms.commandCalls(ListResourceTagsCommand)).to.have.length(0)
    expect(sdk.kms.commandCalls(GetKeyLastUsageCommand)).to.have.length(0)
  })

  it('paces each operation at its quota: GetKeyPolicy at 30/s', async () => {
    const pacer = new Pacer()
    expect(pacer.rateOf('GetKeyPolicy')).to.equal(30)
    expect(pacer.minimumMs('GetKeyPolicy', 1000)).to.be.closeTo(((1000 - 30) / 30) * 1000, 1000)
  })
})
