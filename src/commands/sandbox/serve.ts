import {Flags} from '@oclif/core'
import {existsSync, statSync} from 'node:fs'

import {KmsctlCommand} from '../../cli/base-command.js'
import {KmsctlError, usageError} from '../../lib/errors.js'
import {defaultSandboxDir} from '../../lib/home.js'
import {DEFAULT_PORT, NOT_FOR_REAL_DATA} from '../../sandbox/constants.js'
import {isLoopbackHost, startHttpServer} from '../../sandbox/http/server.js'
import {describeSettings, realismFlags, settingsFromFlags} from '../../cli/sandbox-flags.js'

export interface ServeResult {
  dir: string
  port: number
  url: string
}

export default class SandboxServe extends KmsctlCommand<typeof SandboxServe> {
  static override description = `Serve the sandbox (KMS, CloudTrail LookupEvents and Lake queries, STS GetCallerIdentity, S3, Athena) over HTTP.

Any AWS client works against it with --endpoint-url (AWS JSON 1.1 for KMS, CloudTrail and Athena, the query protocol for STS,
REST-XML for S3, path-style or virtual-host-style). S3 answers ListBuckets, ListObjectsV2, GetObject, HeadObject and
PutObject (SSE-S3 and SSE-KMS: an SSE-KMS object is read only by a caller KMS lets decrypt its data key) over the folders of
<sandbox-dir>/s3/ (sandbox export-trail --bucket writes there) and the directories given with --bucket NAME=DIR. Athena runs SELECT statements for real,
in an embedded DuckDB, over the tables that CREATE EXTERNAL TABLE places on those buckets; CloudTrail Lake queries run over
the sandbox's own events.
Every KMS call is recorded as a CloudTrail event. Runs until Ctrl-C (SIGINT) or SIGTERM.
Requests must be signed (AWS Signature Version 4); signatures made with the default sandbox credentials or a
principal's secret are checked. Only requests addressed to 127.0.0.1, localhost or [::1] are answered unless
--allow-remote is given.
${NOT_FOR_REAL_DATA}`

  static override examples = [
    '<%= config.bin %> sandbox serve',
    '<%= config.bin %> sandbox serve --port 0 --json',
    'aws --endpoint-url http://127.0.0.1:4599 kms list-keys',
    '<%= config.bin %> sandbox serve --bucket org-trail=./trail-logs',
    'aws --endpoint-url http://127.0.0.1:4599 s3api list-objects-v2 --bucket org-trail --prefix AWSLogs/ --delimiter /',
    '<%= config.bin %> sandbox serve --quotas aws --latency 10ms-50ms --fail-rate 0.05',
  ]

  static override flags = {
    bucket: Flags.string({description: 'Serve a directory as an S3 bucket: NAME=DIR (repeatable).', multiple: true}),
    'allow-remote': Flags.boolean({description: 'Allow listening on a non-loopback address and answering any Host name (anyone who can reach it can use the sandbox).'}),
    host: Flags.string({default: '127.0.0.1', description: 'Address to listen on.'}),
    port: Flags.integer({default: DEFAULT_PORT, description: 'Port to listen on (0 picks a free one).', max: 65_535, min: 0}),
    ...realismFlags,
  }

  async run(): Promise<ServeResult | undefined> {
    const {flags} = this
    if (!isLoopbackHost(flags.host) && !flags['allow-remote']) {
      throw usageError(`Refusing to listen on ${flags.host}: it is not a loopback address.`, 'Try this: --host 127.0.0.1, or pass --allow-remote if other machines must reach the sandbox.')
    }

    const dir = flags['sandbox-dir'] ?? defaultSandboxDir()
    const buckets: Array<[string, string]> = []
    for (const b of flags.bucket ?? []) {
      const at = b.indexOf('=')
      const name = b.slice(0, at)
      const path = b.slice(at + 1)
      if (at < 1 || !/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(name) || !path) throw usageError(`--bucket "${b}" is not NAME=DIR with a bucket name.`, 'Try this: --bucket org-trail=./trail-logs')
      if (!existsSync(path) || !statSync(path).isDirectory()) throw usageError(`--bucket ${name}: no such directory: ${path}`, 'Try this: a directory holding AWSLogs/ (kmsctl sandbox export-trail DIR writes one).')
      buckets.push([name, path])
    }

    const server = await startHttpServer({allowRemote: flags['allow-remote'], buckets, dir, host: flags.host, limits: {overrides: settingsFromFlags(flags)}, port: flags.port}).catch((error: NodeJS.ErrnoException) => {
      if (error?.code === 'EADDRINUSE') {
        throw new KmsctlError('FAILED', `Port ${flags.port} on ${flags.host} is already in use.`, {cause: error, remedy: 'Try this: --port 0 (any free port), or stop what listens there.'})
      }

      if (error?.code === 'EADDRNOTAVAIL' || error?.code === 'ENOTFOUND') {
        throw usageError(`Cannot listen on ${flags.host}: no such local address.`, 'Try this: --host 127.0.0.1')
      }

      throw error
    })
    const result: ServeResult = {dir, port: server.port, url: server.url}
    if (this.jsonEnabled()) this.logJson(result)
    else process.stdout.write(`Sandbox listening on ${server.url} (state: ${dir})\n`)
    this.note(NOT_FOR_REAL_DATA)
    const realismLine = describeSettings(server.core.limits.settings.current())
    if (realismLine) this.note(`Realism: ${realismLine}.`)
    await new Promise<void>((resolve) => {
      const stop = () => {
        process.off('SIGINT', stop)
        process.off('SIGTERM', stop)
        resolve()
      }

      process.on('SIGINT', stop)
      process.on('SIGTERM', stop)
    })
    await server.close()
    this.note('Sandbox stopped.')
    // Under --json the document was printed when listening; nothing more on stdout.
    return this.jsonEnabled() ? undefined : result
  }
}
