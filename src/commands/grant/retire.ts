import {Args, Flags} from '@oclif/core'

import {KmsctlCommand} from '../../cli/base-command.js'
import {RETIRE_VS_REVOKE} from '../../cli/help-text.js'
import {KmsctlError, usageError} from '../../lib/errors.js'
import {keyForGrant, lookupGrant, resultError, retireByToken, revokeGrants} from '../../lib/grants/revoke.js'
import {validateGrantId, validateGrantToken} from '../../lib/grants/validate.js'

export interface GrantRetireResult {
  dryRun: boolean
  /** 'token' or 'id'. */
  by: 'id' | 'token'
  keyId?: string
  grantId?: string
  /** What was (or would be) sent; a grant token is shown as "(grant token)". */
  request: Record<string, string>
  retired: boolean
  journalId?: string
}


export default class GrantRetire extends KmsctlCommand<typeof GrantRetire> {
  static override args = {
    key: Args.string({description: 'Key ID, key ARN, alias name or alias ARN of the grant\'s key (with GRANT_ID).'}),
    grant_id: Args.string({description: 'The grant ID.'}),
  }

  static override description = `Retire a grant, by its grant token (--token) or by KEY and GRANT_ID.
${RETIRE_VS_REVOKE}
Retiring by KEY GRANT_ID reads the grant first (kms:ListGrants) to journal it; when that is not allowed the grant is still retired, and only its ID is journalled. With a key ARN, the key is not described first (a retiring principal often may not).`

  static override examples = [
    {command: '<%= config.bin %> <%= command.id %> --token "$GRANT_TOKEN"', description: 'Retire by grant token (as the grantee or retiring principal)'},
    {command: '<%= config.bin %> <%= command.id %> "$KEY_ARN" 0c237476b39f8bc44e45212e08498fbe3151305030726c0590dd8d3e9f3d6a60', description: 'Retire by key ARN and grant ID (a retiring principal may not be allowed to describe the key)'},
    {command: '<%= config.bin %> <%= command.id %> alias/payments 0c237476b39f8bc44e45212e08498fbe3151305030726c0590dd8d3e9f3d6a60 --dry-run', description: 'Show the request and send nothing'},
  ]

  static override flags = {
    'dry-run': Flags.boolean({description: 'Show the RetireGrant request, and send nothing.'}),
    token: Flags.string({description: 'The grant token (from kmsctl grant create, or CreateGrant\'s GrantToken).'}),
  }

  async run(): Promise<GrantRetireResult> {
    const {args, flags} = this
    if (flags.token !== undefined) {
      if (args.key) throw usageError('Give --token, or KEY and GRANT_ID, not both.', 'Try this: kmsctl grant retire --token TOKEN')
      const token = validateGrantToken(flags.token)
      const request = {GrantToken: '(grant token)'}
      if (flags['dry-run']) {
        if (!this.jsonEnabled()) this.log('Dry run: would send RetireGrant with the grant token given; nothing was sent.')
        return {by: 'token', dryRun: true, request, retired: false}
      }

      const kms = await this.aws.kms()
      const ctx = await this.journalContext()
      const out = await retireByToken(kms, token, ctx)
      if (!this.jsonEnabled()) this.log('Retired the grant of the token given.')
      return {by: 'token', dryRun: false, journalId: out.journalId, request, retired: true}
    }

    if (!args.key || !args.grant_id) {
      throw usageError('Give --token TOKEN, or KEY and GRANT_ID.', 'Try this: kmsctl grant retire --token TOKEN, or kmsctl grant retire alias/app GRANT_ID')
    }

    const grantId = validateGrantId(args.grant_id)
    const kms = await this.aws.kms()
    const key = await keyForGrant(kms, args.key)
    const request = {GrantId: grantId, KeyId: key.keyArn}
    if (flags['dry-run']) {
      const found = await lookupGrant(kms, key, grantId)
      if (!this.jsonEnabled()) {
        this.log(`Dry run: would send RetireGrant for grant ${grantId} of key ${key.keyId}${found.readable ? ` (grantee ${found.grant.granteePrincipal}, ${found.grant.operations.join(', ')})` : ''}; nothing was sent.`)
        this.log(JSON.stringify(request, null, 2))
      }

      return {by: 'id', dryRun: true, grantId, keyId: key.keyId, request, retired: false}
    }

    const found = await lookupGrant(kms, key, grantId)
    if (!found.readable) this.warnLine(`could not read grant ${grantId} before retiring it (${found.reason}); the journal holds only its ID, so grant recreate cannot remake it.`)
    const ctx = await this.journalContext()
    const [result] = await revokeGrants(kms, [found.grant], {ctx, mode: 'retire'})
    if (result.status === 'already-gone') {
      throw new KmsctlError('NOT_FOUND', `Grant ${grantId} does not exist on key ${key.keyId} (already retired or revoked).`, {remedy: `List the key's grants: kmsctl grant list ${key.keyId}`})
    }

    if (result.status === 'failed') {
      throw resultError(result)
    }

    if (!this.jsonEnabled()) this.log(`Retired grant ${grantId} of key ${key.keyId} (journal ${result.journalId}).`)
    return {by: 'id', dryRun: false, grantId, journalId: result.journalId, keyId: key.keyId, request, retired: true}
  }
}
