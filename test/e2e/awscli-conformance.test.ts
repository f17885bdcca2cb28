// AWS CLI v2 conformance: the Debian awscli package (/usr/bin/aws) runs unchanged against
// `kmsctl sandbox serve`, and gets AWS's results and error codes. (A v1 `aws` may be earlier on PATH:
// it is not used.) The CLI runs with an isolated environment: no config or credentials files, no pager.
import {expect} from 'chai'
import {existsSync, mkdtempSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {SANDBOX_ACCOUNT} from '../../src/sandbox/constants.js'
import {AWS_CLI, type AwsResult, runAws} from '../helpers/awscli.js'
import {type SandboxServer, startSandboxServer} from '../helpers/sandbox-server.js'

const AWS = AWS_CLI

describe('AWS CLI v2 conformance against kmsctl sandbox serve', function () {
  this.timeout(180_000)
  let server: SandboxServer
  let work: string

  before(async function () {
    if (!existsSync(AWS)) {
      // .ci/run installs the Debian awscli package; without it there is nothing to drive.
      process.stderr.write(`AWS CLI conformance skipped: ${AWS} is missing (install the Debian package awscli).\n`)
      this.skip()
    }

    server = await startSandboxServer()
    work = mkdtempSync(join(tmpdir(), 'kmsctl-awscli-'))
  })

  after(async () => {
    await server?.stop()
  })

  function aws(...args: string[]): Promise<AwsResult> {
    return runAws({accessKeyId: server.env.AWS_ACCESS_KEY_ID!, home: work, secretAccessKey: server.env.AWS_SECRET_ACCESS_KEY!, url: server.url}, args)
  }

  async function ok(...args: string[]): Promise<any> {
    const r = await aws(...args)
    expect(r.code, `aws ${args.join(' ')}\n${r.stderr}`).to.equal(0)
    return r.json
  }

  async function fails(code: string, ...args: string[]): Promise<AwsResult> {
    const r = await aws(...args)
    expect(r.errorCode, `aws ${args.join(' ')}\n${r.stderr}`).to.equal(code)
    expect(r.code).to.equal(254)
    return r
  }

  const file = (name: string, content: string | Buffer) => {
    const p = join(work, name)
    writeFileSync(p, content)
    return p
  }

  let keyId: string
  let keyArn: string

  it('create-key, describe-key, list-keys (with paging)', async () => {
    const created = await ok('kms', 'create-key', '--description', 'conformance', '--tags', 'TagKey=team,TagValue=sec')
    keyId = created.KeyMetadata.KeyId
    keyArn = created.KeyMetadata.Arn
    expect(created.KeyMetadata).to.include({AWSAccountId: SANDBOX_ACCOUNT, Description: 'conformance', Enabled: true, KeySpec: 'SYMMETRIC_DEFAULT', KeyState: 'Enabled'})
    expect(keyArn).to.equal(`arn:aws:kms:us-east-1:${SANDBOX_ACCOUNT}:key/${keyId}`)
    const rsa = await ok('kms', 'create-key', '--key-spec', 'RSA_2048', '--key-usage', 'SIGN_VERIFY')
    expect(rsa.KeyMetadata.SigningAlgorithms).to.include('RSASSA_PSS_SHA_256')
    await fails('ValidationException', 'kms', 'create-key', '--key-spec', 'HMAC_256')
    const described = await ok('kms', 'describe-key', '--key-id', keyArn)
    expect(described.KeyMetadata.KeyId).to.equal(keyId)
    expect(described.KeyMetadata.CreationDate).to.match(/^\d{4}-\d\d-\d\dT/)
    await fails('NotFoundException', 'kms', 'describe-key', '--key-id', '11111111-2222-3333-4444-555555555555')
    const page = await ok('kms', 'list-keys', '--no-paginate', '--limit', '1')
    expect(page.Keys).to.have.length(1)
    expect(page.Truncated).to.equal(true)
    expect(page.NextMarker).to.be.a('string')
    // The CLI's own paginator follows NextMarker to the end.
    const all = await ok('kms', 'list-keys', '--page-size', '1')
    expect(all.Keys.map((k: {KeyId: string}) => k.KeyId)).to.include(keyId).and.to.have.length(2)
  })

  it('aliases: create, list, update, delete, reserved and invalid names', async () => {
    await ok('kms', 'create-alias', '--alias-name', 'alias/conformance', '--target-key-id', keyId)
    await fails('AlreadyExistsException', 'kms', 'create-alias', '--alias-name', 'alias/conformance', '--target-key-id', keyId)
    await fails('NotAuthorizedException', 'kms', 'create-alias', '--alias-name', 'alias/aws/mine', '--target-key-id', keyId)
    await fails('ValidationException', 'kms', 'create-alias', '--alias-name', 'conformance', '--target-key-id', keyId)
    const listed = await ok('kms', 'list-aliases', '--key-id', keyId)
    expect(listed.Aliases).to.have.length(1)
    expect(listed.Aliases[0]).to.include({AliasName: 'alias/conformance', TargetKeyId: keyId})
    expect((await ok('kms', 'describe-key', '--key-id', 'alias/conformance')).KeyMetadata.KeyId).to.equal(keyId)
    const other = (await ok('kms', 'create-key')).KeyMetadata.KeyId
    await ok('kms', 'update-alias', '--alias-name', 'alias/conformance', '--target-key-id', other)
    expect((await ok('kms', 'describe-key', '--key-id', 'alias/conformance')).KeyMetadata.KeyId).to.equal(other)
    await ok('kms', 'delete-alias', '--alias-name', 'alias/conformance')
    await fails('NotFoundException', 'kms', 'delete-alias', '--alias-name', 'alias/conformance')
  })

  it('put-key-policy / get-key-policy: valid, malformed, lockout, bypass', async () => {
    const got = await ok('kms', 'get-key-policy', '--key-id', keyId, '--policy-name', 'default')
    expect(JSON.parse(got.Policy).Statement[0].Principal.AWS).to.equal(`arn:aws:iam::${SANDBOX_ACCOUNT}:root`)
    const valid = JSON.stringify({
      Statement: [{Action: 'kms:*', Effect: 'Allow', Principal: {AWS: `arn:aws:iam::${SANDBOX_ACCOUNT}:root`}, Resource: '*', Sid: 'root'}],
      Version: '2012-10-17',
    })
    await ok('kms', 'put-key-policy', '--key-id', keyId, '--policy-name', 'default', '--policy', `file://${file('valid.json', valid)}`)
    expect((await ok('kms', 'get-key-policy', '--key-id', keyId, '--policy-name', 'default')).Policy).to.equal(valid)
    const noAction = JSON.stringify({Statement: [{Effect: 'Allow', Principal: {AWS: `arn:aws:iam::${SANDBOX_ACCOUNT}:root`}, Resource: '*'}], Version: '2012-10-17'})
    await fails('MalformedPolicyDocumentException', 'kms', 'put-key-policy', '--key-id', keyId, '--policy-name', 'default', '--policy', `file://${file('bad.json', noAction)}`)
    await fails('MalformedPolicyDocumentException', 'kms', 'put-key-policy', '--key-id', keyId, '--policy-name', 'default', '--policy', '{not json')
    const lockout = JSON.stringify({
      Statement: [{Action: 'kms:Decrypt', Effect: 'Allow', Principal: {AWS: `arn:aws:iam::${SANDBOX_ACCOUNT}:role/someone-else`}, Resource: '*'}],
      Version: '2012-10-17',
    })
    const r = await fails('MalformedPolicyDocumentException', 'kms', 'put-key-policy', '--key-id', keyId, '--policy-name', 'default', '--policy', `file://${file('lockout.json', lockout)}`)
    expect(r.errorMessage).to.equal('The new key policy will not allow you to update the key policy in the future.')
    expect((await ok('kms', 'get-key-policy', '--key-id', keyId, '--policy-name', 'default')).Policy).to.equal(valid)
    // With the safety check bypassed the same policy is accepted (on a throwaway key).
    const throwaway = (await ok('kms', 'create-key')).KeyMetadata.KeyId
    await ok('kms', 'put-key-policy', '--key-id', throwaway, '--policy-name', 'default', '--bypass-policy-lockout-safety-check', '--policy', `file://${join(work, 'lockout.json')}`)
  })

  it('grants: create, list, retire (by token), revoke', async () => {
    const grantee = `arn:aws:iam::${SANDBOX_ACCOUNT}:role/app`
    const g1 = await ok('kms', 'create-grant', '--key-id', keyId, '--grantee-principal', grantee, '--operations', 'Decrypt', 'Encrypt', '--name', 'g1')
    expect(g1.GrantId).to.match(/^[0-9a-f]{64}$/)
    expect(g1.GrantToken).to.be.a('string')
    const again = await ok('kms', 'create-grant', '--key-id', keyId, '--grantee-principal', grantee, '--operations', 'Decrypt', 'Encrypt', '--name', 'g1')
    expect(again.GrantId).to.equal(g1.GrantId)
    const g2 = await ok('kms', 'create-grant', '--key-id', keyId, '--grantee-principal', grantee, '--operations', 'GenerateDataKey')
    await fails('ValidationException', 'kms', 'create-grant', '--key-id', keyId, '--grantee-principal', grantee, '--operations', 'Sign')
    const listed = await ok('kms', 'list-grants', '--key-id', keyId)
    expect(listed.Grants.map((g: {GrantId: string}) => g.GrantId)).to.deep.equal([g1.GrantId, g2.GrantId])
    expect(listed.Grants[0]).to.include({GranteePrincipal: grantee, KeyId: keyArn, Name: 'g1'})
    await ok('kms', 'retire-grant', '--grant-token', g1.GrantToken)
    await ok('kms', 'revoke-grant', '--key-id', keyId, '--grant-id', g2.GrantId)
    expect((await ok('kms', 'list-grants', '--key-id', keyId)).Grants).to.deep.equal([])
    await fails('NotFoundException', 'kms', 'revoke-grant', '--key-id', keyId, '--grant-id', g2.GrantId)
  })

  it('encrypt / decrypt / generate-data-key, with and without context, and on a disabled key', async () => {
    const plain = file('plain.txt', 'conformance secret')
    const withCtx = await ok('kms', 'encrypt', '--key-id', keyId, '--plaintext', `fileb://${plain}`, '--encryption-context', 'app=conf,env=test')
    expect(withCtx).to.include({EncryptionAlgorithm: 'SYMMETRIC_DEFAULT', KeyId: keyArn})
    const blob = file('ct.bin', Buffer.from(withCtx.CiphertextBlob, 'base64'))
    const dec = await ok('kms', 'decrypt', '--ciphertext-blob', `fileb://${blob}`, '--encryption-context', 'env=test,app=conf')
    expect(Buffer.from(dec.Plaintext, 'base64').toString()).to.equal('conformance secret')
    expect(dec.KeyId).to.equal(keyArn)
    await fails('InvalidCiphertextException', 'kms', 'decrypt', '--ciphertext-blob', `fileb://${blob}`)
    await fails('InvalidCiphertextException', 'kms', 'decrypt', '--ciphertext-blob', `fileb://${blob}`, '--encryption-context', 'app=other,env=test')
    const noCtx = await ok('kms', 'encrypt', '--key-id', keyId, '--plaintext', `fileb://${plain}`)
    const blob2 = file('ct2.bin', Buffer.from(noCtx.CiphertextBlob, 'base64'))
    expect(Buffer.from((await ok('kms', 'decrypt', '--ciphertext-blob', `fileb://${blob2}`)).Plaintext, 'base64').toString()).to.equal('conformance secret')
    const dk = await ok('kms', 'generate-data-key', '--key-id', keyId, '--key-spec', 'AES_256', '--encryption-context', 'purpose=dk')
    expect(Buffer.from(dk.Plaintext, 'base64')).to.have.length(32)
    const dkBlob = file('dk.bin', Buffer.from(dk.CiphertextBlob, 'base64'))
    expect((await ok('kms', 'decrypt', '--ciphertext-blob', `fileb://${dkBlob}`, '--encryption-context', 'purpose=dk')).Plaintext).to.equal(dk.Plaintext)
    const dk2 = await ok('kms', 'generate-data-key', '--key-id', keyId, '--number-of-bytes', '16')
    expect(Buffer.from(dk2.Plaintext, 'base64')).to.have.length(16)
    await fails('ValidationException', 'kms', 'generate-data-key', '--key-id', keyId)

    await ok('kms', 'disable-key', '--key-id', keyId)
    expect((await ok('kms', 'describe-key', '--key-id', keyId)).KeyMetadata).to.include({Enabled: false, KeyState: 'Disabled'})
    const r = await fails('DisabledException', 'kms', 'encrypt', '--key-id', keyId, '--plaintext', `fileb://${plain}`)
    expect(r.errorMessage).to.equal(`${keyArn} is disabled.`)
    await fails('DisabledException', 'kms', 'decrypt', '--ciphertext-blob', `fileb://${blob2}`)
    await fails('DisabledException', 'kms', 'generate-data-key', '--key-id', keyId, '--key-spec', 'AES_256')
    await ok('kms', 'enable-key', '--key-id', keyId)
    await ok('kms', 'decrypt', '--ciphertext-blob', `fileb://${blob2}`)
  })

  it('rotation: enable, status, disable', async () => {
    await ok('kms', 'enable-key-rotation', '--key-id', keyId)
    expect((await ok('kms', 'get-key-rotation-status', '--key-id', keyId)).KeyRotationEnabled).to.equal(true)
    await ok('kms', 'disable-key-rotation', '--key-id', keyId)
    expect((await ok('kms', 'get-key-rotation-status', '--key-id', keyId)).KeyRotationEnabled).to.equal(false)
  })

  it('schedule-key-deletion: 6 and 31 days refused, 7 and 30 accepted; cancel leaves the key Disabled', async () => {
    const r6 = await fails('ValidationException', 'kms', 'schedule-key-deletion', '--key-id', keyId, '--pending-window-in-days', '6')
    expect(r6.errorMessage).to.equal("1 validation error detected: Value '6' at 'pendingWindowInDays' failed to satisfy constraint: Member must have value greater than or equal to 7")
    await fails('ValidationException', 'kms', 'schedule-key-deletion', '--key-id', keyId, '--pending-window-in-days', '31')
    const s7 = await ok('kms', 'schedule-key-deletion', '--key-id', keyId, '--pending-window-in-days', '7')
    expect(s7).to.include({KeyId: keyArn, KeyState: 'PendingDeletion', PendingWindowInDays: 7})
    const plain = file('p2.txt', 'x')
    await fails('KMSInvalidStateException', 'kms', 'encrypt', '--key-id', keyId, '--plaintext', `fileb://${plain}`)
    await fails('KMSInvalidStateException', 'kms', 'schedule-key-deletion', '--key-id', keyId, '--pending-window-in-days', '30')
    await ok('kms', 'cancel-key-deletion', '--key-id', keyId)
    expect((await ok('kms', 'describe-key', '--key-id', keyId)).KeyMetadata.KeyState).to.equal('Disabled')
    const other = (await ok('kms', 'create-key')).KeyMetadata.KeyId
    const s30 = await ok('kms', 'schedule-key-deletion', '--key-id', other, '--pending-window-in-days', '30')
    expect(s30.PendingWindowInDays).to.equal(30)
    const days = (Date.parse(s30.DeletionDate) - Date.now()) / 86_400_000
    expect(days).to.be.within(29.9, 30.1)
  })

  it('cloudtrail lookup-events: one attribute, two attributes refused, paging', async () => {
    const one = await ok('cloudtrail', 'lookup-events', '--lookup-attributes', 'AttributeKey=EventName,AttributeValue=ScheduleKeyDeletion')
    expect(one.Events.length).to.be.greaterThanOrEqual(4)
    for (const e of one.Events) expect(e.EventName).to.equal('ScheduleKeyDeletion')
    const record = JSON.parse(one.Events.at(-1).CloudTrailEvent)
    expect(record).to.include({eventSource: 'kms.amazonaws.com', eventVersion: '1.11', recipientAccountId: SANDBOX_ACCOUNT})
    expect(record.userAgent).to.match(/^aws-cli\/2\./)
    const failed = one.Events.map((e: {CloudTrailEvent: string}) => JSON.parse(e.CloudTrailEvent)).filter((e: {errorCode?: string}) => e.errorCode === 'ValidationException')
    // Failed calls are recorded too, with the parameters exactly as sent; newest first.
    expect(failed.map((e: {requestParameters: unknown}) => e.requestParameters)).to.deep.equal([
      {keyId, pendingWindowInDays: 31},
      {keyId, pendingWindowInDays: 6},
    ])
    await fails(
      'InvalidLookupAttributesException',
      'cloudtrail', 'lookup-events', '--lookup-attributes',
      'AttributeKey=EventName,AttributeValue=Encrypt', 'AttributeKey=ReadOnly,AttributeValue=true',
    )
    const first = await ok('cloudtrail', 'lookup-events', '--no-paginate', '--max-results', '3', '--lookup-attributes', `AttributeKey=ResourceName,AttributeValue=${keyArn}`)
    expect(first.Events).to.have.length(3)
    expect(first.NextToken).to.be.a('string')
    const second = await ok('cloudtrail', 'lookup-events', '--no-paginate', '--max-results', '3', '--next-token', first.NextToken, '--lookup-attributes', `AttributeKey=ResourceName,AttributeValue=${keyArn}`)
    const ids = new Set([...first.Events, ...second.Events].map((e: {EventId: string}) => e.EventId))
    expect(ids.size).to.equal(first.Events.length + second.Events.length)
    // Newest first across pages.
    const times = [...first.Events, ...second.Events].map((e: {EventTime: string}) => Date.parse(e.EventTime))
    expect([...times].sort((a, b) => b - a)).to.deep.equal(times)
    // The CLI's paginator follows NextToken to the end.
    const all = await ok('cloudtrail', 'lookup-events', '--page-size', '5', '--lookup-attributes', `AttributeKey=ResourceName,AttributeValue=${keyArn}`)
    expect(all.Events.length).to.be.greaterThan(10)
    await fails('InvalidMaxResultsException', 'cloudtrail', 'lookup-events', '--no-paginate', '--max-results', '51')
  })

  it('sts get-caller-identity', async () => {
    const id = await ok('sts', 'get-caller-identity')
    expect(id).to.deep.equal({Account: SANDBOX_ACCOUNT, Arn: `arn:aws:iam::${SANDBOX_ACCOUNT}:user/sandbox-admin`, UserId: 'AIDAKMSCTLSANDBOXADMIN'})
  })
})
