#!/usr/bin/env node
// Sandbox benchmark: HTTP throughput of `kmsctl sandbox serve` (DescribeKey and Decrypt requests/s over
// loopback, keep-alive, bounded in count and time) and in-process latency per call (the --sandbox path:
// the real SDK client with the in-process request handler; median and p95).
// Targets: in-process median under 1 ms; over HTTP at least 2,000 DescribeKey/s on 2 cores.
//
//   node bench/sandbox.js [--requests N] [--seconds S] [--concurrency C] [--calls N] [--json]
// Needs a build (npm run build) for the server; the in-process part loads src/ through tsx.
// Run directly: one JSON document on stdout, then a short table on stderr (--json: the JSON only).
// bench/run.js imports it and calls run(), which returns {lines, name, ratios, results}.
// Baselines measured in the same run: a bare node:http server answering a canned response (for
// requests/s), and the same SDK client with a handler that answers at once (for in-process latency).
import {spawn} from 'node:child_process'
import {mkdtempSync, rmSync} from 'node:fs'
import http from 'node:http'
import {tmpdir} from 'node:os'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'
import {parseArgs} from 'node:util'

import {Hash} from '@smithy/hash-node'
import {HttpRequest} from '@smithy/protocol-http'
import {SignatureV4} from '@smithy/signature-v4'

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true'
const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const {values: opts} = parseArgs({
  allowPositionals: true,
  // Also imported by bench/run.js, whose own arguments are not ours.
  strict: false,
  options: {
    calls: {default: '2000', type: 'string'},
    concurrency: {default: '32', type: 'string'},
    json: {default: false, type: 'boolean'},
    requests: {default: '20000', type: 'string'},
    seconds: {default: '10', type: 'string'},
  },
})
// Per measurement (each of the 3 rounds of each series).
const MAX_REQUESTS = Number(opts.requests)
const MAX_MS = (Number(opts.seconds) * 1000) / 3
const CONCURRENCY = Number(opts.concurrency)
const CALLS = Number(opts.calls)
const ROUNDS = 3
const ACCESS_KEY = 'AKIAKMSCTLSANDBOX001'
// The default sandbox credentials: the server checks their signatures.
const SECRET = 'kmsctl-sandbox-not-a-real-secret-0000000'
const signedHeaders = new Map()

/** SigV4 headers for one request, made once per distinct request (the server does not refuse a repeated signature). */
async function signFor(host, operation, payload) {
  const key = `${host}\n${operation}\n${payload}`
  let headers = signedHeaders.get(key)
  if (!headers) {
    const signer = new SignatureV4({credentials: {accessKeyId: ACCESS_KEY, secretAccessKey: SECRET}, region: 'us-east-1', service: 'kms', sha256: Hash.bind(null, 'sha256')})
    const request = new HttpRequest({
      body: payload,
      headers: {'content-type': 'application/x-amz-json-1.1', host, 'x-amz-target': `TrentService.${operation}`},
      hostname: host,
      method: 'POST',
      path: '/',
      protocol: 'http:',
    })
    headers = (await signer.sign(request)).headers
    signedHeaders.set(key, headers)
  }

  return headers
}

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

/** Raw JSON 1.1 call, signed as the AWS SDK signs (the server checks the default credentials' signatures). */
async function call(agent, url, operation, body) {
  const u = new URL(url)
  const payload = JSON.stringify(body)
  const signed = await signFor(u.host, operation, payload)
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        agent,
        headers: {
          ...signed,
          'content-length': Buffer.byteLength(payload),
          'user-agent': 'kmsctl-bench',
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

/** A bare node:http server answering every request with a canned DescribeKey response: the floor of Node's HTTP stack here. */
function startBareServer() {
  const script = `
    const http = require('node:http')
    const body = JSON.stringify({KeyMetadata: {AWSAccountId: '111122223333', KeyId: 'k', KeyState: 'Enabled'}})
    const s = http.createServer({keepAlive: true}, (req, res) => {
      req.resume()
      req.on('end', () => { res.writeHead(200, {'content-type': 'application/x-amz-json-1.1', 'content-length': Buffer.byteLength(body)}); res.end(body) })
    })
    s.listen(0, '127.0.0.1', () => console.log('listening on http://127.0.0.1:' + s.address().port))
    process.on('SIGTERM', () => process.exit(0))`
  const child = spawn(process.execPath, ['-e', script], {stdio: ['ignore', 'pipe', 'inherit']})
  return new Promise((resolve, reject) => {
    let out = ''
    child.stdout.on('data', (d) => {
      out += d
      const m = /listening on (http:\/\/\S+)/.exec(out)
      if (m) resolve({stop: () => new Promise((r) => { child.once('exit', r); child.kill('SIGTERM') }), url: m[1]})
    })
    child.on('exit', (code) => reject(new Error(`baseline server exited ${code}`)))
  })
}

/**
 * In-process latency per call through the real SDK client, as `kmsctl --sandbox` makes its calls, against
 * the same client with a handler that answers at once (the SDK's own cost: the in-process floor).
 * Alternating rounds; each series keeps its best round.
 */
async function inProcessLatency(dir) {
  const {tsImport} = await import('tsx/esm/api')
  const {createSandboxRequestHandler} = await tsImport(join(root, 'src/sandbox/http/inprocess.ts'), import.meta.url)
  const {KMSClient, CreateKeyCommand, DescribeKeyCommand, DecryptCommand, EncryptCommand} = await import('@aws-sdk/client-kms')
  const {HttpResponse} = await import('@smithy/protocol-http')
  const credentials = {accessKeyId: ACCESS_KEY, secretAccessKey: SECRET}
  const canned = Buffer.from(JSON.stringify({KeyMetadata: {AWSAccountId: '111122223333', KeyId: 'k', KeyState: 'Enabled'}}))
  const sdkAlone = new KMSClient({
    credentials,
    region: 'us-east-1',
    requestHandler: {
      destroy() {},
      handle: async () => ({response: new HttpResponse({body: canned, headers: {'content-type': 'application/x-amz-json-1.1'}, statusCode: 200})}),
      httpHandlerConfigs: () => ({}),
      updateHttpClientConfig() {},
    },
  })
  const kms = new KMSClient({credentials, region: 'us-east-1', requestHandler: await createSandboxRequestHandler({dir})})
  const key = (await kms.send(new CreateKeyCommand({Description: 'bench in-process'}))).KeyMetadata
  const ct = (await kms.send(new EncryptCommand({KeyId: key.KeyId, Plaintext: Buffer.from('bench')}))).CiphertextBlob
  const series = [
    ['baseline', () => sdkAlone.send(new DescribeKeyCommand({KeyId: 'k'}))],
    ['DescribeKey', () => kms.send(new DescribeKeyCommand({KeyId: key.KeyId}))],
    ['Decrypt', () => kms.send(new DecryptCommand({CiphertextBlob: ct}))],
  ]
  for (const [, send] of series) for (let i = 0; i < 200; i++) await send()
  const results = {}
  const perRound = Math.max(1, Math.round(CALLS / ROUNDS))
  for (let round = 0; round < ROUNDS; round++) {
    for (const [name, send] of series) {
      const times = []
      const deadline = performance.now() + MAX_MS
      for (let i = 0; i < perRound && performance.now() < deadline; i++) {
        const t = performance.now()
        await send()
        times.push(performance.now() - t)
      }

      times.sort((x, y) => x - y)
      const r = {calls: times.length, medianMs: Number(percentile(times, 50).toFixed(3)), p95Ms: Number(percentile(times, 95).toFixed(3))}
      if (!results[name] || r.medianMs < results[name].medianMs) results[name] = r
    }
  }

  return results
}

export async function run() {
  const dir = mkdtempSync(join(tmpdir(), 'kmsctl-bench-sandbox-'))
  const inDir = mkdtempSync(join(tmpdir(), 'kmsctl-bench-inproc-'))
  // The baseline and the sandbox run side by side, in alternating rounds; each figure is its best
  // round, so that a burst of load from elsewhere on the machine does not decide a ratio.
  const bare = await startBareServer()
  const server = await startServer(dir)
  const best = (a, b) => (!a || b.perSecond > a.perSecond ? b : a)
  let baselineHttp
  let http1
  let http2
  try {
    const agent = new http.Agent({keepAlive: true, maxSockets: CONCURRENCY})
    const created = JSON.parse((await call(agent, server.url, 'CreateKey', {Description: 'bench'})).body)
    const keyId = created.KeyMetadata.KeyId
    const enc = JSON.parse((await call(agent, server.url, 'Encrypt', {KeyId: keyId, Plaintext: Buffer.from('bench').toString('base64')})).body)
    for (let round = 0; round < ROUNDS; round++) {
      baselineHttp = best(baselineHttp, await throughput(agent, bare.url, 'DescribeKey', {KeyId: 'k'}))
      http1 = best(http1, await throughput(agent, server.url, 'DescribeKey', {KeyId: keyId}))
      http2 = best(http2, await throughput(agent, server.url, 'Decrypt', {CiphertextBlob: enc.CiphertextBlob}))
    }

    agent.destroy()
  } finally {
    await bare.stop()
    await server.stop()
  }

  const {baseline: baselineInProcess, ...inproc} = await inProcessLatency(inDir)
  rmSync(dir, {force: true, recursive: true})
  rmSync(inDir, {force: true, recursive: true})
  const ratios = {
    httpDecryptVsBareServer: Number((http2.perSecond / baselineHttp.perSecond).toFixed(3)),
    httpDescribeKeyVsBareServer: Number((http1.perSecond / baselineHttp.perSecond).toFixed(3)),
    inProcessDecryptVsSdkAlone: Number((inproc.Decrypt.medianMs / baselineInProcess.medianMs).toFixed(2)),
    inProcessDescribeKeyVsSdkAlone: Number((inproc.DescribeKey.medianMs / baselineInProcess.medianMs).toFixed(2)),
  }
  const results = {
    baseline: {httpBareServer: baselineHttp, inProcessSdkAlone: baselineInProcess},
    http: {concurrency: CONCURRENCY, Decrypt: http2, DescribeKey: http1},
    inProcess: inproc,
    targets: {
      httpDescribeKeyPerSecond: {met: http1.perSecond >= 2000, min: 2000},
      inProcessMedianMs: {max: 1, met: inproc.DescribeKey.medianMs < 1 && inproc.Decrypt.medianMs < 1},
    },
  }
  const rows = [
    ['bare node:http server (baseline)', `${baselineHttp.perSecond} req/s`, ''],
    ['HTTP DescribeKey', `${http1.perSecond} req/s`, `${ratios.httpDescribeKeyVsBareServer}x baseline; target >= 2,000/s`],
    ['HTTP Decrypt', `${http2.perSecond} req/s`, `${ratios.httpDecryptVsBareServer}x baseline`],
    ['SDK with a canned handler (baseline)', `median ${baselineInProcess.medianMs} ms`, `p95 ${baselineInProcess.p95Ms} ms`],
    ['in-process DescribeKey', `median ${inproc.DescribeKey.medianMs} ms`, `p95 ${inproc.DescribeKey.p95Ms} ms; ${ratios.inProcessDescribeKeyVsSdkAlone}x baseline; target < 1 ms`],
    ['in-process Decrypt', `median ${inproc.Decrypt.medianMs} ms`, `p95 ${inproc.Decrypt.p95Ms} ms; ${ratios.inProcessDecryptVsSdkAlone}x baseline`],
  ]
  const w = [0, 1].map((i) => Math.max(...rows.map((r) => r[i].length)))
  const lines = rows.map((r) => `${r[0].padEnd(w[0])}  ${r[1].padEnd(w[1])}  ${r[2]}`.trimEnd())
  return {lines, name: 'sandbox', ratios, results}
}

// Run directly: the JSON document on stdout, then the table on stderr (unless --json).
if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const r = await run()
  process.stdout.write(JSON.stringify({name: r.name, ratios: r.ratios, results: r.results}, null, 2) + '\n')
  if (!opts.json) process.stderr.write(r.lines.join('\n') + '\n')
}
