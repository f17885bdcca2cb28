import {Args, Flags} from '@oclif/core'

import {KmsctlCommand} from '../../cli/base-command.js'
import {parsePairs} from '../../lib/parse.js'
import {keyLabel, resolveKey} from '../../lib/key-ref.js'
import {chalk, formatPairs, renderTable} from '../../lib/output.js'
import {type VerifyReport, type VerifyStep, verifyKey} from '../../lib/verify.js'

export type KeyVerifyResult = VerifyReport

const METHOD_TEXT: Record<VerifyReport['method'], string> = {
  'data-key': 'data key round trip (GenerateDataKey, Decrypt, compare)',
  encapsulate: 'Encapsulate, Decapsulate, compare',
  'encrypt-decrypt': 'Encrypt, Decrypt, compare',
  'key-agreement': 'DeriveSharedSecret against a local ECDH',
  mac: 'GenerateMac, VerifyMac',
  'sign-verify': 'Sign, Verify',
}

export default class KeyVerify extends KmsctlCommand<typeof KeyVerify> {
  static override args = {
    key: Args.string({description: 'Key ID, key ARN, alias name (alias/x) or alias ARN.', required: true}),
  }

  static override description = `Prove that a key works end to end, as applications use it, and report each step with its latency.
Symmetric encryption keys: GenerateDataKey, then Decrypt of the returned ciphertext, compared in memory (the envelope encryption flow). Asymmetric keys: Sign/Verify or Encrypt/Decrypt by key usage. HMAC keys: GenerateMac/VerifyMac. Key agreement keys: DeriveSharedSecret checked against a local ECDH. ML-KEM keys: Encapsulate/Decapsulate.
Nothing secret is printed or kept: data keys and plaintexts are compared in memory and zeroed. Exits 1 when a step fails (for example, the key is disabled). The check a runbook runs after re-enabling a key.`

  static override examples = [
    {command: '<%= config.bin %> <%= command.id %> alias/payments', description: 'Check a key'},
    {command: '<%= config.bin %> <%= command.id %> alias/payments --context app=billing --context env=prod', description: 'With the encryption context your application uses'},
    {command: '<%= config.bin %> <%= command.id %> alias/payments --json', description: 'The report as JSON (exit 1 when a step failed)'},
  ]

  static override flags = {
    context: Flags.string({description: 'Encryption context pair k=v for symmetric keys; repeat for several.', multiple: true}),
  }

  async run(): Promise<KeyVerifyResult> {
    const context = parsePairs(this.flags.context, 'context')
    const kms = await this.aws.kms()
    const key = await resolveKey(kms, this.args.key)
    // verifyKey refuses a key it cannot check, or --context on a key that takes none, before sending anything.
    const report = await verifyKey(kms, key, {context})
    this.exitWith(report.ok ? 'ok' : 'failed')
    if (!this.jsonEnabled()) this.render(report)
    return report
  }

  private render(r: VerifyReport): void {
    const context = r.encryptionContext ? `, context ${formatPairs(r.encryptionContext, ',')}` : ''
    this.note(`Verifying ${keyLabel(r.ref, r.keyId)}: ${r.keySpec} ${r.keyUsage}, state ${r.state}${context}`)
    this.note(`Method: ${METHOD_TEXT[r.method]}`)
    const result = (s: VerifyStep) => (s.status === 'ok' ? chalk.green('ok') : s.status === 'failed' ? chalk.red('FAILED') : chalk.dim('skipped'))
    this.log(
      renderTable<VerifyStep>(r.steps, [
        {get: (s) => s.step, header: 'Step', kind: 'name'},
        {get: result, header: 'Result', kind: 'fixed'},
        {align: 'right', get: (s) => (s.ms === undefined ? '' : `${s.ms.toFixed(1)} ms`), header: 'Latency', kind: 'fixed', priority: 3},
        {get: (s) => (s.status === 'failed' ? (s.error?.message ?? '') : (s.detail ?? '')), header: 'Detail', kind: 'text', minWidth: 16},
      ]),
    )
    if (r.ok) {
      this.note(`${chalk.green('Key works')}: ${r.steps.length} steps in ${r.totalMs.toFixed(1)} ms.`)
    } else {
      process.stderr.write(`${chalk.red('Error:')} ${r.ref} failed verification: ${r.failure}\n`)
      const remedy =
        r.state === 'Disabled'
          ? `the key is Disabled; kmsctl key enable ${r.ref}, if that is intended`
          : r.state === 'PendingDeletion'
            ? `the key is pending deletion; kmsctl key cancel-deletion ${r.ref}, if that is intended`
            : r.state === 'Enabled'
              ? undefined
              : `the key is ${r.state}; see kmsctl key describe ${r.ref}`
      if (remedy) process.stderr.write(`Try this: ${remedy}.\n`)
    }
  }
}
