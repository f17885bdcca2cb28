// Start-up and one-call latency: kmsctl against `node -e 0` and against the AWS CLI v2, in one run.
// Targets: --version and --help within 3.5x of `node -e 0`; `key describe` at most 0.35x the time of
// `aws kms describe-key` on the same sandbox server (wall time; the CPU time, user + sys, is given
// too, as it is far less disturbed by other work on the machine). Both runs of `key describe` are
// interleaved, in rounds, so that a change in the machine's load falls on both. kmsctl runs with a
// warm compile cache where Node.js has one (22.1 and later), as every run after the first does.
import {existsSync} from 'node:fs'

import {AWS_CLI, binRun, fmt, kmsctl, median, startServer, timeCommand} from './lib.js'

export async function run({runs = 15} = {}) {
  const node = process.execPath
  const results = {}
  results.nodeBaseline = timeCommand(node, ['-e', '0'], {runs})
  results.version = timeCommand(node, [binRun, '--version'], {runs})
  results.help = timeCommand(node, [binRun, 'key', 'list', '--help'], {runs})
  const haveAws = existsSync(AWS_CLI)
  if (haveAws) results.awsVersion = timeCommand(AWS_CLI, ['--version'], {runs: Math.max(5, Math.round(runs / 2))})

  const server = await startServer()
  try {
    const created = JSON.parse(kmsctl(['key', 'create', '--description', 'bench', '--json'], server.env))
    const keyId = created.keyId ?? created.KeyId ?? created.key?.keyId
    const rounds = 3
    const ours = []
    const theirs = []
    for (let round = 0; round < rounds; round++) {
      ours.push(timeCommand(node, [binRun, 'key', 'describe', keyId], {cpu: true, env: server.env, runs: Math.ceil(runs / rounds), warmup: round === 0 ? 3 : 1}))
      if (haveAws) theirs.push(timeCommand(AWS_CLI, ['kms', 'describe-key', '--key-id', keyId, '--endpoint-url', server.url], {cpu: true, env: server.env, runs: Math.max(2, Math.ceil(runs / 2 / rounds)), warmup: 1}))
    }

    const pool = (list) => ({cpuMedian: median(list.map((r) => r.cpuMedian)), median: median(list.map((r) => r.median)), runs: list.reduce((n, r) => n + r.runs, 0)})
    results.describe = pool(ours)
    if (haveAws) results.awsDescribe = pool(theirs)
  } finally {
    await server.stop()
  }

  const ratios = {
    describeCpuVsAws: results.awsDescribe ? results.describe.cpuMedian / results.awsDescribe.cpuMedian : undefined,
    describeVsAws: results.awsDescribe ? results.describe.median / results.awsDescribe.median : undefined,
    helpVsNode: results.help.median / results.nodeBaseline.median,
    versionVsNode: results.version.median / results.nodeBaseline.median,
  }
  const lines = [
    `node -e 0                       ${fmt(results.nodeBaseline.median)}`,
    `kmsctl --version                ${fmt(results.version.median)}  (${ratios.versionVsNode.toFixed(2)}x node -e 0; target <= 3.5x)`,
    `kmsctl key list --help          ${fmt(results.help.median)}  (${ratios.helpVsNode.toFixed(2)}x node -e 0; target <= 3.5x)`,
    results.awsVersion ? `aws --version                   ${fmt(results.awsVersion.median)}` : 'aws CLI v2 not installed (/usr/bin/aws): AWS CLI comparisons skipped',
    `kmsctl key describe (sandbox)   ${fmt(results.describe.median)}  (cpu ${fmt(results.describe.cpuMedian)}; Node.js ${process.version})`,
    results.awsDescribe
      ? `aws kms describe-key (sandbox)  ${fmt(results.awsDescribe.median)}  (cpu ${fmt(results.awsDescribe.cpuMedian)}; kmsctl takes ${ratios.describeVsAws.toFixed(2)}x the wall time, target <= 0.35x; ${ratios.describeCpuVsAws.toFixed(2)}x the cpu time)`
      : '',
  ].filter(Boolean)
  return {lines, name: 'startup', ratios, results}
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const r = await run()
  console.log(r.lines.join('\n'))
}
