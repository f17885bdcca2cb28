import {Args, Flags} from '@oclif/core'

import {KmsctlCommand} from '../../cli/base-command.js'
import {checkOutputPath, openInput, openOutput} from '../../lib/data/files.js'
import {checkSigningKey, resolveKeyArns, withPrincipal} from '../../lib/data/keys.js'
import {type SignatureDocument, chooseSigningAlgorithm, signFile} from '../../lib/data/signature.js'
import {KmsctlError, usageError} from '../../lib/errors.js'

export interface DataSignResult {
  file: string
  /** Where the signature document was written ("-" for stdout). */
  output: string
  document: SignatureDocument
}

export default class DataSign extends KmsctlCommand<typeof DataSign> {
  static override args = {
    file: Args.string({description: 'File to sign, or - for stdin.', required: true}),
  }

  static override description = `Sign a file (any size) with an asymmetric KMS key: the file is hashed here in one streamed pass and only its digest is sent to KMS (Sign with MessageType DIGEST).
Writes a small JSON signature document (key ARN, signing algorithm, digest algorithm and hex digest, base64 signature, time) to FILE.sig.json, or -o PATH. data verify checks it, with KMS or offline with the public key; anyone can also check it with the public key and openssl, since the signature is the standard one over the file with that hash.
The key must be an RSA or ECC key with KeyUsage SIGN_VERIFY; the algorithm defaults to the key's first (ECDSA_SHA_256 for ECC_NIST_P256, RSASSA_PKCS1_V1_5_SHA_256 for RSA, as KMS lists them).`

  static override examples = [
    {command: '<%= config.bin %> <%= command.id %> release-1.4.0.tar.gz --key alias/release-signing', description: 'Writes release-1.4.0.tar.gz.sig.json'},
    {command: '<%= config.bin %> <%= command.id %> image.iso --key alias/release-rsa --algorithm RSASSA_PKCS1_V1_5_SHA_256 -o image.iso.sig', description: 'With a chosen algorithm and path'},
  ]

  static override flags = {
    algorithm: Flags.string({description: 'Signing algorithm (e.g. ECDSA_SHA_256, RSASSA_PSS_SHA_256); default: the key\'s first.'}),
    force: Flags.boolean({description: 'Replace the signature file if it exists.'}),
    key: Flags.string({description: 'Key ID, key ARN, alias name or alias ARN of an asymmetric SIGN_VERIFY key.', required: true}),
    output: Flags.string({char: 'o', description: 'Signature document path (default FILE.sig.json; - for stdout).'}),
  }

  async run(): Promise<DataSignResult> {
    const {flags} = this
    const input = await openInput(this.args.file)
    const outPath = flags.output ?? (input.name === '-' ? undefined : `${input.name}.sig.json`)
    if (outPath === undefined) throw usageError('Signing stdin: say where the signature document goes.', 'Try this: -o FILE.sig.json, or -o - for stdout.')
    if (outPath === '-' && this.jsonEnabled()) throw usageError('--json prints its document on stdout: the signature needs -o FILE.', 'Try this: -o FILE.sig.json --json')
    await checkOutputPath(outPath, {force: flags.force, input: input.name})
    try {
      const kms = await this.aws.kms()
      const [key] = await resolveKeyArns(kms, [flags.key])
      checkSigningKey(key)
      const algorithm = chooseSigningAlgorithm(key.metadata?.SigningAlgorithms, flags.algorithm, flags.key)
      const document = await signFile(kms, {file: input, keyArn: key.arn, signingAlgorithm: algorithm})
      const text = JSON.stringify(document, null, 2) + '\n'
      if (outPath === '-') {
        process.stdout.write(text)
      } else {
        const out = await openOutput(outPath)
        await out.write([Buffer.from(text)])
        await out.commit()
      }

      this.note(`Signed ${input.name === '-' ? 'stdin' : input.name} (${document.digest.algorithm} ${document.digest.hex}) with ${flags.key}, ${algorithm}: ${outPath === '-' ? 'stdout' : outPath}.`)
      return {document, file: input.name, output: outPath}
    } catch (error) {
      throw error instanceof KmsctlError ? await withPrincipal(error, () => this.aws.callerIdentity()) : error
    }
  }
}
