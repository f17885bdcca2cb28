import {DescribeKeyCommand, GetKeyPolicyCommand, ListAliasesCommand, ListKeysCommand, ListResourceTagsCommand} from '@aws-sdk/client-kms'
import {expect} from 'chai'

import {findingRows, lintKeyPolicies} from '../../../src/lib/policy/lint-keys.js'
import {awsError, mockSdk} from '../../helpers/mock-sdk.js'

const ACCOUNT = '111122223333'
const id = (n: number) => `${String(n).padStart(8, '0')}-0000-4000-8000-000000000000`
const arn = (n: number) => `arn:aws:kms:us-east-1:${ACCOUNT}:key/${id(n)}`
const root = {Action: 'kms:*', Effect: 'Allow', Principal: {AWS: `arn:aws:iam::${ACCOUNT}:root`}, Resource: '*', Sid: 'Root'}
const policy = (...extra: object[]) => JSON.stringify({Statement: [root, ...extra], Version: '2012-10-17'})

describe('lint the policies of many keys', () => {
  const sdk = mockSdk()
  beforeEach(() => {
    sdk.kms.on(ListKeysCommand).resolves({Keys: [1, 2, 3, 4, 5].map((n) => ({KeyArn: arn(n), KeyId: id(n)})), Truncated: false})
    sdk.kms.on(ListAliasesCommand).resolves({Aliases: [{AliasName: 'alias/pay', TargetKeyId: id(1)}, {AliasName: 'alias/aws/s3', TargetKeyId: id(5)}], Truncated: false})
    const meta = (n: number, extra = {}) => ({KeyMetadata: {AWSAccountId: ACCOUNT, Arn: arn(n), KeyId: id(n), KeyManager: 'CUSTOMER', KeyState: 'Enabled', ...extra}})
    sdk.kms.on(DescribeKeyCommand, {KeyId: id(1)}).resolves(meta(1))
    sdk.kms.on(DescribeKeyCommand, {KeyId: id(2)}).resolves(meta(2))
    sdk.kms.on(DescribeKeyCommand, {KeyId: id(3)}).resolves(meta(3, {KeyState: 'PendingDeletion'}))
    sdk.kms.on(DescribeKeyCommand, {KeyId: id(4)}).resolves(meta(4))
    sdk.kms.on(GetKeyPolicyCommand, {KeyId: id(1)}).resolves({Policy: policy({Action: 'kms:Decrypt', Effect: 'Allow', Principal: {AWS: 'arn:aws:iam::444455556666:root'}, Resource: '*', Sid: 'Partner'})})
    sdk.kms.on(GetKeyPolicyCommand, {KeyId: id(2)}).resolves({Policy: policy()})
    sdk.kms.on(GetKeyPolicyCommand, {KeyId: id(4)}).rejects(awsError('AccessDeniedException', 'not allowed to kms:GetKeyPolicy'))
  })

  it('lints every customer-managed key (not AWS-managed, not pending deletion); a policy that cannot be read is that key\'s failure', async () => {
    const progress: string[] = []
    const r = await lintKeyPolicies(sdk.kmsClient(), {onProgress: (d, t) => progress.push(`${d}/${t}`)})
    expect(r.keys.map((k) => [k.keyId, k.errors, k.warnings, k.aliases])).to.deep.equal([
      [id(1), 0, 1, ['alias/pay']],
      [id(2), 0, 0, []],
    ])
    expect(r.keys[0].findings.map((f) => [f.code, f.sid])).to.deep.equal([['cross-account', 'Partner']])
    expect(r.failures).to.have.length(1)
    expect(r.failures[0]).to.include({code: 'ACCESS_DENIED', keyId: id(4), operation: 'GetKeyPolicy'})
    // No policy read for the AWS-managed key or the key pending deletion.
    expect(sdk.kms.commandCalls(GetKeyPolicyCommand).map((c) => c.args[0].input.KeyId).sort()).to.deep.equal([id(1), id(2), id(4)])
    expect(sdk.kms.commandCalls(DescribeKeyCommand).map((c) => c.args[0].input.KeyId)).not.to.include(id(5))
    expect(progress.at(-1)).to.equal('5/5')
  })

  it('only keys with every tag when tags are given, and one row per finding with the key', async () => {
    sdk.kms.on(ListResourceTagsCommand).resolves({Tags: [], Truncated: false})
    sdk.kms.on(ListResourceTagsCommand, {KeyId: id(1)}).resolves({Tags: [{TagKey: 'team', TagValue: 'payments'}], Truncated: false})
    const r = await lintKeyPolicies(sdk.kmsClient(), {tags: {team: 'payments'}})
    expect(r.keys.map((k) => k.keyId)).to.deep.equal([id(1)])
    const rows = findingRows(r.keys.map((k) => ({...k, account: ACCOUNT, region: 'us-east-1'})))
    expect(rows).to.have.length(1)
    expect(rows[0]).to.deep.include({account: ACCOUNT, alias: 'alias/pay', code: 'cross-account', keyArn: arn(1), keyId: id(1), region: 'us-east-1', severity: 'warning', sid: 'Partner'})
    expect(Object.keys(rows[0]).slice(0, 2)).to.deep.equal(['account', 'region'])
  })
})
