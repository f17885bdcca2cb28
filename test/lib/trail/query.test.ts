import {expect} from 'chai'
import {mkdirSync, mkdtempSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {gzipSync} from 'node:zlib'

import {KmsctlError} from '../../../src/lib/errors.js'
import type {TrailEvent} from '../../../src/lib/trail/normalise.js'
import {byTime, runTrailQuery} from '../../../src/lib/trail/query.js'
import {buildFilterSpec} from '../../../src/lib/trail/spec.js'
import {newSandbox} from '../../sandbox/helpers.js'
import * as f from './fixtures.js'
import {mockSdk} from '../../helpers/mock-sdk.js'

function logs(count: number): string {
  const root = mkdtempSync(join(tmpdir(), 'kmsctl-trail-q-'))
  for (let i = 0; i < count; i++) {
    const dir = join(root, 'AWSLogs', f.ACCOUNT, 'CloudTrail', 'us-east-1', '2026', '11', String(i + 1).padStart(2, '0'))
    mkdirSync(dir, {recursive: true})
    const records = [f.record({eventTime: `2026-11-${String(i + 1).padStart(2, '0')}T10:00:00Z`}), f.record({eventTime: `2026-11-${String(i + 1).padStart(2, '0')}T11:00:00Z`})]
    writeFileSync(join(dir, `${f.ACCOUNT}_CloudTrail_us-east-1_202611${String(i + 1).padStart(2, '0')}T2355Z_abcdefghijklmnop.json.gz`), gzipSync(JSON.stringify({Records: records})))
  }

  return root
}

describe('trail query (runTrailQuery)', () => {
  const sdk = mockSdk()
  it('files: --max-events stops after that many, in file order', async () => {
    const events: TrailEvent[] = []
    const s = await runTrailQuery({maxEvents: 3, onMatches: (m) => events.push(...m.map((x) => x.event)), paths: [logs(4)], source: 'files', spec: {}, workers: 2})
    expect(events.map((e) => e.time)).to.deep.equal(['2026-11-01T10:00:00Z', '2026-11-01T11:00:00Z', '2026-11-02T10:00:00Z'])
    expect(s).to.deep.include({interrupted: false, matched: 3, reachedMaxEvents: true, source: 'files'})
  })

  it('files: an alias no record ties to a key is an error naming it', async () => {
    try {
      await runTrailQuery({paths: [logs(1)], source: 'files', spec: buildFilterSpec({key: ['alias/unknown']})})
      expect.fail('no error')
    } catch (error) {
      expect((error as KmsctlError).message).to.equal('Key alias/unknown could not be resolved: no record in this log file ties that alias to a key.')
      expect((error as KmsctlError).remedy).to.match(/key ID or ARN/)
    }
  })

  it('api: keys are resolved to their ARN and aliases before reading', async () => {
    const seen: string[] = []
    const {CloudTrailClient, LookupEventsCommand} = await import('@aws-sdk/client-cloudtrail')
    sdk.cloudtrail.on(LookupEventsCommand).callsFake(async (input) => {
      seen.push(JSON.stringify(input.LookupAttributes))
      return {Events: [{CloudTrailEvent: JSON.stringify(f.record({requestParameters: {keyId: 'alias/second'}}))}]}
    })
    const client = new CloudTrailClient({credentials: {accessKeyId: 'A', secretAccessKey: 'x'}, region: 'us-east-1'})
    const events: TrailEvent[] = []
    const s = await runTrailQuery({
      cloudtrailFor: async () => client,
      onMatches: (m) => events.push(...m.map((x) => x.event)),
      rate: 100,
      regions: ['us-east-1'],
      resolveKey: async () => ({aliases: ['alias/first', 'alias/second'], arn: f.KEY_ARN, id: f.KEY_ID}),
      source: 'api',
      spec: buildFilterSpec({key: ['alias/first']}),
    })
    expect(seen).to.deep.equal([JSON.stringify([{AttributeKey: 'ResourceName', AttributeValue: f.KEY_ARN}])])
    expect(s.keys?.[0]).to.deep.include({aliases: ['alias/first', 'alias/second'], arn: f.KEY_ARN, id: f.KEY_ID})
    expect(events.map((e) => e.key)).to.deep.equal(['alias/second'])
  })

  it('byTime sorts oldest first and keeps the order of equal times', () => {
    const e = (time: string, eventId: string) => ({eventId, time}) as TrailEvent
    expect(byTime([e('2026-11-02T10:00:00Z', 'b'), e('2026-11-01T10:00:00Z', 'a'), e('2026-11-02T10:00:00Z', 'c')]).map((x) => x.eventId)).to.deep.equal(['a', 'b', 'c'])
  })

  it('byTime: inside one second, a newest-first source (api, lake) is turned around and files keep record order', () => {
    const e = (time: string, eventId: string) => ({eventId, time}) as TrailEvent
    // As LookupEvents answers: newest first, so the enable (2) came after the disable (1) of the same second.
    const api = [e('2026-11-02T14:12:34Z', '3'), e('2026-11-02T14:12:33Z', '2'), e('2026-11-02T14:12:33Z', '1'), e('2026-11-02T14:12:32Z', '0')]
    expect(byTime(api, 'api').map((x) => x.eventId)).to.deep.equal(['0', '1', '2', '3'])
    expect(byTime(api, 'lake').map((x) => x.eventId)).to.deep.equal(['0', '1', '2', '3'])
    // Log files: record order is the order of the calls.
    const file = [e('2026-11-02T14:12:33Z', '1'), e('2026-11-02T14:12:33Z', '2'), e('2026-11-02T14:12:32Z', '0')]
    expect(byTime(file, 'files').map((x) => x.eventId)).to.deep.equal(['0', '1', '2'])
    // Times written with and without milliseconds compare as instants.
    expect(byTime([e('2026-11-02T14:12:33.500Z', 'b'), e('2026-11-02T14:12:33Z', 'a')], 'files').map((x) => x.eventId)).to.deep.equal(['a', 'b'])
  })
})

// The real SDK against an in-process sandbox: outside the mocked block above.
describe('trail query: order inside one second (sandbox)', () => {
  it('api: calls made in the same second read in the order they were made (sandbox LookupEvents)', async () => {
    const {DisableKeyCommand, EnableKeyCommand, CreateKeyCommand} = await import('@aws-sdk/client-kms')
    const sbx = await newSandbox()
    let keyId = ''
    let times: string[] = []
    // Four calls in one second (a retry when a second boundary fell between them).
    for (let attempt = 0; attempt < 5; attempt++) {
      // eslint-disable-next-line no-await-in-loop
      keyId = (await sbx.kms.send(new CreateKeyCommand({Description: 'order'}))).KeyMetadata!.KeyId!
      for (const Command of [DisableKeyCommand, EnableKeyCommand, DisableKeyCommand, EnableKeyCommand]) {
        // eslint-disable-next-line no-await-in-loop
        await sbx.kms.send(new Command({KeyId: keyId}))
      }

      const events: TrailEvent[] = []
      // eslint-disable-next-line no-await-in-loop
      await runTrailQuery({
        cloudtrailFor: async () => sbx.cloudtrail as never,
        onMatches: (m) => events.push(...m.map((x) => x.event)),
        rate: 1000,
        regions: ['us-east-1'],
        source: 'api',
        spec: buildFilterSpec({event: ['DisableKey', 'EnableKey'], key: [keyId]}),
      })
      times = events.map((x) => x.time)
      if (new Set(times).size === 1) {
        expect(events.map((x) => x.event), 'as LookupEvents answers').to.deep.equal(['EnableKey', 'DisableKey', 'EnableKey', 'DisableKey'])
        expect(byTime(events, 'api').map((x) => x.event)).to.deep.equal(['DisableKey', 'EnableKey', 'DisableKey', 'EnableKey'])
        return
      }
    }

    expect.fail(`the four calls never fell in one second: ${times.join(', ')}`)
  })
})
