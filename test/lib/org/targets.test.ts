import {expect} from 'chai'

import {
  accountOfArn,
  parseAccountsFile,
  parseTargets,
  roleArnFor,
  sessionNameFor,
} from '../../../src/lib/org/targets.js'

const noEnv = {env: {}}

describe('org targets', () => {
  it('is undefined without any account or region flag (behaviour as before)', () => {
    expect(parseTargets({}, noEnv)).to.equal(undefined)
    expect(parseTargets({roleName: 'Ops'}, noEnv)).to.equal(undefined)
  })

  it('parses --accounts and --regions, dropping duplicates and keeping order', () => {
    const t = parseTargets({accounts: ['444455556666,111122223333', '444455556666'], regions: 'eu-west-1,us-east-1', roleName: 'Ops'}, noEnv)
    expect(t).to.deep.equal({
      accounts: {accounts: ['444455556666', '111122223333'], exclude: [], kind: 'list'},
      maxParallel: 8,
      regions: {kind: 'list', regions: ['eu-west-1', 'us-east-1']},
      role: {roleName: 'Ops'},
    })
  })

  it('parses --org with --exclude-accounts and --all-regions', () => {
    const t = parseTargets({allRegions: true, excludeAccounts: ['222233334444'], maxParallel: 4, org: true, roleName: 'Ops'}, noEnv)
    expect(t).to.deep.equal({accounts: {exclude: ['222233334444'], kind: 'org'}, maxParallel: 4, regions: {kind: 'enabled'}, role: {roleName: 'Ops'}})
  })

  it('takes --regions alone for the caller account, without a role', () => {
    expect(parseTargets({regions: ['us-west-2']}, noEnv)).to.deep.equal({accounts: {kind: 'caller'}, maxParallel: 8, regions: {kind: 'list', regions: ['us-west-2']}})
  })

  it('reads an accounts file with comments and blank lines', () => {
    const text = '# production\n111122223333\n\n444455556666  # payments\n'
    expect(parseAccountsFile(text, 'a.txt')).to.deep.equal(['111122223333', '444455556666'])
    const t = parseTargets({accountsFile: 'a.txt', roleName: 'Ops'}, {env: {}, readFile: () => text})
    expect(t?.accounts).to.deep.equal({accounts: ['111122223333', '444455556666'], exclude: [], kind: 'list'})
    expect(() => parseAccountsFile('111122223333\n12345\n', 'a.txt')).to.throw('--accounts-file a.txt, line 2: "12345" is not an AWS account ID (12 digits).')
    expect(() => parseAccountsFile('# none\n', 'a.txt')).to.throw('names no account')
    expect(() => parseTargets({accountsFile: 'missing.txt', roleName: 'Ops'}, {env: {}, readFile: () => { throw Object.assign(new Error('x'), {code: 'ENOENT'}) }})).to.throw('--accounts-file missing.txt cannot be read (ENOENT).')
  })

  it('refuses malformed input with exit code 2', () => {
    const cases: Array<[Parameters<typeof parseTargets>[0], string]> = [
      [{accounts: '12345', roleName: 'Ops'}, '--accounts "12345" is not an AWS account ID (12 digits).'],
      [{regions: 'us-east-9'}, '--regions "us-east-9" is not an AWS region.'],
      [{regions: 'mars-1'}, '--regions "mars-1" is not an AWS region.'],
      [{accounts: '111122223333', roleArnTemplate: 'arn:aws:iam::111122223333:role/Ops'}, 'has no {account} placeholder'],
      [{accounts: '111122223333', roleArnTemplate: 'arn:aws:s3:::{account}'}, 'does not make an IAM role ARN'],
      [{accounts: '111122223333', roleArnTemplate: 'arn:aws:iam::{account}:role/Ops', roleName: 'Ops'}, 'both name the role'],
      [{accounts: '111122223333'}, 'needs the role to assume'],
      [{org: true}, 'needs the role to assume'],
      [{accounts: '111122223333', org: true, roleName: 'Ops'}, '--org lists the organisation'],
      [{allRegions: true, regions: 'us-east-1'}, '--regions and --all-regions'],
      [{excludeAccounts: '111122223333'}, '--exclude-accounts needs the accounts'],
      [{accounts: '111122223333', excludeAccounts: '111122223333', roleName: 'Ops'}, 'leaves no account'],
      [{accounts: '111122223333', roleName: 'Ops Role'}, '--role-name "Ops Role" is not an IAM role name'],
      [{externalId: 'x1', regions: 'us-east-1'}, '--external-id is given but no role'],
      [{maxParallel: 0, org: true, roleName: 'Ops'}, '--max-parallel 0 is out of range.'],
    ]
    for (const [values, message] of cases) {
      expect(() => parseTargets(values, noEnv), message).to.throw(message).with.property('exitCode', 2)
    }
  })

  it('suggests near region names', () => {
    expect(() => parseTargets({regions: 'eu-west-9'}, noEnv)).to.throw().with.property('remedy', 'Try this: --regions eu-west-1,eu-west-2,eu-west-3')
  })

  it('takes the role name from KMSCTL_ROLE_NAME, the flag winning', () => {
    expect(parseTargets({accounts: '111122223333'}, {env: {KMSCTL_ROLE_NAME: 'Audit'}})?.role).to.deep.equal({roleName: 'Audit'})
    expect(parseTargets({accounts: '111122223333', roleName: 'Ops'}, {env: {KMSCTL_ROLE_NAME: 'Audit'}})?.role).to.deep.equal({roleName: 'Ops'})
    expect(() => parseTargets({accounts: '111122223333'}, {env: {KMSCTL_ROLE_NAME: 'bad name'}})).to.throw('KMSCTL_ROLE_NAME "bad name"')
  })

  it('builds role ARNs and session names', () => {
    expect(roleArnFor({roleName: 'Ops'}, '444455556666')).to.equal('arn:aws:iam::444455556666:role/Ops')
    expect(roleArnFor({template: 'arn:aws:iam::{account}:role/team/Ops'}, '444455556666')).to.equal('arn:aws:iam::444455556666:role/team/Ops')
    expect(sessionNameFor('arn:aws:iam::111122223333:user/alice')).to.equal('kmsctl-alice')
    expect(sessionNameFor('arn:aws:sts::111122223333:assumed-role/Admin/bob smith')).to.equal('kmsctl-bob-smith')
    expect(sessionNameFor('arn:aws:iam::111122223333:root')).to.equal('kmsctl-root')
    expect(sessionNameFor(undefined)).to.equal('kmsctl')
    expect(sessionNameFor(`arn:aws:iam::111122223333:user/${'a'.repeat(80)}`)).to.have.length(64)
    expect(accountOfArn('arn:aws:kms:eu-west-1:444455556666:key/abc')).to.equal('444455556666')
    expect(accountOfArn('alias/x')).to.equal(undefined)
  })
})
