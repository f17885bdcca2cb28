// End-to-end: Ctrl-C during a slow bulk run. `key disable --rate 1` of many keys against `kmsctl
// sandbox serve`: on SIGINT the calls not sent yet are dropped, the report is printed, and the
// process exits at once with 130 instead of waiting out the queue at the rate.
import {CreateKeyCommand, DescribeKeyCommand, type KMSClient} from '@aws-sdk/client-kms'
import {expect} from 'chai'
import {mkdtempSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {startCli} from '../helpers/cli.js'
import {type SandboxServer, sandboxKmsClient, startSandboxServer} from '../helpers/sandbox-server.js'

describe('e2e: Ctrl-C during a paced bulk run', function () {
  this.timeout(120_000)
  let server: SandboxServer
  let kms: KMSClient

  before(async () => {
    server = await startSandboxServer()
    kms = sandboxKmsClient(server)
  })

  after(async () => {
    kms?.destroy()
    await server?.stop()
  })

  it('drops the queued calls: exits 130 right after the report, and no key is changed after it', async () => {
    const keys: string[] = []
    for (let i = 0; i < 20; i++) {
      // eslint-disable-next-line no-await-in-loop
      keys.push((await kms.send(new CreateKeyCommand({Tags: [{TagKey: 'team', TagValue: 'e2e-interrupt'}]}))).KeyMetadata!.KeyId!)
    }

    const env = {...server.env, KMSCTL_HOME: mkdtempSync(join(tmpdir(), 'kmsctl-e2e-interrupt-'))}
    const {child, output} = startCli(['key', 'disable', '--tag', 'team=e2e-interrupt', '--rate', '1', '--yes', '--json'], {env})
    child.stdin!.end()
    const exited = new Promise<{code: number | null; at: number}>((resolve) => child.on('close', (code) => resolve({at: Date.now(), code})))
    const disabled = async () => (await Promise.all(keys.map(async (k) => (await kms.send(new DescribeKeyCommand({KeyId: k}))).KeyMetadata?.KeyState))).filter((s) => s === 'Disabled').length

    // Wait until the run is under way (two keys disabled at 1/s), then interrupt it.
    const deadline = Date.now() + 60_000
    // eslint-disable-next-line no-await-in-loop
    while ((await disabled()) < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100))
    const sigintAt = Date.now()
    child.kill('SIGINT')
    const {at, code} = await exited
    expect(code, output.stderr).to.equal(130)
    // Without dropping the queue the process would live on for the ~17 keys left at 1/s. A
    // generous bound: the functional property is "exits right after the report".
    if (process.env.KMSCTL_TEST_VERBOSE) console.log(`exit ${at - sigintAt} ms after SIGINT`)
    expect(at - sigintAt, 'ms from SIGINT to exit').to.be.below(8000)

    const report = JSON.parse(output.stdout)
    expect(report.interrupted).to.equal(true)
    const changed = report.keys.filter((r: {outcome: string}) => r.outcome === 'changed').length
    const notSent = report.keys.filter((r: {outcome: string}) => r.outcome === 'not-sent').length
    expect(changed).to.be.at.least(2)
    expect(changed + notSent).to.equal(20)
    // Nothing was sent after the report: the keys disabled are exactly the ones reported changed.
    await new Promise((r) => setTimeout(r, 1500))
    expect(await disabled()).to.equal(changed)
  })
})
