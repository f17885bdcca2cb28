// `key disable --tag team=payments --yes` on 100 keys against the sandbox with AWS quotas on
// (DisableKey 5/s), compared with the 20 s that quota makes unavoidable (100 calls at 5 a second).
// Target: within 1.2x, with no failed key. The whole command is timed: start-up, the tag lookup
// (ListKeys, DescribeKey and ListResourceTags for 120 keys), the paced calls and the report.
//
// For contrast, the same 100 DisableKey calls sent all at once with the SDK's default retries are
// measured in the same run, on the same server: how many keys a naive script leaves enabled.
import {spawnSync} from 'node:child_process'
import {createRequire} from 'node:module'

import {binRun, cleanEnv, fmt, root, startServer} from './lib.js'

const require = createRequire(`${root}/package.json`)
const TIMEOUT_MS = 180_000

function client(env, extra = {}) {
  const {KMSClient} = require('@aws-sdk/client-kms')
  return new KMSClient({
    credentials: {accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY},
    endpoint: env.AWS_ENDPOINT_URL,
    region: env.AWS_REGION,
    ...extra,
  })
}

async function seed(env, tagged, others) {
  const {CreateKeyCommand} = require('@aws-sdk/client-kms')
  const kms = client(env)
  const ids = []
  const make = (i, team) => kms.send(new CreateKeyCommand({Description: `bench bulk ${team} ${i}`, Tags: [{TagKey: 'team', TagValue: team}]}))
  for (let i = 0; i < tagged + others; i += 20) {
    // eslint-disable-next-line no-await-in-loop
    const out = await Promise.all(Array.from({length: Math.min(20, tagged + others - i)}, (_, j) => make(i + j, i + j < tagged ? 'payments' : 'web')))
    ids.push(...out.map((o) => o.KeyMetadata.KeyId))
  }

  kms.destroy()
  return ids.slice(0, tagged)
}

async function setState(env, ids, operation) {
  const sdk = require('@aws-sdk/client-kms')
  const kms = client(env)
  await Promise.all(ids.map((KeyId) => kms.send(new sdk[`${operation}Command`]({KeyId}))))
  kms.destroy()
}

async function countDisabled(env, ids) {
  const {DescribeKeyCommand} = require('@aws-sdk/client-kms')
  const kms = client(env)
  const states = await Promise.all(ids.map(async (KeyId) => (await kms.send(new DescribeKeyCommand({KeyId}))).KeyMetadata.KeyState))
  kms.destroy()
  return states.filter((s) => s === 'Disabled').length
}

/** A script's approach: every DisableKey at once, the SDK's standard retries (3 attempts). */
async function naive(env, ids) {
  const {DisableKeyCommand} = require('@aws-sdk/client-kms')
  const kms = client(env)
  const t0 = process.hrtime.bigint()
  const results = await Promise.allSettled(ids.map((KeyId) => kms.send(new DisableKeyCommand({KeyId}))))
  const ms = Number(process.hrtime.bigint() - t0) / 1e6
  kms.destroy()
  return {failed: results.filter((r) => r.status === 'rejected').length, ms}
}

function kmsctlDisable(env) {
  const t0 = process.hrtime.bigint()
  const r = spawnSync(process.execPath, [binRun, 'key', 'disable', '--tag', 'team=payments', '--yes', '--json'], {
    encoding: 'utf8',
    env: cleanEnv({...env, KMSCTL_HOME: `${env.BENCH_DIR}/home`}),
    maxBuffer: 1 << 26,
    timeout: TIMEOUT_MS,
  })
  const ms = Number(process.hrtime.bigint() - t0) / 1e6
  if (r.error) throw new Error(`key disable did not finish within ${TIMEOUT_MS / 1000} s: ${r.error.message}`)
  const doc = JSON.parse(r.stdout)
  return {exitCode: r.status, failed: doc.summary.failed, ms, retried: doc.keys.filter((k) => (k.attempts ?? 1) > 1).length, total: doc.summary.total}
}

export async function run({keys = 100, others = 20} = {}) {
  const seeder = await startServer()
  let ids
  try {
    ids = await seed(seeder.env, keys, others)
  } finally {
    await seeder.stop()
  }

  // The naive script, against AWS quotas.
  let scripted
  let scriptedDisabled
  {
    const server = await startServer(['--quotas', 'aws'], {dir: seeder.dir})
    try {
      scripted = await naive(server.env, ids)
    } finally {
      await server.stop()
    }

    const free = await startServer([], {dir: seeder.dir})
    try {
      scriptedDisabled = await countDisabled(free.env, ids)
      await setState(free.env, ids, 'EnableKey')
    } finally {
      await free.stop()
    }
  }

  // kmsctl, against AWS quotas.
  const server = await startServer(['--quotas', 'aws'], {dir: seeder.dir})
  let paced
  try {
    paced = kmsctlDisable({...server.env, BENCH_DIR: seeder.dir})
  } finally {
    await server.stop()
  }

  const free = await startServer([], {dir: seeder.dir})
  let disabled
  try {
    disabled = await countDisabled(free.env, ids)
  } finally {
    await free.stop()
  }

  const unavoidable = (keys / 5) * 1000
  const ratio = paced.ms / unavoidable
  if (paced.total !== keys) throw new Error(`key disable --tag selected ${paced.total} keys, ${keys} were tagged`)
  return {
    lines: [
      `key disable --tag team=payments --yes: ${keys} keys (of ${keys + others}), AWS quotas on: ${fmt(paced.ms)}, ${paced.failed} failed, ${paced.retried} retried, exit ${paced.exitCode}; ${disabled}/${keys} disabled afterwards`,
      `unavoidable by the DisableKey quota (${keys} calls at 5/s): ${fmt(unavoidable)}`,
      `ratio ${ratio.toFixed(2)}x (target <= 1.2x, no failed key)`,
      `same calls all at once with the SDK's default retries: ${fmt(scripted.ms)}, ${scripted.failed} of ${keys} failed (${scriptedDisabled}/${keys} disabled)`,
    ],
    name: 'bulk-disable',
    ratios: {vsUnavoidable: ratio},
    results: {
      disabledAfter: disabled,
      exitCode: paced.exitCode,
      failed: paced.failed,
      keys,
      ms: paced.ms,
      naive: {disabled: scriptedDisabled, failed: scripted.failed, ms: scripted.ms},
      retried: paced.retried,
      unavoidableMs: unavoidable,
    },
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const r = await run()
  console.log(r.lines.join('\n'))
}
