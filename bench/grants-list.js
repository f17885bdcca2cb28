// `grant list --all-keys` over 500 keys with 20 grants each, against the sandbox with AWS quotas on,
// compared with the time the ListGrants quota makes unavoidable: each key needs one ListGrants call
// (20 grants fit in one page), 100 calls start in the first second and then 100 a second, so 500 keys
// cannot take less than 4 s. Target: within 1.5x of that. The same listing with quotas off is
// reported too, as the cost of everything that is not pacing. Each listing runs up to 3 times (within
// a time budget) and the fastest counts, since load from elsewhere on the machine only slows a run.
//
// Seeding: the keys and one grant are made through the API; the other grants are copies of that
// grant written into the stopped sandbox's state file, because 10,000 CreateGrant calls would each
// rewrite the whole state file and take minutes for nothing the benchmark measures.
import {spawnSync} from 'node:child_process'
import {randomBytes} from 'node:crypto'
import {readFileSync, rmSync, writeFileSync} from 'node:fs'
import {createRequire} from 'node:module'
import os from 'node:os'
import {join} from 'node:path'

import {binRun, cleanEnv, fmt, root, startServer} from './lib.js'

const require = createRequire(`${root}/package.json`)
const LIST_TIMEOUT_MS = 120_000

async function seedKeys(env, n) {
  const {CreateGrantCommand, CreateKeyCommand, KMSClient} = require('@aws-sdk/client-kms')
  const kms = new KMSClient({
    credentials: {accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY},
    endpoint: env.AWS_ENDPOINT_URL,
    region: env.AWS_REGION,
  })
  const arns = []
  const batch = 20
  for (let i = 0; i < n; i += batch) {
    // eslint-disable-next-line no-await-in-loop
    const out = await Promise.all(Array.from({length: Math.min(batch, n - i)}, (_, j) => kms.send(new CreateKeyCommand({Description: `bench grants key ${i + j}`}))))
    arns.push(...out.map((o) => o.KeyMetadata.Arn))
  }

  await kms.send(new CreateGrantCommand({GranteePrincipal: 'arn:aws:iam::111122223333:role/bench-0', KeyId: arns[0], Name: 'bench-template', Operations: ['Decrypt', 'GenerateDataKey']}))
  kms.destroy()
  return arns
}

function seedGrants(dir, arns, perKey) {
  const path = join(dir, 'state.json')
  const state = JSON.parse(readFileSync(path, 'utf8'))
  const template = Object.values(state.grants)[0]
  if (!template) throw new Error('the template grant is missing from the sandbox state')
  state.grants = {}
  let n = 0
  for (const keyArn of arns) {
    for (let g = 0; g < perKey; g++) {
      const grantId = randomBytes(32).toString('hex')
      state.grants[grantId] = {...template, grantId, granteePrincipal: `arn:aws:iam::111122223333:role/bench-${n % 50}`, keyArn, name: `bench-${n}`}
      n++
    }
  }

  writeFileSync(path, JSON.stringify(state))
  return n
}

function listAll(env) {
  const t0 = process.hrtime.bigint()
  const r = spawnSync(process.execPath, [binRun, 'grant', 'list', '--all-keys', '--json'], {
    encoding: 'utf8',
    env: cleanEnv(env),
    maxBuffer: 1 << 28,
    timeout: LIST_TIMEOUT_MS,
  })
  const ms = Number(process.hrtime.bigint() - t0) / 1e6
  if (r.error) throw new Error(`grant list did not finish within ${LIST_TIMEOUT_MS / 1000} s: ${r.error.message}`)
  if (r.status !== 0) throw new Error(`grant list exited ${r.status}: ${r.stderr.slice(0, 500)}`)
  const doc = JSON.parse(r.stdout)
  return {grants: doc.grants.length, keys: doc.keysScanned, ms}
}

/** Runs fn up to n times, stopping early once REPEAT_BUDGET_MS has been spent (the machine may be slow). */
const REPEAT_BUDGET_MS = 90_000
function repeat(fn, n) {
  const out = []
  const t0 = Date.now()
  for (let i = 0; i < n && (i === 0 || Date.now() - t0 < REPEAT_BUDGET_MS); i++) {
    // Let the server's request quota refill between runs, as it would between two operator commands.
    if (i > 0) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1500)
    out.push(fn())
  }

  return out
}

/** The fastest run: other load on the machine can only slow a run down. */
function best(results) {
  return results.reduce((a, b) => (b.ms < a.ms ? b : a))
}

export async function run({keys = 500, grantsPerKey = 20, runs = 3} = {}) {
  const seeder = await startServer()
  let arns
  try {
    arns = await seedKeys(seeder.env, keys)
  } finally {
    await seeder.stop()
  }

  const seeded = seedGrants(seeder.dir, arns, grantsPerKey)

  const free = await startServer([], {dir: seeder.dir})
  let unpaced
  try {
    unpaced = best(repeat(() => listAll(free.env), runs))
  } finally {
    await free.stop()
  }

  const server = await startServer(['--quotas', 'aws'], {dir: seeder.dir})
  try {
    const pacedRuns = repeat(() => listAll(server.env), runs)
    const paced = best(pacedRuns)
    if (paced.grants !== seeded) throw new Error(`grant list found ${paced.grants} grants, ${seeded} were seeded`)
    const pages = keys * Math.ceil(grantsPerKey / 100)
    const unavoidable = (Math.ceil(pages / 100) - 1) * 1000 // 100 calls in the first second, then 100/s
    const ratio = paced.ms / unavoidable
    return {
      lines: [
        `grant list --all-keys: ${paced.grants} grants on ${paced.keys} keys, AWS quotas on: ${fmt(paced.ms)} (best of ${pacedRuns.length}; all: ${pacedRuns.map((r) => fmt(r.ms)).join(', ')})`,
        `unavoidable by the ListGrants quota (${pages} calls at 100/s): ${fmt(unavoidable)}`,
        `ratio ${ratio.toFixed(2)}x (target <= 1.5x)`,
        `same listing with quotas off: ${fmt(unpaced.ms)} (${(unpaced.ms / unavoidable).toFixed(2)}x the unavoidable time); quotas on costs ${(paced.ms / unpaced.ms).toFixed(2)}x that`,
        `load average during the run: ${os.loadavg()[0].toFixed(1)} on ${os.cpus().length} CPUs`,
      ],
      name: 'grants-list',
      ratios: {pacedVsUnpaced: paced.ms / unpaced.ms, unpacedVsUnavoidable: unpaced.ms / unavoidable, vsUnavoidable: ratio},
      results: {grants: paced.grants, keys: paced.keys, ms: paced.ms, runsMs: pacedRuns.map((r) => r.ms), unavoidableMs: unavoidable, unpacedMs: unpaced.ms},
    }
  } finally {
    await server.stop()
    rmSync(seeder.dir, {force: true, recursive: true})
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const r = await run()
  console.log(r.lines.join('\n'))
}
