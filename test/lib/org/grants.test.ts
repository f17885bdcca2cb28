// grant revoke --grantee across accounts, without oclif: the search in every account-region, and the
// revokes sent in each account with its own credentials, each journal entry naming account, region
// and role. Roles are "assumed" by a fake provider that encodes the account in the access key ID.
import {DescribeKeyCommand, ListAliasesCommand, ListGrantsCommand, ListKeysCommand, RevokeGrantCommand} from '@aws-sdk/client-kms'
import {expect} from 'chai'
import {mkdtempSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {AwsClients} from '../../../src/lib/aws/clients.js'
import {Journal} from '../../../src/lib/journal.js'
import {AccountCredentials} from '../../../src/lib/org/credentials.js'
import {planGrantRevokeAcross, runGrantRevokeAcross} from '../../../src/lib/org/grants.js'
import {awsError, mockSdk} from '../../helpers/mock-sdk.js'

const CALLER = {account: '111122223333', arn: 'arn:aws:iam::111122223333:user/alice', userId: 'AIDAEXAMPLE'}
const A = '444455556666'
const BROKEN = '999988887777'
const APP = 'arn:aws:iam::111122223333:role/app'

function base(): AwsClients {
  const aws = new AwsClients({region: 'us-east-1'})
  aws.callerIdentity = async () => CALLER
  return aws
}

async function accountOf(getClient: () => unknown): Promise<string> {
  const client = getClient() as {config: {credentials: () => Promise<{accessKeyId: string}>}}
  const {accessKeyId} = await client.config.credentials()
  return accessKeyId.startsWith('ASIA') ? accessKeyId.slice(4) : CALLER.account
}

describe('grant revoke --grantee across accounts', () => {
  const sdk = mockSdk()

  it('finds the grantee\'s grants in each account, revokes them there, and journals account, region and role', async () => {
    const keyArn = (account: string) => `arn:aws:kms:us-east-1:${account}:key/00000001-0000-4000-8000-000000000000`
    sdk.kms.on(ListAliasesCommand).resolves({Aliases: [], Truncated: false})
    sdk.kms.on(ListKeysCommand).callsFake(async (_i: unknown, getClient: () => unknown) => {
      const account = await accountOf(getClient)
      return {Keys: [{KeyArn: keyArn(account), KeyId: '00000001-0000-4000-8000-000000000000'}], Truncated: false}
    })
    sdk.kms.on(DescribeKeyCommand).callsFake(async (_i: unknown, getClient: () => unknown) => {
      const account = await accountOf(getClient)
      return {KeyMetadata: {Arn: keyArn(account), KeyId: '00000001-0000-4000-8000-000000000000', KeyManager: 'CUSTOMER', KeyState: 'Enabled'}}
    })
    sdk.kms.on(ListGrantsCommand).callsFake(async (_i: unknown, getClient: () => unknown) => {
      const account = await accountOf(getClient)
      return {Grants: [{GrantId: `g-${account}`, GranteePrincipal: APP, IssuingAccount: `arn:aws:iam::${account}:root`, KeyId: keyArn(account), Operations: ['Decrypt']}], Truncated: false}
    })
    const revokedBy: string[] = []
    sdk.kms.on(RevokeGrantCommand).callsFake(async (input: {GrantId: string}, getClient: () => unknown) => {
      revokedBy.push(`${await accountOf(getClient)}:${input.GrantId}`)
      return {}
    })
    const creds = new AccountCredentials(base(), {roleName: 'Ops'}, ({roleArn}) => async () => {
      if (roleArn.includes(BROKEN)) throw awsError('AccessDenied', 'not authorized to perform: sts:AssumeRole', 403)
      return {accessKeyId: `ASIA${roleArn.split(':')[4]}`, secretAccessKey: 's'}
    })
    const targets = {accounts: {accounts: [CALLER.account, A, BROKEN], exclude: [], kind: 'list' as const}, maxParallel: 2, regions: {kind: 'default' as const}, role: {roleName: 'Ops'}}
    const plan = await planGrantRevokeAcross(base(), targets, APP, undefined, creds)
    expect(plan.grants.map((g) => `${g.account}:${g.grantId}`).sort()).to.deep.equal([`${CALLER.account}:g-${CALLER.account}`, `${A}:g-${A}`].sort())
    expect(plan.summaries.find((s) => s.account === BROKEN)!.error!.message).to.contain(`Cannot assume arn:aws:iam::${BROKEN}:role/Ops`)
    const journal = new Journal({dir: mkdtempSync(join(tmpdir(), 'kmsctl-grants-journal-'))})
    const {results, summaries} = await runGrantRevokeAcross(plan, {batch: 'b-test', ctx: {caller: CALLER.arn, journal}, maxParallel: 2})
    // Each RevokeGrant sent with the credentials of the grant's own account.
    expect(revokedBy.sort()).to.deep.equal([`${A}:g-${A}`, `${CALLER.account}:g-${CALLER.account}`].sort())
    expect(results.map((r) => `${r.account}:${r.status}`).sort()).to.deep.equal([`${A}:revoked`, `${CALLER.account}:revoked`].sort())
    expect(summaries.map((s) => `${s.account}:${s.error ? 'failed' : `${s.seen}/${s.changed}`}`)).to.deep.equal([`${CALLER.account}:1/1`, `${A}:1/1`, `${BROKEN}:failed`])
    const entries = journal.readAll().filter((r) => r.batch === 'b-test')
    expect(entries.map((e) => `${e.account}/${e.region}/${e.role ?? 'caller'}`).sort()).to.deep.equal([`${A}/us-east-1/arn:aws:iam::${A}:role/Ops`, `${CALLER.account}/us-east-1/caller`].sort())
  })
})
