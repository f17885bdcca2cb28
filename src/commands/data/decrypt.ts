import {Args, Flags} from '@oclif/core'

import {KmsctlCommand} from '../../cli/base-command.js'
import {maxDataKeysFlag, outputFlags} from '../../cli/data-flags.js'
import {checkContext, decryptData} from '../../lib/data/envelope.js'
import {checkOutputPath, openInput, openOutput} from '../../lib/data/files.js'
import {resolveKeyArns, withPrincipal} from '../../lib/data/keys.js'
import {kmsForRegions} from '../../lib/data/kms-access.js'
import type {SuiteInfo} from '../../lib/data/message.js'
import {shortBytes} from '../../lib/data/render.js'
import {KmsctlError, usageError} from '../../lib/errors.js'
import {formatPairs} from '../../lib/output.js'
import {parsePairs, splitList} from '../../lib/parse.js'

export interface DataDecryptResult {
  input: string
  output: string
  bytesIn: number
  bytesOut: number
  messageId: string
  algorithm: SuiteInfo
  /** Every key ARN the message's data key is encrypted under. */
  keys: string[]
  /** The key whose kms:Decrypt returned the data key. */
  decryptedWith?: string
  encryptionContext: Record<string, string>
  mode: 'discovery' | 'strict'
}

export default class DataDecrypt extends KmsctlCommand<typeof DataDecrypt> {
  static override args = {
    file: Args.string({description: 'Encrypted file (AWS Encryption SDK message), or - for stdin.', required: true}),
  }

  static override description = `Decrypt a message written by data encrypt or any AWS Encryption SDK (streamed, any size).
Strict by default: the message must carry a data key encrypted under one of the --expect-key keys (aliases are resolved to key ARNs first); its other data keys are never sent to KMS. --discovery --account ID instead accepts any KMS key of those accounts. --expect-context k=v refuses a message whose encryption context lacks that pair, before any call to KMS. Key commitment is required, and messages with more than --max-encrypted-data-keys data keys are refused.
With -o, plaintext goes to a temporary file beside the target (mode 0600) that is renamed only once the whole message has been authenticated, and deleted on any failure: the target never holds partial or unauthenticated plaintext. Without -o, plaintext goes to stdout as it is decrypted, frame by frame; for a signed message the signature is only checked at the end, so when decryption fails (exit 1, "Authentication failed" or "truncated") whatever was already written to stdout must be discarded.`

  static override examples = [
    {command: '<%= config.bin %> <%= command.id %> backup.tar.enc --expect-key alias/backups --expect-context app=billing -o backup.tar', description: 'Decrypt to a file'},
    {command: '<%= config.bin %> <%= command.id %> app.sql.enc --expect-key alias/backups | psql app', description: 'To stdout (discard the output if the command fails)'},
    {command: '<%= config.bin %> <%= command.id %> shared.enc --discovery --account 111122223333 -o shared.txt', description: 'Any key of one account'},
  ]

  static override flags = {
    ...outputFlags,
    ...maxDataKeysFlag,
    account: Flags.string({description: 'With --discovery: account ID whose keys are accepted; repeat or comma-separate for several.', multiple: true}),
    discovery: Flags.boolean({description: 'Accept a data key under any KMS key of the --account accounts, instead of --expect-key.'}),
    'expect-context': Flags.string({description: 'Pair k=v the message\'s encryption context must contain; repeat for several.', multiple: true}),
    'expect-key': Flags.string({description: 'Key (ID, ARN, alias) the data key must be encrypted under; repeat for several.', multiple: true}),
    partition: Flags.string({default: 'aws', description: 'With --discovery: the AWS partition of the accounts.'}),
    'require-signature': Flags.boolean({description: 'Refuse a message without a signature (only committed-signed messages prove who wrote them).'}),
  }

  async run(): Promise<DataDecryptResult> {
    const {flags} = this
    const expectContext = parsePairs(flags['expect-context'], 'expect-context')
    checkContext(expectContext, 'expect-context')
    const accounts = splitList(flags.account)
    const expectKeys = flags['expect-key'] ?? []
    if (flags.discovery && expectKeys.length > 0) throw usageError('--discovery and --expect-key exclude each other.', 'Try this: --expect-key KEY (strict), or --discovery --account ID.')
    if (flags.discovery && accounts.length === 0) throw usageError('--discovery needs --account ID: kmsctl does not decrypt with keys of any account.', 'Try this: --discovery --account 111122223333')
    if (!flags.discovery && accounts.length > 0) throw usageError('--account is for --discovery.', 'Try this: --discovery --account ID, or --expect-key KEY.')
    if (!flags.discovery && expectKeys.length === 0) {
      throw usageError('Name the key the data key must be encrypted under: --expect-key KEY.', 'Try this: --expect-key alias/NAME (kmsctl data inspect FILE lists the message\'s keys), or --discovery --account ID.')
    }

    for (const a of accounts) if (!/^\d{12}$/.test(a)) throw usageError(`--account ${a} is not a 12-digit account ID.`)
    const toStdout = flags.output === undefined || flags.output === '-'
    if (toStdout && this.jsonEnabled()) throw usageError('--json prints its document on stdout: the plaintext needs -o FILE.', 'Try this: -o FILE --json')
    const input = await openInput(this.args.file)
    await checkOutputPath(flags.output, {force: flags.force, input: input.name})
    // Opened before anything is sent: an output that cannot be written stops the command first.
    const output = await openOutput(flags.output, {fsync: flags.fsync})
    try {
      const kms = await this.aws.kms()
      const expectKeyArns = flags.discovery ? undefined : (await resolveKeyArns(kms, expectKeys)).map((k) => k.arn)
      const r = await decryptData(input, output, kmsForRegions(this.aws), {
        discovery: flags.discovery ? {accountIds: accounts, partition: flags.partition} : undefined,
        expectContext,
        expectKeyArns,
        maxEncryptedDataKeys: flags['max-encrypted-data-keys'],
        requireSigned: flags['require-signature'],
      })
      this.note(
        `Decrypted ${input.name === '-' ? 'stdin' : input.name} to ${output.name === '-' ? 'stdout' : output.name} (${shortBytes(r.bytesOut)}) with ${r.decryptedWith ?? 'KMS'}` +
          `${Object.keys(r.header.encryptionContext).length > 0 ? `, context ${formatPairs(r.header.encryptionContext)}` : ''}; message authenticated.`,
      )
      return {
        algorithm: r.header.algorithm,
        bytesIn: r.bytesIn,
        bytesOut: r.bytesOut,
        decryptedWith: r.decryptedWith,
        encryptionContext: r.header.encryptionContext,
        input: input.name,
        keys: r.header.encryptedDataKeys.map((k) => k.keyArn),
        messageId: r.header.messageId,
        mode: flags.discovery ? 'discovery' : 'strict',
        output: output.name,
      }
    } catch (error) {
      await output.abort()
      throw error instanceof KmsctlError ? await withPrincipal(error, () => this.aws.callerIdentity()) : error
    }
  }
}
