import {Args, Flags} from '@oclif/core'

import {KmsctlCommand} from '../../cli/base-command.js'
import {maxDataKeysFlag, outputFlags} from '../../cli/data-flags.js'
import {DEFAULT_FRAME_LENGTH, checkContext, checkFrameLength, encryptData} from '../../lib/data/envelope.js'
import {checkOutputPath, openInput, openOutput} from '../../lib/data/files.js'
import {checkEncryptionKey, resolveKeyArns, withPrincipal} from '../../lib/data/keys.js'
import {kmsForRegions} from '../../lib/data/kms-access.js'
import {SUITES, type SuiteChoice, type SuiteInfo} from '../../lib/data/message.js'
import {shortBytes} from '../../lib/data/render.js'
import {KmsctlError, usageError} from '../../lib/errors.js'
import {formatPairs} from '../../lib/output.js'
import {parsePairs} from '../../lib/parse.js'

export interface DataEncryptResult {
  input: string
  output: string
  bytesIn: number
  bytesOut: number
  messageId: string
  algorithm: SuiteInfo
  /** The key ARNs the data key is encrypted under (the first generated it). */
  keys: string[]
  encryptionContext: Record<string, string>
  frameLength: number
}

export default class DataEncrypt extends KmsctlCommand<typeof DataEncrypt> {
  static override args = {
    file: Args.string({description: 'File to encrypt, or - for stdin.', required: true}),
  }

  static override description = `Encrypt a file (any size, streamed) with envelope encryption, in the AWS Encryption SDK message format.
KMS generates a data key under the first --key (GenerateDataKey) and encrypts a copy of it under each further --key (Encrypt); the data is encrypted here with AES-256-GCM, in frames, and the encrypted data keys travel in the message header with the encryption context. Any AWS Encryption SDK (and its CLI) can decrypt the result, given kms:Decrypt on one of the keys.
The algorithm suite commits to the data key (key commitment). By default it is ALG_AES256_GCM_IV12_TAG16_HKDF_SHA512_COMMIT_KEY (--algorithm committed): the data is authenticated under the data key, so anyone who can decrypt the data key could also have written the message. --algorithm committed-signed (the SDK's own default) adds an ECDSA P-384 signature over the whole message with a key made for this message, so that readers who may decrypt cannot forge messages: use it when those who decrypt are less trusted than those who encrypt (it costs a SHA-384 pass over the data, about half the throughput).
The encryption context is not secret (anyone can read it with data inspect) but it is authenticated: decrypt needs the same context, and CloudTrail records it with each GenerateDataKey and Decrypt. Without -o the ciphertext goes to stdout (never to a terminal).`

  static override examples = [
    {command: '<%= config.bin %> <%= command.id %> backup.tar --key alias/backups --context app=billing --context env=prod -o backup.tar.enc', description: 'Encrypt a file under an alias, with an encryption context'},
    {command: '<%= config.bin %> <%= command.id %> secrets.env --key alias/ops-eu --key arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab -o secrets.env.enc', description: 'Under two keys: either one can decrypt'},
    {command: '<%= config.bin %> <%= command.id %> - --key alias/backups --context db=app < app.sql > app.sql.enc', description: 'From stdin to stdout (or in a pipe: pg_dump app | kmsctl data encrypt - ...)'},
  ]

  static override flags = {
    ...outputFlags,
    ...maxDataKeysFlag,
    algorithm: Flags.string({
      default: 'committed',
      description: 'Algorithm suite: committed (AES-256-GCM with key commitment) or committed-signed (plus an ECDSA P-384 signature over the message).',
      options: Object.keys(SUITES),
    }),
    context: Flags.string({description: 'Encryption context pair k=v; repeat for several.', multiple: true}),
    'frame-length': Flags.integer({default: DEFAULT_FRAME_LENGTH, description: 'Frame length in bytes (plaintext per authenticated frame).'}),
    key: Flags.string({description: 'Key ID, key ARN, alias name or alias ARN of a symmetric encryption key; repeat to encrypt the data key under several keys.', multiple: true, required: true}),
  }

  async run(): Promise<DataEncryptResult> {
    const {flags} = this
    const context = parsePairs(flags.context, 'context')
    checkContext(context, 'context')
    checkFrameLength(flags['frame-length'])
    const toStdout = flags.output === undefined || flags.output === '-'
    if (toStdout && this.jsonEnabled()) throw usageError('--json prints its document on stdout: the ciphertext needs -o FILE.', 'Try this: -o FILE.enc --json')
    if (toStdout && process.stdout.isTTY) throw usageError('The ciphertext is binary: not written to a terminal.', 'Try this: -o FILE.enc, or redirect stdout to a file.')
    if (flags.key.length > flags['max-encrypted-data-keys']) {
      throw usageError(`${flags.key.length} keys is more than --max-encrypted-data-keys ${flags['max-encrypted-data-keys']}.`, 'Try this: fewer --key flags, or raise --max-encrypted-data-keys.')
    }

    const input = await openInput(this.args.file)
    await checkOutputPath(flags.output, {force: flags.force, input: input.name})
    // Opened before anything is sent: an output that cannot be written stops the command first.
    const output = await openOutput(flags.output, {fsync: flags.fsync})
    try {
      const kms = await this.aws.kms()
      const keys = await resolveKeyArns(kms, flags.key)
      for (const k of keys) checkEncryptionKey(k)
      const r = await encryptData(input, output, kmsForRegions(this.aws), {
        context,
        frameLength: flags['frame-length'],
        keyArns: keys.map((k) => k.arn),
        maxEncryptedDataKeys: flags['max-encrypted-data-keys'],
        suite: flags.algorithm as SuiteChoice,
      })
      const result: DataEncryptResult = {
        algorithm: r.header.algorithm,
        bytesIn: r.bytesIn,
        bytesOut: r.bytesOut,
        encryptionContext: r.header.encryptionContext,
        frameLength: r.header.frameLength,
        input: input.name,
        keys: r.header.encryptedDataKeys.map((k) => k.keyArn),
        messageId: r.header.messageId,
        output: output.name,
      }
      this.note(
        `Encrypted ${input.name === '-' ? 'stdin' : input.name} (${shortBytes(r.bytesIn)}) to ${output.name === '-' ? 'stdout' : output.name} (${shortBytes(r.bytesOut)}) under ${keys.map((k) => k.ref).join(', ')}` +
          `${Object.keys(context).length > 0 ? `, context ${formatPairs(context)}` : ', no encryption context'}; ${r.header.algorithm.name}.`,
      )
      return result
    } catch (error) {
      await output.abort()
      throw error instanceof KmsctlError ? await withPrincipal(error, () => this.aws.callerIdentity()) : error
    }
  }
}
