import {DescribeKeyCommand, KMSClient, ListGrantsCommand, RetireGrantCommand} from '@aws-sdk/client-kms'
import {STSClient} from '@aws-sdk/client-sts'
import {runCommand} from '@oclif/test'
import {expect} from 'chai'

import {Journal} from '../../../src/lib/journal.js'
import {entry, grantId, keyArn, keyId, symmetricMetadata} from '../../lib/grants/fixtures.js'
import {itRefuses, mockedClients} from './helpers.js'
import {sdk} from '../../helpers/mock-sdk.js'

const TOKEN = 'AQpAM2RhZTk1MGMyNTk2ZmZmMzEyYWVhOWViN2I1MWM4Mzc0MWFi'

describe('grant retire', () => {
  mockedClients({Account: '111122223333', Arn: 'arn:aws:iam::111122223333:role/ops', UserId: 'AROA'})

  beforeEach(() => {
    sdk.kms.on(DescribeKeyCommand).resolves({KeyMetadata: symmetricMetadata(2)})
    sdk.kms.on(ListGrantsCommand).resolves({Grants: [entry(2, 1)], Truncated: false})
    sdk.kms.on(RetireGrantCommand).resolves({})
  })

  it('--token retires by grant token alone, and keeps the token out of the journal', async () => {
    const {stdout} = await runCommand(['grant:retire', '--token', TOKEN])
    expect(sdk.kms.commandCalls(RetireGrantCommand)[0].args[0].input).to.deep.equal({GrantToken: TOKEN})
    expect(sdk.kms.commandCalls(ListGrantsCommand)).to.have.length(0)
    expect(stdout).to.contain('Retired the grant of the token given.')
    const rec = new Journal().list({action: 'grant.retire'}).at(-1)!
    expect(JSON.stringify(rec)).to.not.contain(TOKEN)
    expect(rec.command).to.deep.equal(['grant', 'retire', '--token', '(grant token)'])
  })

  it('KEY GRANT_ID with a key ARN retires without DescribeKey, journalling the grant first', async () => {
    const {stdout} = await runCommand(['grant:retire', keyArn(2), grantId(2, 1), '--json'])
    expect(sdk.kms.commandCalls(DescribeKeyCommand)).to.have.length(0)
    expect(sdk.kms.commandCalls(RetireGrantCommand)[0].args[0].input).to.deep.equal({GrantId: grantId(2, 1), KeyId: keyArn(2)})
    const doc = JSON.parse(stdout)
    expect(doc).to.include({by: 'id', grantId: grantId(2, 1), keyId: keyId(2), retired: true})
    const rec = new Journal().get(doc.journalId)!
    expect((rec.before as {GranteePrincipal: string}).GranteePrincipal).to.equal('arn:aws:iam::111122223333:role/app')
  })

  it('KEY GRANT_ID with an alias resolves the key to its ARN (RetireGrant needs the ARN)', async () => {
    await runCommand(['grant:retire', 'alias/two', grantId(2, 1)])
    expect(sdk.kms.commandCalls(RetireGrantCommand)[0].args[0].input.KeyId).to.equal(keyArn(2))
  })

  it('still retires when the grant cannot be read first, with a warning', async () => {
    sdk.kms.on(ListGrantsCommand).rejects(Object.assign(new Error('no'), {name: 'AccessDeniedException'}))
    const {stderr} = await runCommand(['grant:retire', keyArn(2), grantId(2, 1)])
    expect(stderr).to.contain(`could not read grant ${grantId(2, 1)} before retiring it`)
    expect(sdk.kms.commandCalls(RetireGrantCommand)).to.have.length(1)
  })

  it('--dry-run sends no RetireGrant (by token and by ID)', async () => {
    const a = await runCommand(['grant:retire', '--token', TOKEN, '--dry-run'])
    expect(a.stdout).to.contain('Dry run: would send RetireGrant')
    expect(a.stdout).to.not.contain(TOKEN)
    const b = await runCommand(['grant:retire', keyArn(2), grantId(2, 1), '--dry-run'])
    expect(b.stdout).to.contain(`"KeyId": "${keyArn(2)}"`)
    expect(sdk.kms.commandCalls(RetireGrantCommand)).to.have.length(0)
  })

  it('a retire that KMS refuses exits 1 with the remedy', async () => {
    sdk.kms.on(RetireGrantCommand).rejects(Object.assign(new Error('not allowed'), {name: 'AccessDeniedException'}))
    const {stderr} = await runCommand(['grant:retire', keyArn(2), grantId(2, 1)])
    expect(process.exitCode).to.equal(1)
    expect(stderr).to.contain('Access denied: you are not allowed to call kms:RetireGrant')
    expect(stderr).to.contain('Try this:')
  })

  itRefuses('grant:retire', [
    ['nothing', [], /Give --token TOKEN, or KEY and GRANT_ID/],
    ['KEY without GRANT_ID', [keyArn(2)], /Give --token TOKEN, or KEY and GRANT_ID/],
    ['--token with KEY', [keyArn(2), '--token', TOKEN], /not both/],
    ['a malformed token', ['--token', 'x'.repeat(9000)], /--token is not a grant token/],
    ['a bad grant ID', [keyArn(2), 'x_y'], /GRANT_ID "x_y" is not a grant ID/],
  ])

  it('--help says the difference between retire and revoke', async () => {
    const {stdout} = await runCommand(['grant:retire', '--help'])
    const text = stdout.replaceAll(/\s+/g, ' ')
    expect(text).to.contain('by the grantee when the grant allows RetireGrant')
    expect(text).to.contain('kms:RevokeGrant on the key')
  })
})
