// Key policies: the default policy and the AWS-managed key policy as KMS writes them, the checks of a
// new policy (MalformedPolicyDocumentException, with the project's policy rules and lockout check from
// src/lib/policy), and GetKeyPolicy, PutKeyPolicy and ListKeyPolicies.
import {kmsRefusals} from '../../lib/policy/lint.js'
import {SANDBOX_ACCOUNT} from '../constants.js'
import {err} from '../errors.js'
import {type OpContext, checkLockoutFor} from './context.js'
import {bool, page, str} from './input.js'
import {keyFrom, requireCustomerManaged} from './key-record.js'
import {type Operation, type OperationSpec, keyResponse, spec} from './operation.js'

export const POLICY_MAX_BYTES = 32_768

/** The default key policy, byte for byte as KMS writes it (2-space indent, " : " separators). */
export function defaultKeyPolicy(account: string): string {
  return `{
  "Version" : "2012-10-17",
  "Id" : "key-default-1",
  "Statement" : [ {
    "Sid" : "Enable IAM User Permissions",
    "Effect" : "Allow",
    "Principal" : {
      "AWS" : "arn:aws:iam::${account}:root"
    },
    "Action" : "kms:*",
    "Resource" : "*"
  } ]
}`
}

/** The policy of an AWS-managed key (alias/aws/<service>): use through the service only, read by anyone in the account. */
export function awsManagedKeyPolicy(account: string, region: string, service: string): string {
  return `{
  "Version" : "2012-10-17",
  "Id" : "auto-${service}-2",
  "Statement" : [ {
    "Sid" : "Allow access through ${service} for all principals in the account that are authorized to use ${service}",
    "Effect" : "Allow",
    "Principal" : {
      "AWS" : "*"
    },
    "Action" : [ "kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:CreateGrant", "kms:DescribeKey" ],
    "Resource" : "*",
    "Condition" : {
      "StringEquals" : {
        "kms:CallerAccount" : "${account}",
        "kms:ViaService" : "${service}.${region}.amazonaws.com"
      }
    }
  }, {
    "Sid" : "Allow direct access to key metadata to the account",
    "Effect" : "Allow",
    "Principal" : {
      "AWS" : "arn:aws:iam::${account}:root"
    },
    "Action" : [ "kms:Describe*", "kms:Get*", "kms:List*" ],
    "Resource" : "*"
  } ]
}`
}

const malformed = (message: string) => err('MalformedPolicyDocumentException', message)

/** AWS's own wording, where the sandbox knows it, for what KMS refuses in a policy. */
const AWS_MESSAGES: Record<string, string> = {
  'invalid-principal': 'Policy contains a statement with one or more invalid principals.',
}

/** Validates a new key policy and, unless bypassed, checks that it does not lock the caller out. */
export function checkPolicy(ctx: OpContext, policy: string, bypass: boolean | undefined, keyArn?: string): void {
  // The checks KMS makes of a document are the project's policy rules (src/lib/policy/lint.ts).
  const [refusal] = kmsRefusals(policy)
  if (refusal) throw malformed(AWS_MESSAGES[refusal.code] ?? refusal.message)
  if (bypass) return
  checkLockoutFor(ctx, policy, keyArn, SANDBOX_ACCOUNT)
}

const GetKeyPolicy: Operation = (input, ctx) => {
  const key = keyFrom(ctx, input)
  const name = str(input, 'PolicyName', {max: 128, pattern: /^[\w]+$/}) ?? 'default'
  if (name !== 'default') throw err('NotFoundException', `No such policy exists: ${name}`)
  return {Policy: key.policy, PolicyName: 'default'}
}

const PutKeyPolicy: Operation = (input, ctx) => {
  const key = keyFrom(ctx, input)
  const name = str(input, 'PolicyName', {max: 128, pattern: /^[\w]+$/}) ?? 'default'
  const policy = str(input, 'Policy', {max: 131_072, required: true})!
  const bypass = bool(input, 'BypassPolicyLockoutSafetyCheck')
  if (name !== 'default') throw err('NotFoundException', `No such policy exists: ${name}`)
  requireCustomerManaged(ctx, key)
  checkPolicy(ctx, policy, bypass, key.arn)
  key.policy = policy
  return keyResponse(ctx, key)
}

const ListKeyPolicies: Operation = (input, ctx) => {
  keyFrom(ctx, input)
  const p = page(['default'], input, 1000, 100)
  return {PolicyNames: p.items, ...(p.NextMarker ? {NextMarker: p.NextMarker} : {}), Truncated: p.Truncated}
}

/** The policy operations, by name. */
export const POLICY_OPERATIONS: Record<string, OperationSpec> = {
  GetKeyPolicy: spec(GetKeyPolicy, false),
  ListKeyPolicies: spec(ListKeyPolicies, false),
  PutKeyPolicy: spec(PutKeyPolicy, true),
}
