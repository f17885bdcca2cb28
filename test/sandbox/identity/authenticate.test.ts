import {expect} from 'chai'
import {createHash} from 'node:crypto'

import {SANDBOX_ACCOUNT} from '../../../src/sandbox/constants.js'
import {SandboxCore} from '../../../src/sandbox/core.js'
import {parseAuthorization, rootSignature, sdkSignature} from '../../../src/sandbox/identity/authenticate.js'
import {addPrincipal, listPrincipals} from '../../../src/sandbox/identity/principals.js'
import {ADMIN, READER, READER_ARN, newDir, signRequest} from '../raw-client.js'

const KMS_HEADERS = {'content-type': 'application/x-amz-json-1.1', host: '127.0.0.1:4599', 'x-amz-target': 'TrentService.ListKeys'}

async function call(core: SandboxCore, headers: Record<string, string>, body = '{}') {
  const out = await core.handle({body, headers, method: 'POST', path: '/', sourceIp: '127.0.0.1'})
  return {body: out.body, json: out.headers['content-type']?.includes('json') ? JSON.parse(out.body) : undefined, status: out.status}
}

describe('sandbox identity: request signatures', () => {
  it('refuses a request without Authorization: MissingAuthenticationTokenException, nothing recorded', async () => {
    const core = new SandboxCore(newDir())
    const r = await call(core, KMS_HEADERS)
    expect(r.status).to.equal(400)
    expect(r.json).to.deep.equal({__type: 'MissingAuthenticationTokenException', message: 'Missing Authentication Token'})
    expect(core.store.readEvents()).to.deep.equal([])
  })

  it('refuses an Authorization header that is not SigV4: IncompleteSignatureException', async () => {
    const core = new SandboxCore(newDir())
    for (const authorization of ['Bearer abc', 'AWS4-HMAC-SHA256 Credential=AKIAKMSCTLSANDBOX001/20260101/us-east-1/kms/aws4_request, SignedHeaders=host, Signature=00']) {
      const r = await call(core, {...KMS_HEADERS, authorization})
      expect(r.status).to.equal(400)
      expect(r.json.__type).to.equal('IncompleteSignatureException')
    }
  })

  it('checks the signature of the default credentials: a wrong secret or a changed body is InvalidSignatureException', async () => {
    const core = new SandboxCore(newDir())
    const good = await signRequest(ADMIN, 'kms', KMS_HEADERS, '{}')
    expect((await call(core, good)).status).to.equal(200)
    const wrongSecret = await signRequest(ADMIN, 'kms', KMS_HEADERS, '{}', 'not-the-sandbox-secret-000000')
    const refused = await call(core, wrongSecret)
    expect(refused.status).to.equal(400)
    expect(refused.json.__type).to.equal('InvalidSignatureException')
    // The body is part of the signature: the same headers over another body do not verify.
    expect((await call(core, good, '{"Limit": 1}')).json.__type).to.equal('InvalidSignatureException')
  })

  it('computes the signature of a request to "/" exactly as the SDK signer does (session token, spaces in values, signed headers in any order)', async () => {
    const cases: Array<Record<string, string>> = [
      KMS_HEADERS,
      {...KMS_HEADERS, 'x-amz-security-token': 'token.with.dots', 'x-amz-user-agent': '  aws-sdk-js/3  ua/2.1   os/linux  '},
      {'content-type': 'application/x-www-form-urlencoded', host: 'localhost:4599', 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD-NOT-USED'},
    ]
    for (const [i, headers] of cases.entries()) {
      const body = i === 2 ? 'Action=GetCallerIdentity&Version=2011-06-15' : '{"KeyId":"alias/x"}'
      // eslint-disable-next-line no-await-in-loop
      const signed = await signRequest(ADMIN, i === 2 ? 'sts' : 'kms', i === 2 ? {'content-type': headers['content-type'], host: headers.host} : headers, body)
      const lower: Record<string, string> = {}
      for (const [k, v] of Object.entries(signed)) lower[k.toLowerCase()] = v
      const auth = parseAuthorization(lower.authorization)!
      const req = {body, headers: lower, method: 'POST', path: '/', query: {}, sourceIp: '127.0.0.1'}
      // eslint-disable-next-line no-await-in-loop
      const bySdk = await sdkSignature(req, auth, 'kmsctl-sandbox-not-a-real-secret-0000000')
      const bodyHash = createHash('sha256').update(body).digest('hex')
      expect(rootSignature(req, auth, 'kmsctl-sandbox-not-a-real-secret-0000000', bodyHash)).to.equal(bySdk)
      expect(bySdk).to.equal(auth.signature)
    }
  })

  it('checks a principal signature when it was added with its secret, and never lists the secret', async () => {
    const dir = newDir()
    const core = new SandboxCore(dir)
    // Without a known secret, the access key's signature is not checked.
    expect((await call(core, await signRequest(READER, 'kms', KMS_HEADERS, '{}', 'whatever-secret-0000'))).status).to.equal(200)
    await addPrincipal(dir, {accessKeyId: READER, arn: READER_ARN, iamAllow: ['kms:ListKeys'], nowMs: Date.now(), secretAccessKey: 'reader-secret-0000000000'}, SANDBOX_ACCOUNT)
    expect((await call(core, await signRequest(READER, 'kms', KMS_HEADERS, '{}', 'whatever-secret-0000'))).json.__type).to.equal('InvalidSignatureException')
    expect((await call(core, await signRequest(READER, 'kms', KMS_HEADERS, '{}', 'reader-secret-0000000000'))).status).to.equal(200)
    const rows = listPrincipals(dir, SANDBOX_ACCOUNT)
    expect(rows.find((r) => r.accessKeyId === READER)).to.deep.include({verifiesSignature: true})
    expect(JSON.stringify(rows)).to.not.contain('reader-secret')
  })

  it('answers STS in its own protocol: MissingAuthenticationToken and SignatureDoesNotMatch, HTTP 403, in XML', async () => {
    const core = new SandboxCore(newDir())
    const sts = {'content-type': 'application/x-www-form-urlencoded', host: '127.0.0.1:4599'}
    const body = 'Action=GetCallerIdentity&Version=2011-06-15'
    const unsigned = await call(core, sts, body)
    expect(unsigned.status).to.equal(403)
    expect(unsigned.body).to.contain('<Code>MissingAuthenticationToken</Code>')
    const bad = await call(core, await signRequest(ADMIN, 'sts', sts, body, 'not-the-sandbox-secret-000000'), body)
    expect(bad.status).to.equal(403)
    expect(bad.body).to.contain('<Code>SignatureDoesNotMatch</Code>')
    expect((await call(core, await signRequest(ADMIN, 'sts', sts, body), body)).status).to.equal(200)
  })

  it('answers only the Host names it is told to (the HTTP server keeps to loopback names)', async () => {
    const core = new SandboxCore(newDir(), {allowHost: (host) => host === '127.0.0.1:4599'})
    expect((await call(core, await signRequest(ADMIN, 'kms', KMS_HEADERS, '{}'))).status).to.equal(200)
    const rebound = await call(core, await signRequest(ADMIN, 'kms', {...KMS_HEADERS, host: 'attacker.example:4599'}, '{}'))
    expect(rebound.status).to.equal(403)
    expect(rebound.json.message).to.contain('--allow-remote')
  })
})
