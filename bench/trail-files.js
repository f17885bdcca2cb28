// `trail query --source files` over generated CloudTrail log files (500 files x 1,000 records, fixed
// seed; see trail-gen.js) with two filters (a key and an event name), against `zcat | jq` doing the
// same selection and against `zcat` alone, measured in the same run, interleaved, median of RUNS.
// Also checks that kmsctl's --raw output is byte for byte jq's -c output, and that peak memory
// (VmHWM of the process, worker threads included) is flat in the number of files.
// Targets: >= 5x faster than zcat | jq, no slower than zcat.
import {spawn} from 'node:child_process'
import {createHash} from 'node:crypto'
import {createWriteStream, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync} from 'node:fs'
import {tmpdir} from 'node:os'
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

/** Runs a command with stdout to a file (or nowhere); resolves with time, exit code and peak RSS. */
function timed(cmd, args, outFile, env = {}) {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint()
    const child = spawn(cmd, args, {env: cleanEnv({NO_COLOR: '1', ...env}), stdio: ['ignore', outFile ? 'pipe' : 'ignore', 'pipe']})
    let peakKb = 0
    const sample = () => {
      try {
        const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))
        if (m) peakKb = Math.max(peakKb, Number(m[1]))
      } catch {
        // The process has exited.
      }
    }

    const sampler = setInterval(sample, 20)
    if (outFile) child.stdout.pipe(createWriteStream(outFile))
    let stderr = ''
    child.stderr.on('data', (d) => (stderr += d))
    const timer = setTimeout(() => child.kill('SIGKILL'), TIMEOUT_MS)
    child.on('error', reject)
    child.on('exit', (code) => {
      clearTimeout(timer)
      clearInterval(sampler)
      const ms = Number(process.hrtime.bigint() - t0) / 1e6
      if (code !== 0) reject(new Error(`${cmd} ${args.slice(0, 6).join(' ')} ... exited ${code}: ${stderr.slice(0, 400)}`))
      else setTimeout(() => resolve({ms, peakMb: peakKb / 1024}), 50)
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
  const kmsctlArgs = [binRun, 'trail', 'query', '--source', 'files', join(data.dir, 'AWSLogs'), '--key', key.id, '--event', 'Decrypt', '--raw']
  const runs = {jq: [], kmsctl: [], zcat: []}
  const peaks = []
  try {
    for (let i = 0; i < RUNS; i++) {
      // eslint-disable-next-line no-await-in-loop
      runs.zcat.push((await timed('zcat', files)).ms)
      // eslint-disable-next-line no-await-in-loop
      runs.jq.push((await timed('bash', ['-c', 'zcat "$@" | jq -c --arg id "$KEY_ID" "$JQ_PROGRAM"', 'bench', ...files], join(work, 'jq.out'), {JQ_PROGRAM: jqProgram, KEY_ID: key.id})).ms)
      // eslint-disable-next-line no-await-in-loop
      const k = await timed(process.execPath, kmsctlArgs, join(work, 'kmsctl.out'))
      runs.kmsctl.push(k.ms)
      peaks.push(k.peakMb)
    }

    // Memory flat in the number of files: the same query over a fifth of them.
    const fifth = files.slice(0, Math.ceil(files.length / 5))
    const small = await timed(process.execPath, [binRun, 'trail', 'query', '--source', 'files', ...fifth, '--key', key.id, '--event', 'Decrypt', '--raw'], join(work, 'small.out'))
    const identical = existsSync(join(work, 'jq.out')) && sha(join(work, 'jq.out')) === sha(join(work, 'kmsctl.out'))
    const selected = lines(join(work, 'kmsctl.out'))
    const zcat = median(runs.zcat)
    const jq = median(runs.jq)
    const kmsctl = median(runs.kmsctl)
    const peak = Math.max(...peaks)
    return {
      lines: [
        `${files.length} files, ${selected} records selected (--key ${key.id} --event Decrypt), median of ${RUNS}:`,
        `zcat alone ${fmt(zcat)}; zcat | jq ${fmt(jq)}; kmsctl trail query --source files ${fmt(kmsctl)}`,
        `kmsctl is ${(jq / kmsctl).toFixed(1)}x faster than zcat | jq (target >= 5x), ${(zcat / kmsctl).toFixed(2)}x zcat's speed (target >= 1x)`,
        `output identical to jq's selection: ${identical ? 'yes' : 'NO'} (${selected} lines)`,
        `peak memory: ${peak.toFixed(0)} MB for ${files.length} files, ${small.peakMb.toFixed(0)} MB for ${fifth.length} files`,
      ],
      name: 'trail-files',
      ratios: {peakMemoryAllVsFifth: peak / small.peakMb, vsJq: jq / kmsctl, vsZcat: zcat / kmsctl},
      results: {files: files.length, identical, jqMs: jq, kmsctlMs: kmsctl, peakMb: peak, peakMbFifth: small.peakMb, runs, selected, zcatMs: zcat},
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

