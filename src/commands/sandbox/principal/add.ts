import {Args, Flags} from '@oclif/core'

import {KmsctlCommand} from '../../../cli/base-command.js'
import {mutationFlags} from '../../../cli/flags.js'
import {splitList} from '../../../lib/parse.js'
import {defaultSandboxDir} from '../../../lib/home.js'
import {SANDBOX_ACCOUNT} from '../../../sandbox/constants.js'
import {type AddPrincipalResult, addPrincipal} from '../../../sandbox/identity/principals.js'

export type PrincipalAddResult = AddPrincipalResult

export default class SandboxPrincipalAdd extends KmsctlCommand<typeof SandboxPrincipalAdd> {
  static override args = {
    accessKeyId: Args.string({description: 'The access key ID requests are signed with (AWS_ACCESS_KEY_ID).', required: true}),
    arn: Args.string({description: 'Who it acts as: an IAM user, an assumed-role session or an account root, of any account.', required: true}),
  }

  static override description = `Make an access key act as a principal of the sandbox.

Requests signed with this access key ID are attributed to the principal: the key policy, grants and the principal's IAM allow list decide what it may do, CloudTrail records carry its identity and STS GetCallerIdentity returns it. The sandbox has no IAM: --iam-allow lists the KMS actions the principal's IAM policies would allow (none by default; the built-in administrator has kms:*). An access key not in the map acts as the administrator. With --secret-access-key the sandbox checks every request's signature against that secret (it always does for the default sandbox credentials). A running \`sandbox serve\` sees the change at once.`

  static override examples = [
    '<%= config.bin %> sandbox principal add AKIAEXAMPLEREADER001 arn:aws:iam::111122223333:user/reader',
    '<%= config.bin %> sandbox principal add AKIAEXAMPLEAPP000001 arn:aws:sts::111122223333:assumed-role/App/worker-1 --iam-allow kms:Decrypt,kms:DescribeKey',
    '<%= config.bin %> sandbox principal add AKIAEXAMPLEPARTNER01 arn:aws:iam::444455556666:root',
    '<%= config.bin %> sandbox principal add AKIAEXAMPLESIGNED001 arn:aws:iam::111122223333:user/ci --secret-access-key "$CI_SECRET" --iam-allow kms:Describe*',
    '<%= config.bin %> sandbox principal add AKIAEXAMPLES3000001 arn:aws:iam::111122223333:user/uploader --iam-allow kms:GenerateDataKey --via-service s3.us-east-1.amazonaws.com',
  ]

  static override flags = {
    ...mutationFlags,
    'iam-allow': Flags.string({description: 'KMS actions its IAM policies allow, comma-separated (wildcards: kms:*, kms:Describe*).', multiple: true}),
    replace: Flags.boolean({description: 'Replace what this access key acted as before.'}),
    'secret-access-key': Flags.string({description: 'The secret the access key signs with: the sandbox then refuses requests whose signature does not match it. Never printed.'}),
    'via-service': Flags.string({description: 'Its calls come through this AWS service (sets kms:ViaService), e.g. s3.us-east-1.amazonaws.com.'}),
  }

  async run(): Promise<PrincipalAddResult> {
    const {args, flags} = this
    const dir = flags['sandbox-dir'] ?? defaultSandboxDir()
    const result = await addPrincipal(
      dir,
      {
        accessKeyId: args.accessKeyId,
        arn: args.arn,
        dryRun: flags['dry-run'],
        iamAllow: splitList(flags['iam-allow']),
        nowMs: Date.now(),
        replace: flags.replace,
        secretAccessKey: flags['secret-access-key'],
        viaService: flags['via-service'],
      },
      SANDBOX_ACCOUNT,
    )
    if (!this.jsonEnabled()) {
      const p = result.principal
      const allow = p.iamAllow.length > 0 ? p.iamAllow.join(', ') : 'nothing (key policies and grants only)'
      const verb = result.dryRun ? 'Would map' : result.changed ? 'Mapped' : 'Already mapped:'
      process.stdout.write(`${verb} ${p.accessKeyId} -> ${p.arn} (${p.type}${p.crossAccount ? `, account ${p.accountId}` : ''}); IAM allows ${allow}\n`)
      if (result.previous) this.note(`It acted as ${result.previous.arn} before.`)
    }

    return result
  }
}
