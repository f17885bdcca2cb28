import {expect} from 'chai'
import {type IncomingMessage, type Server, type ServerResponse, createServer} from 'node:http'
import type {AddressInfo} from 'node:net'

import {encodeKey, objectGetter, objectUrl, s3ErrorFrom} from '../../../src/lib/trail/sources/s3-get.js'

describe('trail/sources/s3-get: GetObject without the SDK client', () => {
  let server: Server
  let endpoint: string
  let handler: (req: IncomingMessage, res: ServerResponse) => void
  const seen: IncomingMessage[] = []

  before(async () => {
    server = createServer((req, res) => {
      seen.push(req)
      handler(req, res)
    })
    await new Promise<void>((resolve) => {
      server.listen(0, '127.0.0.1', resolve)
    })
    endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  })

  after(() => {
    server.close()
  })

  beforeEach(() => {
    seen.length = 0
  })

  const getter = (credentials = {accessKeyId: 'AKIAEXAMPLE', secretAccessKey: 'secret', sessionToken: 'token'}) =>
    objectGetter({customUserAgent: [['kmsctl', '1.2.3']], endpoint, forcePathStyle: true, maxAttempts: 3, region: 'eu-west-1'}, 'trail', async () => credentials)

  it('sends one SigV4-signed GET, path style, the key encoded once, and returns the body', async () => {
    handler = (_req, res) => {
      res.writeHead(200, {'content-length': '5'})
      res.end('hello')
    }

    const body = await getter().get('AWSLogs/o-abc/111122223333/a b+c.json.gz')
    expect(body.toString()).to.equal('hello')
    expect(seen).to.have.length(1)
    expect(seen[0].method).to.equal('GET')
    expect(seen[0].url).to.equal('/trail/AWSLogs/o-abc/111122223333/a%20b%2Bc.json.gz')
    expect(seen[0].headers.authorization).to.match(/^AWS4-HMAC-SHA256 Credential=AKIAEXAMPLE\/\d{8}\/eu-west-1\/s3\/aws4_request, SignedHeaders=[^,]*host[^,]*, Signature=[0-9a-f]{64}$/)
    expect(seen[0].headers['x-amz-security-token']).to.equal('token')
    expect(seen[0].headers['user-agent']).to.match(/^kmsctl\/1\.2\.3/)
  })

  it('turns S3\'s XML error into an error named by its code, with the HTTP status; no retry on a refusal', async () => {
    handler = (_req, res) => {
      const xml = '<?xml version="1.0"?><Error><Code>KMS.DisabledException</Code><Message>arn:aws:kms:eu-west-1:111122223333:key/k is disabled.</Message></Error>'
      res.writeHead(403, {'content-length': String(xml.length), 'content-type': 'application/xml'})
      res.end(xml)
    }

    const error = await getter()
      .get('k.json.gz')
      .then(
        () => undefined,
        (e: Error & {$metadata: {httpStatusCode: number}}) => e,
      )
    expect(error?.name).to.equal('KMS.DisabledException')
    expect(error?.message).to.equal('arn:aws:kms:eu-west-1:111122223333:key/k is disabled.')
    expect(error?.$metadata.httpStatusCode).to.equal(403)
    expect(seen).to.have.length(1)
  })

  it('retries SlowDown and 5xx up to maxAttempts', async () => {
    let calls = 0
    handler = (_req, res) => {
      calls++
      if (calls < 3) {
        const xml = '<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>'
        res.writeHead(503, {'content-length': String(xml.length)})
        res.end(xml)
        return
      }

      res.writeHead(200, {'content-length': '2'})
      res.end('ok')
    }

    expect((await getter().get('x')).toString()).to.equal('ok')
    expect(calls).to.equal(3)
  })

  it('builds virtual-hosted URLs on AWS, path style for dotted bucket names; encodes keys as RFC 3986 asks', () => {
    expect(objectUrl({region: 'eu-west-1'}, 'trail', 'a/b.json.gz').href).to.equal('https://trail.s3.eu-west-1.amazonaws.com/a/b.json.gz')
    expect(objectUrl({region: 'eu-west-1'}, 'my.trail', 'a').href).to.equal('https://s3.eu-west-1.amazonaws.com/my.trail/a')
    expect(objectUrl({region: 'cn-north-1'}, 'trail', 'a').href).to.equal('https://trail.s3.cn-north-1.amazonaws.com.cn/a')
    expect(encodeKey("a/b(c)!*'~.gz")).to.equal('a/b%28c%29%21%2A%27~.gz')
    expect(s3ErrorFrom(404, '').name).to.equal('NoSuchKey')
  })
})
