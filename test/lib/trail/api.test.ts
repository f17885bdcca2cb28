import {CancelQueryCommand, CloudTrailClient, GetQueryResultsCommand, LookupEventsCommand, StartQueryCommand} from '@aws-sdk/client-cloudtrail'
import {expect} from 'chai'

import {KmsctlError} from '../../../src/lib/errors.js'
import {keyFormsFromInput} from '../../../src/lib/trail/filters.js'
import type {CloudTrailRecord} from '../../../src/lib/trail/normalise.js'
import {queryApi} from '../../../src/lib/trail/sources/api.js'
import type {FileMatch} from '../../../src/lib/trail/sources/file-scan.js'
import {buildLakeSql, eventDataStoreId, queryLake, recordFromRow} from '../../../src/lib/trail/sources/lake.js'
import {buildFilterSpec} from '../../../src/lib/trail/spec.js'
import {mockSdk} from '../../helpers/mock-sdk.js'
import * as f from './fixtures.js'

const client = new CloudTrailClient({credentials: {accessKeyId: 'AKIAEXAMPLE', secretAccessKey: 'x'}, region: 'us-east-1'})
const entry = (r: CloudTrailRecord) => ({CloudTrailEvent: JSON.stringify(r), EventId: r.eventID, EventName: r.eventName})
const throttle = () => Object.assign(new Error('Rate exceeded'), {$metadata: {httpStatusCode: 400}, name: 'ThrottlingException'})

describe('trail api source (LookupEvents)', () => {
  const sdk = mockSdk()
  it('sends the one chosen attribute and the time window; filters every page locally', async () => {
    const page1 = [f.record({eventTime: '2026-11-02T11:00:00Z'}), f.record({eventName: 'Encrypt'})]
    const page2 = [f.record({eventTime: '2026-11-02T09:00:00Z', userIdentity: f.iamUser('mallory')})]
    sdk.cloudtrail.on(LookupEventsCommand).resolvesOnce({Events: page1.map(entry), NextToken: 't1'}).resolvesOnce({Events: page2.map(entry)})
    const spec = {...buildFilterSpec({event: ['Decrypt'], principal: ['alice'], since: '2026-11-01T00:00:00Z', until: '2026-11-03T00:00:00Z'}), keys: [{...keyFormsFromInput('alias/x'), arn: f.KEY_ARN, id: f.KEY_ID}]}
    const matches: FileMatch[] = []
    const r = await queryApi({clientFor: async () => client, onMatches: (m) => matches.push(...m), rate: 100, regions: ['us-east-1'], spec})
    const inputs = sdk.cloudtrail.commandCalls(LookupEventsCommand).map((c) => c.args[0].input)
    expect(inputs).to.have.length(2)
    expect(inputs[0]).to.deep.equal({
      EndTime: new Date('2026-11-03T00:00:00Z'),
      LookupAttributes: [{AttributeKey: 'ResourceName', AttributeValue: f.KEY_ARN}],
      MaxResults: 50,
      NextToken: undefined,
      StartTime: new Date('2026-11-01T00:00:00Z'),
    })
    expect(inputs[1].NextToken).to.equal('t1')
    expect(matches.map((m) => m.event.eventId)).to.deep.equal([page1[0].eventID])
    expect(matches[0].raw).to.equal(JSON.stringify(page1[0]))
    expect(r).to.deep.include({matched: 1, pages: 2, throttled: 0})
  })

  it('paces pages at the rate per region: never more than 2 in any second', async () => {
    const starts: number[] = []
    let n = 0
    sdk.cloudtrail.on(LookupEventsCommand).callsFake(async () => {
      starts.push(Date.now())
      return ++n < 5 ? {Events: [], NextToken: `p${n}`} : {Events: []}
    })
    await queryApi({clientFor: async () => client, regions: ['us-east-1'], spec: {}})
    expect(starts).to.have.length(5)
    for (let i = 2; i < starts.length; i++) expect(starts[i] - starts[i - 2], `page ${i + 1}`).to.be.at.least(990)
    // and no slower than the quota needs: 5 pages at 2/s start within about 2 s.
    expect(starts[4] - starts[0]).to.be.below(2600)
  })

  it('sends each page once (retries are the client\'s) and counts the extra requests the client needed', async () => {
    sdk.cloudtrail.on(LookupEventsCommand).resolves({$metadata: {attempts: 3}, Events: [entry(f.record())]})
    const matches: FileMatch[] = []
    const r = await queryApi({clientFor: async () => client, onMatches: (m) => matches.push(...m), rate: 100, regions: ['us-east-1'], spec: {}})
    expect(sdk.cloudtrail.commandCalls(LookupEventsCommand)).to.have.length(1)
    expect(r.throttled).to.equal(2)
    expect(matches).to.have.length(1)
  })

  it('asks again for a page still throttled after the client\'s retries, once after each pause, then gives up', async () => {
    sdk.cloudtrail.on(LookupEventsCommand).rejects(throttle())
    const err = await queryApi({clientFor: async () => client, rate: 100, regions: ['us-east-1'], spec: {}, throttlePausesMs: [1, 1, 1]}).catch((error) => error)
    expect(err).to.be.instanceOf(KmsctlError)
    expect(err.code).to.equal('THROTTLED')
    expect(sdk.cloudtrail.commandCalls(LookupEventsCommand)).to.have.length(4)
  })

  it('goes on with the query once a throttled page gets through', async () => {
    sdk.cloudtrail.on(LookupEventsCommand).rejectsOnce(throttle()).resolves({Events: [entry(f.record())]})
    const matches: FileMatch[] = []
    const r = await queryApi({clientFor: async () => client, onMatches: (m) => matches.push(...m), rate: 100, regions: ['us-east-1'], spec: {}, throttlePausesMs: [1]})
    expect(matches).to.have.length(1)
    expect(r.pages).to.equal(1)
    expect(sdk.cloudtrail.commandCalls(LookupEventsCommand)).to.have.length(2)
  })

  it('reads regions in parallel and reports a failing one without losing the others', async () => {
    const clients = new Map<string, CloudTrailClient>()
    for (const region of ['us-east-1', 'eu-west-1', 'ap-south-1']) clients.set(region, new CloudTrailClient({credentials: {accessKeyId: 'A', secretAccessKey: 'x'}, region}))
    sdk.cloudtrail.on(LookupEventsCommand).callsFake(async (_input, getClient) => {
      const region = await getClient().config.region()
      if (region === 'ap-south-1') throw Object.assign(new Error('The security token included in the request is invalid.'), {name: 'UnrecognizedClientException'})
      return {Events: [entry(f.record({awsRegion: region}))]}
    })
    const matches: FileMatch[] = []
    const r = await queryApi({clientFor: async (region) => clients.get(region)!, onMatches: (m) => matches.push(...m), rate: 100, regions: [...clients.keys()], spec: {}})
    expect(matches.map((m) => m.event.region).sort()).to.deep.equal(['eu-west-1', 'us-east-1'])
    expect(r.failures.map((x) => [x.region, x.code])).to.deep.equal([['ap-south-1', 'UnrecognizedClientException']])
  })

  it('one region failing is the error', async () => {
    sdk.cloudtrail.on(LookupEventsCommand).rejects(Object.assign(new Error('no'), {name: 'AccessDeniedException'}))
    try {
      await queryApi({clientFor: async () => client, rate: 100, regions: ['us-east-1'], spec: {}})
      expect.fail('no error')
    } catch (error) {
      expect((error as KmsctlError).code).to.equal('ACCESS_DENIED')
      expect((error as KmsctlError).message).to.equal('Access denied: you are not allowed to call cloudtrail:LookupEvents.')
    }
  })

  it('--max-events stops reading pages', async () => {
    sdk.cloudtrail.on(LookupEventsCommand).callsFake(async () => ({Events: [entry(f.record()), entry(f.record()), entry(f.record())], NextToken: 'more'}))
    const matches: FileMatch[] = []
    const r = await queryApi({clientFor: async () => client, maxEvents: 5, onMatches: (m) => matches.push(...m), rate: 100, regions: ['us-east-1'], spec: {}})
    expect(matches).to.have.length(5)
    expect(r.reachedMaxEvents).to.equal(true)
    expect(sdk.cloudtrail.commandCalls(LookupEventsCommand)).to.have.length(2)
  })

  it('an abort (Ctrl-C) keeps what was found so far', async () => {
    const abort = new AbortController()
    let pages = 0
    sdk.cloudtrail.on(LookupEventsCommand).callsFake(async () => {
      if (++pages === 2) abort.abort()
      return {Events: [entry(f.record())], NextToken: `p${pages}`}
    })
    const matches: FileMatch[] = []
    const r = await queryApi({clientFor: async () => client, onMatches: (m) => matches.push(...m), rate: 100, regions: ['us-east-1'], signal: abort.signal, spec: {}})
    expect(r.interrupted).to.equal(true)
    expect(matches.length).to.be.within(1, 2)
    expect(pages).to.equal(2)
  })
})

describe('trail lake source', () => {
  const sdk = mockSdk()
  const EDS = `arn:aws:cloudtrail:us-east-1:${f.ACCOUNT}:eventdatastore/EXAMPLE-f852-4e8f-8bd1-bcf6cEXAMPLE`

  it('builds SQL from the filters', () => {
    const spec = {
      ...buildFilterSpec({accessKey: ['AKIA1'], denied: true, event: ['Decrypt', 'Create*'], since: '2026-11-01T00:00:00Z', until: '2026-11-02T00:00:00Z', write: true}),
      keys: [{...keyFormsFromInput('alias/o\'brien'), arn: f.KEY_ARN, id: f.KEY_ID}],
    }
    expect(buildLakeSql('EDS1', spec)).to.match(
      new RegExp(
        [
          "^SELECT eventID, eventTime, .* FROM EDS1 WHERE eventSource = 'kms\\.amazonaws\\.com'",
          "AND eventTime >= '2026-11-01 00:00:00' AND eventTime <= '2026-11-02 00:00:00'",
          "AND \\(eventName IN \\('Decrypt'\\) OR eventName LIKE 'Create%' ESCAPE '\\\\'\\)",
          `AND \\(element_at\\(requestParameters, 'keyId'\\) IN \\('${f.KEY_ID}', '${f.KEY_ARN}', 'alias/o''brien'\\) OR .*\\)`,
          "AND userIdentity\\.accessKeyId IN \\('AKIA1'\\) AND errorCode LIKE 'AccessDenied%' AND readOnly = false ORDER BY eventTime DESC$",
        ].join(' '),
      ),
    )
    expect(buildLakeSql('EDS1', {allServices: true})).to.match(/FROM EDS1 ORDER BY eventTime DESC$/)
    expect(eventDataStoreId(EDS)).to.equal('EXAMPLE-f852-4e8f-8bd1-bcf6cEXAMPLE')
    expect(() => eventDataStoreId('x; DROP TABLE')).to.throw(KmsctlError, /is not an event data store/)
  })

  it('rebuilds records from rows', () => {
    const r = recordFromRow([
      {eventID: 'e1'},
      {eventTime: '2026-11-02 10:00:00.000'},
      {eventSource: 'kms.amazonaws.com'},
      {eventName: 'Decrypt'},
      {uiType: 'AssumedRole'},
      {uiArn: `arn:aws:sts::${f.ACCOUNT}:assumed-role/App/s1`},
      {uiIssuerName: 'App'},
      {reqKeyId: 'alias/x'},
      {resource1: f.KEY_ARN},
      {readOnly: 'true'},
    ])
    expect(r).to.deep.include({eventID: 'e1', eventTime: '2026-11-02T10:00:00Z', readOnly: 'true', requestParameters: {keyId: 'alias/x'}})
    expect(r.userIdentity).to.deep.equal({arn: `arn:aws:sts::${f.ACCOUNT}:assumed-role/App/s1`, sessionContext: {sessionIssuer: {userName: 'App'}}, type: 'AssumedRole'})
    expect(r.resources).to.deep.equal([{ARN: f.KEY_ARN, type: 'AWS::KMS::Key'}])
  })

  it('starts the query, waits while it runs, pages the results, filters locally', async () => {
    sdk.cloudtrail.on(StartQueryCommand).resolves({QueryId: 'q-1'})
    sdk.cloudtrail.on(GetQueryResultsCommand)
      .resolvesOnce({QueryStatus: 'RUNNING'})
      .resolvesOnce({NextToken: 'n1', QueryResultRows: [[{eventID: 'a'}, {eventTime: '2026-11-02 10:00:00.000'}, {eventSource: 'kms.amazonaws.com'}, {eventName: 'Decrypt'}, {uiType: 'IAMUser'}, {uiUserName: 'alice'}]], QueryStatus: 'FINISHED'})
      .resolvesOnce({QueryResultRows: [[{eventID: 'b'}, {eventSource: 'kms.amazonaws.com'}, {eventName: 'Decrypt'}, {uiType: 'IAMUser'}, {uiUserName: 'bob'}]], QueryStatus: 'FINISHED'})
    const matches: FileMatch[] = []
    const waits: number[] = []
    const r = await queryLake({client, eventDataStore: EDS, onMatches: (m) => matches.push(...m), sleep: async (ms) => void waits.push(ms), spec: buildFilterSpec({principal: ['alice']})})
    expect(sdk.cloudtrail.commandCalls(StartQueryCommand)[0].args[0].input.QueryStatement).to.contain('FROM EXAMPLE-f852-4e8f-8bd1-bcf6cEXAMPLE')
    expect(sdk.cloudtrail.commandCalls(GetQueryResultsCommand).map((c) => c.args[0].input.NextToken)).to.deep.equal([undefined, undefined, 'n1'])
    expect(waits).to.deep.equal([1000])
    expect(matches.map((m) => m.event.who)).to.deep.equal(['user/alice'])
    expect(r).to.deep.include({matched: 1, pages: 2, queryId: 'q-1'})
    expect(sdk.cloudtrail.commandCalls(CancelQueryCommand)).to.have.length(0)
  })

  it('a failed query is an error with its message', async () => {
    sdk.cloudtrail.on(StartQueryCommand).resolves({QueryId: 'q-2'})
    sdk.cloudtrail.on(GetQueryResultsCommand).resolves({ErrorMessage: 'Syntax error', QueryStatus: 'FAILED'})
    try {
      await queryLake({client, eventDataStore: EDS, spec: {}})
      expect.fail('no error')
    } catch (error) {
      expect((error as KmsctlError).message).to.equal('The CloudTrail Lake query q-2 ended FAILED: Syntax error.')
    }
  })

  it('--max-events cancels the query on the service', async () => {
    sdk.cloudtrail.on(StartQueryCommand).resolves({QueryId: 'q-3'})
    const row: Array<Record<string, string>> = [{eventID: 'a'}, {eventSource: 'kms.amazonaws.com'}, {eventName: 'Decrypt'}]
    sdk.cloudtrail.on(GetQueryResultsCommand).resolves({NextToken: 'more', QueryResultRows: [row, row, row], QueryStatus: 'FINISHED'})
    sdk.cloudtrail.on(CancelQueryCommand).resolves({})
    const r = await queryLake({client, eventDataStore: EDS, maxEvents: 2, spec: {}})
    expect(r).to.deep.include({matched: 2, reachedMaxEvents: true})
    expect(sdk.cloudtrail.commandCalls(CancelQueryCommand)[0].args[0].input).to.deep.equal({EventDataStore: EDS, QueryId: 'q-3'})
  })
})
