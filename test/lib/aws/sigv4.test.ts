import {Hash} from '@smithy/hash-node'
import {HttpRequest} from '@smithy/protocol-http'
import {SignatureV4} from '@smithy/signature-v4'
import {expect} from 'chai'

import {canonicalQuery, rfc3986, signedGetHeaders} from '../../../src/lib/aws/sigv4.js'
import {s3SignatureMatches} from '../../../src/sandbox/s3/service.js'

describe('aws/sigv4: signed GETs', () => {
  const now = new Date('2026-11-02T10:20:30.456Z')
  const cases: Array<{credentials: {accessKeyId: string; secretAccessKey: string; sessionToken?: string}; path: string; query: Array<[string, string]>}> = [
    {credentials: {accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'secret'}, path: '/trail/AWSLogs/111122223333/a%20b%2Bc.json.gz', query: []},
    {
      credentials: {accessKeyId: 'ASIAIOSFODNN7EXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG', sessionToken: 'token/with+chars='},
      path: '/trail/',
      query: [
        ['prefix', 'AWSLogs/o-abc/ é*'],
        ['list-type', '2'],
        ['continuation-token', 't+2/='],
        ['delimiter', '/'],
      ],
    },
  ]

  for (const [i, c] of cases.entries()) {
    it(`signs as the SDK's signer does (case ${i + 1})`, async () => {
      const ours = signedGetHeaders(c.credentials, {host: '127.0.0.1:4566', path: c.path, query: c.query, region: 'eu-west-1', service: 's3'}, now)
      const sdk = new SignatureV4({applyChecksum: false, credentials: c.credentials, region: 'eu-west-1', service: 's3', sha256: Hash.bind(null, 'sha256'), uriEscapePath: false})
      const theirs = await sdk.sign(
        new HttpRequest({
          headers: {host: '127.0.0.1:4566', 'x-amz-content-sha256': ours['x-amz-content-sha256']},
          hostname: '127.0.0.1',
          method: 'GET',
          path: c.path,
          port: 4566,
          protocol: 'http:',
          query: Object.fromEntries(c.query),
        }),
        {signingDate: now},
      )
      expect(ours.authorization).to.equal(theirs.headers.authorization)
      expect(ours['x-amz-date']).to.equal('20261102T102030Z')
      expect(ours['x-amz-security-token']).to.equal(c.credentials.sessionToken)
      // And the sandbox's check accepts it, and refuses it with another secret or a changed query.
      const url = c.path + (c.query.length > 0 ? `?${canonicalQuery(c.query)}` : '')
      expect(await s3SignatureMatches({headers: ours, method: 'GET', url}, c.credentials.secretAccessKey)).to.equal(true)
      expect(await s3SignatureMatches({headers: ours, method: 'GET', url}, 'other')).to.equal(false)
      expect(await s3SignatureMatches({headers: ours, method: 'GET', url: `${url}${c.query.length > 0 ? '&' : '?'}x=1`}, c.credentials.secretAccessKey)).to.equal(false)
    })
  }

  it('encodes as RFC 3986 asks, and sorts the query by name then value', () => {
    expect(rfc3986("a b+c/é!'()*~")).to.equal('a%20b%2Bc%2F%C3%A9%21%27%28%29%2A~')
    expect(
      canonicalQuery([
        ['b', '2'],
        ['a', 'y'],
        ['a', 'x'],
      ]),
    ).to.equal('a=x&a=y&b=2')
  })
})
