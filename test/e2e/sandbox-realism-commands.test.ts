// The realism commands of the built CLI (sandbox principal, clock, config), in-process on one sandbox
// directory: output, --json, --dry-run, usage errors (exit 2), and their effect on later commands.
import {expect} from 'chai'
import {existsSync, mkdtempSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {json, runCli} from '../helpers/cli.js'

describe('e2e: sandbox principal, clock and config commands', function () {
  this.timeout(120_000)
  let dir: string
  let env: NodeJS.ProcessEnv
  const kmsctl = (...args: string[]) => runCli(args, {env})

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'kmsctl-realism-cli-'))
    env = {AWS_ACCESS_KEY_ID: '', AWS_SECRET_ACCESS_KEY: '', KMSCTL_SANDBOX: '1', KMSCTL_SANDBOX_DIR: dir}
  })

  it('principal add / list / remove, with --dry-run and --json', async () => {
    const dry = await kmsctl('sandbox', 'principal', 'add', 'AKIAEXAMPLEREADER001', 'arn:aws:iam::111122223333:user/reader', '--dry-run')
    expect(dry.code).to.equal(0)
    expect(dry.stdout).to.equal('Would map AKIAEXAMPLEREADER001 -> arn:aws:iam::111122223333:user/reader (IAMUser); IAM allows nothing (key policies and grants only)\n')
    expect(existsSync(join(dir, 'principals.json'))).to.equal(false)
    const added = await kmsctl('sandbox', 'principal', 'add', 'AKIAEXAMPLEREADER001', 'arn:aws:iam::111122223333:user/reader', '--iam-allow', 'Describe*,kms:ListKeys')
    expect(added.stdout).to.equal('Mapped AKIAEXAMPLEREADER001 -> arn:aws:iam::111122223333:user/reader (IAMUser); IAM allows kms:Describe*, kms:ListKeys\n')
    const list = json(await kmsctl('sandbox', 'principal', 'list', '--json'))
    expect(list.principals.map((p: {accessKeyId: string; builtIn: boolean}) => [p.accessKeyId, p.builtIn])).to.deep.equal([
      ['AKIAKMSCTLSANDBOX001', true],
      ['AKIAEXAMPLEREADER001', false],
    ])
    const table = await kmsctl('sandbox', 'principal', 'list')
    expect(table.stdout).to.contain('AKIAKMSCTLSANDBOX001 (default)')
    expect(table.stdout).to.contain('kms:Describe*, kms:ListKeys')
    const removed = json(await kmsctl('sandbox', 'principal', 'remove', 'AKIAEXAMPLEREADER001', '--json'))
    expect(removed.removed.arn).to.equal('arn:aws:iam::111122223333:user/reader')
  })

  it('refuses bad principal input with exit 2 and the fix', async () => {
    const role = await kmsctl('sandbox', 'principal', 'add', 'AKIAEXAMPLEREADER001', 'arn:aws:iam::111122223333:role/App')
    expect(role.code).to.equal(2)
    expect(role.stderr).to.contain('Try this: arn:aws:sts::111122223333:assumed-role/App/my-session')
    const action = await kmsctl('sandbox', 'principal', 'add', 'AKIAEXAMPLEREADER001', 'arn:aws:iam::111122223333:user/x', '--iam-allow', 'kms:Teleport')
    expect(action.code).to.equal(2)
    expect(action.stderr).to.contain('--iam-allow "kms:Teleport" names no KMS action.')
    const missing = await kmsctl('sandbox', 'principal', 'remove', 'AKIAEXAMPLENOBODY001')
    expect(missing.code).to.equal(2)
    expect(missing.stderr).to.contain('No principal with access key AKIAEXAMPLENOBODY001.')
  })

  it('acts as the principal of the access key it signs with (in-process too)', async () => {
    await kmsctl('sandbox', 'principal', 'add', 'AKIAEXAMPLEREADER001', 'arn:aws:iam::111122223333:user/reader', '--iam-allow', 'kms:DescribeKey', '--replace')
    const key = json(await kmsctl('key', 'create', '--json')).keyId as string
    const asReader = {...env, AWS_ACCESS_KEY_ID: 'AKIAEXAMPLEREADER001', AWS_SECRET_ACCESS_KEY: 'anything'}
    expect((await runCli(['key', 'describe', key, '--json'], {env: asReader})).code).to.equal(0)
    const denied = await runCli(['key', 'disable', key, '--yes', '--json'], {env: asReader})
    expect(denied.code).to.not.equal(0)
    // The reader may not list aliases (the run goes on without them) nor disable: the key's row says so.
    const report = JSON.parse(denied.stdout)
    expect(report.aliasesUnavailable).to.match(/not allowed|not authorized/i)
    expect(report.keys[0]).to.deep.include({key, outcome: 'failed'})
    expect(report.keys[0].error.code).to.equal('ACCESS_DENIED')
  })

  it('clock show / advance / set, with --dry-run and bad input', async () => {
    const shown = json(await kmsctl('sandbox', 'clock', 'show', '--json'))
    expect(shown.stateOffsetMs).to.equal(0)
    const dry = json(await kmsctl('sandbox', 'clock', 'advance', '2h', '--dry-run', '--json'))
    expect(dry).to.include({dryRun: true})
    expect(json(await kmsctl('sandbox', 'clock', 'show', '--json')).stateOffsetMs).to.equal(0)
    const moved = await kmsctl('sandbox', 'clock', 'advance', '2h')
    expect(moved.stdout).to.match(/^Moved the sandbox clock from \S+ to \S+\.\n$/)
    expect(json(await kmsctl('sandbox', 'clock', 'show', '--json')).stateOffsetMs).to.equal(7_200_000)
    const back = await kmsctl('sandbox', 'clock', 'set', 'now')
    expect(back.stderr).to.contain('The clock moved back')
    expect(Math.abs(json(await kmsctl('sandbox', 'clock', 'show', '--json')).stateOffsetMs)).to.be.below(5000)
    const bad = await kmsctl('sandbox', 'clock', 'advance', 'soon')
    expect(bad.code).to.equal(2)
    expect(bad.stderr).to.contain('--duration "soon" is not a duration.')
    const badTime = await kmsctl('sandbox', 'clock', 'set', 'yesterday-ish')
    expect(badTime.code).to.equal(2)
  })

  it('config sets quotas and faults for the in-process sandbox, and --reset turns them off', async () => {
    const set = json(await kmsctl('sandbox', 'config', '--fail-rate', '1', '--json'))
    expect(set.config).to.deep.include({failRate: 1, quotas: 'off'})
    const failing = await kmsctl('key', 'list', '--json', '--max-attempts', '1')
    expect(failing.code).to.equal(1)
    expect(json(failing).error.awsCode).to.equal('KMSInternalException')
    const reset = json(await kmsctl('sandbox', 'config', '--reset', '--json'))
    expect(reset.config).to.deep.equal({dropRate: 0, failRate: 0, quotas: 'off', quotasScale: 1})
    expect((await kmsctl('key', 'list', '--json')).code).to.equal(0)
    const bad = await kmsctl('sandbox', 'config', '--quotas', 'lots')
    expect(bad.code).to.equal(2)
    expect(bad.stderr).to.contain('Try this: --quotas aws')
  })
})
