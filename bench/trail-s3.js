// `trail query --source s3` against `kmsctl sandbox serve` serving the generated CloudTrail log files
// (500 objects of 1,000 records, fixed seed; see trail-gen.js) as a bucket, against `--source files` on
// the same files, with the same two filters (a key and an event name); and `--source athena` (the
// sandbox's Athena, DuckDB over the same files) against files. Measured in the same run, interleaved,
// median of RUNS; checks that the three give the same eventIDs. Wall time includes the sandbox
// server's work (it shares the machine); CPU time is reported for kmsctl and for the server apart.
// Peak memory: VmHWM of the kmsctl process (threads included).
// Target: s3 <= 1.3x files. Athena: the ratio is reported.
import {spawn} from 'node:child_process'
import {existsSync, mkdtempSync, readFileSync, rmSync} from 'node:fs'
import {availableParallelism, tmpdir} from 'node:os'
import {join} from 'node:path'

import {binRun, cleanEnv, fmt, kmsctl, median, startServer} from './lib.js'
import {generate} from './trail-gen.js'

const RUNS = Number(process.env.TRAIL_BENCH_RUNS ?? 3)
const TIMEOUT_MS = 300_000
const TIME = existsSync('/usr/bin/time') ? '/usr/bin/time' : undefined

/** CPU time (user + system, ms) a process has used so far, from /proc. */
const cpuMs = (pid) => {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100
  } catch {
    return 0
  }
}

const hwm = (pid) => {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
    return m ? Number(m[1]) / 1024 : 0
  } catch {
    return 0
  }
}

/**
 * Runs kmsctl with args under /usr/bin/time; wall time, CPU time (user + system, its threads
 * included), stdout, the peak RSS of the process (sampled), and the CPU the server used meanwhile.
 */
function timed(args, env, serverPid) {
  return new Promise((resolve, reject) => {
    const cpuFile = join(tmpdir(), `kmsctl-trail-s3-cpu-${process.pid}`)
    const server0 = serverPid ? cpuMs(serverPid) : 0
    const t0 = process.hrtime.bigint()
    // Without /usr/bin/time the CPU time is not measured (reported as 0).
    const command = TIME ? [TIME, ['-f', '%U %S', '-o', cpuFile, process.execPath, binRun, ...args]] : [process.execPath, [binRun, ...args]]
    const child = spawn(command[0], command[1], {env: cleanEnv({NO_COLOR: '1', ...env}), stdio: ['ignore', 'pipe', 'pipe']})
    let stdout = ''
    let stderr = ''
    let peakMb = 0
    // The kmsctl process is /usr/bin/time's child.
    const kmsctlPid = () => {
      try {
        if (!TIME) return child.pid
        return Number(readFileSync(`/proc/${child.pid}/task/${child.pid}/children`, 'utf8').trim().split(' ')[0]) || child.pid
      } catch {
        return child.pid
      }
    }

    const sampler = setInterval(() => (peakMb = Math.max(peakMb, hwm(kmsctlPid()))), 10)
    child.stdout.on('data', (d) => (stdout += d))
    child.stderr.on('data', (d) => (stderr += d))
    const timer = setTimeout(() => child.kill('SIGKILL'), TIMEOUT_MS)
    child.on('error', reject)
    child.on('close', (code) => {
      clearTimeout(timer)
      clearInterval(sampler)
      const ms = Number(process.hrtime.bigint() - t0) / 1e6
      if (code !== 0) return reject(new Error(`kmsctl ${args.join(' ')} exited ${code}: ${stderr.slice(0, 400)}`))
      const [user, system] = TIME ? readFileSync(cpuFile, 'utf8').trim().split('\n').at(-1).split(' ').map(Number) : [0, 0]
      rmSync(cpuFile, {force: true})
      const serverCpuMs = serverPid ? cpuMs(serverPid) - server0 : 0
      resolve({cpuMs: (user + system) * 1000, ids: JSON.parse(stdout).map((e) => e.eventId).sort(), ms, peakMb, serverCpuMs, stderr})
    })
  })
}

export async function run() {
  const data = generate()
  const key = data.keys[0]
  const sandboxDir = mkdtempSync(join(tmpdir(), 'kmsctl-trail-s3-bench-'))
  const server = await startServer(['--bucket', `bench-trail=${data.dir}`], {dir: sandboxDir})
  const filters = ['--key', key.id, '--event', 'Decrypt', '--json']
  try {
    kmsctl(['trail', 'athena', 'setup', '--bucket', 's3://bench-trail', '--database', 'bench', '--table', 'trail', '--accounts', '111122223333', '--regions', 'us-east-1'], server.env)
    const runs = {athena: [], files: [], s3: []}
    const cpu = {athena: [], files: [], s3: []}
    const serverCpu = {athena: [], s3: []}
    const peaks = {athena: [], files: [], s3: []}
    let same = true
    let selected = 0
    let scanned = ''
    for (let i = 0; i < RUNS; i++) {
      // eslint-disable-next-line no-await-in-loop
      const f = await timed(['trail', 'query', '--source', 'files', join(data.dir, 'AWSLogs'), ...filters], {})
      // eslint-disable-next-line no-await-in-loop
      const s = await timed(['trail', 'query', '--source', 's3', 's3://bench-trail', ...filters], server.env, server.pid)
      // eslint-disable-next-line no-await-in-loop
      const a = await timed(['trail', 'query', '--source', 'athena', '--table', 'bench.trail', ...filters], server.env, server.pid)
      for (const [name, r] of [['files', f], ['s3', s], ['athena', a]]) {
        runs[name].push(r.ms)
        cpu[name].push(r.cpuMs)
        peaks[name].push(r.peakMb)
        if (name !== 'files') serverCpu[name].push(r.serverCpuMs)
      }

      selected = f.ids.length
      same &&= JSON.stringify(f.ids) === JSON.stringify(s.ids) && JSON.stringify(f.ids) === JSON.stringify(a.ids)
      scanned = /: ([\d.]+ [KMG]B) scanned/.exec(a.stderr)?.[1] ?? scanned
    }

    const files = median(runs.files)
    const s3 = median(runs.s3)
    const athena = median(runs.athena)
    const load = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')
    const peak = (name) => Math.max(...peaks[name])
    const spread = (xs) => `${fmt(Math.min(...xs))}-${fmt(Math.max(...xs))}`
    const cpuFiles = median(cpu.files)
    const cpuS3 = median(cpu.s3) + median(serverCpu.s3)
    return {
      lines: [
        `500 objects x 1,000 records from sandbox serve, ${selected} records selected (--key ${key.id} --event Decrypt), median of ${RUNS} (${availableParallelism()} cores, load average ${load}):`,
        `wall: --source files ${fmt(files)}; --source s3 ${fmt(s3)}; --source athena (sandbox DuckDB, ${scanned} scanned) ${fmt(athena)}`,
        `  s3 / files = ${(s3 / files).toFixed(2)}x (target <= 1.3x); athena / files = ${(athena / files).toFixed(2)}x (reported)`,
        `  spread: files ${spread(runs.files)}, s3 ${spread(runs.s3)}, athena ${spread(runs.athena)}`,
        `CPU (user + system): files ${fmt(cpuFiles)}; s3 ${fmt(median(cpu.s3))} in kmsctl + ${fmt(median(serverCpu.s3))} in the sandbox server; athena ${fmt(median(cpu.athena))} + ${fmt(median(serverCpu.athena))}`,
        `  s3 (kmsctl + server) / files = ${(cpuS3 / cpuFiles).toFixed(2)}x; kmsctl alone ${(median(cpu.s3) / cpuFiles).toFixed(2)}x`,
        `same eventIDs from files, s3 and athena: ${same ? 'yes' : 'NO'}`,
        `peak memory of kmsctl: files ${peak('files').toFixed(0)} MB, s3 ${peak('s3').toFixed(0)} MB, athena ${peak('athena').toFixed(0)} MB`,
      ],
      name: 'trail-s3',
      ratios: {athenaVsFiles: athena / files, s3CpuVsFiles: cpuS3 / cpuFiles, s3VsFiles: s3 / files},
      results: {athenaMs: athena, cpu, filesMs: files, load, peaks, runs, s3Ms: s3, same, selected, serverCpu},
    }
  } finally {
    await server.stop()
    rmSync(sandboxDir, {force: true, recursive: true})
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const r = await run()
  console.log(r.lines.join('\n'))
  if (!r.results.same) process.exitCode = 1
}
