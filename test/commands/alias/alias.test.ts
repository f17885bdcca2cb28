import {CreateAliasCommand, DeleteAliasCommand, DescribeKeyCommand, ListAliasesCommand, UpdateAliasCommand} from '@aws-sdk/client-kms'
import {expect} from 'chai'

import {A, B, CALLER, arn, awsError, commandContext, meta, sent} from './fixtures.js'

describe('alias commands', () => {
  const t = commandContext()
  beforeEach(() => {
    t.kms.on(DescribeKeyCommand).rejects(awsError('NotFoundException'))
    t.kms.on(DescribeKeyCommand, {KeyId: A}).resolves({KeyMetadata: meta(A)})
    t.kms.on(DescribeKeyCommand, {KeyId: B}).resolves({KeyMetadata: meta(B)})
    t.kms.on(DescribeKeyCommand, {KeyId: 'alias/app'}).resolves({KeyMetadata: meta(A)})
    t.kms.on(ListAliasesCommand).resolves({
      Aliases: [
        {AliasArn: `arn:aws:kms:us-east-1:111122223333:alias/app`, AliasName: 'alias/app', CreationDate: new Date('2026-01-02T03:04:05Z'), LastUpdatedDate: new Date('2026-02-03T04:05:06Z'), TargetKeyId: A},
        {AliasName: 'alias/aws/s3', TargetKeyId: B},
        {AliasName: 'alias/aws/ebs'},
      ],
      Truncated: false,
    })
    t.kms.on(CreateAliasCommand).resolves({})
    t.kms.on(UpdateAliasCommand).resolves({})
    t.kms.on(DeleteAliasCommand).resolves({})
  })

  describe('alias list', () => {
    it('shows alias, target, created and updated, marking AWS managed aliases', async () => {
      const r = await t.run(['alias', 'list'])
      expect(r.code).to.equal(0)
      const lines = r.stdout.split('\n')
      expect(lines.find((l) => l.includes('alias/app'))).to.match(/alias\/app\s+11111111-1111-4111-8111-111111111111\s+2026-01-02 03:04:05Z\s+2026-02-03 04:05:06Z/)
      expect(lines.find((l) => l.includes('alias/aws/s3'))).to.contain('(AWS managed)')
      expect(lines.find((l) => l.includes('alias/aws/ebs'))).to.contain('(no key yet)')
      expect(r.stderr).to.contain('3 aliases (2 AWS managed)')
    })

    it('--customer leaves out alias/aws/*; --json returns the rows', async () => {
      const r = await t.run(['alias', 'list', '--customer', '--json'])
      const doc = JSON.parse(r.stdout)
      expect(doc.aliases.map((a: {aliasName: string}) => a.aliasName)).to.deep.equal(['alias/app'])
      expect(doc.aliases[0]).to.deep.include({awsManaged: false, creationDate: '2026-01-02T03:04:05.000Z', targetKeyId: A})
    })

    it('--key resolves the key and lists only its aliases', async () => {
      t.kms.on(ListAliasesCommand, {KeyId: B}).resolves({Aliases: [], Truncated: false})
      const r = await t.run(['alias', 'list', '--key', B])
      expect(r.stdout).to.equal('')
      expect(r.stderr).to.contain(`Key ${B} has no aliases.`)
      expect(t.kms.commandCalls(ListAliasesCommand)[0].args[0].input.KeyId).to.equal(B)
    })
  })

  describe('alias create', () => {
    it('creates the alias for the resolved key and journals it', async () => {
      const r = await t.run(['alias', 'create', 'alias/new', 'alias/app'])
      expect(r.code).to.equal(0)
      expect(t.kms.commandCalls(CreateAliasCommand).map((c) => c.args[0].input)).to.deep.equal([{AliasName: 'alias/new', TargetKeyId: A}])
      expect(r.stdout).to.contain('alias/new')
      expect(r.stdout).to.contain(arn(A))
      const [entry] = t.journal().readAll()
      expect(entry).to.deep.include({action: 'alias.create', caller: CALLER, region: 'us-east-1'})
      expect(entry.command).to.deep.equal(['alias', 'create', 'alias/new', 'alias/app'])
      expect(entry.outcome).to.deep.include({after: {aliasName: 'alias/new', targetKeyId: A}, status: 'ok'})
    })

    it('--dry-run prints the request and sends no change', async () => {
      const r = await t.run(['alias', 'create', 'alias/new', A, '--dry-run'])
      expect(r.code).to.equal(0)
      expect(r.stdout).to.equal(`Dry run: this request would be sent (nothing was sent):\nCreateAlias {\n  "AliasName": "alias/new",\n  "TargetKeyId": "${A}"\n}\n`)
      expect(t.kms.commandCalls(CreateAliasCommand)).to.have.length(0)
      expect(t.journal().readAll()).to.have.length(0)
    })

    it('refuses alias/aws/ and bare names with exit 2, sending nothing', async () => {
      let r = await t.run(['alias', 'create', 'alias/aws/mine', A])
      expect(r.code).to.equal(2)
      expect(r.stderr).to.contain('alias/aws/mine is under alias/aws/, which is reserved for AWS managed keys.')
      r = await t.run(['alias', 'create', 'mine', A])
      expect(r.code).to.equal(2)
      expect(r.stderr).to.contain('Try this: alias/mine')
      expect(sent(t.kms)).to.deep.equal([])
    })

    it('an existing name exits 2 and suggests alias update', async () => {
      const r = await t.run(['alias', 'create', 'alias/app', B, '--json'])
      expect(r.code).to.equal(2)
      expect(JSON.parse(r.stdout).error).to.deep.include({code: 'ALREADY_EXISTS', remedy: `Try this: kmsctl alias update alias/app ${B} (to point it at the new key)`})
      expect(t.kms.commandCalls(CreateAliasCommand)).to.have.length(0)
    })

    it('access denied on CreateAlias exits 1 and is journaled as failed', async () => {
      t.kms.on(CreateAliasCommand).rejects(awsError('AccessDeniedException', 'not authorized'))
      const r = await t.run(['alias', 'create', 'alias/new', A])
      expect(r.code).to.equal(1)
      expect(r.stderr).to.contain('Access denied: you are not allowed to call kms:CreateAlias')
      expect(t.journal().readAll()[0].outcome?.status).to.equal('failed')
    })
  })

  describe('alias update', () => {
    it('moves the alias and journals the previous target', async () => {
      const r = await t.run(['alias', 'update', 'alias/app', B, '--json'])
      expect(r.code).to.equal(0)
      expect(JSON.parse(r.stdout)).to.deep.include({aliasName: 'alias/app', previousTargetKeyId: A, targetKeyId: B, unchanged: false})
      expect(t.kms.commandCalls(UpdateAliasCommand).map((c) => c.args[0].input)).to.deep.equal([{AliasName: 'alias/app', TargetKeyId: B}])
      const [entry] = t.journal().readAll()
      expect(entry.action).to.equal('alias.update')
      expect(entry.before).to.deep.equal({aliasName: 'alias/app', targetArn: arn(A), targetKeyId: A})
    })

    it('sends nothing when the alias already points at the key', async () => {
      const r = await t.run(['alias', 'update', 'alias/app', A])
      expect(r.code).to.equal(0)
      expect(r.stderr).to.contain(`alias/app already points at ${A}: nothing to do.`)
      expect(t.kms.commandCalls(UpdateAliasCommand)).to.have.length(0)
    })

    it('refuses a key of another type or usage (exit 2)', async () => {
      t.kms.on(DescribeKeyCommand, {KeyId: B}).resolves({KeyMetadata: meta(B, {KeySpec: 'RSA_2048', KeyUsage: 'SIGN_VERIFY'})})
      const r = await t.run(['alias', 'update', 'alias/app', B])
      expect(r.code).to.equal(2)
      expect(r.stderr).to.contain('KMS only moves an alias between keys of the same type and usage.')
      expect(t.kms.commandCalls(UpdateAliasCommand)).to.have.length(0)
    })

    it('--dry-run prints UpdateAlias and sends no change', async () => {
      const r = await t.run(['alias', 'update', 'alias/app', B, '--dry-run'])
      expect(r.stdout).to.contain('UpdateAlias {')
      expect(t.kms.commandCalls(UpdateAliasCommand)).to.have.length(0)
    })
  })

  describe('alias delete', () => {
    it('--confirm with the alias name deletes and journals the target it pointed to', async () => {
      const r = await t.run(['alias', 'delete', 'alias/app', '--confirm', 'alias/app'])
      expect(r.code).to.equal(0)
      expect(r.stdout).to.contain(`Deleted alias/app (it pointed at ${A}`)
      expect(t.kms.commandCalls(DeleteAliasCommand).map((c) => c.args[0].input)).to.deep.equal([{AliasName: 'alias/app'}])
      const [entry] = t.journal().readAll()
      expect(entry).to.deep.include({action: 'alias.delete'})
      expect(entry.before).to.deep.equal({aliasName: 'alias/app', targetArn: arn(A), targetKeyId: A})
    })

    it('a mismatching --confirm exits 2 and sends nothing', async () => {
      const r = await t.run(['alias', 'delete', 'alias/app', '--confirm', 'alias/ap'])
      expect(r.code).to.equal(2)
      expect(r.stderr).to.contain('--confirm "alias/ap" does not match; expected "alias/app".')
      expect(t.kms.commandCalls(DeleteAliasCommand)).to.have.length(0)
      expect(t.journal().readAll()).to.have.length(0)
    })

    it('--yes deletes and says so on stderr', async () => {
      const r = await t.run(['alias', 'delete', 'alias/app', '--yes'])
      expect(r.code).to.equal(0)
      expect(r.stderr).to.contain('Confirmed with --yes: delete alias/app.')
      expect(t.kms.commandCalls(DeleteAliasCommand)).to.have.length(1)
    })

    it('without a terminal, refuses to prompt (exit 2) and sends nothing', async () => {
      const r = await t.run(['alias', 'delete', 'alias/app'])
      expect(r.code).to.equal(2)
      expect(r.stderr).to.contain('Confirmation required to delete alias/app, and there is no terminal to ask on.')
      expect(r.stderr).to.contain('Try this: --confirm alias/app or --yes')
      expect(t.kms.commandCalls(DeleteAliasCommand)).to.have.length(0)
    })

    it('--json never prompts', async () => {
      const r = await t.run(['alias', 'delete', 'alias/app', '--json'])
      expect(r.code).to.equal(2)
      expect(JSON.parse(r.stdout).error.code).to.equal('CONFIRMATION_REQUIRED')
    })

    it('--dry-run needs no confirmation and sends nothing', async () => {
      const r = await t.run(['alias', 'delete', 'alias/app', '--dry-run'])
      expect(r.code).to.equal(0)
      expect(r.stdout).to.contain('DeleteAlias {\n  "AliasName": "alias/app"\n}')
      expect(t.kms.commandCalls(DeleteAliasCommand)).to.have.length(0)
    })

    it('refuses alias/aws/ names (exit 2) before any call', async () => {
      const r = await t.run(['alias', 'delete', 'alias/aws/s3', '--yes'])
      expect(r.code).to.equal(2)
      expect(sent(t.kms)).to.deep.equal([])
    })

    it('an unknown alias is not found, with the closest names', async () => {
      const r = await t.run(['alias', 'delete', 'alias/apq', '--yes'])
      expect(r.code).to.equal(1)
      expect(r.stderr).to.contain('Alias alias/apq does not exist.')
      expect(r.stderr).to.contain('Did you mean: alias/app?')
      expect(t.kms.commandCalls(DeleteAliasCommand)).to.have.length(0)
    })
  })
})
