import {Args, Flags} from '@oclif/core'

import {KmsctlCommand} from '../../cli/base-command.js'
import {parsePairs} from '../../lib/parse.js'
import {type CreateGrantResult, createGrant, precheckCreate} from '../../lib/grants/create.js'
import {constraintText} from '../../lib/grants/list.js'
import {renderFields} from '../../lib/output.js'

export type GrantCreateResult = CreateGrantResult

export const TOKEN_NOTE =
  'A new grant can take up to about 5 minutes to be usable everywhere. Until then the grantee can use it at once by passing the grant token (GrantTokens) with its requests.'

export default class GrantCreate extends KmsctlCommand<typeof GrantCreate> {
  static override args = {
    key: Args.string({description: 'Key ID, key ARN, alias name (alias/x) or alias ARN.', required: true}),
  }

  static override description = `Create a grant: let a principal use a key for some operations, optionally only with a given encryption context.
The operations are checked against what KMS allows for the key's type before anything is sent:
- symmetric encryption keys: Decrypt, Encrypt, GenerateDataKey, GenerateDataKeyWithoutPlaintext, GenerateDataKeyPair, GenerateDataKeyPairWithoutPlaintext, ReEncryptFrom, ReEncryptTo;
- asymmetric keys: Encrypt, Decrypt, ReEncryptFrom, ReEncryptTo (ENCRYPT_DECRYPT), Sign, Verify (SIGN_VERIFY) or DeriveSharedSecret (KEY_AGREEMENT), and GetPublicKey;
- HMAC keys: GenerateMac, VerifyMac;
- every key: CreateGrant, RetireGrant, DescribeKey.
An encryption-context constraint (--context-equals or --context-subset, one kind, at most 8 pairs) is only allowed on symmetric encryption keys.
With --name, KMS treats a retry with the same name and parameters as the same grant and returns it instead of making another.
The grant ID and the grant token are printed: a new grant can take up to about 5 minutes to be usable everywhere, and the grant token makes it usable at once.`

  static override examples = [
    {
      command: '<%= config.bin %> <%= command.id %> alias/payments --grantee arn:aws:iam::111122223333:role/app --operations Decrypt,GenerateDataKey',
      description: 'Let a role decrypt and make data keys',
    },
    {
      command: '<%= config.bin %> <%= command.id %> alias/payments --grantee arn:aws:iam::111122223333:role/app --operations Decrypt --context-equals tenant=acme',
      description: 'Only for requests whose encryption context is exactly tenant=acme',
    },
    {
      command: '<%= config.bin %> <%= command.id %> alias/payments --grantee arn:aws:iam::111122223333:role/batch --operations Encrypt --retiring-principal arn:aws:iam::111122223333:role/ops --name nightly-batch',
      description: 'A named grant that the ops role may retire',
    },
    {command: '<%= config.bin %> <%= command.id %> alias/payments --grantee arn:aws:iam::111122223333:role/app --operations Decrypt --dry-run', description: 'Show the CreateGrant request and send nothing'},
  ]

  static override flags = {
    'context-equals': Flags.string({description: 'Allow only requests whose encryption context is exactly these pairs (k=v, repeatable, at most 8).', multiple: true}),
    'context-subset': Flags.string({description: 'Allow only requests whose encryption context includes these pairs (k=v, repeatable, at most 8).', multiple: true}),
    'dry-run': Flags.boolean({description: 'Check everything and show the CreateGrant request, and send nothing.'}),
    grantee: Flags.string({description: 'The principal ARN that gets the permissions (role, user, assumed role, account root).', required: true}),
    name: Flags.string({description: 'A name for the grant; the same name and parameters make the request idempotent.'}),
    operations: Flags.string({description: 'Operations to allow, comma-separated or repeated (Decrypt,GenerateDataKey).', multiple: true, required: true}),
    'retiring-principal': Flags.string({description: 'A principal ARN allowed to retire the grant.'}),
  }

  async run(): Promise<GrantCreateResult> {
    const {flags} = this
    const input = {
      contextEquals: parsePairs(flags['context-equals'], 'context-equals'),
      contextSubset: parsePairs(flags['context-subset'], 'context-subset'),
      grantee: flags.grantee,
      key: this.args.key,
      name: flags.name,
      operations: flags.operations,
      retiringPrincipal: flags['retiring-principal'],
    }
    precheckCreate(input)
    const kms = await this.aws.kms()
    const ctx = flags['dry-run'] ? undefined : await this.journalContext()
    const result = await createGrant(kms, input, {ctx, dryRun: flags['dry-run']})
    if (!this.jsonEnabled()) this.render(result)
    return result
  }

  private render(r: CreateGrantResult): void {
    const q = r.request
    if (r.dryRun) {
      this.log(`Dry run: would send CreateGrant to ${r.keyId} (${r.keyType} key); nothing was sent.`)
      this.log(JSON.stringify(q, null, 2))
      return
    }

    this.log(
      renderFields([
        ['Grant ID', r.grantId],
        ['Grant token', r.grantToken],
        ['Key', r.keyArn],
        ['Grantee', q.GranteePrincipal],
        ['Operations', (q.Operations ?? []).join(', ')],
        ['Constraints', constraintText(q.Constraints)],
        ['Retiring principal', q.RetiringPrincipal],
        ['Name', q.Name],
      ]),
    )
    this.note(TOKEN_NOTE)
  }
}
