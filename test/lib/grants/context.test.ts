import {expect} from 'chai'

import type {AwsClients} from '../../../src/lib/aws/clients.js'
import {changeContext, commandLine} from '../../../src/lib/grants/context.js'
import {Journal} from '../../../src/lib/journal.js'

describe('grants/context', () => {
  it('spells the command line as typed', () => {
    expect(commandLine('grant:revoke', ['--grantee', 'x'])).to.deep.equal(['grant', 'revoke', '--grantee', 'x'])
    expect(commandLine(undefined, ['a'])).to.deep.equal(['a'])
  })

  it('records the caller when STS answers, and still records the change when it does not', async () => {
    const journal = new Journal({dir: '/nonexistent-not-written'})
    const ok = {callerIdentity: async () => ({account: '111122223333', arn: 'arn:aws:iam::111122223333:user/a', userId: 'AIDA'}), region: async () => 'eu-west-1'}
    expect(await changeContext(ok as unknown as AwsClients, ['x'], journal)).to.deep.include({account: '111122223333', caller: 'arn:aws:iam::111122223333:user/a', region: 'eu-west-1'})
    const failing = {callerIdentity: async () => Promise.reject(new Error('no STS')), region: async () => 'eu-west-1'}
    const ctx = await changeContext(failing as unknown as AwsClients, ['x'], journal)
    expect(ctx).to.deep.include({account: undefined, caller: undefined, region: 'eu-west-1'})
    expect(ctx.journal).to.equal(journal)
  })
})
