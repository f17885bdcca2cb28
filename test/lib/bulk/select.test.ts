import {DescribeKeyCommand, ListAliasesCommand, ListKeysCommand, ListResourceTagsCommand} from '@aws-sdk/client-kms'
import {expect} from 'chai'
import {Readable} from 'node:stream'

import {planStateChange, whyNot} from '../../../src/lib/bulk/plan.js'
import {parseRefList, readRefList, selectKeys, validateSource} from '../../../src/lib/bulk/select.js'
import {KmsctlError} from '../../../src/lib/errors.js'
import {awsError, mockSdk} from '../../helpers/mock-sdk.js'

const acct = '111122223333'
const id = (n: number) => `${String(n).padStart(8, '0')}-0000-4000-8000-000000000000`
const arn = (n: number) => `arn:aws:kms:us-east-1:${acct}:key/${id(n)}`
const meta = (n: number, extra: Record<string, unknown> = {}) => ({Arn: arn(n), KeyId: id(n), KeyManager: 'CUSTOMER', KeyState: 'Enabled', ...extra})

describe('bulk/select: reference lists', () => {
  it('reads one reference a line, skipping blanks and # comments', () => {
    const text = `# compromised keys\n${id(1)}\n\n  alias/payments   # the main one\n${arn(2)}\r\n#${id(3)}\n`
    expect(parseRefList(text, 'keys.txt')).to.deep.equal([id(1), 'alias/payments', arn(2)])
  })

  it('names the line of a malformed reference', () => {
    expect(() => parseRefList(`${id(1)}\npayments\n`, 'keys.txt'))
      .to.throw(KmsctlError, 'keys.txt, line 2: "payments" is not a key ID')
      .with.property('exitCode', 2)
  })

  it('reads the list from stdin for "-"', async () => {
    const got = await readRefList('-', Readable.from([Buffer.from(`${id(1)}\n`), Buffer.from('alias/x\n')]))
    expect(got).to.deep.equal({name: 'stdin', text: `${id(1)}\nalias/x\n`})
  })

  it('refuses an unreadable file, a device and a directory with exit 2 and no errno code', async () => {
    for (const [file, why] of [
      ['/nonexistent/keys.txt', 'no such file'],
      ['/dev/zero', 'it is not a regular file'],
      ['/tmp', 'it is a directory'],
    ]) {
      // eslint-disable-next-line no-await-in-loop
      const err = await readRefList(file).catch((error) => error)
      expect(err).to.be.instanceOf(KmsctlError)
      expect(err.message).to.equal(`--file ${file}: ${why}.`)
      expect(err.exitCode).to.equal(2)
      expect(err.remedy).to.match(/^Try this: /)
    }
  })

  it('needs at least one key or tag, and removes duplicates', () => {
    expect(() => validateSource({refs: []})).to.throw('No key given.')
    expect(() => validateSource({listName: 'stdin', listText: '# nothing\n'})).to.throw('stdin names no key.')
    expect(validateSource({listText: `${id(1)}\n`, refs: [id(1), 'alias/a']})).to.deep.equal([id(1), 'alias/a'])
    expect(validateSource({tags: {team: 'payments'}})).to.deep.equal([])
  })
})

describe('bulk/select: selection and plan', () => {
  const sdk = mockSdk()
  beforeEach(() => {
    sdk.kms.on(ListAliasesCommand).resolves({Aliases: [{AliasName: 'alias/pay', TargetKeyId: id(1)}, {AliasName: 'alias/aws/s3', TargetKeyId: id(5)}]})
    sdk.kms.on(ListKeysCommand).resolves({Keys: [1, 2, 3, 4, 5].map((n) => ({KeyArn: arn(n), KeyId: id(n)}))})
    sdk.kms.on(DescribeKeyCommand).callsFake((input: {KeyId: string}) => {
      const n = [1, 2, 3, 4, 5].find((k) => input.KeyId === id(k) || input.KeyId === arn(k) || (input.KeyId === 'alias/pay' && k === 1))
      if (!n) throw awsError('NotFoundException', `Key '${input.KeyId}' does not exist`)
      const states: Record<number, Record<string, unknown>> = {2: {KeyState: 'Disabled'}, 3: {KeyState: 'PendingDeletion'}, 5: {KeyManager: 'AWS'}}
      return {KeyMetadata: meta(n, states[n])}
    })
    sdk.kms.on(ListResourceTagsCommand).callsFake((input: {KeyId: string}) => ({
      Tags: input.KeyId === id(4) || input.KeyId === id(1) ? [{TagKey: 'team', TagValue: 'payments'}] : [{TagKey: 'team', TagValue: 'web'}],
    }))
  })

  it('resolves references, finds tagged customer-managed keys, and lists each key once', async () => {
    const sel = await selectKeys(sdk.kmsClient(), {refs: ['alias/pay', id(2), 'alias/nope'], tags: {team: 'payments'}})
    expect(sel.keys.map((k) => [k.ref, k.keyId, k.state, k.aliases])).to.deep.equal([
      ['alias/pay', id(1), 'Enabled', ['alias/pay']],
      [id(2), id(2), 'Disabled', []],
      [id(4), id(4), 'Enabled', []],
    ])
    expect(sel.unresolved.map((u) => [u.ref, u.error.code])).to.deep.equal([['alias/nope', 'NOT_FOUND']])
    expect(sel.aliasesUnavailable).to.equal(undefined)
    // AWS-managed keys are never asked for tags.
    expect(sdk.kms.commandCalls(ListResourceTagsCommand).map((c) => c.args[0].input.KeyId)).to.not.include(id(5))
  })

  it('goes on without aliases when ListAliases is refused, and says why (no unhandled rejection)', async () => {
    sdk.kms.on(ListAliasesCommand).rejects(awsError('AccessDeniedException', 'not allowed to ListAliases'))
    const unhandled: unknown[] = []
    const onUnhandled = (reason: unknown) => unhandled.push(reason)
    process.on('unhandledRejection', onUnhandled)
    try {
      const sel = await selectKeys(sdk.kmsClient(), {refs: [id(1), id(2)], tags: {team: 'payments'}})
      expect(sel.keys.map((k) => [k.keyId, k.aliases])).to.deep.equal([
        [id(1), []],
        [id(2), []],
        [id(4), []],
      ])
      expect(sel.aliasesUnavailable).to.match(/not allowed/i)
      // The failure of a tag read is a key's own; an early failure elsewhere must not strand the alias read.
      sdk.kms.on(DescribeKeyCommand).rejects(awsError('AccessDeniedException', 'no DescribeKey'))
      const refused = await selectKeys(sdk.kmsClient(), {refs: [id(1)]})
      expect(refused.keys).to.deep.equal([])
      await new Promise((r) => setImmediate(r))
      expect(unhandled).to.deep.equal([])
    } finally {
      process.off('unhandledRejection', onUnhandled)
    }
  })

  it('makes a key whose tags or metadata cannot be read that key\'s failure; the others proceed', async () => {
    sdk.kms.on(ListResourceTagsCommand, {KeyId: id(2)}).rejects(awsError('KMSInternalException', 'internal error', 500))
    sdk.kms.on(DescribeKeyCommand, {KeyId: id(4)}).rejects(awsError('ServiceUnavailableException', 'unavailable', 503))
    const sel = await selectKeys(sdk.kmsClient(), {tags: {team: 'payments'}})
    expect(sel.keys.map((k) => k.keyId)).to.deep.equal([id(1)])
    expect(sel.unresolved.map((u) => [u.ref, u.error.code]).sort()).to.deep.equal([
      [id(2), 'AWS_ERROR'],
      [id(4), 'AWS_ERROR'],
    ].sort())
    const plan = planStateChange('disable', sel)
    expect(plan.unresolved.map((r) => [r.key, r.outcome])).to.deep.equal(sel.unresolved.map((u) => [u.ref, 'failed']))
  })

  it('stops the whole selection for an expired credential', async () => {
    sdk.kms.on(DescribeKeyCommand).rejects(awsError('ExpiredTokenException', 'The security token included in the request is expired'))
    const err = await selectKeys(sdk.kmsClient(), {refs: [id(1)]}).catch((error) => error)
    expect(err).to.be.instanceOf(KmsctlError)
    expect(err.code).to.equal('EXPIRED_TOKEN')
  })

  it('says why each key is or is not sent', async () => {
    const sel = await selectKeys(sdk.kmsClient(), {refs: [1, 2, 3, 5].map(id)})
    const plan = planStateChange('disable', sel)
    expect(plan.items.map((i) => [i.key.keyId, i.send, i.row.outcome, i.row.reason])).to.deep.equal([
      [id(1), true, 'planned', 'will disable'],
      [id(2), false, 'unchanged', 'already Disabled'],
      [id(3), false, 'skipped', 'pending deletion: cancel it first (kmsctl key cancel-deletion KEY)'],
      [id(5), false, 'skipped', 'AWS-managed keys cannot be disabled'],
    ])
    expect(whyNot('enable', {manager: 'CUSTOMER', state: 'Disabled'})).to.equal(undefined)
    expect(whyNot('enable', {manager: 'CUSTOMER', state: 'Enabled'})).to.deep.equal({outcome: 'unchanged', reason: 'already Enabled'})
    expect(whyNot('enable', {manager: 'CUSTOMER', state: 'PendingImport'})?.outcome).to.equal('skipped')
  })
})
