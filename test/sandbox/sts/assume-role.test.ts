import {expect} from 'chai'

import {addAccount} from '../../../src/sandbox/organizations/model.js'
import {ADMIN, Client, READER, READER_ARN, secretFor, signRequest} from '../raw-client.js'
import {addPrincipal} from '../../../src/sandbox/identity/principals.js'
import {SANDBOX_ACCOUNT} from '../../../src/sandbox/constants.js'

const MEMBER = '444455556666'
const ROLE_ARN = `arn:aws:iam::${MEMBER}:role/OrganizationAccountAccessRole`

function form(fields: Record<string, string>): string {
  return new URLSearchParams({Action: 'AssumeRole', Version: '2011-06-15', ...fields}).toString()
}

/** A request signed as the SDK signs it; session credentials carry their token (signed too). */
async function call(c: Client, accessKeyId: string, headers: Record<string, string>, body: string, token?: string, secret = secretFor(accessKeyId), service = 'sts') {
  const signed = await signRequest(accessKeyId, service, {...headers, host: '127.0.0.1:4599', ...(token ? {'x-amz-security-token': token} : {})}, body, secret)
  return c.core.handle({body, headers: signed, method: 'POST', path: '/', sourceIp: '127.0.0.1'})
}

const tag = (xml: string, name: string) => new RegExp(`<${name}>([^<]*)</${name}>`).exec(xml)?.[1]

describe('sandbox STS AssumeRole and the organisation', () => {
  let c: Client
  beforeEach(async () => {
    c = new Client()
    await addAccount(c.dir, {id: MEMBER, name: 'member', nowMs: Date.now()})
  })

  it('issues temporary credentials that act as the session in the role\'s account only', async () => {
    const out = await call(c, ADMIN, {'content-type': 'application/x-www-form-urlencoded'}, form({RoleArn: ROLE_ARN, RoleSessionName: 'ops-1'}))
    expect(out.status).to.equal(200)
    const ak = tag(out.body, 'AccessKeyId')!
    expect(ak).to.match(/^ASIA[A-Z2-7]{16}$/)
    expect(tag(out.body, 'Arn')).to.equal(`arn:aws:sts::${MEMBER}:assumed-role/OrganizationAccountAccessRole/ops-1`)
    const token = tag(out.body, 'SessionToken')!
    const secret = tag(out.body, 'SecretAccessKey')!
    const who = await call(c, ak, {'content-type': 'application/x-www-form-urlencoded'}, 'Action=GetCallerIdentity&Version=2011-06-15', token, secret)
    expect(tag(who.body, 'Account')).to.equal(MEMBER)
    // A key the session creates is the member account's; the management account's listing does not show it.
    const created = await call(c, ak, {'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'TrentService.CreateKey'}, '{}', token, secret, 'kms')
    expect(JSON.parse(created.body).KeyMetadata.Arn).to.match(new RegExp(`^arn:aws:kms:us-east-1:${MEMBER}:key/`))
    expect((await c.kms(ADMIN, 'ListKeys')).body.Keys).to.deep.equal([])
    // A forged token is refused; so is a signature made with another secret.
    const forged = await call(c, ak, {'content-type': 'application/x-www-form-urlencoded'}, 'Action=GetCallerIdentity&Version=2011-06-15', token.slice(0, -2) + 'xx', secret)
    expect(forged.status).to.equal(403)
    expect(tag(forged.body, 'Code')).to.equal('InvalidClientTokenId')
    const wrongSecret = await call(c, ak, {'content-type': 'application/x-www-form-urlencoded'}, 'Action=GetCallerIdentity&Version=2011-06-15', token, 'not-the-secret-of-this-session-0000000000')
    expect(tag(wrongSecret.body, 'Code')).to.equal('SignatureDoesNotMatch')
  })

  it('records AssumeRole in both accounts with one sharedEventID', async () => {
    await call(c, ADMIN, {'content-type': 'application/x-www-form-urlencoded'}, form({RoleArn: ROLE_ARN, RoleSessionName: 'ops-1'}))
    const records = c.core.store.readEvents().filter((r) => r.eventName === 'AssumeRole')
    expect(records.map((r) => r.recipientAccountId)).to.deep.equal([SANDBOX_ACCOUNT, MEMBER])
    expect(records[0].sharedEventID).to.equal(records[1].sharedEventID)
    expect(records[0].userIdentity.arn).to.equal(`arn:aws:iam::${SANDBOX_ACCOUNT}:user/sandbox-admin`)
    expect(records[1].userIdentity).to.deep.equal({accountId: SANDBOX_ACCOUNT, principalId: 'AIDAKMSCTLSANDBOXADMIN', type: 'AWSAccount'})
    expect(records[0].resources).to.deep.equal([{ARN: ROLE_ARN, accountId: MEMBER, type: 'AWS::IAM::Role'}])
    expect(records[0].responseElements.credentials.sessionToken).to.equal('***')
  })

  it('refuses as AWS does: unknown role, a caller its IAM does not allow, bad session names and durations', async () => {
    const post = (fields: Record<string, string>, ak = ADMIN) => call(c, ak, {'content-type': 'application/x-www-form-urlencoded'}, form(fields))
    const missing = await post({RoleArn: `arn:aws:iam::${MEMBER}:role/Nope`, RoleSessionName: 's1'})
    expect(missing.status).to.equal(403)
    expect(tag(missing.body, 'Code')).to.equal('AccessDenied')
    expect(tag(missing.body, 'Message')).to.equal(`User: arn:aws:iam::${SANDBOX_ACCOUNT}:user/sandbox-admin is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::${MEMBER}:role/Nope`)
    await addPrincipal(c.dir, {accessKeyId: READER, arn: READER_ARN, iamAllow: ['kms:Describe*'], nowMs: Date.now()}, SANDBOX_ACCOUNT)
    expect(tag((await post({RoleArn: ROLE_ARN, RoleSessionName: 's1'}, READER)).body, 'Code')).to.equal('AccessDenied')
    const badName = await post({RoleArn: ROLE_ARN, RoleSessionName: 'a b'})
    expect(tag(badName.body, 'Code')).to.equal('ValidationError')
    expect(tag(badName.body, 'Message')).to.contain("at 'roleSessionName' failed to satisfy constraint")
    expect(tag((await post({DurationSeconds: '7200', RoleArn: ROLE_ARN, RoleSessionName: 's1'})).body, 'Message')).to.equal('The requested DurationSeconds exceeds the MaxSessionDuration set for this role.')
    expect(tag((await post({DurationSeconds: '600', RoleArn: ROLE_ARN, RoleSessionName: 's1'})).body, 'Code')).to.equal('ValidationError')
  })

  it('answers Organizations ListAccounts (paged) from the management account only', async () => {
    const list = async (ak: string, input: Record<string, unknown>, token?: string, secret?: string) => {
      const out = await call(c, ak, {'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'AWSOrganizationsV20161128.ListAccounts'}, JSON.stringify(input), token, secret ?? secretFor(ak), 'organizations')
      return {body: JSON.parse(out.body), status: out.status}
    }

    const first = await list(ADMIN, {MaxResults: 1})
    expect(first.body.Accounts.map((a: {Id: string}) => a.Id)).to.deep.equal([SANDBOX_ACCOUNT])
    const second = await list(ADMIN, {MaxResults: 1, NextToken: first.body.NextToken})
    expect(second.body.Accounts.map((a: {Id: string}) => a.Id)).to.deep.equal([MEMBER])
    expect(second.body.NextToken).to.equal(undefined)
    const session = await call(c, ADMIN, {'content-type': 'application/x-www-form-urlencoded'}, form({RoleArn: ROLE_ARN, RoleSessionName: 'ops-1'}))
    const fromMember = await list(tag(session.body, 'AccessKeyId')!, {}, tag(session.body, 'SessionToken'), tag(session.body, 'SecretAccessKey'))
    expect(fromMember.body.__type).to.equal('AccessDeniedException')
  })
})
