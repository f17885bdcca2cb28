import {expect} from 'chai'
import {mkdtempSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {HttpResponse} from '@smithy/protocol-http'

import {AwsClients, endpointFor, resolveRegion} from '../../../src/lib/aws/clients.js'
import {listAllKeyIds} from '../../../src/lib/aws/paging.js'
import {Pacer} from '../../../src/lib/pacing.js'

describe('client factory', () => {
  const saved = {...process.env}
  afterEach(() => {
    process.env = {...saved}
  })

  it('takes the region from --region, AWS_REGION, AWS_DEFAULT_REGION, then the profile, in that order', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'aws-config-'))
    writeFileSync(join(dir, 'config'), '[default]\nregion = eu-west-1\n[profile ops]\nregion = ap-southeast-2\n')
    process.env.AWS_CONFIG_FILE = join(dir, 'config')
    expect(await resolveRegion({env: {AWS_DEFAULT_REGION: 'us-west-2', AWS_REGION: 'us-east-2'}, region: 'eu-central-1'})).to.equal('eu-central-1')
    expect(await resolveRegion({env: {AWS_DEFAULT_REGION: 'us-west-2', AWS_REGION: 'us-east-2'}})).to.equal('us-east-2')
    expect(await resolveRegion({env: {AWS_DEFAULT_REGION: 'us-west-2'}})).to.equal('us-west-2')
    expect(await resolveRegion({env: {}, profile: 'ops'})).to.equal('ap-southeast-2')
    expect(await resolveRegion({env: {}})).to.equal('eu-west-1')
  })

  it('gives the s3 source\'s scanning threads the S3 client\'s settings, or none where requests cannot leave this thread', async () => {
    const env = {AWS_ENDPOINT_URL_S3: 'http://127.0.0.1:4599'}
    expect(await new AwsClients({env, region: 'eu-west-1', version: '9.9.9'}).s3ThreadSettings()).to.deep.equal({
      customUserAgent: [['kmsctl', '9.9.9']],
      endpoint: 'http://127.0.0.1:4599',
      forcePathStyle: true,
      maxAttempts: 3,
      region: 'eu-west-1',
    })
    expect(await new AwsClients({env: {}, region: 'eu-west-1'}).s3ThreadSettings()).to.deep.include({region: 'eu-west-1'}).and.not.have.property('endpoint')
    expect(await new AwsClients({env: {}, region: 'eu-west-1', sandbox: true}).s3ThreadSettings()).to.equal(undefined)
    expect(await new AwsClients({env: {}, region: 'eu-west-1', requestHandler: {}}).s3ThreadSettings()).to.equal(undefined)
    expect(await new AwsClients({env: {AWS_USE_FIPS_ENDPOINT: 'true'}, region: 'us-east-1'}).s3ThreadSettings()).to.equal(undefined)
  })

  it('refuses to guess a region', async () => {
    process.env.AWS_CONFIG_FILE = join(mkdtempSync(join(tmpdir(), 'aws-config-')), 'none')
    const err = await resolveRegion({env: {}, profile: 'nope'}).catch((error: Error) => error)
    expect(err).to.have.property('code', 'NO_REGION')
    expect(err).to.have.property('exitCode', 2)
    expect((err as Error).message).to.equal('No AWS region found (looked at --region, AWS_REGION, AWS_DEFAULT_REGION and profile "nope").')
  })

  it('rejects a malformed or empty region', async () => {
    const err = await resolveRegion({env: {}, region: 'useast1'}).catch((error: Error) => error)
    expect(err).to.have.property('code', 'USAGE')
    const empty = await resolveRegion({env: {AWS_REGION: 'us-east-1'}, region: ''}).catch((error: Error) => error)
    expect(empty).to.have.property('code', 'USAGE')
    expect(empty).to.have.property('exitCode', 2)
    expect((empty as Error).message).to.equal('--region is empty.')
    expect(() => new AwsClients({env: {}, region: ''})).to.throw('--region is empty.')
  })

  it('refuses an endpoint that is not an http:// or https:// URL, before anything is sent', () => {
    for (const url of ['not a url', 'ftp://127.0.0.1:21', 'localhost:4566']) {
      expect(() => new AwsClients({endpointUrl: url, env: {}, region: 'us-east-1'}))
        .to.throw(`--endpoint-url "${url}" is not an http:// or https:// URL.`)
        .with.property('exitCode', 2)
    }

    expect(() => new AwsClients({env: {AWS_ENDPOINT_URL_KMS: 'ftp://x'}, region: 'us-east-1'})).to.throw('AWS_ENDPOINT_URL_KMS "ftp://x" is not an http:// or https:// URL.')
    expect(() => new AwsClients({endpointUrl: 'https://kms.us-east-1.amazonaws.com', env: {}, region: 'us-east-1'})).to.not.throw()
  })

  it('picks the sandbox region when --sandbox is given and nothing else is set', async () => {
    process.env.AWS_CONFIG_FILE = join(mkdtempSync(join(tmpdir(), 'aws-config-')), 'none')
    expect(await resolveRegion({env: {}, sandbox: true})).to.equal('us-east-1')
  })

  it('honours --endpoint-url, then the service variable, then AWS_ENDPOINT_URL', () => {
    const env = {AWS_ENDPOINT_URL: 'http://all', AWS_ENDPOINT_URL_CLOUDTRAIL: 'http://ct', AWS_ENDPOINT_URL_KMS: 'http://kms'}
    expect(endpointFor('kms', {endpointUrl: 'http://flag', env})).to.equal('http://flag')
    expect(endpointFor('kms', {env})).to.equal('http://kms')
    expect(endpointFor('cloudtrail', {env})).to.equal('http://ct')
    expect(endpointFor('sts', {env})).to.equal('http://all')
    expect(endpointFor('sts', {env: {}})).to.equal(undefined)
  })

  it('builds each client once, lazily, with the standard retry strategy, the max attempts and the user agent', async () => {
    const clients = new AwsClients({endpointUrl: 'http://127.0.0.1:1', env: {}, maxAttempts: 7, region: 'us-east-1', version: '1.2.3'})
    const kms = await clients.kms()
    expect(await clients.kms()).to.equal(kms)
    expect(await kms.config.maxAttempts()).to.equal(7)
    expect(await kms.config.region()).to.equal('us-east-1')
    expect(kms.config.customUserAgent).to.deep.equal([['kmsctl', '1.2.3']])
    expect(await kms.config.retryStrategy()).to.have.property('mode', 'standard')
    const endpoint = await kms.config.endpoint!()
    expect(endpoint.hostname).to.equal('127.0.0.1')
    kms.destroy()
  })

  it('maps a missing credential chain to NO_CREDENTIALS', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'aws-none-'))
    process.env.AWS_CONFIG_FILE = join(dir, 'none')
    process.env.AWS_SHARED_CREDENTIALS_FILE = join(dir, 'none')
    delete process.env.AWS_ACCESS_KEY_ID
    delete process.env.AWS_SECRET_ACCESS_KEY
    process.env.AWS_EC2_METADATA_DISABLED = 'true'
    const clients = new AwsClients({endpointUrl: 'http://127.0.0.1:1', maxAttempts: 1, profile: 'missing', region: 'us-east-1'})
    const kms = await clients.kms()
    const {ListKeysCommand} = await import('@aws-sdk/client-kms')
    const err = await kms.send(new ListKeysCommand({})).catch((error: Error) => error)
    expect(err).to.have.property('code', 'NO_CREDENTIALS')
    kms.destroy()
  })
})

/** An HTTP handler that counts requests and answers each with the next of `answers` (the last one repeats). */
function countingHandler(answers: Array<{status: number; type?: string; body?: unknown}>) {
  const handler = {
    destroy() {},
    async handle() {
      const a = answers[Math.min(handler.count, answers.length - 1)]
      handler.count++
      const body = a.type ? {__type: a.type, message: a.type} : (a.body ?? {})
      return {
        response: new HttpResponse({
          body: Buffer.from(JSON.stringify(body)),
          headers: {'content-type': 'application/x-amz-json-1.1', ...(a.type ? {'x-amzn-errortype': a.type} : {})},
          statusCode: a.status,
        }),
      }
    },
    httpHandlerConfigs: () => ({}),
    count: 0,
    updateHttpClientConfig() {},
  }
  return handler
}

describe('one retry strategy', () => {
  it('sends a call at most --max-attempts times under sustained throttling, however it is paced', async () => {
    for (const maxAttempts of [1, 2, 3]) {
      const handler = countingHandler([{status: 400, type: 'ThrottlingException'}])
      const clients = new AwsClients({env: {}, maxAttempts, region: 'us-east-1', requestHandler: handler})
      const kms = await clients.kms()
      const {DisableKeyCommand} = await import('@aws-sdk/client-kms')
      const pacer = new Pacer()
      // eslint-disable-next-line no-await-in-loop
      const err = await pacer.run('DisableKey', () => kms.send(new DisableKeyCommand({KeyId: '1234abcd-12ab-34cd-56ef-1234567890ab'}))).catch((error: Error) => error)
      expect(err).to.have.property('name', 'ThrottlingException')
      expect(handler.count, `requests with --max-attempts ${maxAttempts}`).to.equal(maxAttempts)
    }
  })

  it('retries a page of a paged read that fails with a server error, within the same strategy', async () => {
    const handler = countingHandler([{status: 500, type: 'KMSInternalException'}, {body: {Keys: [{KeyArn: 'arn:aws:kms:us-east-1:111122223333:key/k1', KeyId: 'k1'}], Truncated: false}, status: 200}])
    const clients = new AwsClients({env: {}, maxAttempts: 3, region: 'us-east-1', requestHandler: handler})
    const keys = await listAllKeyIds(await clients.kms(), new Pacer())
    expect(keys.map((k) => k.KeyId)).to.deep.equal(['k1'])
    expect(handler.count).to.equal(2)
  })
})

describe('credentials from the environment', () => {
  const saved = {...process.env}
  afterEach(() => {
    process.env = {...saved}
  })

  it('uses static keys from the environment, with the session token, when no profile is asked for', async () => {
    const env = {AWS_ACCESS_KEY_ID: 'AKIAENVEXAMPLE000001', AWS_SECRET_ACCESS_KEY: 'secret', AWS_SESSION_TOKEN: 'token'}
    const clients = new AwsClients({endpointUrl: 'http://127.0.0.1:1', env, region: 'us-east-1'})
    const kms = await clients.kms()
    const creds = await kms.config.credentials()
    expect(creds).to.deep.include({accessKeyId: 'AKIAENVEXAMPLE000001', secretAccessKey: 'secret', sessionToken: 'token'})
    kms.destroy()
  })

  it('goes through the profile, not the environment keys, when --profile is given', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'aws-profile-'))
    writeFileSync(join(dir, 'credentials'), '[ops]\naws_access_key_id = AKIAPROFILE000000001\naws_secret_access_key = s2\n')
    process.env.AWS_SHARED_CREDENTIALS_FILE = join(dir, 'credentials')
    process.env.AWS_CONFIG_FILE = join(dir, 'none')
    const env = {...process.env, AWS_ACCESS_KEY_ID: 'AKIAENVEXAMPLE000001', AWS_SECRET_ACCESS_KEY: 'secret'}
    const clients = new AwsClients({endpointUrl: 'http://127.0.0.1:1', env, profile: 'ops', region: 'us-east-1'})
    const kms = await clients.kms()
    const creds = await kms.config.credentials()
    expect(creds).to.have.property('accessKeyId', 'AKIAPROFILE000000001')
    kms.destroy()
  })
})
