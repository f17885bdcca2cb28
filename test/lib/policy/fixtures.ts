// Policies shared by the policy unit tests.
import {type Policy, parsePolicy} from '../../../src/lib/policy/model.js'

export const ACCOUNT = '111122223333'
export const OTHER = '444455556666'
export const KEY_ARN = `arn:aws:kms:us-east-1:${ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`
export const ADMIN = `arn:aws:iam::${ACCOUNT}:role/KeyAdmin`
export const APP = `arn:aws:iam::${ACCOUNT}:role/App`
export const APP_SESSION = `arn:aws:sts::${ACCOUNT}:assumed-role/App/i-0abc`
export const USER = `arn:aws:iam::${ACCOUNT}:user/alice`

/** Parses a document (object or text) and fails the test on any error. */
export function policyOf(doc: unknown): Policy {
  const {policy, problems} = parsePolicy(typeof doc === 'string' ? doc : JSON.stringify(doc))
  const errors = problems.filter((p) => p.severity === 'error')
  if (!policy || errors.length > 0) throw new Error(`bad test policy: ${errors.map((e) => e.message).join('; ')}`)
  return policy
}

export function defaultPolicy(extra: unknown[] = []): Record<string, unknown> {
  return {
    Version: '2012-10-17',
    Id: 'key-default-1',
    Statement: [
      {Sid: 'Enable IAM User Permissions', Effect: 'Allow', Principal: {AWS: `arn:aws:iam::${ACCOUNT}:root`}, Action: 'kms:*', Resource: '*'},
      ...extra,
    ],
  }
}
