import {expect} from 'chai'
import {type IncomingMessage, type Server, type ServerResponse, createServer} from 'node:http'
import type {AddressInfo} from 'node:net'
import {gzipSync} from 'node:zlib'

import {buildFilterSpec} from '../../../src/lib/trail/spec.js'
import {listAll, queryS3} from '../../../src/lib/trail/sources/s3.js'
import * as f from './fixtures.js'

import {encodeKey, listPageFrom, objectUrl, s3ErrorFrom, signedS3} from '../../../src/lib/trail/sources/s3-get.js'

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
    signedS3({customUserAgent: [['kmsctl', '1.2.3']], endpoint, forcePathStyle: true, maxAttempts: 3, region: 'eu-west-1'}, 'trail', async () => credentials)

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

  const xmlPage = (body: string) => `<?xml version="1.0" encoding="UTF-8"?>\n<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">${body}</ListBucketResult>`

  it('lists with one signed GET a page: list-type=2, encoding-type=url, the prefix, delimiter and token; keys decoded', async () => {
    const pages = [
      xmlPage('<Name>trail</Name><Prefix>AWSLogs/</Prefix><EncodingType>url</EncodingType><IsTruncated>true</IsTruncated><NextContinuationToken>t+2/=</NextContinuationToken><Contents><Key>AWSLogs/a%20b%2Bc.json.gz</Key><Size>12</Size></Contents><CommonPrefixes><Prefix>AWSLogs/o-abc/</Prefix></CommonPrefixes>'),
      xmlPage('<EncodingType>url</EncodingType><IsTruncated>false</IsTruncated><Contents><Key>AWSLogs/%C3%A9t%C3%A9+x.json.gz</Key><Size>3</Size></Contents><Contents><Key>AWSLogs/z.json.gz</Key><Size>4</Size></Contents>'),
    ]
    handler = (_req, res) => {
      const xml = pages[seen.length - 1]
      res.writeHead(200, {'content-length': String(Buffer.byteLength(xml)), 'content-type': 'application/xml'})
      res.end(xml)
    }

    const s3 = getter()
    try {
      const all = await listAll(s3.list, 'trail', 'AWSLogs/', '/')
      expect(all).to.deep.equal({
        folders: ['AWSLogs/o-abc/'],
        objects: [
          {key: 'AWSLogs/a b+c.json.gz', size: 12},
          {key: 'AWSLogs/été x.json.gz', size: 3},
          {key: 'AWSLogs/z.json.gz', size: 4},
        ],
      })
    } finally {
      s3.close()
    }

    expect(seen.map((r) => r.url)).to.deep.equal([
      '/trail/?delimiter=%2F&encoding-type=url&list-type=2&prefix=AWSLogs%2F',
      '/trail/?continuation-token=t%2B2%2F%3D&delimiter=%2F&encoding-type=url&list-type=2&prefix=AWSLogs%2F',
    ])
    for (const r of seen) expect(r.headers.authorization).to.match(/^AWS4-HMAC-SHA256 Credential=AKIAEXAMPLE\/\d{8}\/eu-west-1\/s3\/aws4_request, SignedHeaders=[^,]*host[^,]*, Signature=[0-9a-f]{64}$/)
  })

  it('reads a page without encoding-type as it is (entities decoded), tells folders and the token from the prefix asked for, and refuses a document that is not a listing', () => {
    expect(listPageFrom(xmlPage('<IsTruncated>false</IsTruncated><Contents><Key>a&amp;b+c&#x2F;&lt;&#233;</Key><Size>1</Size></Contents>'))).to.deep.equal({folders: [], objects: [{key: 'a&b+c/<é', size: 1}]})
    expect(listPageFrom(xmlPage('<IsTruncated>false</IsTruncated>'))).to.deep.equal({folders: [], objects: []})
    // A Prefix inside CommonPrefixes is a folder, the request's Prefix is not; the token is read after the objects.
    expect(listPageFrom(xmlPage('<Prefix>logs/</Prefix><CommonPrefixes><Prefix>logs/a/</Prefix></CommonPrefixes><Contents><Key>logs/x</Key><Size>7</Size><StorageClass>STANDARD</StorageClass></Contents><IsTruncated>true</IsTruncated><NextContinuationToken>abc</NextContinuationToken>'))).to.deep.equal({
      folders: ['logs/a/'],
      next: 'abc',
      objects: [{key: 'logs/x', size: 7}],
    })
    expect(() => listPageFrom('<?xml version="1.0"?><Error><Code>AccessDenied</Code></Error>')).to.throw(/not a ListBucketResult/)
  })

  it('a query with the threads\' settings lists and downloads with signed GETs, and never makes the SDK client', async () => {
    const day = 'AWSLogs/111122223333/CloudTrail/us-east-1/2026/11/02/'
    const keys = ['A', 'B', 'C'].map((id) => `${day}111122223333_CloudTrail_us-east-1_20261102T1000Z_${id.repeat(16)}.json.gz`)
    const match = f.record({eventTime: '2026-11-02T10:00:00Z'})
    const other = f.record({eventName: 'Encrypt', eventTime: '2026-11-02T10:00:00Z'})
    const bodies = new Map(keys.map((k, i) => [`/trail/${k}`, gzipSync(JSON.stringify({Records: i === 1 ? [match, other] : [other]}))]))
    handler = (req, res) => {
      const url = new URL(req.url ?? '/', 'http://x')
      let body: Buffer
      if (url.pathname === '/trail/') {
        const prefix = url.searchParams.get('prefix') ?? ''
        const folders: Record<string, string[]> = {'AWSLogs/': ['AWSLogs/111122223333/'], 'AWSLogs/111122223333/CloudTrail/': [`AWSLogs/111122223333/CloudTrail/us-east-1/`]}
        const contents = url.searchParams.has('delimiter') ? '' : keys.filter((k) => k.startsWith(prefix)).map((k) => `<Contents><Key>${encodeURIComponent(k)}</Key><Size>${bodies.get(`/trail/${k}`)!.length}</Size></Contents>`).join('')
        const prefixes = url.searchParams.has('delimiter') ? (folders[prefix] ?? []).map((p) => `<CommonPrefixes><Prefix>${encodeURIComponent(p)}</Prefix></CommonPrefixes>`).join('') : ''
        body = Buffer.from(xmlPage(`<EncodingType>url</EncodingType><IsTruncated>false</IsTruncated>${contents}${prefixes}`))
      } else {
        body = bodies.get(url.pathname)!
      }

      res.writeHead(200, {'content-length': String(body.length)})
      res.end(body)
    }

    const found: string[] = []
    const r = await queryS3({
      client: async () => {
        throw new Error('the SDK client was made')
      },
      location: {bucket: 'trail', prefix: ''},
      onMatches: (m) => found.push(...m.map((x) => x.event.eventId)),
      spec: buildFilterSpec({event: ['Decrypt']}),
      threads: async () => ({credentials: async () => ({accessKeyId: 'AKIAEXAMPLE', secretAccessKey: 'secret'}), settings: {customUserAgent: [['kmsctl', '1.2.3']], endpoint, forcePathStyle: true, maxAttempts: 3, region: 'eu-west-1'}}),
      workers: 2,
    })
    expect(found).to.deep.equal([match.eventID])
    expect(r.failures).to.deep.equal([])
    expect(r.objects).to.equal(3)
    const gets = seen.filter((req) => !req.url!.startsWith('/trail/?')).map((req) => req.url)
    expect(gets.sort()).to.deep.equal(keys.map((k) => `/trail/${k}`).sort())
    expect(seen.filter((req) => req.url!.startsWith('/trail/?'))).to.have.length(3)
  })

  it('a bucket in another region stops the query with the region to give, from S3\'s redirect', async () => {
    handler = (_req, res) => {
      const xml = '<?xml version="1.0" encoding="UTF-8"?><Error><Code>PermanentRedirect</Code><Message>The bucket you are attempting to access must be addressed using the specified endpoint.</Message><Endpoint>trail.s3.eu-west-2.amazonaws.com</Endpoint><Bucket>trail</Bucket></Error>'
      res.writeHead(301, {'content-length': String(xml.length), 'content-type': 'application/xml'})
      res.end(xml)
    }

    const error = await queryS3({
      client: async () => {
        throw new Error('the SDK client was made')
      },
      location: {bucket: 'trail', prefix: ''},
      spec: buildFilterSpec({}),
      threads: async () => ({credentials: async () => ({accessKeyId: 'AKIAEXAMPLE', secretAccessKey: 'secret'}), settings: {customUserAgent: [['kmsctl', '1.2.3']], endpoint, forcePathStyle: true, maxAttempts: 3, region: 'eu-west-1'}}),
      workers: 2,
    }).then(
      () => undefined,
      (e: Error & {remedy?: string}) => e,
    )
    expect(error?.message).to.equal('S3 answered PermanentRedirect: s3://trail/AWSLogs/ is in region eu-west-2.')
    expect(error?.remedy).to.equal('Try this: --region eu-west-2')
    expect(seen).to.have.length(1)
  })
})
