// The AWS CLI v2 (Debian package, /usr/bin/aws; a v1 `aws` earlier on PATH is not used) against
// `kmsctl sandbox serve` as two principals at once: the administrator and a second principal whose
// rights come from its IAM allow list, the key policy and grants.
import {expect} from 'chai'
import {existsSync, mkdtempSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {DEFAULT_ACCESS_KEY_ID, DEFAULT_PRINCIPAL_ARN, DEFAULT_SECRET_ACCESS_KEY, SANDBOX_ACCOUNT} from '../../src/sandbox/constants.js'
import {runCli} from '../helpers/cli.js'
import {AWS_CLI, type AwsResult, runAws} from '../helpers/awscli.js'
import {type SandboxServer, startSandboxServer} from '../helpers/sandbox-server.js'

const AWS = AWS_CLI
const APP = 'AKIAEXAMPLEAPPROLE01'
const APP_SESSION = `arn:aws:sts::${SANDBOX_ACCOUNT}:assumed-role/App/batch-7`
const APP_ROLE = `arn:aws:iam::${SANDBOX_ACCOUNT}:role/App`

describe('AWS CLI v2 against kmsctl sandbox serve, as two principals', function () {
  this.timeout(180_000)
  let server: SandboxServer
  let work: string

  before(async function () {
    if (!existsSync(AWS)) {
      process.stderr.write(`Skipped: ${AWS} is missing (install the Debian package awscli).\n`)
      this.skip()
    }

    server = await startSandboxServer()
    work = mkdtempSync(join(tmpdir(), 'kmsctl-awscli-realism-'))
    const added = await runCli(['sandbox', 'principal', 'add', APP, APP_SESSION, '--iam-allow', 'kms:DescribeKey', '--sandbox-dir', server.dir])
    expect(added.code, added.stderr).to.equal(0)
  })

  after(async () => {
    await server?.stop()
  })

  function aws(accessKeyId: string, ...args: string[]): Promise<AwsResult> {
    // The sandbox checks the default credentials' signatures; the other access keys sign with any secret.
    const secretAccessKey = accessKeyId === DEFAULT_ACCESS_KEY_ID ? DEFAULT_SECRET_ACCESS_KEY : 'not-a-real-secret'
    return runAws({accessKeyId, home: work, secretAccessKey, url: server.url}, args)
  }

  const admin = async (...args: string[]) => {
    const r = await aws(DEFAULT_ACCESS_KEY_ID, ...args)
    expect(r.code, `aws ${args.join(' ')}\n${r.stderr}`).to.equal(0)
    return r.json
  }

  const app = (...args: string[]) => aws(APP, ...args)

  const file = (name: string, content: string) => {
    const p = join(work, name)
    writeFileSync(p, content)
    return p
  }

  let keyId: string
  let keyArn: string

  it('sts get-caller-identity answers each principal', async () => {
    expect(await admin('sts', 'get-caller-identity')).to.include({Account: SANDBOX_ACCOUNT, Arn: DEFAULT_PRINCIPAL_ARN})
    const me = await app('sts', 'get-caller-identity')
    expect(me.json).to.include({Account: SANDBOX_ACCOUNT, Arn: APP_SESSION})
    expect(me.json.UserId).to.match(/^AROA[A-Z2-7]{17}:batch-7$/)
  })

  it('the second principal may describe (IAM allows it) but not list keys or encrypt', async () => {
    const key = (await admin('kms', 'create-key', '--description', 'two principals')).KeyMetadata
    keyId = key.KeyId
    keyArn = key.Arn
    expect((await app('kms', 'describe-key', '--key-id', keyId)).json.KeyMetadata.Arn).to.equal(keyArn)
    const list = await app('kms', 'list-keys')
    expect(list.code).to.equal(254)
    expect(list.errorCode).to.equal('AccessDeniedException')
    expect(list.errorMessage).to.equal(`User: ${APP_SESSION} is not authorized to perform: kms:ListKeys on resource: * because no identity-based policy allows the kms:ListKeys action`)
    const enc = await app('kms', 'encrypt', '--key-id', keyId, '--plaintext', `fileb://${file('p.txt', 'x')}`)
    expect(enc.errorCode).to.equal('AccessDeniedException')
    expect(enc.errorMessage).to.equal(`User: ${APP_SESSION} is not authorized to perform: kms:Encrypt on resource: ${keyArn} because no identity-based policy allows the kms:Encrypt action`)
  })

  it('a grant to the role lets its session encrypt and decrypt with the matching encryption context only', async () => {
    await admin('kms', 'create-grant', '--key-id', keyId, '--grantee-principal', APP_ROLE, '--operations', 'Encrypt', 'Decrypt',
      '--constraints', 'EncryptionContextSubset={team=payments}')
    const plain = file('secret.txt', 'payroll')
    const enc = await app('kms', 'encrypt', '--key-id', keyId, '--plaintext', `fileb://${plain}`, '--encryption-context', 'team=payments,env=prod')
    expect(enc.code, enc.stderr).to.equal(0)
    // fileb:// gives the CLI raw bytes: the ciphertext decoded from the base64 it printed.
    const blob = join(work, 'blob.bin')
    writeFileSync(blob, Buffer.from(enc.json.CiphertextBlob, 'base64'))
    const dec = await app('kms', 'decrypt', '--ciphertext-blob', `fileb://${blob}`, '--encryption-context', 'team=payments,env=prod')
    expect(dec.code, dec.stderr).to.equal(0)
    expect(Buffer.from(dec.json.Plaintext, 'base64').toString()).to.equal('payroll')
    const missing = await app('kms', 'decrypt', '--ciphertext-blob', `fileb://${blob}`)
    // Without the context the grant's constraint does not hold: denied before the ciphertext is checked.
    expect(missing.errorCode).to.equal('AccessDeniedException')
    const other = await app('kms', 'encrypt', '--key-id', keyId, '--plaintext', `fileb://${plain}`, '--encryption-context', 'team=ops')
    expect(other.errorCode).to.equal('AccessDeniedException')
  })

  it('put-key-policy: denied to the second principal; the lockout check refuses a policy that shuts the administrator out', async () => {
    const onlyApp = JSON.stringify({Statement: [{Action: 'kms:*', Effect: 'Allow', Principal: {AWS: APP_ROLE}, Resource: '*'}], Version: '2012-10-17'})
    const denied = await app('kms', 'put-key-policy', '--key-id', keyId, '--policy-name', 'default', '--policy', onlyApp)
    expect(denied.errorCode).to.equal('AccessDeniedException')
    const lockout = await aws(DEFAULT_ACCESS_KEY_ID, 'kms', 'put-key-policy', '--key-id', keyId, '--policy-name', 'default', '--policy', onlyApp)
    expect(lockout.errorCode).to.equal('MalformedPolicyDocumentException')
    expect(lockout.errorMessage).to.equal('The new key policy will not allow you to update the key policy in the future.')
  })

  it('cloudtrail lookup-events shows both principals, denials with their errorCode', async () => {
    const out = await admin('cloudtrail', 'lookup-events', '--lookup-attributes', `AttributeKey=AccessKeyId,AttributeValue=${APP}`)
    const records = out.Events.map((e: {CloudTrailEvent: string}) => JSON.parse(e.CloudTrailEvent))
    const denied = records.filter((r: {errorCode?: string}) => r.errorCode === 'AccessDeniedException')
    expect(denied.map((r: {eventName: string}) => r.eventName).sort()).to.deep.equal(['Decrypt', 'Encrypt', 'Encrypt', 'ListKeys', 'PutKeyPolicy'])
    const identity = records[0].userIdentity
    expect(identity).to.include({accessKeyId: APP, arn: APP_SESSION, type: 'AssumedRole'})
    expect(identity.sessionContext.sessionIssuer).to.include({arn: APP_ROLE, type: 'Role', userName: 'App'})
    const adminEvents = await admin('cloudtrail', 'lookup-events', '--lookup-attributes', 'AttributeKey=Username,AttributeValue=sandbox-admin')
    expect(adminEvents.Events.length).to.be.greaterThan(0)
    for (const e of adminEvents.Events) expect(JSON.parse(e.CloudTrailEvent).userIdentity.arn).to.equal(DEFAULT_PRINCIPAL_ARN)
  })
})
