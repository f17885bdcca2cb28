import {expect} from 'chai'

import {SANDBOX_ACCOUNT} from '../../../src/sandbox/constants.js'
import {addPrincipal, removePrincipal} from '../../../src/sandbox/identity/principals.js'
import {ADMIN, APP, APP_ROLE_ARN, APP_SESSION_ARN, Client, PARTNER, READER, READER_ARN} from '../raw-client.js'

const b64 = (s: string) => Buffer.from(s).toString('base64')

async function withPrincipals(c: Client): Promise<void> {
  await addPrincipal(c.dir, {accessKeyId: READER, arn: READER_ARN, iamAllow: [], nowMs: Date.now()}, SANDBOX_ACCOUNT)
  await addPrincipal(c.dir, {accessKeyId: APP, arn: APP_SESSION_ARN, iamAllow: ['kms:DescribeKey'], nowMs: Date.now()}, SANDBOX_ACCOUNT)
  await addPrincipal(c.dir, {accessKeyId: PARTNER, arn: 'arn:aws:iam::444455556666:user/partner', iamAllow: ['kms:*'], nowMs: Date.now()}, SANDBOX_ACCOUNT)
}

function policy(...statements: Array<Record<string, unknown>>): string {
  return JSON.stringify({Statement: statements, Version: '2012-10-17'})
}

const ROOT_ALL = {Action: 'kms:*', Effect: 'Allow', Principal: {AWS: `arn:aws:iam::${SANDBOX_ACCOUNT}:root`}, Resource: '*', Sid: 'Root'}

describe('sandbox realism: enforcement', () => {
  let c: Client
  beforeEach(async () => {
    c = new Client()
    await withPrincipals(c)
  })

  it('lets the default administrator (and an unknown access key) do everything the default policy delegates', async () => {
    const arn = await c.createKey()
    expect((await c.kms(ADMIN, 'DescribeKey', {KeyId: arn})).status).to.equal(200)
    expect((await c.kms('AKIAUNKNOWNKEY000001', 'DisableKey', {KeyId: arn})).status).to.equal(200)
  })

  it('denies a principal without IAM rights on a key whose policy delegates to IAM, with the identity-based message', async () => {
    const arn = await c.createKey()
    const out = await c.kms(READER, 'DescribeKey', {KeyId: arn})
    expect(out.status).to.equal(400)
    expect(out.type).to.equal('AccessDeniedException')
    expect(out.message).to.equal(`User: ${READER_ARN} is not authorized to perform: kms:DescribeKey on resource: ${arn} because no identity-based policy allows the kms:DescribeKey action`)
    // The assumed role's IAM allows DescribeKey: the root statement delegates, IAM allows.
    expect((await c.kms(APP, 'DescribeKey', {KeyId: arn})).status).to.equal(200)
  })

  it('says "no resource-based policy" when the key policy does not name the caller or its account', async () => {
    const arn = await c.createKey({Policy: policy({...ROOT_ALL, Principal: {AWS: 'arn:aws:iam::111122223333:user/sandbox-admin'}})})
    const out = await c.kms(APP, 'DescribeKey', {KeyId: arn})
    expect(out.message).to.equal(`User: ${APP_SESSION_ARN} is not authorized to perform: kms:DescribeKey on resource: ${arn} because no resource-based policy allows the kms:DescribeKey action`)
  })

  it('allows through a grant only when the encryption context constraint holds, and records denials in CloudTrail', async () => {
    const arn = await c.createKey()
    const enc = await c.kms(ADMIN, 'Encrypt', {EncryptionContext: {app: 'web'}, KeyId: arn, Plaintext: b64('hello')})
    const other = await c.kms(ADMIN, 'Encrypt', {EncryptionContext: {app: 'batch'}, KeyId: arn, Plaintext: b64('hello')})
    const denied = await c.kms(READER, 'Decrypt', {CiphertextBlob: enc.body.CiphertextBlob, EncryptionContext: {app: 'web'}})
    expect(denied.type).to.equal('AccessDeniedException')
    expect(denied.message).to.contain('kms:Decrypt on resource')

    const grant = await c.kms(ADMIN, 'CreateGrant', {Constraints: {EncryptionContextEquals: {app: 'web'}}, GranteePrincipal: READER_ARN, KeyId: arn, Operations: ['Decrypt']})
    expect(grant.status).to.equal(200)
    const ok = await c.kms(READER, 'Decrypt', {CiphertextBlob: enc.body.CiphertextBlob, EncryptionContext: {app: 'web'}})
    expect(ok.status).to.equal(200)
    expect(Buffer.from(ok.body.Plaintext, 'base64').toString()).to.equal('hello')
    const wrong = await c.kms(READER, 'Decrypt', {CiphertextBlob: other.body.CiphertextBlob, EncryptionContext: {app: 'batch'}})
    expect(wrong.type).to.equal('AccessDeniedException')

    const events = c.core.store.readEvents().filter((e) => e.eventName === 'Decrypt' && e.userIdentity.arn === READER_ARN)
    expect(events.map((e) => e.errorCode ?? 'ok')).to.deep.equal(['AccessDeniedException', 'ok', 'AccessDeniedException'])
    expect(events[0].userIdentity).to.include({accessKeyId: READER, type: 'IAMUser', userName: 'reader'})
    expect(events[0].errorMessage).to.contain(`User: ${READER_ARN} is not authorized`)
  })

  it('applies EncryptionContextSubset: the request may carry more pairs, never fewer', async () => {
    const arn = await c.createKey()
    await c.kms(ADMIN, 'CreateGrant', {Constraints: {EncryptionContextSubset: {app: 'web'}}, GranteePrincipal: READER_ARN, KeyId: arn, Operations: ['Encrypt', 'DescribeKey']})
    expect((await c.kms(READER, 'Encrypt', {EncryptionContext: {app: 'web', env: 'prod'}, KeyId: arn, Plaintext: b64('x')})).status).to.equal(200)
    expect((await c.kms(READER, 'Encrypt', {KeyId: arn, Plaintext: b64('x')})).type).to.equal('AccessDeniedException')
    // Constraints do not apply to operations without an encryption context.
    expect((await c.kms(READER, 'DescribeKey', {KeyId: arn})).status).to.equal(200)
  })

  it('lets an explicit Deny in the key policy beat a grant', async () => {
    const deny = {Action: 'kms:Decrypt', Effect: 'Deny', Principal: {AWS: READER_ARN}, Resource: '*', Sid: 'NoReader'}
    const arn = await c.createKey({Policy: policy(ROOT_ALL, deny)})
    const enc = await c.kms(ADMIN, 'Encrypt', {KeyId: arn, Plaintext: b64('x')})
    await c.kms(ADMIN, 'CreateGrant', {GranteePrincipal: READER_ARN, KeyId: arn, Operations: ['Decrypt']})
    const out = await c.kms(READER, 'Decrypt', {CiphertextBlob: enc.body.CiphertextBlob})
    expect(out.message).to.equal(`User: ${READER_ARN} is not authorized to perform: kms:Decrypt on resource: ${arn} with an explicit deny in a resource-based policy`)
  })

  it('lets a grant to a role serve its sessions', async () => {
    const arn = await c.createKey()
    await c.kms(ADMIN, 'CreateGrant', {GranteePrincipal: APP_ROLE_ARN, KeyId: arn, Operations: ['GenerateDataKey']})
    expect((await c.kms(APP, 'GenerateDataKey', {KeyId: arn, KeySpec: 'AES_256'})).status).to.equal(200)
    expect((await c.kms(READER, 'GenerateDataKey', {KeyId: arn, KeySpec: 'AES_256'})).type).to.equal('AccessDeniedException')
  })

  it('allows a principal the key policy names directly, without IAM, and honours conditions', async () => {
    const allow = {
      Action: ['kms:Encrypt', 'kms:Decrypt'],
      Condition: {StringEquals: {'kms:EncryptionContext:team': 'payments'}},
      Effect: 'Allow',
      Principal: {AWS: READER_ARN},
      Resource: '*',
      Sid: 'Reader',
    }
    const arn = await c.createKey({Policy: policy(ROOT_ALL, allow)})
    expect((await c.kms(READER, 'Encrypt', {EncryptionContext: {team: 'payments'}, KeyId: arn, Plaintext: b64('x')})).status).to.equal(200)
    expect((await c.kms(READER, 'Encrypt', {EncryptionContext: {team: 'ops'}, KeyId: arn, Plaintext: b64('x')})).type).to.equal('AccessDeniedException')
  })

  it('evaluates kms:CallerAccount and aws:PrincipalArn (an assumed role as its role)', async () => {
    const st = {
      Action: 'kms:DescribeKey',
      Condition: {ArnEquals: {'aws:PrincipalArn': APP_ROLE_ARN}, StringEquals: {'kms:CallerAccount': SANDBOX_ACCOUNT}},
      Effect: 'Allow',
      Principal: {AWS: '*'},
      Resource: '*',
    }
    const arn = await c.createKey({Policy: policy(ROOT_ALL, st)})
    await addPrincipal(c.dir, {accessKeyId: APP, arn: APP_SESSION_ARN, iamAllow: [], nowMs: Date.now(), replace: true}, SANDBOX_ACCOUNT)
    expect((await c.kms(APP, 'DescribeKey', {KeyId: arn})).status).to.equal(200)
    expect((await c.kms(READER, 'DescribeKey', {KeyId: arn})).type).to.equal('AccessDeniedException')
  })

  it('needs both the key policy and its own IAM for a caller in another account', async () => {
    const partnerAllowed = {Action: 'kms:DescribeKey', Effect: 'Allow', Principal: {AWS: 'arn:aws:iam::444455556666:root'}, Resource: '*', Sid: 'Partner'}
    const arn = await c.createKey({Policy: policy(ROOT_ALL, partnerAllowed)})
    expect((await c.kms(PARTNER, 'DescribeKey', {KeyId: arn})).status).to.equal(200)
    expect((await c.kms(PARTNER, 'Decrypt', {CiphertextBlob: (await c.kms(ADMIN, 'Encrypt', {KeyId: arn, Plaintext: b64('x')})).body.CiphertextBlob})).type).to.equal('AccessDeniedException')
    await addPrincipal(c.dir, {accessKeyId: PARTNER, arn: 'arn:aws:iam::444455556666:user/partner', iamAllow: ['kms:Encrypt'], nowMs: Date.now(), replace: true}, SANDBOX_ACCOUNT)
    const denied = await c.kms(PARTNER, 'DescribeKey', {KeyId: arn})
    expect(denied.message).to.contain('because no identity-based policy allows the kms:DescribeKey action')
    // The key owner's trail shows a cross-account caller as AWSAccount.
    const last = c.core.store.readEvents().at(-1)!
    expect(last.userIdentity).to.deep.equal({accountId: '444455556666', principalId: last.userIdentity.principalId, type: 'AWSAccount'})
    expect(last.userIdentity.principalId).to.match(/^AIDA[A-Z2-7]{17}$/)
  })

  it('decides operations on no key by the IAM allow list alone', async () => {
    expect((await c.kms(READER, 'ListKeys')).message).to.equal(`User: ${READER_ARN} is not authorized to perform: kms:ListKeys on resource: * because no identity-based policy allows the kms:ListKeys action`)
    expect((await c.kms(READER, 'CreateKey')).type).to.equal('AccessDeniedException')
    expect((await c.kms(READER, 'ListAliases')).type).to.equal('AccessDeniedException')
    expect((await c.kms(ADMIN, 'ListKeys')).status).to.equal(200)
    await addPrincipal(c.dir, {accessKeyId: READER, arn: READER_ARN, iamAllow: ['kms:List*'], nowMs: Date.now(), replace: true}, SANDBOX_ACCOUNT)
    expect((await c.kms(READER, 'ListKeys')).status).to.equal(200)
    expect((await c.kms(READER, 'CreateKey')).type).to.equal('AccessDeniedException')
  })

  it('sees principal changes without a restart, and a removed access key acts as the administrator again', async () => {
    const arn = await c.createKey()
    expect((await c.kms(READER, 'DisableKey', {KeyId: arn})).type).to.equal('AccessDeniedException')
    await removePrincipal(c.dir, READER, SANDBOX_ACCOUNT)
    expect((await c.kms(READER, 'DisableKey', {KeyId: arn})).status).to.equal(200)
  })

  it('needs ReEncryptFrom on the source key and ReEncryptTo on the destination', async () => {
    const src = await c.createKey()
    const dst = await c.createKey()
    const enc = await c.kms(ADMIN, 'Encrypt', {KeyId: src, Plaintext: b64('x')})
    await c.kms(ADMIN, 'CreateGrant', {GranteePrincipal: READER_ARN, KeyId: src, Operations: ['ReEncryptFrom']})
    const half = await c.kms(READER, 'ReEncrypt', {CiphertextBlob: enc.body.CiphertextBlob, DestinationKeyId: dst})
    expect(half.message).to.equal(`User: ${READER_ARN} is not authorized to perform: kms:ReEncryptTo on resource: ${dst} because no identity-based policy allows the kms:ReEncryptTo action`)
    await c.kms(ADMIN, 'CreateGrant', {GranteePrincipal: READER_ARN, KeyId: dst, Operations: ['ReEncryptTo']})
    expect((await c.kms(READER, 'ReEncrypt', {CiphertextBlob: enc.body.CiphertextBlob, DestinationKeyId: dst})).status).to.equal(200)
  })

  it('lets the retiring principal retire a grant it has no other right on', async () => {
    const arn = await c.createKey()
    const g = await c.kms(ADMIN, 'CreateGrant', {GranteePrincipal: APP_ROLE_ARN, KeyId: arn, Operations: ['Decrypt'], RetiringPrincipal: READER_ARN})
    expect((await c.kms(APP, 'RetireGrant', {GrantId: g.body.GrantId, KeyId: arn})).type).to.equal('AccessDeniedException')
    expect((await c.kms(READER, 'RetireGrant', {GrantId: g.body.GrantId, KeyId: arn})).status).to.equal(200)
  })

  it('runs the lockout safety check with the same evaluator and the caller IAM allow list', async () => {
    const arn = await c.createKey()
    const readerOnly = policy({Action: 'kms:*', Effect: 'Allow', Principal: {AWS: READER_ARN}, Resource: '*'})
    const refused = await c.kms(ADMIN, 'PutKeyPolicy', {KeyId: arn, Policy: readerOnly, PolicyName: 'default'})
    expect(refused.type).to.equal('MalformedPolicyDocumentException')
    expect(refused.message).to.equal('The new key policy will not allow you to update the key policy in the future.')
    const denyPut = policy(ROOT_ALL, {Action: 'kms:PutKeyPolicy', Effect: 'Deny', Principal: {AWS: '*'}, Resource: '*'})
    expect((await c.kms(ADMIN, 'PutKeyPolicy', {KeyId: arn, Policy: denyPut, PolicyName: 'default'})).type).to.equal('MalformedPolicyDocumentException')
    expect((await c.kms(ADMIN, 'PutKeyPolicy', {BypassPolicyLockoutSafetyCheck: true, KeyId: arn, Policy: readerOnly, PolicyName: 'default'})).status).to.equal(200)
    // The reader is named for PutKeyPolicy now; a policy that only delegates to IAM would lock it out
    // (its IAM allow list is empty), unless its IAM allows kms:PutKeyPolicy.
    const readerPut = {Action: 'kms:PutKeyPolicy', Effect: 'Allow', Principal: {AWS: READER_ARN}, Resource: '*'}
    const other = await c.createKey({Policy: policy(ROOT_ALL, readerPut)})
    expect((await c.kms(READER, 'PutKeyPolicy', {KeyId: other, Policy: policy(ROOT_ALL), PolicyName: 'default'})).type).to.equal('MalformedPolicyDocumentException')
    await addPrincipal(c.dir, {accessKeyId: READER, arn: READER_ARN, iamAllow: ['kms:PutKeyPolicy'], nowMs: Date.now(), replace: true}, SANDBOX_ACCOUNT)
    expect((await c.kms(READER, 'PutKeyPolicy', {KeyId: other, Policy: policy(ROOT_ALL), PolicyName: 'default'})).status).to.equal(200)
  })

  it('gives calls through a service kms:ViaService and kms:GrantIsForAWSResource: the AWS managed key of that service serves them only', async () => {
    const VIA = 'AKIAEXAMPLEVIAS30001'
    await addPrincipal(c.dir, {accessKeyId: VIA, arn: 'arn:aws:iam::111122223333:user/uploader', iamAllow: ['kms:Encrypt'], nowMs: Date.now(), viaService: 's3.us-east-1.amazonaws.com'}, SANDBOX_ACCOUNT)
    await addPrincipal(c.dir, {accessKeyId: READER, arn: READER_ARN, iamAllow: ['kms:Encrypt'], nowMs: Date.now(), replace: true}, SANDBOX_ACCOUNT)
    const through = await c.kms(VIA, 'Encrypt', {KeyId: 'alias/aws/s3', Plaintext: b64('x')})
    expect(through.status, through.message).to.equal(200)
    const direct = await c.kms(READER, 'Encrypt', {KeyId: 'alias/aws/s3', Plaintext: b64('x')})
    expect(direct.type).to.equal('AccessDeniedException')
    expect(direct.message).to.contain('because no resource-based policy allows the kms:Encrypt action')
    const record = c.core.store.readEvents().find((e) => e.userIdentity?.userName === 'uploader')!
    expect(record.userIdentity.invokedBy).to.equal('s3.amazonaws.com')

    const onlyForResources = {
      Action: 'kms:CreateGrant',
      Condition: {Bool: {'kms:GrantIsForAWSResource': 'true'}},
      Effect: 'Allow',
      Principal: {AWS: '*'},
      Resource: '*',
    }
    const arn = await c.createKey({Policy: policy(ROOT_ALL, onlyForResources)})
    const grant = {GranteePrincipal: APP_ROLE_ARN, KeyId: arn, Operations: ['Decrypt']}
    expect((await c.kms(VIA, 'CreateGrant', grant)).status).to.equal(200)
    expect((await c.kms(READER, 'CreateGrant', grant)).type).to.equal('AccessDeniedException')
  })

  it('answers GetCallerIdentity and records CloudTrail identities for an assumed role', async () => {
    const me = await c.sts(APP)
    expect(me.body).to.contain(`<Arn>${APP_SESSION_ARN}</Arn>`)
    expect(me.body).to.match(/<UserId>AROA[A-Z2-7]{17}:worker-1<\/UserId>/)
    const arn = await c.createKey()
    await c.kms(APP, 'DescribeKey', {KeyId: arn})
    const u = c.core.store.readEvents().at(-1)!.userIdentity
    expect(u.type).to.equal('AssumedRole')
    expect(u.arn).to.equal(APP_SESSION_ARN)
    expect(u.accessKeyId).to.equal(APP)
    expect(u.sessionContext.sessionIssuer).to.deep.include({arn: APP_ROLE_ARN, type: 'Role', userName: 'App'})
    expect(u.principalId.startsWith(u.sessionContext.sessionIssuer.principalId + ':')).to.equal(true)
  })
})
