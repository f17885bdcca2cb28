import {Args, Flags} from '@oclif/core'
import {join} from 'node:path'

import {KmsctlCommand} from '../../cli/base-command.js'
import {KmsctlError, usageError} from '../../lib/errors.js'
import {defaultSandboxDir} from '../../lib/home.js'
import {type ExportTrailResult, SandboxAdminError, exportSandboxTrail} from '../../sandbox/admin.js'

export type ExportResult = ExportTrailResult

export default class SandboxExportTrail extends KmsctlCommand<typeof SandboxExportTrail> {
  static override args = {
    dir: Args.string({description: 'Directory to write the log files to (created if missing); or give --bucket.'}),
  }

  static override description = `Write the sandbox's CloudTrail events as CloudTrail log files, in the layout a trail delivers to S3.

Files go to AWSLogs/ACCOUNT/CloudTrail/REGION/YYYY/MM/DD/ under the directory, named ACCOUNT_CloudTrail_REGION_YYYYMMDDTHHmmZ_ID.json.gz, each holding {"Records": [...]}: the input that \`kmsctl trail\` commands and other CloudTrail tools read from S3 or disk.

With --org, the organization trail's layout: AWSLogs/ORG/ACCOUNT/CloudTrail/..., each event in its recipient account, a call from another account's principal also in the caller's account (one sharedEventID, an eventID of each account's own), and digest files beside the logs. With --bucket, the files go into one of the sandbox's S3 buckets (a folder of <sandbox-dir>/s3/), which \`sandbox serve\` serves to \`trail query --source s3\` and Athena.`

  static override examples = [
    '<%= config.bin %> sandbox export-trail ./trail-logs',
    '<%= config.bin %> sandbox export-trail --org o-exampleorgid --bucket org-trail',
    '<%= config.bin %> sandbox export-trail --org o-exampleorgid --bucket org-trail --sse-kms alias/trail-logs',
  ]

  static override flags = {
    bucket: Flags.string({description: 'Write into this bucket of the sandbox\'s S3 (created if missing) instead of DIR.'}),
    org: Flags.string({description: 'Organization ID (o- and 10 to 32 lower-case letters or digits): the organization trail layout.'}),
    'sse-kms': Flags.string({
      description: 'With --bucket: encrypt the log objects with SSE-KMS under this sandbox KMS key (ID, ARN or alias), as a trail with a KMS key delivers them. Reading them then needs kms:Decrypt on the key.',
    }),
  }

  async run(): Promise<ExportResult> {
    const {bucket, org, 'sse-kms': sseKms} = this.flags
    if (org !== undefined && !/^o-[a-z0-9]{10,32}$/.test(org)) throw usageError(`--org "${org}" is not an organization ID.`, 'Try this: --org o-exampleorgid')
    if (bucket !== undefined && !/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket)) throw usageError(`--bucket "${bucket}" is not a bucket name.`, 'Try this: --bucket org-trail')
    if (bucket && this.args.dir) throw usageError('Give a directory or --bucket, not both.', 'Try this: kmsctl sandbox export-trail --bucket org-trail')
    if (!bucket && !this.args.dir) throw usageError('Where to? Give a directory, or --bucket NAME for the sandbox\'s S3.', 'Try this: kmsctl sandbox export-trail ./trail-logs')
    if (sseKms !== undefined && !bucket) throw usageError('--sse-kms encrypts objects of the sandbox\'s S3: give --bucket.', `Try this: kmsctl sandbox export-trail --bucket org-trail --sse-kms ${sseKms}`)
    if (sseKms !== undefined && sseKms.trim() === '') throw usageError('--sse-kms is empty.', 'Try this: --sse-kms alias/trail-logs (a key of the sandbox)')
    const sandboxDir = this.flags['sandbox-dir'] ?? defaultSandboxDir()
    const outDir = bucket ? join(sandboxDir, 's3', bucket) : this.args.dir!
    let result: ExportTrailResult
    try {
      result = await exportSandboxTrail(sandboxDir, outDir, {org, ...(sseKms && bucket ? {sseKms: {bucket, keyId: sseKms}} : {})})
    } catch (error) {
      if (!(error instanceof SandboxAdminError)) throw error
      throw new KmsctlError('FAILED', error.message, {remedy: 'Try this: a key of the sandbox that is enabled and that you may use (kmsctl key list --sandbox).'})
    }

    if (!this.jsonEnabled()) {
      const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`
      process.stdout.write(
        `Wrote ${plural(result.records, 'CloudTrail record')} in ${plural(result.files.length, 'log file')} under ${bucket ? `s3://${bucket}/ (${result.outDir})` : result.outDir}${result.sseKmsKeyId ? `, SSE-KMS under ${result.sseKmsKeyId}` : ''}\n`,
      )
    }

    return result
  }
}
