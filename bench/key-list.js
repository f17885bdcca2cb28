// `key list` of 1,000 keys against the sandbox with AWS quotas on, against the time its request
// pacing makes unavoidable: each key needs one DescribeKey and one GetKeyRotationStatus, both at
// 100/s, so 1,000 keys cannot take less than about 10 s. Target: within 1.5x of that.
import {spawnSync} from 'node:child_process'

import {binRun, cleanEnv, fmt, seedKeys, startServer} from './lib.js'

export async function run({keys = 1000} = {}) {
  // Seed without quotas, then list on a server with AWS's quotas, on the same state directory.
  const seeder = await startServer()
  await seedKeys(seeder.env, keys)
  await seeder.stop()
  const server = await startServer(['--quotas', 'aws'], {dir: seeder.dir})
  try {
    const t0 = process.hrtime.bigint()
    const r = spawnSync(process.execPath, [binRun, 'key', 'list', '--json'], {encoding: 'utf8', env: cleanEnv(server.env), maxBuffer: 1 << 28})
    const ms = Number(process.hrtime.bigint() - t0) / 1e6
    if (r.status !== 0) throw new Error(`key list exited ${r.status}: ${r.stderr}`)
    const listed = JSON.parse(r.stdout).length
    const unavoidable = ((keys - 100) / 100) * 1000 // 100 calls in the first second, then 100/s
    const ratio = ms / unavoidable
    return {
      lines: [
        `key list of ${listed} keys, AWS quotas on: ${fmt(ms)}`,
        `unavoidable by pacing (DescribeKey and GetKeyRotationStatus at 100/s): ${fmt(unavoidable)}`,
        `ratio ${ratio.toFixed(2)}x (target <= 1.5x)`,
      ],
      name: 'key-list',
      ratios: {vsUnavoidable: ratio},
      results: {keys: listed, ms, unavoidableMs: unavoidable},
    }
  } finally {
    await server.stop()
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const r = await run()
  console.log(r.lines.join('\n'))
}
