import {Flags} from '@oclif/core'

import {KmsctlCommand} from '../../cli/base-command.js'
import {KmsctlError} from '../../lib/errors.js'
import {mutationFlags} from '../../cli/flags.js'
import {parsePairs} from '../../lib/parse.js'
import {Journal} from '../../lib/journal.js'
import {type CreateStep, KEY_SPECS, KEY_USAGES, assertAliasFree, executeCreateKey, planCreateKey} from '../../lib/key-create.js'
import {type PlannedRequest, formatPairs, renderFields, renderPlannedRequests} from '../../lib/output.js'
import {ROTATION_PERIOD_MAX, ROTATION_PERIOD_MIN} from '../../lib/rotation.js'

export interface KeyCreateResult {
  dryRun: boolean
  /** The requests sent (or, with --dry-run, that would be sent), in order. */
  requests: PlannedRequest[]
  keyId?: string
  arn?: string
  alias?: string
  keySpec: string
  keyUsage: string
  description?: string
  multiRegion: boolean
  tags: Record<string, string>
  rotation?: {enabled: boolean; periodDays?: number}
  steps?: CreateStep[]
  journalId?: string
}

export default class KeyCreate extends KmsctlCommand<typeof KeyCreate> {
  static override description = `Create a customer managed key, and in the same command its alias, tags and automatic rotation.
The key spec and usage are checked against what KMS accepts before anything is sent (SYMMETRIC_DEFAULT: ENCRYPT_DECRYPT; RSA_*: ENCRYPT_DECRYPT or SIGN_VERIFY; ECC_NIST_P*: SIGN_VERIFY or KEY_AGREEMENT; ECC_SECG_P256K1, ECC_NIST_EDWARDS25519, ML_DSA_*: SIGN_VERIFY; HMAC_*: GENERATE_VERIFY_MAC; ML_KEM_*: ENCAPSULATE_DECAPSULATE). Without --usage, the only valid usage is used.
If the alias or rotation step fails, the key still exists: kmsctl says so, prints its ID and exits 1. The new key is recorded in the journal.`

  static override examples = [
    {command: '<%= config.bin %> <%= command.id %> --description "Payments data" --alias alias/payments --tag team=payments --rotation-days 180', description: 'A symmetric key with an alias, a tag, and rotation every 180 days'},
    {command: '<%= config.bin %> <%= command.id %> --spec RSA_3072 --usage SIGN_VERIFY --alias alias/release-signing', description: 'An RSA signing key'},
    {command: '<%= config.bin %> <%= command.id %> --spec HMAC_256 --alias alias/webhook-mac', description: 'An HMAC key (usage GENERATE_VERIFY_MAC is implied)'},
    {command: '<%= config.bin %> <%= command.id %> --policy-file policy.json --multi-region', description: 'A multi-Region primary key with your own key policy'},
    {command: '<%= config.bin %> <%= command.id %> --alias alias/payments --rotation-days 90 --dry-run', description: 'Show the CreateKey, CreateAlias and EnableKeyRotation requests, send nothing'},
  ]

  static override flags = {
    ...mutationFlags,
    alias: Flags.string({description: 'Create this alias (alias/NAME) for the new key.'}),
    description: Flags.string({description: 'Description of the key (up to 8192 characters).'}),
    'multi-region': Flags.boolean({description: 'Create a multi-Region primary key, which you can replicate to other regions.'}),
    'policy-file': Flags.string({description: 'Key policy document (JSON) instead of the default policy.'}),
    'rotation-days': Flags.integer({description: `Enable automatic rotation every N days (${ROTATION_PERIOD_MIN}..${ROTATION_PERIOD_MAX}); symmetric encryption keys only.`}),
    spec: Flags.string({description: `Key spec (default SYMMETRIC_DEFAULT): ${KEY_SPECS.join(', ')}.`}),
    tag: Flags.string({description: 'Tag k=v; repeat for several.', multiple: true}),
    usage: Flags.string({description: `Key usage: ${KEY_USAGES.join(', ')}.`}),
  }

  async run(): Promise<KeyCreateResult> {
    const {flags} = this
    const tags = parsePairs(flags.tag, 'tag')
    const plan = planCreateKey({
      alias: flags.alias,
      description: flags.description,
      multiRegion: flags['multi-region'],
      policyFile: flags['policy-file'],
      rotationDays: flags['rotation-days'],
      spec: flags.spec,
      tags,
      usage: flags.usage,
    })
    const result: KeyCreateResult = {
      description: flags.description,
      dryRun: Boolean(flags['dry-run']),
      keySpec: plan.createKey.KeySpec!,
      keyUsage: plan.createKey.KeyUsage!,
      multiRegion: Boolean(flags['multi-region']),
      requests: plan.requests,
      tags,
    }
    if (flags['dry-run']) {
      if (!this.jsonEnabled()) this.log(renderPlannedRequests(plan.requests))
      return result
    }

    const kms = await this.aws.kms()
    if (plan.alias) await assertAliasFree(kms, plan.alias)
    const journal = new Journal()
    const entry = journal.begin({...(await this.changeContext()), action: 'key.create', before: null, request: plan.requests})
    let outcome
    try {
      outcome = await executeCreateKey(kms, plan)
    } catch (error) {
      const e = error as KmsctlError
      journal.finish(entry.id, {error: {code: e.code ?? 'FAILED', message: e.message}, status: 'failed'})
      throw error
    }

    const after = {alias: outcome.alias, arn: outcome.arn, keyId: outcome.keyId, metadata: outcome.metadata, rotation: outcome.rotation, tags}
    const first = outcome.failed[0]
    journal.finish(entry.id, {after, status: first ? 'partial' : 'ok', ...(first ? {error: first.error} : {})})
    Object.assign(result, {alias: outcome.alias, arn: outcome.arn, journalId: entry.id, keyId: outcome.keyId, rotation: outcome.rotation, steps: outcome.steps})
    if (!this.jsonEnabled()) {
      this.log(
        renderFields([
          ['Key ID', outcome.keyId],
          ['ARN', outcome.arn],
          ['Alias', outcome.alias ?? (plan.alias ? `(not created: ${plan.alias})` : '(none)')],
          ['Spec', `${result.keySpec} ${result.keyUsage}`],
          ['Multi-Region', result.multiRegion ? 'yes (primary)' : undefined],
          ['Tags', Object.keys(tags).length > 0 ? formatPairs(tags) : undefined],
          ['Rotation', outcome.rotation ? (outcome.rotation.enabled ? `on, every ${outcome.rotation.periodDays} days` : '(not enabled)') : undefined],
        ]),
      )
      if (!first) this.note(`Created ${outcome.keyId} (journal ${entry.id}).`)
    }

    if (first) {
      const remedies = outcome.failed.map((s) =>
        s.operation === 'CreateAlias' ? `kmsctl alias create ${plan.alias} ${outcome.keyId}` : `kmsctl key rotation enable ${outcome.keyId} --period-days ${plan.rotationDays}`,
      )
      throw new KmsctlError(
        'FAILED',
        `Key ${outcome.keyId} was created, but ${outcome.failed.map((s) => `${s.operation} failed: ${(s.error?.message ?? '').replace(/\.$/, '')}`).join('; ')}. The key exists.`,
        {
          details: {arn: outcome.arn, failed: outcome.failed, journalId: entry.id, keyId: outcome.keyId, steps: outcome.steps},
          exitCode: 1,
          remedy: `Try this: ${remedies.join(' && ')}`,
        },
      )
    }

    return result
  }
}
