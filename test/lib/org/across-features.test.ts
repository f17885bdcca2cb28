// Unit tests of the work across accounts that goes to each key's or event's own account-region: key
// references grouped by the account and region their ARN names, a plan per place, LookupEvents per
// account-region with each event's account, and the rendering every listing shares (--ndjson, the
// trail CSV with Account and Region). The SDK is mocked; roles are "assumed" by a fake provider that
// encodes the account in the access key ID, so that each mocked call can tell which account sent it.
import {LookupEventsCommand} from '@aws-sdk/client-cloudtrail'
import {DescribeKeyCommand, ListAliasesCommand} from '@aws-sdk/client-kms'
import {expect} from 'chai'

import {AwsClients} from '../../../src/lib/aws/clients.js'
import {AccountCredentials} from '../../../src/lib/org/credentials.js'
import {missingRefs, placeRefs, planByPlace} from '../../../src/lib/org/state-change.js'
import {queryApiAcross} from '../../../src/lib/org/trail.js'
import {renderNdjson} from '../../../src/lib/output.js'
import {buildFilterSpec} from '../../../src/lib/trail/spec.js'
import {normalise} from '../../../src/lib/trail/normalise.js'
import {csvHeader, csvLine} from '../../../src/lib/trail/render.js'
import {awsError, mockSdk} from '../../helpers/mock-sdk.js'
import * as f from '../trail/fixtures.js'

const CALLER = {account: '111122223333', arn: 'arn:aws:iam::111122223333:user/alice', userId: 'AIDAEXAMPLE'}
const A = '444455556666'
const B = '555566667777'
const BROKEN = '999988887777'
const id = (n: number) => `${String(n).padStart(8, '0')}-0000-4000-8000-000000000000`
const keyArn = (account: string, region: string, n: number) => `arn:aws:kms:${region}:${account}:key/${id(n)}`

function base(): AwsClients {
  const aws = new AwsClients({region: 'us-east-1'})
  aws.callerIdentity = async () => CALLER
  return aws
}

/** Credentials whose access key ID names the account (ASIA + account), and a role refused in BROKEN. */
function credentials(): {assumed: string[]; creds: AccountCredentials} {
  const assumed: string[] = []
  const creds = new AccountCredentials(base(), {roleName: 'Ops'}, ({roleArn}) => async () => {
    assumed.push(roleArn)
    if (roleArn.includes(BROKEN)) throw awsError('AccessDenied', `User: ${CALLER.arn} is not authorized to perform: sts:AssumeRole on resource: ${roleArn}`, 403)
    return {accessKeyId: `ASIA${roleArn.split(':')[4]}`, secretAccessKey: 's', sessionToken: 't'}
  })
  return {assumed, creds}
}

/** The account a mocked call was sent from (its client's access key ID), and its region. */
async function sender(getClient: () => unknown): Promise<{account: string; region: string}> {
  const client = getClient() as {config: {credentials: () => Promise<{accessKeyId: string}>; region: () => Promise<string>}}
  const {accessKeyId} = await client.config.credentials()
  return {account: accessKeyId.startsWith('ASIA') ? accessKeyId.slice(4) : CALLER.account, region: await client.config.region()}
}

describe('work across accounts by key ARN and by account-region', () => {
  const sdk = mockSdk()

  it('groups key references by the account and region their ARN names; IDs and aliases stay in the caller\'s home', () => {
    const home = {account: CALLER.account, region: 'us-east-1'}
    const groups = placeRefs([keyArn(A, 'eu-west-1', 1), 'alias/payments', keyArn(A, 'eu-west-1', 2), `arn:aws:kms:us-east-1:${B}:alias/app`, keyArn(A, 'eu-west-1', 1), id(3)], home)
    expect(groups).to.deep.equal([
      {account: A, refs: [keyArn(A, 'eu-west-1', 1), keyArn(A, 'eu-west-1', 2)], region: 'eu-west-1'},
      {account: CALLER.account, refs: ['alias/payments', id(3)], region: 'us-east-1'},
      {account: B, refs: [`arn:aws:kms:us-east-1:${B}:alias/app`], region: 'us-east-1'},
    ])
  })

  it('plans each place with its own account\'s credentials: the role refused is that place\'s failure, a key not there is named', async () => {
    sdk.kms.on(ListAliasesCommand).resolves({Aliases: [], Truncated: false})
    sdk.kms.on(DescribeKeyCommand).callsFake(async (input: {KeyId: string}, getClient: () => unknown) => {
      const from = await sender(getClient)
      // Each key answers only in its own account and region.
      if (!input.KeyId.includes(`:${from.region}:${from.account}:`) || input.KeyId.endsWith(id(9))) throw awsError('NotFoundException', `Key '${input.KeyId}' does not exist`)
      return {KeyMetadata: {Arn: input.KeyId, KeyId: input.KeyId.split('/').pop(), KeyManager: 'CUSTOMER', KeyState: 'Enabled'}}
    })
    const {assumed, creds} = credentials()
    const groups = [
      {account: A, refs: [keyArn(A, 'eu-west-1', 1), keyArn(A, 'eu-west-1', 9)], region: 'eu-west-1'},
      {account: B, refs: [keyArn(B, 'us-east-1', 2)], region: 'us-east-1'},
      {account: BROKEN, refs: [keyArn(BROKEN, 'us-east-1', 3)], region: 'us-east-1'},
      {account: CALLER.account, refs: [keyArn(CALLER.account, 'eu-west-1', 4)], region: 'eu-west-1'},
    ]
    const progress: string[] = []
    const plan = await planByPlace(base(), {roleName: 'Ops'}, groups, 'disable', {maxParallel: 2, onProgress: (d, t, s) => progress.push(`${d}/${t}:${s}`)}, creds)
    expect(plan.toSend).to.equal(3)
    const byPlace = Object.fromEntries(plan.outcomes.map((o) => [`${o.account}/${o.region}`, o]))
    expect(byPlace[`${A}/eu-west-1`].value!.items.map((i) => i.key.keyId)).to.deep.equal([id(1)])
    expect(byPlace[`${A}/eu-west-1`].role).to.equal(`arn:aws:iam::${A}:role/Ops`)
    expect(byPlace[`${CALLER.account}/eu-west-1`].role).to.equal(undefined)
    expect(byPlace[`${BROKEN}/us-east-1`].error!.message).to.equal(`Cannot assume arn:aws:iam::${BROKEN}:role/Ops in account ${BROKEN}: User: ${CALLER.arn} is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::${BROKEN}:role/Ops`)
    expect(missingRefs(plan)).to.deep.equal([`${keyArn(A, 'eu-west-1', 9)} (${A}/eu-west-1)`])
    // The caller's own account is reached without AssumeRole.
    expect([...new Set(assumed)].sort()).to.deep.equal([A, B, BROKEN].map((a) => `arn:aws:iam::${a}:role/Ops`).sort())
    expect(progress.at(-1)).to.equal('4/4:3')
  })

  it('reads LookupEvents in each account-region through its own credentials: every event gains its account, a failed account-region is its summary row', async () => {
    sdk.kms.on(ListAliasesCommand).resolves({Aliases: [{AliasName: 'alias/payments', TargetKeyId: f.KEY_ID}], Truncated: false})
    sdk.kms.on(DescribeKeyCommand).rejects(awsError('NotFoundException', 'not here'))
    sdk.cloudtrail.on(LookupEventsCommand).callsFake(async (_input: unknown, getClient: () => unknown) => {
      const from = await sender(getClient)
      const record = f.record({awsRegion: from.region, eventID: `${from.account}-${from.region}`, recipientAccountId: from.account})
      return {Events: [{CloudTrailEvent: JSON.stringify(record), EventId: record.eventID, EventName: record.eventName}]}
    })
    const {creds} = credentials()
    const targets = {accounts: {accounts: [A, B, BROKEN], exclude: [], kind: 'list' as const}, maxParallel: 3, regions: {kind: 'list' as const, regions: ['us-east-1', 'eu-west-1']}, role: {roleName: 'Ops'}}
    const seen: string[] = []
    const r = await queryApiAcross(base(), targets, {credentials: creds, onMatches: (m) => seen.push(...m.map((x) => `${x.event.account}/${x.event.region}`)), rate: 100, spec: buildFilterSpec({})})
    expect(seen.sort()).to.deep.equal([A, B].flatMap((a) => [`${a}/eu-west-1`, `${a}/us-east-1`]).sort())
    expect(r.matched).to.equal(4)
    expect(r.summaries.map((s) => `${s.account}/${s.region}:${s.error ? 'failed' : s.seen}`)).to.deep.equal([
      `${A}/us-east-1:1`,
      `${A}/eu-west-1:1`,
      `${B}/us-east-1:1`,
      `${B}/eu-west-1:1`,
      `${BROKEN}/us-east-1:failed`,
      `${BROKEN}/eu-west-1:failed`,
    ])
    // One LookupEvents a page per account-region, each sent with that account's credentials.
    const senders = await Promise.all(sdk.cloudtrail.commandCalls(LookupEventsCommand).map((c) => sender(() => (c.thisValue as unknown))))
    expect(senders.map((s) => `${s.account}/${s.region}`).sort()).to.deep.equal(seen.sort())
  })

  it('stops every account-region at --max-events', async () => {
    sdk.kms.on(ListAliasesCommand).resolves({Aliases: [], Truncated: false})
    sdk.cloudtrail.on(LookupEventsCommand).callsFake(async (_input: unknown, getClient: () => unknown) => {
      const from = await sender(getClient)
      const records = [1, 2, 3].map((n) => f.record({awsRegion: from.region, eventID: `${from.account}-${from.region}-${n}`}))
      return {Events: records.map((x) => ({CloudTrailEvent: JSON.stringify(x), EventId: x.eventID}))}
    })
    const {creds} = credentials()
    const targets = {accounts: {accounts: [A, B], exclude: [], kind: 'list' as const}, maxParallel: 1, regions: {kind: 'list' as const, regions: ['us-east-1']}, role: {roleName: 'Ops'}}
    let got = 0
    const r = await queryApiAcross(base(), targets, {credentials: creds, maxEvents: 4, onMatches: (m) => (got += m.length), rate: 100, spec: buildFilterSpec({})})
    expect(got).to.equal(4)
    expect(r.reachedMaxEvents).to.equal(true)
    expect(r.interrupted).to.equal(false)
  })

  it('renders NDJSON rows whole, one a line, and the trail CSV across accounts with account and region first and no repeated column', () => {
    expect(renderNdjson([{account: A, keyId: id(1), region: 'eu-west-1'}, {account: B, keyId: id(2), region: 'us-east-1'}])).to.equal(
      `{"account":"${A}","keyId":"${id(1)}","region":"eu-west-1"}\n{"account":"${B}","keyId":"${id(2)}","region":"us-east-1"}`,
    )
    const header = csvHeader(true).split(',')
    expect(header.slice(0, 2)).to.deep.equal(['account', 'region'])
    expect(new Set(header).size).to.equal(header.length)
    expect(header).to.include('principalAccount')
    expect(csvHeader()).to.equal(csvHeader(false))
    const event = {account: A, ...normalise(f.record({awsRegion: 'eu-west-1', eventTime: '2026-11-02T10:00:00Z'}))}
    expect(csvLine(event, true).startsWith(`${A},eu-west-1,2026-11-02T10:00:00Z,${event.event},${event.who},`)).to.equal(true)
  })
})
