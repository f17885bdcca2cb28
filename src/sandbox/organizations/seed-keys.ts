// Sample keys in every account-region of the sandbox organisation, created the way a user would:
// each account's keys through a session of its cross-account role (the management account's with the
// administrator's key), CreateKey then CreateAlias sent to the request core, recorded in CloudTrail.
import {Hash} from '@smithy/hash-node'
import {HttpRequest} from '@smithy/protocol-http'
import {SignatureV4} from '@smithy/signature-v4'

import {DEFAULT_ACCESS_KEY_ID, DEFAULT_SECRET_ACCESS_KEY, SANDBOX_ACCOUNT} from '../constants.js'
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

interface Signer {
  accessKeyId: string
  secretAccessKey: string
  token?: string
}

/** A KMS request signed with SigV4 as the SDK signs it (the sandbox checks the signatures it can). */
async function send(core: SandboxCore, signer: Signer, region: string, operation: string, input: Record<string, unknown>): Promise<any> {
  const body = JSON.stringify(input)
  const sigv4 = new SignatureV4({
    credentials: {accessKeyId: signer.accessKeyId, secretAccessKey: signer.secretAccessKey, ...(signer.token ? {sessionToken: signer.token} : {})},
    region,
    service: 'kms',
    sha256: Hash.bind(null, 'sha256'),
  })
  const headers = {'content-type': 'application/x-amz-json-1.1', host: '127.0.0.1', 'user-agent': 'kmsctl-sandbox-seed', 'x-amz-target': `TrentService.${operation}`}
  const signed = await sigv4.sign(new HttpRequest({body, headers, hostname: '127.0.0.1', method: 'POST', path: '/', protocol: 'http:'}))
  const out = await core.handle({body, headers: signed.headers as Record<string, string>, method: 'POST', path: '/', sourceIp: '127.0.0.1'})
  const answer = JSON.parse(out.body)
  if (out.status !== 200) throw new Error(`${operation} in ${region}: ${answer.__type}: ${answer.message ?? ''}`)
  return answer
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
      let signer: Signer | undefined
      if (account.id === SANDBOX_ACCOUNT) signer = {accessKeyId: DEFAULT_ACCESS_KEY_ID, secretAccessKey: DEFAULT_SECRET_ACCESS_KEY}
      else {
        const role = Object.keys(account.roles).find((r) => account.roles[r].trust.includes(`arn:aws:iam::${org.managementAccount}:root`) && !account.roles[r].externalId)
        if (!role) continue
        const session = assumeRole(org, {RoleArn: `arn:aws:iam::${account.id}:role/${role}`, RoleSessionName: 'kmsctl-seed'}, {accountId: SANDBOX_ACCOUNT, arn: `arn:aws:iam::${SANDBOX_ACCOUNT}:user/sandbox-admin`, iamAllow: ['*'], isAdministrator: true, type: 'IAMUser'}, nowMs)
        signer = {accessKeyId: session.claims.accessKeyId, secretAccessKey: session.secretAccessKey, token: session.sessionToken}
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
