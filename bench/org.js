// Organisation scale, against the sandbox with AWS quotas (per account and region, as KMS counts them):
//
// 1. `key list --org --all-regions` over 20 accounts x 3 regions x 50 keys, against the same command
//    on one account-region alone (the slowest of three measured). Target <= 1.3x: the account-regions
//    really run in parallel, each at its own quota. The quotas are scaled to a tenth on both sides
//    (`sandbox serve --quotas-scale 0.1`, KMSCTL_QUOTA_SCALE=0.1 for kmsctl's pacing) so that 50 keys
//    take seconds in each account-region (DescribeKey and GetKeyRotationStatus at 10/s) rather than
//    one burst: the quota, not the start-up, is what parallelism has to beat.
// 2. `key disable --tag` over 10 accounts x 2 regions x 20 tagged keys at the real DisableKey quota
//    (5/s per account-region), against its per-account-region floor: 20 calls at 5/s. Target <= 1.3x,
//    no failed key.
// Peak RSS of each kmsctl run is reported, and the same `key list` on 5 and 20 account-regions (one
// region) shows how memory grows as account-regions are added, all of them at once (--max-parallel
// 64); then 5, 20 and 60 at the default --max-parallel 8, where memory should follow the 8 running. Each line also gives the CPU time
// kmsctl and the sandbox server used, and the load average: on a shared machine the wall time follows
// the CPU time both processes can get, so the CPU figures say what the code costs.
//
// The keys are written straight into the sandbox's state file (one account-region is created through
// the API, then copied to the others with new IDs): thousands of CreateKey calls would spend minutes
// rewriting the state file, which has nothing to do with what is measured.
import {spawnSync} from 'node:child_process'
import {randomUUID} from 'node:crypto'
import {mkdtempSync, readFileSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {binRun, cleanEnv, fmt, loadAverage, root, seedKeys, startServer} from './lib.js'

const ROLE = 'OrganizationAccountAccessRole'
const MANAGEMENT = '111122223333'
const RSS_PRELOAD = join(root, 'bench', 'rss-preload.cjs')

function accountIds(n) {
  // 12-digit IDs: 2000000000NN.
  return Array.from({length: n}, (_, i) => `2000000000${String(i + 1).padStart(2, '0')}`)
}

function cli(args, env) {
  const r = spawnSync(process.execPath, [binRun, ...args], {encoding: 'utf8', env: cleanEnv(env), maxBuffer: 1 << 28})
  if (r.status !== 0) throw new Error(`kmsctl ${args.join(' ')} exited ${r.status}: ${r.stderr}`)
  return r.stdout
}

/** Times one kmsctl run; returns ms, exit code, stdout and its peak RSS (MB). */
function timed(args, env) {
  const rssFile = join(mkdtempSync(join(tmpdir(), 'kmsctl-rss-')), 'rss')
  const t0 = process.hrtime.bigint()
  const r = spawnSync(process.execPath, ['--require', RSS_PRELOAD, binRun, ...args], {
    encoding: 'utf8',
    env: cleanEnv({...env, KMSCTL_BENCH_RSS_FILE: rssFile}),
    maxBuffer: 1 << 28,
  })
  const ms = Number(process.hrtime.bigint() - t0) / 1e6
  let rssMb = Number.NaN
  let cpuMs = Number.NaN
  try {
    const [rss, cpu] = readFileSync(rssFile, 'utf8').split(' ').map(Number)
    rssMb = rss / 1024
    cpuMs = cpu
  } catch {
    // No figures: the process died before its exit handler.
  }

  return {code: r.status, cpuMs, ms, rssMb, stderr: r.stderr, stdout: r.stdout}
}

/** The organisation: the management account plus members, every account with the given regions. */
function seedOrganization(dir, members, regions) {
  const env = {KMSCTL_SANDBOX_DIR: dir}
  cli(['sandbox', 'org', 'seed', '--regions', regions.join(',')], env)
  // Keep only our members: seed adds three sample accounts, which get regions too; drop them from the file.
  const file = join(dir, 'organization.json')
  const org = JSON.parse(readFileSync(file, 'utf8'))
  const template = Object.values(org.accounts).find((a) => a.id !== MANAGEMENT)
  const accounts = {[MANAGEMENT]: org.accounts[MANAGEMENT]}
  for (const id of members) accounts[id] = {...template, email: `aws+${id}@example.com`, id, name: `bench-${id.slice(-2)}`}
  writeFileSync(file, JSON.stringify({...org, accounts}, null, 2) + '\n')
}

/** Creates `n` keys in the management account's first region through the API (tagged per `tagOf`). */
function seedTemplateKeys(env, region, n, tagOf) {
  return seedKeys(env, n, {batch: 10, description: (i) => `bench ${i}`, region, tags: (i) => [{TagKey: 'team', TagValue: tagOf(i)}]})
}

/** Copies the template keys (management account, first region) to every account-region. */
function cloneKeys(dir, accounts, regions) {
  const file = join(dir, 'state.json')
  const state = JSON.parse(readFileSync(file, 'utf8'))
  const template = Object.values(state.keys).filter((k) => k.account === MANAGEMENT && k.region === regions[0])
  for (const account of accounts) {
    for (const region of regions) {
      if (account === MANAGEMENT && region === regions[0]) continue
      for (const k of template) {
        const keyId = randomUUID()
        const arn = `arn:aws:kms:${region}:${account}:key/${keyId}`
        state.keys[arn] = {...k, account, arn, keyId, policy: k.policy.replaceAll(MANAGEMENT, account), region}
      }
    }
  }

  writeFileSync(file, JSON.stringify(state))
  return Object.keys(state.keys).length
}

/** A sandbox directory holding the organisation and its keys: `perRegion` keys in every account-region. */
export async function seedOrgDir({accounts: n, perRegion, regions, tagOf}) {
  const accounts = [MANAGEMENT, ...accountIds(n - 1)]
  const dir = mkdtempSync(join(tmpdir(), 'kmsctl-bench-org-'))
  seedOrganization(dir, accounts.slice(1), regions)
  const seeder = await startServer([], {dir})
  await seedTemplateKeys(seeder.env, regions[0], perRegion, tagOf)
  await seeder.stop()
  const total = cloneKeys(dir, accounts, regions)
  return {accounts, dir, total}
}

async function listBench() {
  const regions = ['us-east-1', 'eu-west-1', 'ap-southeast-2']
  const perRegion = 50
  const {accounts, dir, total} = await seedOrgDir({accounts: 20, perRegion, regions, tagOf: (i) => (i % 2 === 0 ? 'payments' : 'web')})
  const server = await startServer(['--quotas', 'aws', '--quotas-scale', '0.1'], {dir})
  try {
    const env = {...server.env, KMSCTL_QUOTA_SCALE: '0.1', KMSCTL_SANDBOX_DIR: dir}
    // The floor: one account-region alone, three of them, the slowest counts.
    const alone = []
    for (const [account, region] of [[accounts[5], regions[0]], [accounts[12], regions[1]], [accounts[19], regions[2]]]) {
      const r = timed(['key', 'list', '--accounts', account, '--regions', region, '--role-name', ROLE, '--json'], env)
      if (r.code !== 0) throw new Error(`key list alone exited ${r.code}: ${r.stderr}`)
      const n = JSON.parse(r.stdout).keys.length
      if (n !== perRegion) throw new Error(`key list alone listed ${n} keys, ${perRegion} expected`)
      alone.push(r)
    }

    const floor = Math.max(...alone.map((r) => r.ms))
    // Memory as account-regions are added: 5 and 20 of them (one region), then all 60.
    const scale = []
    for (const n of [5, 20]) {
      const r = timed(['key', 'list', '--accounts', accounts.slice(0, n).join(','), '--regions', regions[0], '--role-name', ROLE, '--max-parallel', '64', '--json'], env)
      if (r.code !== 0) throw new Error(`key list over ${n} account-regions exited ${r.code}: ${r.stderr.slice(0, 2000)}`)
      scale.push({accountRegions: n, cpuMs: r.cpuMs, ms: r.ms, peakRssMb: r.rssMb})
    }

    // The same at the default --max-parallel (8): more account-regions than run at once, so memory
    // should follow the 8 running, not the total (each closes its clients when done).
    const bounded = []
    for (const n of [5, 20, 60]) {
      const r = timed(['key', 'list', '--accounts', accounts.slice(0, Math.min(n, accounts.length)).join(','), '--regions', regions.slice(0, Math.ceil(n / accounts.length)).join(','), '--role-name', ROLE, '--json'], env)
      if (r.code !== 0) throw new Error(`key list over ${n} account-regions (--max-parallel 8) exited ${r.code}: ${r.stderr.slice(0, 2000)}`)
      const listed = JSON.parse(r.stdout).keys.length
      if (listed !== n * perRegion) throw new Error(`key list over ${n} account-regions listed ${listed} keys, ${n * perRegion} expected`)
      bounded.push({accountRegions: n, cpuMs: r.cpuMs, ms: r.ms, peakRssMb: r.rssMb})
    }

    const load = loadAverage()
    const serverCpu0 = server.cpuMs()
    const all = timed(['key', 'list', '--org', '--all-regions', '--role-name', ROLE, '--max-parallel', '64', '--json'], env)
    const serverCpuMs = server.cpuMs() - serverCpu0
    if (all.code !== 0) throw new Error(`key list --org exited ${all.code}: ${all.stderr.slice(0, 2000)}`)
    const out = JSON.parse(all.stdout)
    if (out.keys.length !== total) throw new Error(`key list --org listed ${out.keys.length} keys, ${total} expected`)
    const ratio = all.ms / floor
    scale.push({accountRegions: accounts.length * regions.length, cpuMs: all.cpuMs, ms: all.ms, peakRssMb: all.rssMb})
    return {
      lines: [
        `key list --org --all-regions: ${accounts.length} accounts x ${regions.length} regions x ${perRegion} keys = ${out.keys.length} keys, quotas at 0.1x AWS: ${fmt(all.ms)} (CPU: kmsctl ${fmt(all.cpuMs)}, sandbox server ${fmt(serverCpuMs)}; load average ${load}), peak RSS ${all.rssMb.toFixed(0)} MB`,
        `one account-region alone (slowest of 3): ${fmt(floor)} (${alone.map((r) => fmt(r.ms)).join(', ')}), kmsctl CPU ${fmt(Math.max(...alone.map((r) => r.cpuMs)))}, peak RSS ${Math.max(...alone.map((r) => r.rssMb)).toFixed(0)} MB`,
        `peak RSS by account-regions (--max-parallel 64, all at once): ${scale.map((s) => `${s.accountRegions}: ${s.peakRssMb.toFixed(0)} MB`).join(', ')}`,
        `peak RSS by account-regions (--max-parallel 8, the default): ${bounded.map((s) => `${s.accountRegions}: ${s.peakRssMb.toFixed(0)} MB`).join(', ')}`,
        `ratio ${ratio.toFixed(2)}x (target <= 1.3x)`,
      ],
      ratio,
      results: {accountRegions: accounts.length * regions.length, aloneMs: alone.map((r) => r.ms), bounded, cpuMs: all.cpuMs, keys: out.keys.length, loadAverage: load, ms: all.ms, peakRssMb: all.rssMb, scale, serverCpuMs},
    }
  } finally {
    await server.stop()
  }
}

async function disableBench() {
  const regions = ['us-east-1', 'eu-west-1']
  const perRegion = 20
  const {accounts, dir, total} = await seedOrgDir({accounts: 10, perRegion, regions, tagOf: () => 'payments'})
  const server = await startServer(['--quotas', 'aws'], {dir})
  const home = mkdtempSync(join(tmpdir(), 'kmsctl-bench-home-'))
  try {
    const env = {...server.env, KMSCTL_HOME: home, KMSCTL_SANDBOX_DIR: dir}
    const load = loadAverage()
    const serverCpu0 = server.cpuMs()
    const r = timed(['key', 'disable', '--tag', 'team=payments', '--org', '--all-regions', '--role-name', ROLE, '--max-parallel', '64', '--yes', '--json'], env)
    const serverCpuMs = server.cpuMs() - serverCpu0
    if (r.code !== 0) throw new Error(`key disable --org exited ${r.code}: ${r.stderr.slice(0, 2000)}`)
    const out = JSON.parse(r.stdout)
    const floor = ((perRegion / 5) * 1000)
    // Calls the SDK had to send again (throttled, or a network error): each costs a back-off.
    const retried = out.keys.filter((k) => (k.attempts ?? 1) > 1).length
    const ratio = r.ms / floor
    return {
      lines: [
        `key disable --tag --org --all-regions: ${accounts.length} accounts x ${regions.length} regions x ${perRegion} keys, AWS quotas: ${fmt(r.ms)} (CPU: kmsctl ${fmt(r.cpuMs)}, sandbox server ${fmt(serverCpuMs)}; load average ${load}), ${out.summary.changed}/${total} disabled, ${out.summary.failed} failed, ${retried} retried, peak RSS ${r.rssMb.toFixed(0)} MB`,
        `per-account-region floor (${perRegion} DisableKey at 5/s): ${fmt(floor)}`,
        `ratio ${ratio.toFixed(2)}x (target <= 1.3x, no failed key)`,
      ],
      ratio,
      results: {changed: out.summary.changed, cpuMs: r.cpuMs, failed: out.summary.failed, floorMs: floor, keys: total, loadAverage: load, ms: r.ms, peakRssMb: r.rssMb, retried, serverCpuMs},
    }
  } finally {
    await server.stop()
  }
}

export async function run() {
  const list = await listBench()
  const disable = await disableBench()
  return {
    lines: [...list.lines, ...disable.lines],
    name: 'org',
    ratios: {disableVsFloor: disable.ratio, listVsAlone: list.ratio},
    results: {disable: disable.results, list: list.results},
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const r = await run()
  console.log(r.lines.join('\n'))
}
