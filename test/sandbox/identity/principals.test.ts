import {expect} from 'chai'

import {DEFAULT_ACCESS_KEY_ID, SANDBOX_ACCOUNT} from '../../../src/sandbox/constants.js'
import {parsePrincipalArn, principalFor} from '../../../src/sandbox/identity/arn.js'
import {
  PrincipalDirectory,
  addPrincipal,
  iamAllows,
  listPrincipals,
  normaliseIamAllow,
  readPrincipalsFile,
  removePrincipal,
} from '../../../src/sandbox/identity/principals.js'
import {newDir} from '../raw-client.js'

const now = Date.parse('2026-11-28T10:00:00Z')

describe('sandbox realism: principals', () => {
  it('reads IAM users, assumed-role sessions and roots of any account, and refuses anything else naming the fix', () => {
    expect(parsePrincipalArn('arn:aws:iam::111122223333:user/ops/alice')).to.include({accountId: '111122223333', kind: 'IAMUser', name: 'alice'})
    expect(parsePrincipalArn('arn:aws:sts::444455556666:assumed-role/App/s1')).to.include({kind: 'AssumedRole', roleArn: 'arn:aws:iam::444455556666:role/App', sessionName: 's1'})
    expect(parsePrincipalArn('arn:aws:iam::444455556666:root')).to.include({kind: 'Root'})
    let role: (Error & {remedy?: string}) | undefined
    try {
      parsePrincipalArn('arn:aws:iam::111122223333:role/App')
    } catch (error) {
      role = error as Error & {remedy?: string}
    }

    expect(role?.message).to.match(/is a role, which cannot sign requests itself/)
    expect(role?.remedy).to.equal('Try this: arn:aws:sts::111122223333:assumed-role/App/my-session')
    expect(() => parsePrincipalArn('alice')).to.throw(/is not a principal/)
  })

  it('gives each principal the CloudTrail identity of its kind', () => {
    const user = principalFor(parsePrincipalArn('arn:aws:iam::111122223333:user/alice'), {accessKeyId: 'AKIAALICE00000000001'})
    expect(user.trailIdentity).to.deep.equal({
      accessKeyId: 'AKIAALICE00000000001', accountId: '111122223333', arn: 'arn:aws:iam::111122223333:user/alice', principalId: user.principalId, type: 'IAMUser', userName: 'alice',
    })
    const root = principalFor(parsePrincipalArn('arn:aws:iam::111122223333:root'), {accessKeyId: 'AKIAROOT000000000001'})
    expect(root.trailIdentity).to.include({principalId: '111122223333', type: 'Root'})
    const other = principalFor(parsePrincipalArn('arn:aws:iam::444455556666:user/bob'), {accessKeyId: 'AKIABOB0000000000001'})
    expect(other.trailIdentity).to.deep.equal({accountId: '444455556666', principalId: other.principalId, type: 'AWSAccount'})
    // Stable: the same ARN always gets the same ID.
    expect(principalFor(parsePrincipalArn('arn:aws:iam::111122223333:user/alice'), {accessKeyId: 'X'}).principalId).to.equal(user.principalId)
  })

  it('normalises and checks --iam-allow, and matches actions as IAM does', () => {
    expect(normaliseIamAllow(['Decrypt', 'kms:Describe*', 'kms:Decrypt'])).to.deep.equal(['kms:Decrypt', 'kms:Describe*'])
    expect(() => normaliseIamAllow(['kms:Fly'])).to.throw(/--iam-allow "kms:Fly" names no KMS action/)
    // The S3 actions the sandbox's S3 checks are accepted; other S3 actions are not.
    expect(normaliseIamAllow(['s3:GetObject', 's3:List*', 's3:PutObject'])).to.deep.equal(['s3:GetObject', 's3:List*', 's3:PutObject'])
    expect(() => normaliseIamAllow(['s3:DeleteObject'])).to.throw(/names no KMS action/)
    expect(iamAllows(['kms:Describe*'], 'kms:DescribeKey')).to.equal(true)
    expect(iamAllows(['kms:decrypt'], 'kms:Decrypt')).to.equal(true)
    expect(iamAllows([], 'kms:Decrypt')).to.equal(false)
  })

  it('adds, refuses a silent change, replaces, lists and removes; an unknown key acts as the administrator', async () => {
    const dir = newDir()
    const directory = new PrincipalDirectory(dir)
    expect(directory.resolve('AKIAREADER0000000001')).to.include({isDefault: true})
    const added = await addPrincipal(dir, {accessKeyId: 'AKIAREADER0000000001', arn: 'arn:aws:iam::111122223333:user/reader', iamAllow: ['kms:Decrypt'], nowMs: now}, SANDBOX_ACCOUNT)
    expect(added).to.include({changed: true, dryRun: false})
    expect(directory.resolve('AKIAREADER0000000001').principal.arn).to.equal('arn:aws:iam::111122223333:user/reader')
    expect(directory.resolve('AKIAREADER0000000001').iamAllow).to.deep.equal(['kms:Decrypt'])
    const again = await addPrincipal(dir, {accessKeyId: 'AKIAREADER0000000001', arn: 'arn:aws:iam::111122223333:user/reader', iamAllow: ['kms:Decrypt'], nowMs: now}, SANDBOX_ACCOUNT)
    expect(again.changed).to.equal(false)
    let error: Error | undefined
    await addPrincipal(dir, {accessKeyId: 'AKIAREADER0000000001', arn: 'arn:aws:iam::111122223333:user/writer', iamAllow: [], nowMs: now}, SANDBOX_ACCOUNT).catch((error_: Error) => {
      error = error_
    })
    expect(error?.message).to.equal('Access key AKIAREADER0000000001 already acts as arn:aws:iam::111122223333:user/reader.')
    const dry = await addPrincipal(dir, {accessKeyId: 'AKIAREADER0000000001', arn: 'arn:aws:iam::111122223333:user/writer', dryRun: true, iamAllow: [], nowMs: now, replace: true}, SANDBOX_ACCOUNT)
    expect(dry.previous?.arn).to.equal('arn:aws:iam::111122223333:user/reader')
    expect(readPrincipalsFile(dir).principals.AKIAREADER0000000001.arn).to.equal('arn:aws:iam::111122223333:user/reader')
    await addPrincipal(dir, {accessKeyId: 'AKIAREADER0000000001', arn: 'arn:aws:iam::111122223333:user/writer', iamAllow: [], nowMs: now, replace: true}, SANDBOX_ACCOUNT)
    expect(listPrincipals(dir, SANDBOX_ACCOUNT).map((p) => [p.accessKeyId, p.arn, p.builtIn])).to.deep.equal([
      [DEFAULT_ACCESS_KEY_ID, 'arn:aws:iam::111122223333:user/sandbox-admin', true],
      ['AKIAREADER0000000001', 'arn:aws:iam::111122223333:user/writer', false],
    ])
    await removePrincipal(dir, 'AKIAREADER0000000001', SANDBOX_ACCOUNT)
    expect(directory.resolve('AKIAREADER0000000001')).to.include({isDefault: true})
    await removePrincipal(dir, 'AKIAREADER0000000001', SANDBOX_ACCOUNT).catch((error_: Error) => {
      error = error_
    })
    expect(error?.message).to.equal('No principal with access key AKIAREADER0000000001.')
    const bad = await removePrincipal(dir, 'bad key', SANDBOX_ACCOUNT).catch((error_: Error & {exitCode: number}) => error_)
    expect(bad).to.include({exitCode: 2, message: '"bad key" is not an access key ID (16 to 128 upper-case letters and digits).'})
  })
})
