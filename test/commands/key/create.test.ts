import {CreateAliasCommand, CreateKeyCommand, DescribeKeyCommand, EnableKeyRotationCommand, ListAliasesCommand} from '@aws-sdk/client-kms'
import {expect} from 'chai'
import {mkdtempSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {A, CALLER, arn, awsError, commandContext, meta, sent} from '../alias/fixtures.js'

describe('key create', () => {
  const t = commandContext()
  beforeEach(() => {
    t.kms.on(DescribeKeyCommand).rejects(awsError('NotFoundException'))
    t.kms.on(ListAliasesCommand).resolves({Aliases: [], Truncated: false})
    t.kms.on(CreateKeyCommand).resolves({KeyMetadata: meta(A)})
    t.kms.on(CreateAliasCommand).resolves({})
    t.kms.on(EnableKeyRotationCommand).resolves({})
  })

  it('creates the key with alias, tags and rotation, prints ID, ARN and alias, and journals the new key', async () => {
    const r = await t.run(['key', 'create', '--description', 'Payments', '--alias', 'alias/payments', '--tag', 'team=payments', '--tag', 'env=prod', '--rotation-days', '180', '--multi-region'])
    expect(r.code).to.equal(0)
    expect(t.kms.commandCalls(CreateKeyCommand)[0].args[0].input).to.deep.equal({
      Description: 'Payments',
      KeySpec: 'SYMMETRIC_DEFAULT',
      KeyUsage: 'ENCRYPT_DECRYPT',
      MultiRegion: true,
      Tags: [
        {TagKey: 'team', TagValue: 'payments'},
        {TagKey: 'env', TagValue: 'prod'},
      ],
    })
    expect(t.kms.commandCalls(CreateAliasCommand)[0].args[0].input).to.deep.equal({AliasName: 'alias/payments', TargetKeyId: A})
    expect(t.kms.commandCalls(EnableKeyRotationCommand)[0].args[0].input).to.deep.equal({KeyId: A, RotationPeriodInDays: 180})
    expect(r.stdout).to.match(new RegExp(`Key ID\\s+${A}`))
    expect(r.stdout).to.match(new RegExp(`ARN\\s+${arn(A)}`))
    expect(r.stdout).to.match(/Alias\s+alias\/payments/)
    expect(r.stdout).to.match(/Rotation\s+on, every 180 days/)
    const [entry] = t.journal().readAll()
    expect(entry).to.deep.include({action: 'key.create', before: null, caller: CALLER})
    expect(entry.outcome?.status).to.equal('ok')
    expect(entry.outcome?.after).to.deep.include({alias: 'alias/payments', arn: arn(A), keyId: A})
  })

  it('--json returns the key ID, ARN, alias and steps', async () => {
    const r = await t.run(['key', 'create', '--alias', 'alias/p', '--json'])
    const doc = JSON.parse(r.stdout)
    expect(doc).to.deep.include({alias: 'alias/p', arn: arn(A), dryRun: false, keyId: A, keySpec: 'SYMMETRIC_DEFAULT', keyUsage: 'ENCRYPT_DECRYPT'})
    expect(doc.steps.map((s: {operation: string}) => s.operation)).to.deep.equal(['CreateKey', 'CreateAlias'])
  })

  it('--dry-run prints exactly the requests and sends nothing at all', async () => {
    const r = await t.run(['key', 'create', '--spec', 'hmac_256', '--alias', 'alias/mac', '--tag', 'a=b', '--dry-run'])
    expect(r.code).to.equal(0)
    expect(r.stdout).to.equal(
      [
        'Dry run: these 2 requests would be sent, in order (nothing was sent):',
        'CreateKey {',
        '  "KeySpec": "HMAC_256",',
        '  "KeyUsage": "GENERATE_VERIFY_MAC",',
        '  "Tags": [',
        '    {',
        '      "TagKey": "a",',
        '      "TagValue": "b"',
        '    }',
        '  ]',
        '}',
        'CreateAlias {',
        '  "AliasName": "alias/mac",',
        '  "TargetKeyId": "<new key ID>"',
        '}',
        '',
      ].join('\n'),
    )
    expect(sent(t.kms)).to.deep.equal([])
    expect(t.sts.calls()).to.have.length(0)
    expect(t.journal().readAll()).to.have.length(0)
  })

  it('passes the policy file as the Policy', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'kmsctl-pol-')), 'p.json')
    writeFileSync(file, '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"kms:*","Resource":"*"}]}')
    await t.run(['key', 'create', '--policy-file', file])
    expect(JSON.parse(t.kms.commandCalls(CreateKeyCommand)[0].args[0].input.Policy!).Statement[0].Action).to.equal('kms:*')
  })

  for (const [args, message] of [
    [['--spec', 'ECC_NIST_P256'], '--spec ECC_NIST_P256 needs --usage: SIGN_VERIFY or KEY_AGREEMENT.'],
    [['--spec', 'RSA_2048', '--usage', 'KEY_AGREEMENT'], '--usage KEY_AGREEMENT is not valid for --spec RSA_2048'],
    [['--spec', 'ECC_SECG_P256K1', '--usage', 'KEY_AGREEMENT'], 'KMS accepts SIGN_VERIFY.'],
    [['--spec', 'HMAC_256', '--usage', 'SIGN_VERIFY'], 'KMS accepts GENERATE_VERIFY_MAC.'],
    [['--spec', 'AES'], '--spec "AES" is not a KMS key spec.'],
    [['--rotation-days', '30'], "--rotation-days 30 is outside KMS's range of 90..2560 days."],
    [['--rotation-days', '365', '--spec', 'RSA_2048'], '--rotation-days applies to symmetric encryption keys only'],
    [['--alias', 'payments'], 'Try this: alias/payments'],
    [['--alias', 'alias/aws/mine'], 'reserved for AWS managed keys'],
    [['--tag', 'novalue'], '--tag "novalue" is not of the form key=value.'],
    [['--policy-file', '/nonexistent/policy.json'], '--policy-file /nonexistent/policy.json cannot be read'],
  ] as Array<[string[], string]>) {
    it(`refuses ${args.join(' ')} with exit 2, sending nothing`, async () => {
      const r = await t.run(['key', 'create', ...args])
      expect(r.code).to.equal(2)
      expect(r.stderr).to.contain(message)
      expect(r.stderr.trim().split('\n')).to.have.length(2)
      expect(sent(t.kms)).to.deep.equal([])
    })
  }

  it('refuses an alias that exists before creating any key (exit 2)', async () => {
    t.kms.on(DescribeKeyCommand, {KeyId: 'alias/taken'}).resolves({KeyMetadata: meta(A)})
    const r = await t.run(['key', 'create', '--alias', 'alias/taken'])
    expect(r.code).to.equal(2)
    expect(r.stderr).to.contain(`alias/taken already exists (it points at ${A}); no key was created.`)
    expect(t.kms.commandCalls(CreateKeyCommand)).to.have.length(0)
  })

  it('when the alias step fails, says the key exists, prints its ID and exits 1', async () => {
    t.kms.on(CreateAliasCommand).rejects(awsError('AccessDeniedException', 'no'))
    const r = await t.run(['key', 'create', '--alias', 'alias/p', '--rotation-days', '90'])
    expect(r.code).to.equal(1)
    expect(r.stdout).to.match(new RegExp(`Key ID\\s+${A}`))
    expect(r.stdout).to.contain('(not created: alias/p)')
    expect(r.stderr).to.contain(`Key ${A} was created, but CreateAlias failed: Access denied`)
    expect(r.stderr).to.contain(`Key ${A} was created, but CreateAlias failed: Access denied: you are not allowed to call kms:CreateAlias on ${A}. The key exists.`)
    expect(r.stderr).to.contain(`Try this: kmsctl alias create alias/p ${A}`)
    // The rotation step still ran.
    expect(t.kms.commandCalls(EnableKeyRotationCommand)).to.have.length(1)
    const [entry] = t.journal().readAll()
    expect(entry.outcome?.status).to.equal('partial')
    expect(entry.outcome?.after).to.deep.include({keyId: A})
  })

  it('--json on a partial failure names the created key in the error', async () => {
    t.kms.on(EnableKeyRotationCommand).rejects(awsError('KMSInvalidStateException', 'Key is pending import'))
    const r = await t.run(['key', 'create', '--rotation-days', '90', '--json'])
    expect(r.code).to.equal(1)
    const doc = JSON.parse(r.stdout)
    expect(doc.error.details).to.deep.include({arn: arn(A), keyId: A})
    expect(doc.error.remedy).to.equal(`Try this: kmsctl key rotation enable ${A} --period-days 90`)
  })

  it('a failed CreateKey exits 1 and is journaled as failed', async () => {
    t.kms.on(CreateKeyCommand).rejects(awsError('MalformedPolicyDocumentException', 'The new key policy will not allow you to update the key policy in the future.'))
    const file = join(mkdtempSync(join(tmpdir(), 'kmsctl-pol-')), 'p.json')
    writeFileSync(file, '{"Statement":[]}')
    const r = await t.run(['key', 'create', '--policy-file', file, '--alias', 'alias/p'])
    expect(r.code).to.equal(1)
    expect(r.stderr).to.contain('KMS refused the key policy: The new key policy will not allow you to update the key policy in the future.')
    expect(t.kms.commandCalls(CreateAliasCommand)).to.have.length(0)
    expect(t.journal().readAll()[0].outcome?.status).to.equal('failed')
  })
})
