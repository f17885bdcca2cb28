import {Args} from '@oclif/core'

import {KmsctlCommand} from '../../cli/base-command.js'
import {defaultSandboxDir} from '../../lib/home.js'
import {type ExportTrailResult, exportSandboxTrail} from '../../sandbox/admin.js'

export type ExportResult = ExportTrailResult

export default class SandboxExportTrail extends KmsctlCommand<typeof SandboxExportTrail> {
  static override args = {
    dir: Args.string({description: 'Directory to write the log files to (created if missing).', required: true}),
  }

  static override description = `Write the sandbox's CloudTrail events as CloudTrail log files, in the layout a trail delivers to S3.

Files go to AWSLogs/ACCOUNT/CloudTrail/REGION/YYYY/MM/DD/ under the directory, named ACCOUNT_CloudTrail_REGION_YYYYMMDDTHHmmZ_ID.json.gz, each holding {"Records": [...]}: the input that \`kmsctl trail\` commands and other CloudTrail tools read from S3 or disk.`

  static override examples = ['<%= config.bin %> sandbox export-trail ./trail-logs']

  async run(): Promise<ExportResult> {
    const result = exportSandboxTrail(this.flags['sandbox-dir'] ?? defaultSandboxDir(), this.args.dir)
    if (!this.jsonEnabled()) {
      const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`
      process.stdout.write(`Wrote ${plural(result.records, 'CloudTrail record')} in ${plural(result.files.length, 'log file')} under ${result.outDir}\n`)
    }

    return result
  }
}
