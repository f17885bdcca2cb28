// data encrypt / decrypt of a 1 GiB file against `openssl enc` on the same file in the same run, and
// data sign / verify of it against `sha256sum`. kmsctl runs against `sandbox serve` (the KMS calls
// are a handful; the time is the streaming and the cryptography).
// `openssl enc` refuses AEAD ciphers (GCM) on OpenSSL 3, so the baseline is AES-256-GCM when this
// build accepts it and AES-256-CTR otherwise (said in the output): the same AES, without the GHASH
// authentication kmsctl also computes.
// Each side is run under /usr/bin/time -v: wall time, CPU time (user + sys; fairer when other work
// shares the machine) and the peak RSS of the process. Interleaved, median of RUNS.
// The signed suite runs three times each round: as by default (a worker thread for the signature
// when the machine has a core to spare), always with the thread (KMSCTL_DATA_THREADS=1) and always in
// the main thread (KMSCTL_DATA_THREADS=0), interleaved, so that the two compare under
// the same load. The load average is printed at the start and the end, and the spread (min..max) of
// the wall times beside their medians. DATA_BENCH_SIGN=0 leaves out sign and verify.
// Targets: encrypt and decrypt >= 0.5x openssl's throughput; peak RSS < 150 MB; sign and verify
// <= 1.3x the time of sha256sum.
import {spawn, spawnSync} from 'node:child_process'
import {randomBytes} from 'node:crypto'
import {closeSync, mkdtempSync, openSync, rmSync, statfsSync, writeSync} from 'node:fs'
import {loadavg, tmpdir} from 'node:os'
import {dirname, join} from 'node:path'

import {binRun, cleanEnv, median, startServer} from './lib.js'

const SIZE = Number(process.env.DATA_BENCH_BYTES ?? 1024 * 1024 * 1024)
const RUNS = Number(process.env.DATA_BENCH_RUNS ?? 3)
const RSS_LIMIT_MB = 150
const SIGN = process.env.DATA_BENCH_SIGN !== '0'
/** Variants: the name in the output, the suite, the environment kmsctl runs with. */
const VARIANTS = [
  ['committed-signed', 'committed-signed', {}],
  ['committed-signed, two threads', 'committed-signed', {KMSCTL_DATA_THREADS: '1'}],
  ['committed-signed, one thread', 'committed-signed', {KMSCTL_DATA_THREADS: '0'}],
  ['committed', 'committed', {}],
]
const load = () => loadavg().map((x) => x.toFixed(2)).join(' ')

/** Runs argv under /usr/bin/time -v; resolves with wall, cpu (s) and peak RSS (MB). */
function timed(argv, env = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn('/usr/bin/time', ['-v', ...argv], {env: cleanEnv({NO_COLOR: '1', ...env}), stdio: ['ignore', 'ignore', 'pipe']})
    let stderr = ''
    child.stderr.on('data', (d) => (stderr += d))
    child.on('error', reject)
    child.on('close', (code) => {
      const num = (re) => Number(re.exec(stderr)?.[1] ?? NaN)
      const wallText = /Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): ([\d:.]+)/.exec(stderr)?.[1] ?? '0'
      const wall = wallText.split(':').reduce((acc, part) => acc * 60 + Number(part), 0)
      const result = {
        code,
        cpu: num(/User time \(seconds\): ([\d.]+)/) + num(/System time \(seconds\): ([\d.]+)/),
        rssMb: num(/Maximum resident set size \(kbytes\): (\d+)/) / 1024,
        wall,
      }
      if (code !== 0) reject(new Error(`${argv.join(' ')} exited ${code}: ${stderr.slice(0, 800)}`))
      else resolve(result)
    })
  })
}

function makeFile(path, size) {
  const fd = openSync(path, 'w')
  const block = randomBytes(8 * 1024 * 1024)
  for (let done = 0; done < size; ) {
    const n = Math.min(block.length, size - done)
    writeSync(fd, block, 0, n)
    block[done % block.length] ^= 0xa5 // no two blocks alike
    done += n
  }

  closeSync(fd)
}

function opensslCipher(dir) {
  const probe = spawnSync('openssl', ['enc', '-aes-256-gcm', '-K', '00'.repeat(32), '-iv', '00'.repeat(12), '-in', '/dev/null', '-out', join(dir, 'probe')], {encoding: 'utf8'})
  return probe.status === 0 ? {iv: '00'.repeat(12), name: 'aes-256-gcm'} : {iv: '00'.repeat(16), name: 'aes-256-ctr'}
}

/**
 * Where the input and outputs go: DATA_BENCH_DIR, else /dev/shm when it is a memory file system with room
 * for the input and two outputs, else the temporary directory. In memory, what is measured is the cipher
 * and kmsctl's own work, for kmsctl and openssl alike; on a disk, the page cache's writeback of the
 * gigabytes written by earlier runs lands on whichever command happens to be running, and swings the
 * figures of both by a factor of two from one run to the next.
 */
function benchDir() {
  if (process.env.DATA_BENCH_DIR) return process.env.DATA_BENCH_DIR
  try {
    const fs = statfsSync('/dev/shm')
    if (fs.type === 0x01021994 && fs.bavail * fs.bsize > 4 * SIZE) return '/dev/shm'
  } catch {
    // No /dev/shm: the temporary directory.
  }

  return tmpdir()
}

const fmt = (x, d = 2) => (Number.isFinite(x) ? x.toFixed(d) : String(x))

export async function run() {
  const dir = mkdtempSync(join(benchDir(), 'kmsctl-bench-data-'))
  const server = await startServer()
  try {
    const file = join(dir, 'data.bin')
    makeFile(file, SIZE)
    const env = server.env
    const kmsctl = (...args) => [process.execPath, binRun, ...args]
    const created = spawnSync(process.execPath, [binRun, 'key', 'create', '--alias', 'alias/bench-data', '--json'], {encoding: 'utf8', env: cleanEnv(env)})
    if (created.status !== 0) throw new Error(`key create failed: ${created.stderr}`)
    const signing = spawnSync(process.execPath, [binRun, 'key', 'create', '--spec', 'ECC_NIST_P256', '--usage', 'SIGN_VERIFY', '--alias', 'alias/bench-sign', '--json'], {encoding: 'utf8', env: cleanEnv(env)})
    if (signing.status !== 0) throw new Error(`key create failed: ${signing.stderr}`)
    const cipher = opensslCipher(dir)
    const key = randomBytes(32).toString('hex')
    const enc = join(dir, 'out.enc')
    const dec = join(dir, 'out.dec')
    const ossl = join(dir, 'out.ossl')
    const osslDec = join(dir, 'out.ossl.dec')
    const sig = join(dir, 'data.sig.json')
    const loadStart = load()
    const samples = {}
    const add = (name, r) => (samples[name] ??= []).push(r)

    for (let i = 0; i < RUNS; i++) {
      add('openssl-enc', await timed(['openssl', 'enc', `-${cipher.name}`, '-K', key, '-iv', cipher.iv, '-in', file, '-out', ossl]))
      add('openssl-dec', await timed(['openssl', 'enc', '-d', `-${cipher.name}`, '-K', key, '-iv', cipher.iv, '-in', ossl, '-out', osslDec]))
      rmSync(ossl, {force: true})
      rmSync(osslDec, {force: true})
      for (const [name, suite, extra] of VARIANTS) {
        add(`encrypt-${name}`, await timed(kmsctl('data', 'encrypt', file, '--key', 'alias/bench-data', '--context', 'bench=data', '--algorithm', suite, '-o', enc, '--force'), {...env, ...extra}))
        add(`decrypt-${name}`, await timed(kmsctl('data', 'decrypt', enc, '--expect-key', 'alias/bench-data', '--expect-context', 'bench=data', '-o', dec, '--force'), {...env, ...extra}))
        rmSync(enc, {force: true})
        rmSync(dec, {force: true})
      }

      if (!SIGN) continue
      add('sha256sum', await timed(['sha256sum', file]))
      add('sign', await timed(kmsctl('data', 'sign', file, '--key', 'alias/bench-sign', '-o', sig, '--force'), env))
      add('verify', await timed(kmsctl('data', 'verify', file, sig), env))
      add('verify-offline', await timed(kmsctl('data', 'verify', file, sig, '--offline'), env))
    }

    const m = {}
    for (const [name, rs] of Object.entries(samples)) {
      const walls = rs.map((r) => r.wall)
      m[name] = {cpu: median(rs.map((r) => r.cpu)), max: Math.max(...walls), min: Math.min(...walls), rssMb: Math.max(...rs.map((r) => r.rssMb)), wall: median(walls)}
    }

    const mib = SIZE / 1024 / 1024
    const lines = [
      `file: ${fmt(mib, 0)} MiB in ${dirname(dir)}, ${RUNS} runs (median), baseline openssl enc -${cipher.name}${cipher.name.endsWith('ctr') ? ' (this openssl enc refuses GCM)' : ''}`,
      `load average (1, 5, 15 min): ${loadStart} at the start, ${load()} at the end`,
    ]
    const result = {baseline: `openssl enc -${cipher.name}`, bytes: SIZE, runs: RUNS}
    for (const [op, base] of [
      ['encrypt', 'openssl-enc'],
      ['decrypt', 'openssl-dec'],
    ]) {
      lines.push(`${base}: ${fmt(m[base].wall)} s wall (${fmt(m[base].min)}..${fmt(m[base].max)}), CPU ${fmt(m[base].cpu)} s`)
      for (const [suite] of VARIANTS) {
        const k = m[`${op}-${suite}`]
        const b = m[base]
        const wallRatio = b.wall / k.wall
        const cpuRatio = b.cpu / k.cpu
        result[`${op}-${suite}`] = {cpuRatio, mibPerS: mib / k.wall, rssMb: k.rssMb, wallRatio, wallS: k.wall}
        lines.push(
          `${op} (${suite}): ${fmt(mib / k.wall, 0)} MiB/s wall, ${fmt(k.wall)} s (${fmt(k.min)}..${fmt(k.max)}), CPU ${fmt(k.cpu)} s; vs openssl ${fmt(b.wall)} s: ${fmt(wallRatio)}x openssl's throughput (CPU time ${fmt(cpuRatio)}x; target >= 0.5x); peak RSS ${fmt(k.rssMb, 0)} MB (limit ${RSS_LIMIT_MB})`,
        )
      }
    }

    for (const op of SIGN ? ['sign', 'verify', 'verify-offline'] : []) {
      const k = m[op]
      const b = m.sha256sum
      result[op] = {cpuRatio: k.cpu / b.cpu, rssMb: k.rssMb, wallRatio: k.wall / b.wall, wallS: k.wall}
      lines.push(`${op}: ${fmt(k.wall)} s vs sha256sum ${fmt(b.wall)} s: ${fmt(k.wall / b.wall)}x the time (CPU ${fmt(k.cpu / b.cpu)}x; target <= 1.3x); peak RSS ${fmt(k.rssMb, 0)} MB`)
    }

    result.lines = lines
    return result
  } finally {
    await server.stop()
    rmSync(dir, {force: true, recursive: true})
  }
}
