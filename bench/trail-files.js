// `trail query --source files` over generated CloudTrail log files (500 files x 1,000 records, fixed
// seed; see trail-gen.js) with several filter mixes (a key and an event name; a principal and an
// event; an address range and a user agent; a principal, a user agent glob and failed calls), against
// `zcat` alone, and the first mix also against `zcat | jq` doing the same selection, all measured in
// the same run, interleaved, median of RUNS. Also checks that kmsctl's --raw output is byte for byte
// jq's -c output, and that peak memory (VmHWM of the process, worker threads included) is flat in
// the number of files. Targets: >= 5x faster than zcat | jq; every mix takes at most zcat's time.
import {spawn} from 'node:child_process'
import {createHash} from 'node:crypto'
import {existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync} from 'node:fs'
import {availableParallelism, tmpdir} from 'node:os'
import {join} from 'node:path'

import {binRun, cleanEnv, fmt, median} from './lib.js'
import {generate} from './trail-gen.js'

const RUNS = Number(process.env.TRAIL_BENCH_RUNS ?? 3)
const TIMEOUT_MS = 180_000

function listFiles(dir) {
  const out = []
  const walk = (d) => {
    for (const name of readdirSync(d)) {
      const p = join(d, name)
      if (statSync(p).isDirectory()) walk(p)
      else if (p.endsWith('.json.gz')) out.push(p)
    }
  }

  walk(dir)
  return out.sort()
}

/**
 * Runs a shell command (stdout to a file, or nowhere) and resolves with its wall time, the CPU time
 * of everything it ran (bash's `times`: user + sys of the children, which is fair when other work
 * shares the machine), and the peak RSS of its processes (VmHWM, sampled; threads included).
 */
function timed(script, outFile, env = {}) {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint()
    const child = spawn('bash', ['-c', `{ ${script} ; } > "$OUT"; rc=$?; times >&2; exit $rc`], {
      env: cleanEnv({NO_COLOR: '1', OUT: outFile ?? '/dev/null', ...env}),
      stdio: ['ignore', 'ignore', 'pipe'],
    })
    let peakKb = 0
    const sample = () => {
      try {
        const kids = readFileSync(`/proc/${child.pid}/task/${child.pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean)
        for (const pid of kids) {
          const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
          if (m) peakKb = Math.max(peakKb, Number(m[1]))
        }
      } catch {
        // A process has exited between the two reads.
      }
    }

    const sampler = setInterval(sample, 10)
    let stderr = ''
    child.stderr.on('data', (d) => (stderr += d))
    const timer = setTimeout(() => child.kill('SIGKILL'), TIMEOUT_MS)
    child.on('error', reject)
    child.on('close', (code) => {
      clearTimeout(timer)
      clearInterval(sampler)
      const ms = Number(process.hrtime.bigint() - t0) / 1e6
      if (code !== 0) return reject(new Error(`${script.slice(0, 80)} ... exited ${code}: ${stderr.slice(0, 400)}`))
      const t = /(\d+)m([\d.]+)s (\d+)m([\d.]+)s\s*$/.exec(stderr.trim())
      const cpuMs = t ? (Number(t[1]) * 60 + Number(t[2]) + Number(t[3]) * 60 + Number(t[4])) * 1000 : Number.NaN
      resolve({cpuMs, ms, peakMb: peakKb / 1024})
    })
  })
}

const sha = (file) => createHash('sha256').update(readFileSync(file)).digest('hex')
const lines = (file) => readFileSync(file, 'utf8').split('\n').filter(Boolean).length

export async function run() {
  const data = generate()
  const key = data.keys[0]
  const files = listFiles(join(data.dir, 'AWSLogs'))
  const work = mkdtempSync(join(tmpdir(), 'kmsctl-trail-bench-'))
  // The same selection in jq: KMS events, eventName Decrypt, and the key named in resources[],
  // requestParameters (as sent) or responseElements, as an ID or a key ARN.
  const jqProgram = `.Records[] | select(.eventSource == "kms.amazonaws.com" and .eventName == "Decrypt" and
    ([(.resources // [])[]?.ARN, (.requestParameters // {}) .keyId, (.requestParameters // {}).sourceKeyId,
      (.requestParameters // {}).destinationKeyId, (.requestParameters // {}).targetKeyId, (.responseElements // {}).keyId]
     | any(type == "string" and (. == $id or endswith(":key/" + $id)))))`
  const quote = (v) => `'${v.replaceAll("'", "'\\''")}'`
  const zcatCmd = `zcat ${files.map((f) => quote(f)).join(' ')}`
  const kmsctlCmd = (paths) => `${quote(process.execPath)} ${quote(binRun)} trail query --source files ${paths.map((p) => quote(p)).join(' ')} --key ${key.id} --event Decrypt --raw`
  // Further mixes: filters tested on the raw record text before any parsing.
  const mixes = [
    {args: ['--principal', 'payments', '--event', 'Decrypt'], name: 'principal + event'},
    {args: ['--ip', '10.20.0.0/16', '--user-agent', 'boto3'], name: 'ip range + user agent'},
    {args: ['--principal', 'deploy-bot', '--user-agent', 'aws-cli/*', '--errors'], name: 'principal + user agent glob + errors'},
  ]
  const mixCmd = (args) => `${quote(process.execPath)} ${quote(binRun)} trail query --source files ${quote(join(data.dir, 'AWSLogs'))} ${args.map((a) => quote(a)).join(' ')} --raw`
  const mixRuns = mixes.map(() => [])
  const mixCpu = mixes.map(() => [])
  const mixSelected = mixes.map(() => 0)
  const runs = {jq: [], kmsctl: [], zcat: []}
  const cpu = {jq: [], kmsctl: [], zcat: []}
  const peaks = []
  try {
    for (let i = 0; i < RUNS; i++) {
      // eslint-disable-next-line no-await-in-loop
      const z = await timed(zcatCmd)
      // eslint-disable-next-line no-await-in-loop
      const j = await timed(`${zcatCmd} | jq -c --arg id "$KEY_ID" "$JQ_PROGRAM"`, join(work, 'jq.out'), {JQ_PROGRAM: jqProgram, KEY_ID: key.id})
      // eslint-disable-next-line no-await-in-loop
      const k = await timed(kmsctlCmd([join(data.dir, 'AWSLogs')]), join(work, 'kmsctl.out'))
      for (const [name, r] of [['zcat', z], ['jq', j], ['kmsctl', k]]) {
        runs[name].push(r.ms)
        cpu[name].push(r.cpuMs)
      }

      peaks.push(k.peakMb)
      for (const [m, mix] of mixes.entries()) {
        // eslint-disable-next-line no-await-in-loop
        const r = await timed(mixCmd(mix.args), join(work, `mix${m}.out`))
        mixRuns[m].push(r.ms)
        mixCpu[m].push(r.cpuMs)
        mixSelected[m] = lines(join(work, `mix${m}.out`))
      }
    }

    // Memory flat in the number of files: the same query over a fifth of them.
    const fifth = files.slice(0, Math.ceil(files.length / 5))
    const small = await timed(kmsctlCmd(fifth), join(work, 'small.out'))
    const identical = existsSync(join(work, 'jq.out')) && sha(join(work, 'jq.out')) === sha(join(work, 'kmsctl.out'))
    const selected = lines(join(work, 'kmsctl.out'))
    const zcat = median(runs.zcat)
    const jq = median(runs.jq)
    const kmsctl = median(runs.kmsctl)
    const peak = Math.max(...peaks)
    const cpuZcat = median(cpu.zcat)
    const cpuJq = median(cpu.jq)
    const cpuKmsctl = median(cpu.kmsctl)
    const load = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')
    const mixResults = [
      {args: ['--key', key.id, '--event', 'Decrypt'], cpuMs: cpuKmsctl, cpuVsZcat: cpuKmsctl / cpuZcat, ms: kmsctl, name: 'key + event', selected, vsZcatTime: kmsctl / zcat},
      ...mixes.map((mix, m) => ({
        args: mix.args,
        cpuMs: median(mixCpu[m]),
        cpuVsZcat: median(mixCpu[m]) / cpuZcat,
        ms: median(mixRuns[m]),
        name: mix.name,
        selected: mixSelected[m],
        vsZcatTime: median(mixRuns[m]) / zcat,
      })),
    ]
    return {
      lines: [
        `${files.length} files, ${selected} records selected (--key ${key.id} --event Decrypt), median of ${RUNS}:`,
        `wall: zcat alone ${fmt(zcat)}; zcat | jq ${fmt(jq)}; kmsctl trail query --source files ${fmt(kmsctl)} (${availableParallelism()} cores, load average ${load})`,
        `  kmsctl is ${(jq / kmsctl).toFixed(1)}x faster than zcat | jq (target >= 5x), ${(zcat / kmsctl).toFixed(2)}x zcat's speed (target >= 1x)`,
        `cpu (user+sys): zcat ${fmt(cpuZcat)}; zcat | jq ${fmt(cpuJq)}; kmsctl ${fmt(cpuKmsctl)}`,
        `  kmsctl uses ${(cpuJq / cpuKmsctl).toFixed(1)}x less CPU than zcat | jq, ${(cpuZcat / cpuKmsctl).toFixed(2)}x less than zcat`,
        `output identical to jq's selection: ${identical ? 'yes' : 'NO'} (${selected} lines)`,
        `peak memory: ${peak.toFixed(0)} MB for ${files.length} files, ${small.peakMb.toFixed(0)} MB for ${fifth.length} files`,
        `filter mixes, kmsctl's wall time as a share of zcat's (${fmt(zcat)}; target <= 1.00x):`,
        ...mixResults.map((r) => `  ${r.name.padEnd(38)} ${fmt(r.ms).padStart(9)}  ${r.vsZcatTime.toFixed(2)}x zcat  (cpu ${fmt(r.cpuMs)}, ${r.cpuVsZcat.toFixed(2)}x zcat's; ${r.selected} records; ${r.args.join(' ')})`),
      ],
      name: 'trail-files',
      ratios: {
        cpuVsJq: cpuJq / cpuKmsctl,
        cpuVsZcat: cpuZcat / cpuKmsctl,
        mixesCpuVsZcat: Object.fromEntries(mixResults.map((r) => [r.name, r.cpuVsZcat])),
        mixesVsZcatTime: Object.fromEntries(mixResults.map((r) => [r.name, r.vsZcatTime])),
        peakMemoryAllVsFifth: peak / small.peakMb,
        vsJq: jq / kmsctl,
        vsZcat: zcat / kmsctl,
      },
      results: {cpu, files: files.length, identical, jqMs: jq, kmsctlMs: kmsctl, load, mixes: mixResults, peakMb: peak, peakMbFifth: small.peakMb, runs, selected, zcatMs: zcat},
    }
  } finally {
    rmSync(work, {force: true, recursive: true})
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const r = await run()
  console.log(r.lines.join('\n'))
  if (!r.results.identical) process.exitCode = 1
}

