// `kmsctl trail query` end to end: calls made in the same second (CloudTrail times have whole seconds)
// print in the order they were made, from LookupEvents (which answers newest first) and from the
// exported log files (record order), in the table and in --json.
import {CreateKeyCommand, DisableKeyCommand, EnableKeyCommand, KMSClient} from '@aws-sdk/client-kms'
import {expect} from 'chai'
import {mkdtempSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {DEFAULT_ACCESS_KEY_ID, DEFAULT_SECRET_ACCESS_KEY, SANDBOX_REGION} from '../../src/sandbox/constants.js'
import {json, runCli} from '../helpers/cli.js'
import {type SandboxServer, startSandboxServer} from '../helpers/sandbox-server.js'

interface Event {
  event: string
  time: string
}

describe('e2e: trail order inside one second', function () {
  this.timeout(120_000)
  let server: SandboxServer
  let keyId = ''

  before(async () => {
    server = await startSandboxServer()
    const kms = new KMSClient({
      credentials: {accessKeyId: DEFAULT_ACCESS_KEY_ID, secretAccessKey: DEFAULT_SECRET_ACCESS_KEY},
      endpoint: server.url,
      maxAttempts: 1,
      region: SANDBOX_REGION,
    })
    // Four changes back to back; again with a new key should a second boundary fall between them.
    for (let attempt = 0; attempt < 5; attempt++) {
      // eslint-disable-next-line no-await-in-loop
      keyId = (await kms.send(new CreateKeyCommand({Description: 'same-second order'}))).KeyMetadata!.KeyId!
      const t0 = Math.floor(Date.now() / 1000)
      for (const Command of [DisableKeyCommand, EnableKeyCommand, DisableKeyCommand, EnableKeyCommand]) {
        // eslint-disable-next-line no-await-in-loop
        await kms.send(new Command({KeyId: keyId}))
      }

      if (Math.floor(Date.now() / 1000) === t0) break
    }

    kms.destroy()
  })

  after(async () => {
    await server?.stop()
  })

  const query = (...args: string[]) => runCli(['trail', 'query', '--key', keyId, '--event', 'DisableKey', '--event', 'EnableKey', ...args], {env: server.env})

  it('LookupEvents: the table and --json read disable, enable, disable, enable', async () => {
    const r = await query('--json')
    expect(r.code, r.stderr).to.equal(0)
    const events = json<Event[]>(r)
    expect(new Set(events.map((e) => e.time)).size, 'all four in one second').to.equal(1)
    expect(events.map((e) => e.event)).to.deep.equal(['DisableKey', 'EnableKey', 'DisableKey', 'EnableKey'])
    const table = await query()
    expect(table.code, table.stderr).to.equal(0)
    const rows = table.stdout.split('\n').filter((l) => /\b(DisableKey|EnableKey)\b/.test(l))
    expect(rows.map((l) => /\b(DisableKey|EnableKey)\b/.exec(l)![1])).to.deep.equal(['DisableKey', 'EnableKey', 'DisableKey', 'EnableKey'])
  })

  it('log files (sandbox export-trail): the same order', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'kmsctl-trail-order-')), 'logs')
    const exported = await runCli(['sandbox', 'export-trail', dir, '--sandbox-dir', server.dir], {env: server.env})
    expect(exported.code, exported.stderr).to.equal(0)
    const r = await runCli(['trail', 'query', '--source', 'files', dir, '--key', keyId, '--event', 'DisableKey', '--event', 'EnableKey', '--json'], {env: server.env})
    expect(r.code, r.stderr).to.equal(0)
    expect(json<Event[]>(r).map((e) => e.event)).to.deep.equal(['DisableKey', 'EnableKey', 'DisableKey', 'EnableKey'])
  })
})
