// Shared helpers for the benchmarks: timing of whole commands, and a sandbox server to time against.
// Timed commands run without NODE_EXTRA_CA_CERTS / AWS_CA_BUNDLE, which add a fixed cost to every
// Node start that has nothing to do with kmsctl.
import {spawn, spawnSync} from 'node:child_process'
import {mkdtempSync, readFileSync} from 'node:fs'
import {createRequire} from 'node:module'
import {tmpdir} from 'node:os'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'

export const root = join(dirname(fileURLToPath(import.meta.url)), '..')
export const binRun = join(root, 'bin', 'run.js')
const require = createRequire(`${root}/package.json`)

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true'

export function cleanEnv(extra = {}) {
  const env = {...process.env, ...extra}
  delete env.NODE_EXTRA_CA_CERTS
  delete env.AWS_CA_BUNDLE
  delete env.NODE_OPTIONS
  return env
}

export function median(xs) {
  const s = [...xs].sort((a, b) => a - b)
  const m = Math.floor(s.length / 2)
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2
}

/**
 * Runs a command `runs` times (after `warmup` runs) and returns timings in ms. With `cpu`, the
 * command runs under bash, whose `times` gives the CPU time (user + sys) it used: a figure that other
 * work on the machine disturbs far less than the wall time (bash's own start is in the wall time).
 */
export function timeCommand(cmd, args, {cpu = false, env = {}, runs = 15, warmup = 3, expectCode = 0} = {}) {
  const times = []
  const cpuTimes = []
  for (let i = 0; i < warmup + runs; i++) {
    const t0 = process.hrtime.bigint()
    const r = cpu
      ? spawnSync('bash', ['-c', '"$@" >/dev/null 2>&1; rc=$?; times; exit $rc', 'bash', cmd, ...args], {env: cleanEnv(env), stdio: ['ignore', 'pipe', 'pipe']})
      : spawnSync(cmd, args, {env: cleanEnv(env), stdio: ['ignore', 'pipe', 'pipe']})
    const ms = Number(process.hrtime.bigint() - t0) / 1e6
    if (r.status !== expectCode) {
      throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}: ${r.stderr?.toString().slice(0, 500)}`)
    }

    if (i >= warmup) {
      times.push(ms)
      if (cpu) {
        const t = /(\d+)m([\d.]+)s (\d+)m([\d.]+)s\s*$/.exec(r.stdout.toString().trim())
        if (t) cpuTimes.push((Number(t[1]) * 60 + Number(t[2]) + Number(t[3]) * 60 + Number(t[4])) * 1000)
      }
    }
  }

  return {cpuMedian: cpuTimes.length > 0 ? median(cpuTimes) : undefined, max: Math.max(...times), median: median(times), min: Math.min(...times), runs}
}

/** Starts `kmsctl sandbox serve` on a free loopback port; resolves with {url, env, stop}. */
export function startServer(args = [], {dir} = {}) {
  const stateDir = dir ?? mkdtempSync(join(tmpdir(), 'kmsctl-bench-'))
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [binRun, 'sandbox', 'serve', '--port', '0', '--sandbox-dir', stateDir, ...args], {
      env: cleanEnv(),
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let out = ''
    let err = ''
    const timer = setTimeout(() => reject(new Error(`sandbox did not start: ${err}`)), 30_000)
    child.stderr.on('data', (d) => (err += d))
    child.stdout.on('data', (d) => {
      out += d
      const m = /listening on (http:\/\/[^\s]+)/i.exec(out)
      if (m) {
        clearTimeout(timer)
        const url = m[1]
        resolve({
          dir: stateDir,
          env: {
            AWS_ACCESS_KEY_ID: 'AKIAKMSCTLSANDBOX001',
            AWS_CONFIG_FILE: '/dev/null',
            AWS_ENDPOINT_URL: url,
            AWS_PAGER: '',
            AWS_REGION: 'us-east-1',
            AWS_SECRET_ACCESS_KEY: 'kmsctl-sandbox-not-a-real-secret-0000000',
            AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
          },
          /** CPU time (user + system, ms) the server has used so far (Linux /proc; NaN elsewhere). */
          cpuMs: () => processCpuMs(child.pid),
          stop: () =>
            new Promise((res) => {
              child.once('exit', res)
              child.kill('SIGTERM')
            }),
          pid: child.pid,
          url,
        })
      }
    })
    child.on('exit', (code) => reject(new Error(`sandbox exited ${code}: ${err}`)))
  })
}

/** CPU time (user + system, ms) a running process has used, from /proc (NaN where there is none). */
export function processCpuMs(pid) {
  try {
    // Fields after the command name (which may hold spaces): utime and stime are the 12th and 13th.
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100
  } catch {
    return Number.NaN
  }
}

/** The 1-minute load average ("n/a" where the system has none). */
export function loadAverage() {
  try {
    return readFileSync('/proc/loadavg', 'utf8').split(' ')[0]
  } catch {
    return 'n/a'
  }
}

export function kmsctl(args, env) {
  const r = spawnSync(process.execPath, [binRun, ...args], {encoding: 'utf8', env: cleanEnv(env)})
  if (r.status !== 0) throw new Error(`kmsctl ${args.join(' ')} exited ${r.status}: ${r.stderr}`)
  return r.stdout
}

export const AWS_CLI = '/usr/bin/aws'

export function fmt(ms) {
  return ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(1)} ms`
}

/**
 * Creates `n` keys through the API of a running sandbox (`env` from startServer), `batch` at a time.
 * `tags(i)` gives key i's tags (none by default), `description(i)` its description.
 */
export async function seedKeys(env, n, {batch = 20, description = (i) => `bench key ${i}`, region = env.AWS_REGION, tags} = {}) {
  const {CreateKeyCommand, KMSClient} = require('@aws-sdk/client-kms')
  const kms = new KMSClient({
    credentials: {accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY},
    endpoint: env.AWS_ENDPOINT_URL,
    region,
  })
  try {
    for (let i = 0; i < n; i += batch) {
      // eslint-disable-next-line no-await-in-loop
      await Promise.all(
        Array.from({length: Math.min(batch, n - i)}, (_, j) =>
          kms.send(new CreateKeyCommand({Description: description(i + j), ...(tags ? {Tags: tags(i + j)} : {})})),
        ),
      )
    }
  } finally {
    kms.destroy()
  }
}
