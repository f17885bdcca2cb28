// `audit` of 1,000 keys against the sandbox with AWS quotas on, against the floor its slowest
// per-key call sets: every key needs one GetKeyPolicy, at 30/s, so 1,000 keys cannot take less
// than (1,000 - 30) / 30 s, about 32 s (the first second's 30 calls start at once). The other
// per-key reads (DescribeKey, GetKeyRotationStatus, ListGrants, ListResourceTags, GetKeyLastUsage,
// all 100/s) run beside it. Target: within 1.5x of that floor.
import {spawnSync} from 'node:child_process'

import {binRun, cleanEnv, fmt, seedKeys, startServer} from './lib.js'

const GET_KEY_POLICY_RATE = 30

export async function run({keys = 1000} = {}) {
  // Seed without quotas, then audit on a server with AWS's quotas, on the same state directory.
  const seeder = await startServer()
  await seedKeys(seeder.env, keys, {tags: () => [{TagKey: 'owner', TagValue: 'bench'}]})
  await seeder.stop()
  const server = await startServer(['--quotas', 'aws'], {dir: seeder.dir})
  try {
    const t0 = process.hrtime.bigint()
    const r = spawnSync(process.execPath, [binRun, 'audit', '--json'], {encoding: 'utf8', env: cleanEnv(server.env), maxBuffer: 1 << 28})
    const ms = Number(process.hrtime.bigint() - t0) / 1e6
    if (r.status !== 0) throw new Error(`audit exited ${r.status}: ${r.stderr.slice(0, 500)}`)
    const report = JSON.parse(r.stdout)
    if (report.notChecked.length > 0 || report.failed.length > 0) throw new Error(`audit could not check everything: ${JSON.stringify(report.notChecked.slice(0, 3))}`)
    const audited = report.summary.keys
    const floor = ((keys - GET_KEY_POLICY_RATE) / GET_KEY_POLICY_RATE) * 1000
    const ratio = ms / floor
    return {
      lines: [
        `audit of ${audited} keys (${report.summary.findings} findings), AWS quotas on: ${fmt(ms)}`,
        `floor set by the slowest per-key call (GetKeyPolicy at ${GET_KEY_POLICY_RATE}/s, one per key): ${fmt(floor)}`,
        `ratio ${ratio.toFixed(2)}x (target <= 1.5x)`,
      ],
      name: 'audit',
      ratios: {vsFloor: ratio},
      results: {findings: report.summary.findings, floorMs: floor, keys: audited, ms},
    }
  } finally {
    await server.stop()
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const r = await run()
  console.log(r.lines.join('\n'))
}
