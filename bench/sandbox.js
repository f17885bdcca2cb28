#!/usr/bin/env node
// Sandbox benchmark: HTTP throughput of `kmsctl sandbox serve` (DescribeKey and Decrypt requests/s over
// loopback, keep-alive, bounded in count and time) and in-process latency per call (the --sandbox path:
// the real SDK client with the in-process request handler; median and p95).
// Targets (issue 3): in-process median under 1 ms; over HTTP at least 2,000 DescribeKey/s on 2 cores.
//
//   node bench/sandbox.js [--requests N] [--seconds S] [--concurrency C] [--calls N] [--json]
// Needs a build (npm run build) for the server; the in-process part loads src/ through tsx.
// Prints one JSON document on stdout, then a short table on stderr (--json: the JSON only).
import {spawn} from 'node:child_process'
import {mkdtempSync, rmSync} from 'node:fs'
import http from 'node:http'
import {tmpdir} from 'node:os'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'
import {parseArgs} from 'node:util'

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true'
const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const {values: opts} = parseArgs({
  options: {
    calls: {default: '2000', type: 'string'},
    concurrency: {default: '32', type: 'string'},
    json: {default: false, type: 'boolean'},
    requests: {default: '20000', type: 'string'},
    seconds: {default: '10', type: 'string'},
  },
})
const MAX_REQUESTS = Number(opts.requests)
const MAX_MS = Number(opts.seconds) * 1000
const CONCURRENCY = Number(opts.concurrency)
const CALLS = Number(opts.calls)
const ACCESS_KEY = 'AKIAKMSCTLSANDBOX001'
const AUTH = `AWS4-HMAC-SHA256 Credential=${ACCESS_KEY}/20260101/us-east-1/kms/aws4_request, SignedHeaders=host;x-amz-date;x-amz-target, Signature=${'0'.repeat(64)}`

function percentile(sorted, p) {
  if (sorted.length === 0) return 0
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]
}

async function startServer(dir) {
  const child = spawn(process.execPath, [join(root, 'bin', 'run.js'), 'sandbox', 'serve', '--port', '0', '--sandbox-dir', dir], {
    env: {...process.env, NODE_OPTIONS: ''},
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let out = ''
  let err = ''
  child.stderr.on('data', (d) => {
    err += d
  })
  const url = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`sandbox serve did not start: ${err}`)), 20_000)
    child.stdout.on('data', (d) => {
      out += d
      const m = /listening on (http:\/\/\S+)/.exec(out)
      if (m) {
        clearTimeout(timer)
        resolve(m[1])
      }
    })
    child.on('exit', (code) => reject(new Error(`sandbox serve exited (${code}): ${err}`)))
  })
  return {
    stop: () =>
      new Promise((resolve) => {
        child.once('exit', () => resolve())
        child.kill('SIGTERM')
        setTimeout(() => child.kill('SIGKILL'), 5000).unref()
      }),
    url,
  }
}

/** Raw JSON 1.1 call (the server does not verify signatures, so a well-formed Authorization header is enough). */
function call(agent, url, operation, body) {
  const u = new URL(url)
  const payload = JSON.stringify(body)
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        agent,
        headers: {
          authorization: AUTH,
          'content-length': Buffer.byteLength(payload),
          'content-type': 'application/x-amz-json-1.1',
          'user-agent': 'kmsctl-bench',
          'x-amz-date': '20260101T000000Z',
          'x-amz-target': `TrentService.${operation}`,
        },
        host: u.hostname,
        method: 'POST',
        path: '/',
        port: u.port,
      },
      (res) => {
        const chunks = []
        res.on('data', (c) => chunks.push(c))
        res.on('end', () => resolve({body: Buffer.concat(chunks).toString('utf8'), status: res.statusCode}))
      },
    )
    req.on('error', reject)
    req.end(payload)
  })
}

async function throughput(agent, url, operation, body) {
  // Warm up.
  for (let i = 0; i < 200; i++) await call(agent, url, operation, body)
  let sent = 0
  let ok = 0
  let failed = 0
  const started = performance.now()
  const deadline = started + MAX_MS
  async function worker() {
    while (sent < MAX_REQUESTS && performance.now() < deadline) {
      sent++
      const r = await call(agent, url, operation, body)
      if (r.status === 200) ok++
      else failed++
    }
  }

  await Promise.all(Array.from({length: CONCURRENCY}, () => worker()))
  const seconds = (performance.now() - started) / 1000
  return {failed, ok, perSecond: Math.round(ok / seconds), seconds: Number(seconds.toFixed(2))}
}

async function inProcess(dir) {
  const {tsImport} = await import('tsx/esm/api')
  const {createSandboxRequestHandler} = await tsImport(join(root, 'src/sandbox/inprocess.ts'), import.meta.url)
  const {KMSClient, CreateKeyCommand, DescribeKeyCommand, DecryptCommand, EncryptCommand} = await import('@aws-sdk/client-kms')
  const kms = new KMSClient({
    credentials: {accessKeyId: ACCESS_KEY, secretAccessKey: 'not-a-secret'},
    region: 'us-east-1',
    requestHandler: await createSandboxRequestHandler({dir}),
  })
  const key = (await kms.send(new CreateKeyCommand({Description: 'bench in-process'}))).KeyMetadata
  const ct = (await kms.send(new EncryptCommand({KeyId: key.KeyId, Plaintext: Buffer.from('bench')}))).CiphertextBlob
  const results = {}
  for (const [name, make] of [
    ['DescribeKey', () => new DescribeKeyCommand({KeyId: key.KeyId})],
    ['Decrypt', () => new DecryptCommand({CiphertextBlob: ct})],
  ]) {
    for (let i = 0; i < 200; i++) await kms.send(make())
    const times = []
    const deadline = performance.now() + MAX_MS
    for (let i = 0; i < CALLS && performance.now() < deadline; i++) {
      const t = performance.now()
      await kms.send(make())
      times.push(performance.now() - t)
    }

    times.sort((a, b) => a - b)
    results[name] = {calls: times.length, medianMs: Number(percentile(times, 50).toFixed(3)), p95Ms: Number(percentile(times, 95).toFixed(3))}
  }

  return results
}

const dir = mkdtempSync(join(tmpdir(), 'kmsctl-bench-sandbox-'))
const inDir = mkdtempSync(join(tmpdir(), 'kmsctl-bench-inproc-'))
const server = await startServer(dir)
try {
  const agent = new http.Agent({keepAlive: true, maxSockets: CONCURRENCY})
  const created = JSON.parse((await call(agent, server.url, 'CreateKey', {Description: 'bench'})).body)
  const keyId = created.KeyMetadata.KeyId
  const enc = JSON.parse((await call(agent, server.url, 'Encrypt', {KeyId: keyId, Plaintext: Buffer.from('bench').toString('base64')})).body)
  const http1 = await throughput(agent, server.url, 'DescribeKey', {KeyId: keyId})
  const http2 = await throughput(agent, server.url, 'Decrypt', {CiphertextBlob: enc.CiphertextBlob})
  agent.destroy()
  const inproc = await inProcess(inDir)
  const result = {
    bench: 'sandbox',
    http: {concurrency: CONCURRENCY, Decrypt: http2, DescribeKey: http1},
    inProcess: inproc,
    targets: {
      httpDescribeKeyPerSecond: {met: http1.perSecond >= 2000, min: 2000},
      inProcessMedianMs: {max: 1, met: inproc.DescribeKey.medianMs < 1 && inproc.Decrypt.medianMs < 1},
    },
  }
  process.stdout.write(JSON.stringify(result, null, 2) + '\n')
  if (!opts.json) {
    const rows = [
      ['HTTP DescribeKey', `${http1.perSecond} req/s`, `${http1.ok} ok, ${http1.failed} failed in ${http1.seconds}s`],
      ['HTTP Decrypt', `${http2.perSecond} req/s`, `${http2.ok} ok, ${http2.failed} failed in ${http2.seconds}s`],
      ['in-process DescribeKey', `median ${inproc.DescribeKey.medianMs} ms`, `p95 ${inproc.DescribeKey.p95Ms} ms (${inproc.DescribeKey.calls} calls)`],
      ['in-process Decrypt', `median ${inproc.Decrypt.medianMs} ms`, `p95 ${inproc.Decrypt.p95Ms} ms (${inproc.Decrypt.calls} calls)`],
    ]
    const w = [0, 1, 2].map((i) => Math.max(...rows.map((r) => r[i].length)))
    process.stderr.write(rows.map((r) => r.map((c, i) => c.padEnd(w[i])).join('  ')).join('\n') + '\n')
  }
} finally {
  await server.stop()
  rmSync(dir, {force: true, recursive: true})
  rmSync(inDir, {force: true, recursive: true})
}
