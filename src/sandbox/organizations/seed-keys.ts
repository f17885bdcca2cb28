// Sample keys in every account-region of the sandbox organisation, created the way a user would:
// each account's keys through a session of its cross-account role (the management account's with the
// administrator's key), CreateKey then CreateAlias sent to the request core, recorded in CloudTrail.
import {DEFAULT_ACCESS_KEY_ID, SANDBOX_ACCOUNT} from '../constants.js'
import {SandboxCore} from '../core.js'
import {assumeRole} from '../sts/assume-role.js'
import {DEFAULT_REGIONS, readOrganizationFile} from './model.js'

export interface SeededKey {
  account: string
  alias?: string
  keyId: string
  region: string
  team: string
}

const TEAMS = ['payments', 'web']

async function send(core: SandboxCore, signer: {accessKeyId: string; token?: string}, region: string, operation: string, input: Record<string, unknown>): Promise<any> {
  const out = await core.handle({
    body: JSON.stringify(input),
    headers: {
      authorization: `AWS4-HMAC-SHA256 Credential=${signer.accessKeyId}/20260101/${region}/kms/aws4_request, SignedHeaders=host, Signature=0`,
      'content-type': 'application/x-amz-json-1.1',
      'user-agent': 'kmsctl-sandbox-seed',
      'x-amz-target': `TrentService.${operation}`,
      ...(signer.token ? {'x-amz-security-token': signer.token} : {}),
    },
    sourceIp: '127.0.0.1',
  })
  const body = JSON.parse(out.body)
  if (out.status !== 200) throw new Error(`${operation} in ${region}: ${body.__type}: ${body.message ?? ''}`)
  return body
}

/**
 * `perRegion` keys in each region of each account that has a role trusting the management account:
 * tagged team=payments and team=web in turn, the first of each account-region aliased alias/payments.
 */
export async function seedKeys(dir: string, perRegion: number, nowMs: number): Promise<SeededKey[]> {
  const org = readOrganizationFile(dir)
  if (!org) return []
  const core = new SandboxCore(dir)
  const out: SeededKey[] = []
  try {
    for (const account of Object.values(org.accounts)) {
      let signer: {accessKeyId: string; token?: string} | undefined
      if (account.id === SANDBOX_ACCOUNT) signer = {accessKeyId: DEFAULT_ACCESS_KEY_ID}
      else {
        const role = Object.keys(account.roles).find((r) => account.roles[r].trust.includes(`arn:aws:iam::${org.managementAccount}:root`) && !account.roles[r].externalId)
        if (!role) continue
        const session = assumeRole(org, {RoleArn: `arn:aws:iam::${account.id}:role/${role}`, RoleSessionName: 'kmsctl-seed'}, {accountId: SANDBOX_ACCOUNT, arn: `arn:aws:iam::${SANDBOX_ACCOUNT}:user/sandbox-admin`, iamAllow: ['*'], isAdministrator: true, type: 'IAMUser'}, nowMs)
        signer = {accessKeyId: session.claims.accessKeyId, token: session.sessionToken}
      }

      for (const region of account.regions ?? DEFAULT_REGIONS) {
        for (let i = 0; i < perRegion; i++) {
          const team = TEAMS[i % TEAMS.length]
          // eslint-disable-next-line no-await-in-loop
          const key = await send(core, signer, region, 'CreateKey', {Description: `${team} key ${i + 1} of ${account.name}`, Tags: [{TagKey: 'team', TagValue: team}]})
          const keyId = key.KeyMetadata.KeyId as string
          const alias = i === 0 ? 'alias/payments' : undefined
          // eslint-disable-next-line no-await-in-loop
          if (alias) await send(core, signer, region, 'CreateAlias', {AliasName: alias, TargetKeyId: keyId})
          out.push({account: account.id, ...(alias ? {alias} : {}), keyId, region, team})
        }
      }
    }
  } finally {
    core.close()
  }

  return out
}
