import {DescribeKeyCommand, KMSClient, ListAliasesCommand} from '@aws-sdk/client-kms'
import {expect} from 'chai'

import {closest, parseKeyRef, resolveKey} from '../../src/lib/key-ref.js'
import {mockSdk} from '../helpers/mock-sdk.js'

const KEY_ID = '1234abcd-12ab-34cd-56ef-1234567890ab'
const ARN = `arn:aws:kms:us-east-1:111122223333:key/${KEY_ID}`

describe('key references', () => {
  const sdk = mockSdk()
  const kms = new KMSClient({credentials: {accessKeyId: 'a', secretAccessKey: 'b'}, region: 'us-east-1'})

  it('classifies the four forms', () => {
    expect(parseKeyRef(KEY_ID).kind).to.equal('key-id')
    expect(parseKeyRef('mrk-1234abcd12ab34cd56ef1234567890ab').kind).to.equal('key-id')
    expect(parseKeyRef(ARN)).to.deep.include({account: '111122223333', kind: 'key-arn', region: 'us-east-1'})
    expect(parseKeyRef('alias/payments').kind).to.equal('alias-name')
    expect(parseKeyRef('arn:aws:kms:eu-west-1:444455556666:alias/payments')).to.deep.include({account: '444455556666', kind: 'alias-arn', region: 'eu-west-1'})
  })

  it('refuses malformed references with a hint and exit 2', () => {
    expect(() => parseKeyRef('payments')).to.throw('"payments" is not a key ID, key ARN, alias name or alias ARN.').with.property('remedy', 'Try this: alias/payments (alias names start with "alias/")')
    expect(() => parseKeyRef('arn:aws:s3:::bucket')).to.throw().with.property('exitCode', 2)
  })

  it('resolves once with DescribeKey, passing the reference as given', async () => {
    sdk.kms.on(DescribeKeyCommand).resolves({KeyMetadata: {Arn: ARN, KeyId: KEY_ID, KeyState: 'Enabled'} as never})
    const r = await resolveKey(kms, 'alias/payments')
    expect(r).to.deep.include({arn: ARN, keyId: KEY_ID, ref: 'alias/payments'})
    expect(sdk.kms.commandCalls(DescribeKeyCommand)).to.have.length(1)
    expect(sdk.kms.commandCalls(DescribeKeyCommand)[0].args[0].input).to.deep.equal({KeyId: 'alias/payments'})
  })

  it('suggests the closest aliases for an unknown alias', async () => {
    sdk.kms.on(DescribeKeyCommand).rejects(Object.assign(new Error('Alias arn:aws:kms:us-east-1:111122223333:alias/paymnts is not found.'), {name: 'NotFoundException'}))
    sdk.kms.on(ListAliasesCommand).resolves({Aliases: [{AliasName: 'alias/payments'}, {AliasName: 'alias/payroll'}, {AliasName: 'alias/zzz-other-thing'}], Truncated: false})
    try {
      await resolveKey(kms, 'alias/paymnts')
      expect.fail('should throw')
    } catch (error) {
      const e = error as {code: string; message: string; remedy: string}
      expect(e.code).to.equal('NOT_FOUND')
      expect(e.message).to.equal('Alias alias/paymnts does not exist.')
      expect(e.remedy).to.equal('Did you mean: alias/payments, alias/payroll?')
    }
  })

  it('leaves out the suggestions, and the alias listing they take, when asked to', async () => {
    sdk.kms.on(DescribeKeyCommand).rejects(Object.assign(new Error('not found'), {name: 'NotFoundException'}))
    const e = (await resolveKey(kms, 'alias/paymnts', {suggest: false}).catch((error: unknown) => error)) as {code: string; remedy: string}
    expect(e.code).to.equal('NOT_FOUND')
    expect(e.remedy).to.equal('List the aliases with kmsctl alias list.')
    expect(sdk.kms.commandCalls(ListAliasesCommand)).to.have.length(0)
  })

  it('names the key when a key ID is not found', async () => {
    sdk.kms.on(DescribeKeyCommand).rejects(Object.assign(new Error('not found'), {name: 'NotFoundException'}))
    let message = ''
    await resolveKey(kms, KEY_ID).catch((e: Error) => (message = e.message))
    expect(message).to.equal(`Key ${KEY_ID} does not exist in this region.`)
    expect(sdk.kms.commandCalls(ListAliasesCommand)).to.have.length(0)
  })

  it('ranks closest names by edit distance', () => {
    expect(closest('alias/app', ['alias/apps', 'alias/api', 'alias/zebra'])).to.deep.equal(['alias/api', 'alias/apps'])
  })
})
