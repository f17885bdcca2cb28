// Creating a grant: resolve the key, check the operations and constraints against its type, then
// one CreateGrant (journalled). Nothing is sent when a check fails or under --dry-run.
import type {CreateGrantRequest, KMSClient} from '@aws-sdk/client-kms'

import {kmsSdk} from '../aws/sdk.js'
import {KmsctlError, fromAwsError} from '../errors.js'
import {type ChangeContext, journaled} from '../journal.js'
import {resolveKey} from '../key-ref.js'
import {type GrantKeyType, grantKeyType, validateConstraints, validateGrantName, validateOperations, validatePrincipal} from './validate.js'

export interface CreateGrantInput {
  /** Key ID, key ARN, alias name or alias ARN. */
  key: string
  grantee: string
  /** Operation names, comma-separated or repeated. */
  operations: readonly string[]
  retiringPrincipal?: string
  name?: string
  contextEquals?: Record<string, string>
  contextSubset?: Record<string, string>
}

export interface CreateGrantResult {
  keyId: string
  keyArn: string
  keyType: GrantKeyType
  /** What was (or, under --dry-run, would be) sent. */
  request: CreateGrantRequest
  dryRun: boolean
  grantId?: string
  /** Lets the grantee use the grant at once, before it is visible everywhere. */
  grantToken?: string
  journalId?: string
}

/** The checks that need no AWS call: principals and name (run before the key is even resolved). */
export function precheckCreate(input: CreateGrantInput): void {
  validatePrincipal(input.grantee, 'grantee')
  if (input.retiringPrincipal) validatePrincipal(input.retiringPrincipal, 'retiring-principal')
  if (input.name !== undefined) validateGrantName(input.name)
  validateOperations(input.operations)
  validateConstraints(input.contextEquals ?? {}, input.contextSubset ?? {})
}

export async function createGrant(kms: KMSClient, input: CreateGrantInput, options: {ctx?: ChangeContext; dryRun?: boolean}): Promise<CreateGrantResult> {
  precheckCreate(input)
  const key = await resolveKey(kms, input.key)
  const keyType = grantKeyType(key.metadata)
  const operations = validateOperations(input.operations, keyType)
  const constraints = validateConstraints(input.contextEquals ?? {}, input.contextSubset ?? {}, keyType)
  const request: CreateGrantRequest = {
    GranteePrincipal: input.grantee.trim(),
    KeyId: key.arn,
    Operations: operations,
  }
  if (input.retiringPrincipal) request.RetiringPrincipal = input.retiringPrincipal.trim()
  if (input.name) request.Name = input.name
  if (constraints) request.Constraints = constraints
  const base = {keyArn: key.arn, keyId: key.keyId, keyType, request}
  if (options.dryRun) return {...base, dryRun: true}

  const {ctx} = options
  if (!ctx) throw new KmsctlError('FAILED', 'createGrant needs a journal context unless it is a dry run.')
  const {CreateGrantCommand} = await kmsSdk()
  const {entry, result: out} = await journaled(
    ctx.journal,
    {
      account: ctx.account,
      action: 'grant.create',
      before: null,
      caller: ctx.caller,
      command: ctx.command,
      key: {arn: key.arn, keyId: key.keyId, ref: input.key},
      region: ctx.region,
      request,
    },
    async () => {
      try {
        return await kms.send(new CreateGrantCommand(request))
      } catch (error) {
        throw fromAwsError(error, {key: input.key, operation: 'CreateGrant'})
      }
    },
    (created) => ({grantId: created.GrantId, keyArn: key.arn}),
  )
  return {...base, dryRun: false, grantId: out.GrantId, grantToken: out.GrantToken, journalId: entry.id}
}
