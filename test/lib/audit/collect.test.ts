import {
  GetKeyLastUsageCommand,
  GetKeyPolicyCommand,
  GetKeyRotationStatusCommand,
  KMSClient,
  ListGrantsCommand,
  ListResourceTagsCommand,
} from '@aws-sdk/client-kms'
import {expect} from 'chai'

import {runAudit} from '../../../src/lib/audit/audit.js'
import {collectFacts} from '../../../src/lib/audit/collect.js'
import {CHECKS, selectChecks} from '../../../src/lib/audit/registry.js'
import {DEFAULT_OPTIONS} from '../../../src/lib/audit/types.js'
import {Pacer} from '../../../src/lib/pacing.js'
import {mockSdk} from '../../helpers/mock-sdk.js'
import {keyId, mockAuditReads} from './mock-reads.js'

const id = keyId
const READS = new Set(['DescribeKey', 'GetKeyLastUsage', 'GetKeyPolicy', 'GetKeyRotationStatus', 'ListAliases', 'ListGrants', 'ListKeys', 'ListResourceTags'])

describe('audit reads', () => {
  const sdk = mockSdk()
  beforeEach(() => {
    // Key 3 is listed but AWS-managed (alias/aws/s3): never described, never read.
    mockAuditReads(sdk.kms, {aliases: [['alias/app', 1], ['alias/aws/s3', 3]], described: [1, 2], listed: [1, 2, 3]})
    sdk.kms.on(GetKeyPolicyCommand, {KeyId: id(2)}).rejects(Object.assign(new Error('User is not authorized to perform: kms:GetKeyPolicy'), {$metadata: {httpStatusCode: 400}, name: 'AccessDeniedException'}))
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
