// `trail query` over LookupEvents against the sandbox with AWS's quotas on (LookupEvents: 2 requests/s):
// a query that needs 40 pages (2,000 matching events, 50 a page) cannot take less than the 20 s the
// quota makes unavoidable. Target: within 1.2x of that, with no ThrottlingException surfacing.
import {spawnSync} from 'node:child_process'
import {createRequire} from 'node:module'

import {binRun, cleanEnv, fmt, root, startServer} from './lib.js'

const require = createRequire(`${root}/package.json`)
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true'

async function seedEvents(env, n) {
  const {CreateKeyCommand, DescribeKeyCommand, KMSClient} = require('@aws-sdk/client-kms')
  const kms = new KMSClient({
    credentials: {accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY},
    endpoint: env.AWS_ENDPOINT_URL,
    region: env.AWS_REGION,
  })
  const {KeyMetadata} = await kms.send(new CreateKeyCommand({Description: 'trail bench'}))
  const batch = 25
  for (let i = 0; i < n; i += batch) {
    // eslint-disable-next-line no-await-in-loop
    await Promise.all(Array.from({length: Math.min(batch, n - i)}, () => kms.send(new DescribeKeyCommand({KeyId: KeyMetadata.KeyId}))))
  }

  kms.destroy()
}

export async function run({pages = 40} = {}) {
  const events = pages * 50
  const seeder = await startServer()
  await seedEvents(seeder.env, events)
  await seeder.stop()
  const server = await startServer(['--quotas', 'aws'], {dir: seeder.dir})
  try {
    const t0 = process.hrtime.bigint()
    const r = spawnSync(process.execPath, [binRun, 'trail', 'query', '--event', 'DescribeKey', '--json'], {encoding: 'utf8', env: cleanEnv(server.env), maxBuffer: 1 << 28, timeout: 120_000})
    const ms = Number(process.hrtime.bigint() - t0) / 1e6
    if (r.status !== 0) throw new Error(`trail query exited ${r.status}: ${r.stderr}`)
    const found = JSON.parse(r.stdout).length
    const unavoidable = (pages / 2) * 1000
    const ratio = ms / unavoidable
    const throttledSurfaced = /Throttl|throttled/i.test(r.stderr)
    return {
      lines: [
        `trail query --event DescribeKey: ${found} events in ${pages} LookupEvents pages, AWS quotas on: ${fmt(ms)}`,
        `unavoidable at 2 requests/s: ${fmt(unavoidable)}; ratio ${ratio.toFixed(2)}x (target <= 1.2x); throttling surfaced: ${throttledSurfaced ? 'YES' : 'no'}`,
      ],
      name: 'trail-api',
      ratios: {vsUnavoidable: ratio},
      results: {found, ms, pages, throttledSurfaced, unavoidableMs: unavoidable},
    }
  } finally {
    await server.stop()
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const r = await run()
  console.log(r.lines.join('\n'))
}
