import {DescribeKeyCommand, DisableKeyCommand, EnableKeyCommand, KMSClient, ListAliasesCommand, ListKeysCommand, ListResourceTagsCommand} from '@aws-sdk/client-kms'
import {GetCallerIdentityCommand, STSClient} from '@aws-sdk/client-sts'
import {runCommand} from '@oclif/test'
import {expect} from 'chai'
import {mkdtempSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {Journal} from '../../../src/lib/journal.js'
import {mockSdk} from '../../helpers/mock-sdk.js'

const acct = '111122223333'
const id = (n: number) => `${String(n).padStart(8, '0')}-0000-4000-8000-000000000000`
const arn = (n: number) => `arn:aws:kms:us-east-1:${acct}:key/${id(n)}`
// 1, 2, 4: enabled, customer-managed; 3: disabled; 5: AWS-managed; 6: pending deletion.
const KEYS: Record<number, Record<string, unknown>> = {
  1: {},
  2: {},
  3: {KeyState: 'Disabled'},
  4: {},
  5: {KeyManager: 'AWS'},
  6: {KeyState: 'PendingDeletion'},
}

function awsError(name: string, message = name, status = 400) {
  return Object.assign(new Error(message), {$fault: 'client', $metadata: {httpStatusCode: status}, name})
}

describe('key disable / key enable', () => {
  const sdk = mockSdk()
  let home: string

  beforeEach(() => {
    home = mkdtempSync(join(tmpdir(), 'kmsctl-disable-'))
    process.env.KMSCTL_HOME = home
    sdk.sts.on(GetCallerIdentityCommand).resolves({Account: acct, Arn: `arn:aws:iam::${acct}:user/oncall`, UserId: 'AIDA'})
    sdk.kms.on(ListAliasesCommand).resolves({Aliases: [{AliasName: 'alias/pay', TargetKeyId: id(1)}, {AliasName: 'alias/aws/s3', TargetKeyId: id(5)}]})
    sdk.kms.on(ListKeysCommand).resolves({Keys: Object.keys(KEYS).map((n) => ({KeyArn: arn(Number(n)), KeyId: id(Number(n))}))})
    sdk.kms.on(DescribeKeyCommand).callsFake((input: {KeyId: string}) => {
      const n = Object.keys(KEYS).map(Number).find((k) => input.KeyId === id(k) || input.KeyId === arn(k) || (input.KeyId === 'alias/pay' && k === 1) || (input.KeyId === 'alias/aws/s3' && k === 5))
      if (!n) throw awsError('NotFoundException', `Key '${input.KeyId}' does not exist`)
      return {KeyMetadata: {Arn: arn(n), KeyId: id(n), KeyManager: 'CUSTOMER', KeyState: 'Enabled', ...KEYS[n]}}
    })
    sdk.kms.on(ListResourceTagsCommand).callsFake((input: {KeyId: string}) => ({
      Tags: [id(2), id(4), id(3)].includes(input.KeyId) ? [{TagKey: 'team', TagValue: 'payments'}] : [],
    }))
    sdk.kms.on(DisableKeyCommand).resolves({})
    sdk.kms.on(EnableKeyCommand).resolves({})
    process.exitCode = undefined
  })

  afterEach(() => {
    process.exitCode = undefined
  })

  const sent = (cmd: typeof DisableKeyCommand | typeof EnableKeyCommand) => sdk.kms.commandCalls(cmd).map((c) => c.args[0].input.KeyId).sort()

  describe('under faults: no crash, no batch lost to one key', () => {
    const unhandled: unknown[] = []
    const onUnhandled = (reason: unknown) => unhandled.push(reason)
    beforeEach(() => {
      unhandled.length = 0
      process.on('unhandledRejection', onUnhandled)
    })
    afterEach(async () => {
      await new Promise((r) => setImmediate(r))
      process.off('unhandledRejection', onUnhandled)
      expect(unhandled, 'unhandled rejections').to.deep.equal([])
    })

    for (const dryRun of [false, true]) {
      it(`goes on when ListAliases is refused, saying so on stderr and in --json${dryRun ? ' (--dry-run)' : ''}`, async () => {
        sdk.kms.on(ListAliasesCommand).rejects(awsError('AccessDeniedException', `User: arn:aws:iam::${acct}:user/oncall is not authorized to perform: kms:ListAliases`))
        const {stderr, stdout} = await runCommand(['key', 'disable', id(1), id(2), '--yes', '--json', ...(dryRun ? ['--dry-run'] : [])])
        const out = JSON.parse(stdout)
        expect(out.aliasesUnavailable).to.match(/not allowed|not authorized/i)
        expect(stderr).to.match(/Aliases could not be read \(.*\); keys are shown by ID\./)
        expect(out.keys.map((r: any) => [r.key, r.outcome])).to.deep.equal(dryRun ? [[id(1), 'planned'], [id(2), 'planned']] : [[id(1), 'changed'], [id(2), 'changed']])
        expect(sent(DisableKeyCommand)).to.deep.equal(dryRun ? [] : [id(1), id(2)])
        expect(process.exitCode).to.equal(0)
      })
    }

    it('makes a tagged key whose tags or metadata cannot be read that key\'s failed row; the rest proceed (exit 3)', async () => {
      sdk.kms.on(ListResourceTagsCommand, {KeyId: id(2)}).rejects(awsError('KMSInternalException', 'internal error', 500))
      const {stdout} = await runCommand(['key', 'disable', '--tag', 'team=payments', '--yes', '--json'])
      const out = JSON.parse(stdout)
      expect(sent(DisableKeyCommand)).to.deep.equal([id(4)])
      const rows = Object.fromEntries(out.keys.map((r: any) => [r.key, r.outcome]))
      expect(rows).to.deep.equal({[id(2)]: 'failed', [id(3)]: 'unchanged', [id(4)]: 'changed'})
      expect(out.keys.find((r: any) => r.key === id(2)).error.message).to.match(/internal error/)
      expect(out.exitCode).to.equal(3)
      expect(process.exitCode).to.equal(3)
    })
  })

  it('disables the keys given, reports every key with its reason, and journals each change in one batch', async () => {
    const {stdout} = await runCommand(['key', 'disable', 'alias/pay', id(2), id(3), 'alias/aws/s3', id(6), '--yes', '--json'])
    const out = JSON.parse(stdout)
    expect(sent(DisableKeyCommand)).to.deep.equal([id(1), id(2)])
    expect(out.keys.map((r: any) => [r.key, r.before, r.after, r.outcome, r.reason ?? null])).to.deep.equal([
      [id(1), 'Enabled', 'Disabled', 'changed', null],
      [id(2), 'Enabled', 'Disabled', 'changed', null],
      [id(3), 'Disabled', 'Disabled', 'unchanged', 'already Disabled'],
      [id(5), 'Enabled', 'Enabled', 'skipped', 'AWS-managed keys cannot be disabled'],
      [id(6), 'PendingDeletion', 'PendingDeletion', 'skipped', 'pending deletion: cancel it first (kmsctl key cancel-deletion KEY)'],
    ])
    expect(out.summary).to.include({changed: 2, failed: 0, skipped: 2, total: 5, unchanged: 1})
    expect(out.exitCode).to.equal(0)
    expect(process.exitCode).to.equal(0)
    const entries = new Journal({dir: join(home, 'journal')}).list({batch: out.batch})
    expect(entries.map((e) => [e.action, e.key?.keyId, e.before, e.outcome?.status]).sort()).to.deep.equal([
      ['key.disable', id(1), {state: 'Enabled'}, 'ok'],
      ['key.disable', id(2), {state: 'Enabled'}, 'ok'],
    ])
    expect(entries[0].caller).to.equal(`arn:aws:iam::${acct}:user/oncall`)
    expect(entries[0].command?.slice(0, 2)).to.deep.equal(['key', 'disable'])
  })

  it('selects every customer-managed key with the tag', async () => {
    const {stdout} = await runCommand(['key', 'disable', '--tag', 'team=payments', '--yes', '--json'])
    expect(JSON.parse(stdout).keys.map((r: any) => [r.key, r.outcome])).to.deep.equal([
      [id(2), 'changed'],
      [id(3), 'unchanged'],
      [id(4), 'changed'],
    ])
    expect(sent(DisableKeyCommand)).to.deep.equal([id(2), id(4)])
  })

  it('reads references from a file with comments', async () => {
    const file = join(home, 'keys.txt')
    writeFileSync(file, `# incident 42\nalias/pay\n\n${id(4)}  # the batch job\n`)
    const {stdout} = await runCommand(['key', 'disable', '--file', file, '--yes', '--json'])
    expect(JSON.parse(stdout).keys.map((r: any) => r.key)).to.deep.equal([id(1), id(4)])
    expect(sent(DisableKeyCommand)).to.deep.equal([id(1), id(4)])
  })

  it('prints the plan with --dry-run and sends nothing', async () => {
    const {stdout, stderr} = await runCommand(['key', 'disable', 'alias/pay', id(3), '--dry-run'])
    expect(stdout).to.match(/alias\/pay\s+00000001-0000-4000-8000-000000000000\s+Enabled\s+will disable/)
    expect(stdout).to.match(/00000003-0000-4000-8000-000000000000\s+Disabled\s+already Disabled/)
    expect(stderr).to.include('Dry run: would disable 1 key; 1 unchanged. Nothing was sent.')
    expect(sdk.kms.commandCalls(DisableKeyCommand)).to.have.length(0)
    expect(new Journal({dir: join(home, 'journal')}).readAll()).to.have.length(0)
  })

  it('refuses to prompt without a terminal, naming the flags, and sends nothing', async () => {
    const {error, stderr} = await runCommand(['key', 'disable', 'alias/pay', id(2)])
    expect(stderr).to.include('Error: Confirmation required to disable 2 keys, and there is no terminal to ask on.')
    expect(stderr).to.include('Try this: --confirm "disable 2 keys" or --yes')
    expect(process.exitCode ?? error?.oclif?.exit).to.equal(2)
    expect(sdk.kms.commandCalls(DisableKeyCommand)).to.have.length(0)
  })

  it('accepts a matching --confirm (the text naming the change, or the key ID or alias of a single key) and refuses a mismatching one', async () => {
    await runCommand(['key', 'disable', 'alias/pay', id(2), '--confirm', '2'])
    expect(process.exitCode).to.equal(2)
    expect(sdk.kms.commandCalls(DisableKeyCommand)).to.have.length(0)
    process.exitCode = undefined

    await runCommand(['key', 'disable', 'alias/pay', id(2), '--confirm="disable 3 keys"'])
    expect(process.exitCode).to.equal(2)
    expect(sdk.kms.commandCalls(DisableKeyCommand)).to.have.length(0)
    process.exitCode = undefined

    await runCommand(['key', 'disable', 'alias/pay', '--confirm', id(2)])
    expect(process.exitCode).to.equal(2)
    expect(sdk.kms.commandCalls(DisableKeyCommand)).to.have.length(0)
    process.exitCode = undefined

    await runCommand(['key', 'disable', 'alias/pay', id(2), '--confirm="disable 2 keys"'])
    expect(sent(DisableKeyCommand)).to.deep.equal([id(1), id(2)])
    sdk.kms.resetHistory()
    await runCommand(['key', 'disable', id(1), '--confirm', 'alias/pay'])
    expect(sent(DisableKeyCommand)).to.deep.equal([id(1)])
  })

  it('says --yes on stderr', async () => {
    const {stderr} = await runCommand(['key', 'disable', 'alias/pay', '--yes'])
    expect(stderr).to.include('Confirmed with --yes: disable key 00000001-0000-4000-8000-000000000000 (alias/pay).')
  })

  it('exits 3 when some keys fail, with each error in the report', async () => {
    sdk.kms.on(DisableKeyCommand, {KeyId: id(2)}).rejects(awsError('AccessDeniedException', 'User is not authorized to perform: kms:DisableKey'))
    const {stdout} = await runCommand(['key', 'disable', 'alias/pay', id(2), id(9), '--skip-missing', '--yes', '--json'])
    const out = JSON.parse(stdout)
    expect(out.keys.map((r: any) => [r.key, r.outcome, r.error?.code ?? null])).to.deep.equal([
      [id(1), 'changed', null],
      [id(2), 'failed', 'ACCESS_DENIED'],
      [id(9), 'failed', 'NOT_FOUND'],
    ])
    expect(out.exitCode).to.equal(3)
    expect(process.exitCode).to.equal(3)
  })

  it('prints the per-key table and a summary', async () => {
    const {stdout, stderr} = await runCommand(['key', 'disable', 'alias/pay', id(3), '--yes'])
    expect(stdout).to.match(/Alias\s+Key ID\s+Before\s+After\s+Outcome\s+Detail/)
    expect(stdout).to.match(/alias\/pay\s+00000001-0000-4000-8000-000000000000\s+Enabled\s+Disabled\s+changed/)
    expect(stderr).to.include('Disabled 1 of 2 keys; 1 already disabled.')
    expect(stderr).to.match(/Undo: kmsctl undo (b-\d{8}T\d{6}Z-[0-9a-f]{6}) reverses the whole batch \(kmsctl journal list --batch \1 lists its entries\)/)
  })

  it('refuses bad input with exit 2 before any call', async () => {
    for (const argv of [
      ['key', 'disable', 'payments', '--yes'],
      ['key', 'disable', '--yes'],
      ['key', 'disable', 'alias/pay', '--rate', '0', '--yes'],
      ['key', 'disable', '--tag', 'team', '--yes'],
      ['key', 'disable', '--file', join(home, 'missing.txt'), '--yes'],
    ]) {
      process.exitCode = undefined
      // eslint-disable-next-line no-await-in-loop
      const {stderr} = await runCommand(argv)
      expect(process.exitCode, argv.join(' ')).to.equal(2)
      expect(stderr.split('\n')[0], argv.join(' ')).to.match(/^Error: /)
    }

    expect(sdk.kms.calls()).to.have.length(0)
  })

  it('enables disabled keys, leaving enabled ones unchanged', async () => {
    const {stdout} = await runCommand(['key', 'enable', id(3), 'alias/pay', '--yes', '--json'])
    const out = JSON.parse(stdout)
    expect(out.keys.map((r: any) => [r.key, r.before, r.after, r.outcome])).to.deep.equal([
      [id(3), 'Disabled', 'Enabled', 'changed'],
      [id(1), 'Enabled', 'Enabled', 'unchanged'],
    ])
    expect(sent(EnableKeyCommand)).to.deep.equal([id(3)])
    expect(sdk.kms.commandCalls(DisableKeyCommand)).to.have.length(0)
    const [entry] = new Journal({dir: join(home, 'journal')}).readAll()
    expect(entry).to.deep.include({action: 'key.enable', before: {state: 'Disabled'}})
  })
})
