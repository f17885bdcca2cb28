import {Args, Flags} from '@oclif/core'
import {readFile} from 'node:fs/promises'

import {KmsctlCommand} from '../../cli/base-command.js'
import {openInput} from '../../lib/data/files.js'
import {withPrincipal} from '../../lib/data/keys.js'
import {type VerifyResult, parseSignatureDocument, verifyFile} from '../../lib/data/signature.js'
import {ExitCode, KmsctlError, usageError} from '../../lib/errors.js'
import {chalk} from '../../lib/output.js'

export type DataVerifyResult = VerifyResult

export default class DataVerify extends KmsctlCommand<typeof DataVerify> {
  static override args = {
    file: Args.string({description: 'The signed file, or - for stdin.', required: true}),
    signature: Args.string({description: 'Signature document written by data sign (default FILE.sig.json).'}),
  }

  static override description = `Verify a file against a signature document from data sign: the file is hashed here (streamed), its digest compared with the signed one, and the signature checked by KMS (Verify with MessageType DIGEST) or, with --offline, locally with the key's public key (one GetPublicKey call; no kms:Verify permission needed).
Exits 0 when the signature is good, 1 when it is not (the file changed, or the signature does not verify), with a clear message either way.`

  static override examples = [
    {command: '<%= config.bin %> <%= command.id %> release-1.4.0.tar.gz', description: 'Checks release-1.4.0.tar.gz.sig.json with KMS'},
    {command: '<%= config.bin %> <%= command.id %> image.iso image.iso.sig --offline', description: 'With the public key, locally'},
  ]

  static override flags = {
    offline: Flags.boolean({description: 'Check the signature locally with the public key (GetPublicKey) instead of kms:Verify.'}),
  }

  async run(): Promise<DataVerifyResult> {
    const input = await openInput(this.args.file)
    const sigPath = this.args.signature ?? (input.name === '-' ? undefined : `${input.name}.sig.json`)
    if (!sigPath) throw usageError('Verifying stdin: give the signature document.', 'Try this: kmsctl data verify - FILE.sig.json')
    let text: string
    try {
      text = await readFile(sigPath, 'utf8')
    } catch (error) {
      throw usageError(`Cannot read the signature document ${sigPath}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message}.`, 'Try this: kmsctl data verify FILE SIGNATURE')
    }

    const doc = parseSignatureDocument(text, sigPath)
    let result: VerifyResult
    try {
      const kms = await this.aws.kms()
      result = await verifyFile(kms, doc, input, {offline: this.flags.offline})
    } catch (error) {
      throw error instanceof KmsctlError ? await withPrincipal(error, () => this.aws.callerIdentity()) : error
    }

    const how = result.method === 'kms' ? 'kms:Verify' : 'offline, with the public key'
    if (result.valid) {
      this.note(`${chalk.green('Good signature')}: ${input.name} signed by ${doc.keyArn} (${doc.signingAlgorithm}, ${how}), ${doc.signedAt}.`)
    } else {
      process.exitCode = ExitCode.FAILED
      const why =
        result.reason === 'digest-mismatch'
          ? `the file's ${result.digest.algorithm} digest ${result.digest.hex} is not the signed one ${doc.digest.hex}: the file changed since it was signed`
          : `the signature does not verify under ${doc.keyArn} (${doc.signingAlgorithm}, ${how})`
      if (this.jsonEnabled()) process.stderr.write(`${chalk.red('BAD signature')}: ${why}.\n`)
      else process.stderr.write(`${chalk.red('BAD signature')}: ${input.name}: ${why}.\n`)
    }

    return result
  }
}
