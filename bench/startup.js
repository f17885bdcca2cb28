// Start-up and one-call latency: kmsctl against `node -e 0` and against the AWS CLI v2, in one run.
// Targets (issue 2): --version and --help within 3.5x of `node -e 0`; `key describe` at most 0.35x
// the time of `aws kms describe-key` on the same sandbox server.
import {existsSync} from 'node:fs'

import {AWS_CLI, binRun, fmt, kmsctl, startServer, timeCommand} from './lib.js'

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
    results.describe = timeCommand(node, [binRun, 'key', 'describe', keyId], {env: server.env, runs})
    if (haveAws) results.awsDescribe = timeCommand(AWS_CLI, ['kms', 'describe-key', '--key-id', keyId, '--endpoint-url', server.url], {env: server.env, runs: Math.max(5, Math.round(runs / 2))})
  } finally {
    await server.stop()
  }

  const ratios = {
    describeVsAws: results.awsDescribe ? results.describe.median / results.awsDescribe.median : undefined,
    helpVsNode: results.help.median / results.nodeBaseline.median,
    versionVsNode: results.version.median / results.nodeBaseline.median,
  }
  const lines = [
    `node -e 0                       ${fmt(results.nodeBaseline.median)}`,
    `kmsctl --version                ${fmt(results.version.median)}  (${ratios.versionVsNode.toFixed(2)}x node -e 0; target <= 3.5x)`,
    `kmsctl key list --help          ${fmt(results.help.median)}  (${ratios.helpVsNode.toFixed(2)}x node -e 0; target <= 3.5x)`,
    results.awsVersion ? `aws --version                   ${fmt(results.awsVersion.median)}` : 'aws CLI v2 not installed (/usr/bin/aws): AWS CLI comparisons skipped',
    `kmsctl key describe (sandbox)   ${fmt(results.describe.median)}`,
    results.awsDescribe ? `aws kms describe-key (sandbox)  ${fmt(results.awsDescribe.median)}  (kmsctl takes ${ratios.describeVsAws.toFixed(2)}x; target <= 0.35x)` : '',
  ].filter(Boolean)
  return {lines, name: 'startup', ratios, results}
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const r = await run()
  console.log(r.lines.join('\n'))
}
