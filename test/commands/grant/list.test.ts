import {DescribeKeyCommand, KMSClient, ListAliasesCommand, ListGrantsCommand, type ListGrantsCommandInput, ListKeysCommand, ListRetirableGrantsCommand} from '@aws-sdk/client-kms'
import {runCommand} from '@oclif/test'
import {expect} from 'chai'

import {APP, OPS, OTHER, entry, grantId, keyArn, keyId, symmetricMetadata} from '../../lib/grants/fixtures.js'
import {itRefuses, mockedClients} from './helpers.js'
import {sdk} from '../../helpers/mock-sdk.js'

function setupKeys(n: number) {
  sdk.kms.on(ListKeysCommand).resolves({Keys: Array.from({length: n}, (_, i) => ({KeyArn: keyArn(i + 1), KeyId: keyId(i + 1)})), Truncated: false})
  sdk.kms.on(ListAliasesCommand).resolves({Aliases: [{AliasName: 'alias/aws/ebs', TargetKeyId: keyId(1)}, {AliasName: 'alias/payments', TargetKeyId: keyId(2)}], Truncated: false})
  sdk.kms.on(ListGrantsCommand).callsFake((input: ListGrantsCommandInput) => {
    const k = Number(input.KeyId!.split('/')[1].slice(0, 8))
    let grants = [entry(k, 1), entry(k, 2, {GranteePrincipal: OTHER, Name: undefined})]
    if (input.GranteePrincipal) grants = grants.filter((g) => g.GranteePrincipal === input.GranteePrincipal)
    if (input.GrantId) grants = grants.filter((g) => g.GrantId === input.GrantId)
    return {Grants: grants, Truncated: false}
  })
}

describe('grant list', () => {
  mockedClients()

  beforeEach(() => {
    sdk.kms.on(DescribeKeyCommand).resolves({KeyMetadata: symmetricMetadata(2)})
  })

  it('lists one key\'s grants in a table with every column', async () => {
    setupKeys(3)
    sdk.kms.on(ListGrantsCommand).resolves({
      Grants: [entry(2, 1, {Constraints: {EncryptionContextSubset: {tenant: 'acme'}}, IssuingAccount: 'arn:aws:iam::444455556666:root', RetiringPrincipal: OPS})],
      Truncated: false,
    })
    const {stderr, stdout} = await runCommand(['grant:list', 'alias/payments'], undefined, {})
    for (const text of ['Grant ID', 'Name', 'Grantee', 'Retiring principal', 'Operations', 'Constraints', 'Issuing account', '444455556666', 'Created', 'grant-2-1', 'subset tenant=acme', '2026-11-01 10:00:00Z']) {
      expect(stdout).to.contain(text)
    }

    expect(stderr).to.contain('1 grant')
    expect(sdk.kms.commandCalls(ListKeysCommand)).to.have.length(0)
    expect(sdk.kms.commandCalls(ListGrantsCommand)[0].args[0].input.KeyId).to.equal(keyArn(2))
  })

  it('reports the grants read when a later page of one key fails, with the failure (exit 3)', async () => {
    sdk.kms
      .on(ListGrantsCommand)
      .resolvesOnce({Grants: [entry(2, 1)], NextMarker: 'm1', Truncated: true})
      .rejects(Object.assign(new Error('We encountered an internal error.'), {$fault: 'server', $metadata: {httpStatusCode: 500}, name: 'KMSInternalException'}))
    const {stderr, stdout} = await runCommand(['grant:list', 'alias/payments', '--json'])
    const out = JSON.parse(stdout)
    expect(out.grants.map((g: {grantId: string}) => g.grantId)).to.deep.equal([entry(2, 1).GrantId])
    expect(out.failures).to.have.length(1)
    expect(out.failures[0]).to.deep.include({keyId: keyId(2)})
    expect(stderr).to.match(/could not list the grants of/)
    expect(process.exitCode).to.equal(3)
  })

  it('reports the grants of the other keys when one key\'s grants cannot be read, and when ListAliases fails (exit 3)', async () => {
    setupKeys(3)
    sdk.kms.on(ListAliasesCommand).rejects(Object.assign(new Error('not allowed'), {name: 'AccessDeniedException'}))
    const {stdout} = await runCommand(['grant:list', '--json'])
    const out = JSON.parse(stdout)
    expect(out.grants.length).to.be.greaterThan(0)
    expect(out.failures.map((f: {operation?: string}) => f.operation)).to.deep.equal(['ListAliases'])
    expect(process.exitCode).to.equal(3)
  })

  it('leaves out columns that say nothing: empty ones, the --grantee, the key\'s own issuing account', async () => {
    setupKeys(3)
    const {stdout} = await runCommand(['grant:list', '--grantee', APP])
    expect(stdout).to.contain('Grant ID')
    expect(stdout).to.contain('alias/payments')
    for (const hidden of ['Grantee', 'Retiring principal', 'Constraints', 'Issuing account']) expect(stdout).to.not.contain(hidden)
  })

  it('without KEY scans every customer-managed key (--json)', async () => {
    setupKeys(4)
    const {stdout} = await runCommand(['grant:list', '--json'])
    const doc = JSON.parse(stdout)
    expect(doc.scope).to.equal('all-keys')
    expect(doc.keysScanned).to.equal(3)
    expect(doc.awsManagedSkipped).to.equal(1)
    expect(doc.grants).to.have.length(6)
    expect(doc.grants.find((g: {keyId: string}) => g.keyId === keyId(2)).aliases).to.deep.equal(['alias/payments'])
    expect(doc.failures).to.deep.equal([])
  })

  it('--all-keys --grantee answers what a principal can do, across keys', async () => {
    setupKeys(4)
    const {stdout} = await runCommand(['grant:list', '--all-keys', '--grantee', OTHER, '--json'])
    const doc = JSON.parse(stdout)
    expect(doc.grants.map((g: {keyId: string}) => g.keyId)).to.deep.equal([keyId(2), keyId(3), keyId(4)])
    expect(sdk.kms.commandCalls(ListGrantsCommand).every((c) => c.args[0].input.GranteePrincipal === OTHER)).to.equal(true)
  })

  it('--grant-id finds one grant', async () => {
    setupKeys(3)
    const {stdout} = await runCommand(['grant:list', keyId(2), '--grant-id', grantId(2, 2), '--json'])
    const doc = JSON.parse(stdout)
    expect(doc.grants).to.have.length(1)
    expect(doc.grants[0].grantId).to.equal(grantId(2, 2))
    expect(sdk.kms.commandCalls(ListGrantsCommand)[0].args[0].input.GrantId).to.equal(grantId(2, 2))
  })

  it('--retirable-by uses ListRetirableGrants', async () => {
    sdk.kms.on(ListRetirableGrantsCommand).resolves({Grants: [entry(5, 1, {RetiringPrincipal: OPS})], Truncated: false})
    const {stdout} = await runCommand(['grant:list', '--retirable-by', OPS, '--json'])
    const doc = JSON.parse(stdout)
    expect(doc.scope).to.equal('retirable')
    expect(doc.grants[0].keyId).to.equal(keyId(5))
    expect(sdk.kms.commandCalls(ListRetirableGrantsCommand)[0].args[0].input.RetiringPrincipal).to.equal(OPS)
    expect(sdk.kms.commandCalls(ListGrantsCommand)).to.have.length(0)
  })

  it('--concurrency bounds the requests in flight', async () => {
    setupKeys(12)
    let inFlight = 0
    let peak = 0
    sdk.kms.on(ListGrantsCommand).callsFake(async () => {
      peak = Math.max(peak, ++inFlight)
      await new Promise((r) => setTimeout(r, 5))
      inFlight--
      return {Grants: [], Truncated: false}
    })
    const {stderr} = await runCommand(['grant:list', '--concurrency', '2'])
    expect(peak).to.equal(2)
    expect(stderr).to.contain('No grants match across 11 customer-managed keys.')
  })

  it('exits 3 and names the keys it could not list', async () => {
    setupKeys(3)
    sdk.kms.on(ListGrantsCommand, {KeyId: keyArn(3)}).rejects(Object.assign(new Error('no'), {name: 'AccessDeniedException'}))
    const {stderr, stdout} = await runCommand(['grant:list', '--json'])
    expect(process.exitCode).to.equal(3)
    expect(JSON.parse(stdout).failures[0].keyId).to.equal(keyId(3))
    expect(stderr).to.contain(`could not list the grants of ${keyId(3)}`)
  })

  it('suggests the role ARN when an assumed-role session has no grants', async () => {
    setupKeys(2)
    const {stderr} = await runCommand(['grant:list', '--grantee', 'arn:aws:sts::111122223333:assumed-role/app/session-7'])
    expect(stderr).to.contain('No grants match across 1 customer-managed key.')
    expect(stderr).to.contain('try --grantee arn:aws:iam::111122223333:role/app')
  })

  itRefuses('grant:list', [
    ['KEY with --all-keys', [keyId(2), '--all-keys'], /Give a KEY or --all-keys, not both/],
    ['KEY with --retirable-by', [keyId(2), '--retirable-by', OPS], /takes no KEY/],
    ['a bad --grantee', ['--grantee', 'app'], /--grantee "app" is not a principal ARN/],
    ['a bad --retirable-by', ['--retirable-by', 'ops'], /--retirable-by "ops" is not a principal ARN/],
    ['a bad --grant-id', ['--grant-id', 'x-y'], /--grant-id "x-y" is not a grant ID/],
    ['a bad KEY', ['payments'], /Try this: alias\/payments/],
  ])

  it('--help shows examples', async () => {
    const {stdout} = await runCommand(['grant:list', '--help'])
    expect(stdout).to.contain('--retirable-by')
    expect(stdout.replaceAll(/\s+/g, ' ')).to.contain('what can this principal do with our keys?')
    expect(stdout).to.contain('EXAMPLES')
  })
})
