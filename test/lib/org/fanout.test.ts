import {expect} from 'chai'

import {AwsClients} from '../../../src/lib/aws/clients.js'
import {KmsctlError} from '../../../src/lib/errors.js'
import {AccountCredentials, cachedProvider, REFRESH_BEFORE_MS} from '../../../src/lib/org/credentials.js'
import {fanOut} from '../../../src/lib/org/fanout.js'
import {summarise} from '../../../src/lib/org/run.js'

const CALLER = {account: '111122223333', arn: 'arn:aws:iam::111122223333:user/alice', userId: 'AIDAEXAMPLE'}

/** A client factory whose caller is known without a call, and which never reaches the network. */
function base(): AwsClients {
  const aws = new AwsClients({region: 'us-east-1'})
  aws.callerIdentity = async () => CALLER
  return aws
}

describe('org credentials and fan-out', () => {
  it('caches credentials until shortly before they expire, and keeps a failure for a while', async () => {
    let now = 1_000_000
    let calls = 0
    const expiry = () => new Date(now + REFRESH_BEFORE_MS + 60_000)
    const provider = cachedProvider(async () => {
      calls++
      return {accessKeyId: `ASIA${calls}`, expiration: expiry(), secretAccessKey: 's'}
    }, () => now)
    expect((await provider()).accessKeyId).to.equal('ASIA1')
    expect((await provider()).accessKeyId).to.equal('ASIA1')
    now += 61_000 // now within REFRESH_BEFORE_MS of the expiry
    expect((await provider()).accessKeyId).to.equal('ASIA2')
    expect(calls).to.equal(2)

    let failures = 0
    const failing = cachedProvider(async () => {
      failures++
      throw new Error('AccessDenied')
    }, () => now, 60_000)
    await failing().catch(() => {})
    await failing().catch(() => {})
    expect(failures).to.equal(1)
    now += 60_001
    await failing().catch(() => {})
    expect(failures).to.equal(2)
  })

  it('assumes the named role for other accounts, once per account, with the session name kmsctl-<caller>', async () => {
    const assumed: Array<{roleArn: string; sessionName: string; externalId?: string}> = []
    const creds = new AccountCredentials(base(), {externalId: 'ext-1', roleName: 'Ops'}, (input) => {
      assumed.push(input)
      return async () => ({accessKeyId: 'ASIAEXAMPLE', secretAccessKey: 's', sessionToken: 't'})
    })
    expect(await creds.access(CALLER.account)).to.deep.equal({account: CALLER.account})
    await creds.clientsFor('444455556666', 'us-east-1')
    await creds.clientsFor('444455556666', 'eu-west-1')
    await creds.clientsFor(CALLER.account, 'eu-west-1')
    expect(assumed).to.deep.equal([{externalId: 'ext-1', roleArn: 'arn:aws:iam::444455556666:role/Ops', sessionName: 'kmsctl-alice'}])
  })

  it('turns one account-region failure into its outcome, and the others finish', async () => {
    const creds = new AccountCredentials(base(), {roleName: 'Ops'}, ({roleArn}) => async () => {
      if (roleArn.includes('999988887777')) throw Object.assign(new Error('User is not authorized to perform: sts:AssumeRole'), {name: 'AccessDenied', $metadata: {httpStatusCode: 403}})
      return {accessKeyId: 'ASIAEXAMPLE', secretAccessKey: 's'}
    })
    const list = [
      {account: '444455556666', region: 'us-east-1'},
      {account: '999988887777', region: 'us-east-1'},
      {account: '555566667777', region: 'eu-west-1'},
      {account: '444455556666', region: 'eu-west-1'},
    ]
    const seen: string[] = []
    const outcomes = await fanOut(
      creds,
      list,
      async ({account, region}) => {
        if (account === '555566667777') throw new KmsctlError('THROTTLED', 'Rate exceeded')
        seen.push(`${account}/${region}`)
        return 3
      },
      {maxParallel: 2},
    )
    expect(outcomes.map((o) => `${o.account}/${o.region}`)).to.deep.equal(list.map((t) => `${t.account}/${t.region}`))
    expect(seen.sort()).to.deep.equal(['444455556666/eu-west-1', '444455556666/us-east-1'])
    expect(outcomes[1].error?.code).to.equal('ACCESS_DENIED')
    expect(outcomes[1].error?.message).to.match(/^Cannot assume arn:aws:iam::999988887777:role\/Ops in account 999988887777: /)
    expect(outcomes[1].role).to.equal('arn:aws:iam::999988887777:role/Ops')
    expect(outcomes[2].error).to.deep.equal({code: 'THROTTLED', message: 'Rate exceeded'})
    expect(summarise(outcomes, (n) => ({seen: n})).map((s) => [s.seen, s.failed])).to.deep.equal([[3, 0], [0, 1], [0, 1], [3, 0]])
  })

  it('runs at most maxParallel account-regions at once', async () => {
    const creds = new AccountCredentials(base(), {roleName: 'Ops'}, () => async () => ({accessKeyId: 'ASIAEXAMPLE', secretAccessKey: 's'}))
    let active = 0
    let peak = 0
    const list = Array.from({length: 12}, (_, i) => ({account: `4444555566${String(i).padStart(2, '0')}`, region: 'us-east-1'}))
    await fanOut(
      creds,
      list,
      async () => {
        active++
        peak = Math.max(peak, active)
        await new Promise((r) => setTimeout(r, 5))
        active--
      },
      {maxParallel: 3},
    )
    expect(peak).to.equal(3)
  })
})
