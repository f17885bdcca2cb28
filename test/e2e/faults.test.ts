// End-to-end: faults and hostile input against `kmsctl sandbox serve`. Bad local input is refused with
// exit 2 and one line naming the fix before anything is sent (a counting endpoint proves it); a
// least-privilege responder whose ListAliases is refused still acts; under injected 5xx a listing is
// whole or partial (exit 3, what was read in the error's details) and a tag batch never loses the
// other keys to one; a log file without Records is skipped by name. Nowhere a stack trace.
// (Signatures, Host names and file modes under umask 000: sandbox-access.test.ts; Ctrl-C during a
// paced run: bulk-interrupt.test.ts.)
import {CreateAliasCommand, CreateKeyCommand, DescribeKeyCommand, type KMSClient} from '@aws-sdk/client-kms'
import {expect} from 'chai'
import {chmodSync, mkdirSync, mkdtempSync, writeFileSync} from 'node:fs'
import http from 'node:http'
import type {AddressInfo} from 'node:net'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {type CliResult, json, runCli} from '../helpers/cli.js'
import {runInPty} from '../helpers/pty.js'
import {type SandboxServer, sandboxKmsClient, startSandboxServer} from '../helpers/sandbox-server.js'
import * as f from '../lib/trail/fixtures.js'

const RESPONDER_KEY_ID = 'AKIAEXAMPLERESPOND01'
const RESPONDER_ARN = 'arn:aws:sts::111122223333:assumed-role/Responder/oncall'
/** What a least-privilege responder role may do: no kms:ListAliases. */
const RESPONDER_IAM = 'kms:DescribeKey,kms:ListKeys,kms:ListResourceTags,kms:DisableKey,kms:EnableKey,kms:GetKeyPolicy,kms:ListGrants,kms:RevokeGrant,kms:PutKeyPolicy'

/** No stack trace on either stream: no "    at fn (file:line:col)" lines. */
function expectNoStack(r: CliResult): void {
  expect(`${r.stdout}\n${r.stderr}`, r.stderr).to.not.match(/^\s+at .*(:\d+:\d+\)?|<anonymous>)$/m)
  expect(r.stderr).to.not.match(/UnhandledPromiseRejection|unhandled rejection/i)
}

/** An HTTP endpoint that counts what reaches it (and answers 500): proof that nothing was sent. */
async function countingEndpoint(): Promise<{close(): Promise<void>; count(): number; url: string}> {
  let count = 0
  const server = http.createServer((req, res) => {
    count++
    req.resume()
    res.writeHead(500, {'content-type': 'application/x-amz-json-1.1'}).end('{"__type":"KMSInternalException"}')
  })
  await new Promise<void>((resolve) => {
    server.listen(0, '127.0.0.1', resolve)
  })
  const {port} = server.address() as AddressInfo
  return {
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve())
      }),
    count: () => count,
    url: `http://127.0.0.1:${port}`,
  }
}

describe('e2e: faults and hostile input (sandbox serve)', function () {
  this.timeout(600_000)
  let server: SandboxServer
  let kms: KMSClient
  let home: string
  let env: NodeJS.ProcessEnv
  const tagged: string[] = []
  let aliased: string

  const kmsctl = (args: string[], extra: NodeJS.ProcessEnv = {}) => runCli(args, {env: {...env, ...extra}})
  const stateOf = async (id: string) => (await kms.send(new DescribeKeyCommand({KeyId: id}))).KeyMetadata!.KeyState

  before(async () => {
    server = await startSandboxServer()
    kms = sandboxKmsClient(server)
    home = mkdtempSync(join(tmpdir(), 'kmsctl-e2e-faults-'))
    env = {...server.env, KMSCTL_HOME: home}
    for (let i = 0; i < 8; i++) {
      // eslint-disable-next-line no-await-in-loop
      tagged.push((await kms.send(new CreateKeyCommand({Description: `faults ${i}`, Tags: [{TagKey: 'team', TagValue: 'e2e-faults'}]}))).KeyMetadata!.KeyId!)
    }

    aliased = tagged[0]
    await kms.send(new CreateAliasCommand({AliasName: 'alias/e2e-faults', TargetKeyId: aliased}))
    const added = await kmsctl(['sandbox', 'principal', 'add', RESPONDER_KEY_ID, RESPONDER_ARN, '--iam-allow', RESPONDER_IAM, '--sandbox-dir', server.dir])
    expect(added.code, added.stderr).to.equal(0)
  })

  after(async () => {
    kms?.destroy()
    await server?.stop()
  })

  describe('bad local input: exit 2, one line and the fix, nothing sent', () => {
    let counter: Awaited<ReturnType<typeof countingEndpoint>>
    let scratch: string
    let plainFile: string

    before(async () => {
      counter = await countingEndpoint()
      scratch = mkdtempSync(join(tmpdir(), 'kmsctl-e2e-faults-input-'))
      plainFile = join(scratch, 'plain.txt')
      writeFileSync(plainFile, 'not a directory\n')
      mkdirSync(join(scratch, 'a-directory'))
    })

    after(async () => {
      await counter?.close()
    })

    const cases: Array<[string, () => string[], RegExp]> = [
      ['--region ""', () => ['key', 'list', '--region', ''], /^Error: --region is empty\.\nTry this: --region us-east-1/],
      ['--endpoint-url "not a url"', () => ['key', 'list', '--endpoint-url', 'not a url'], /^Error: --endpoint-url "not a url" is not an http:\/\/ or https:\/\/ URL\.\nTry this: /],
      ['--endpoint-url ftp://', () => ['key', 'list', '--endpoint-url', 'ftp://127.0.0.1:21'], /^Error: --endpoint-url "ftp:\/\/127\.0\.0\.1:21" is not an http:\/\/ or https:\/\/ URL\.\nTry this: /],
      ['--sandbox-dir pointing at a file', () => ['key', 'list', '--sandbox', '--sandbox-dir', plainFile], /^Error: The sandbox directory \(--sandbox-dir\) .*plain\.txt cannot be used: it is a file, not a directory\.\nTry this: /],
      ['sandbox serve --sandbox-dir pointing at a file', () => ['sandbox', 'serve', '--port', '0', '--sandbox-dir', plainFile], /^Error: The sandbox directory \(--sandbox-dir\) .*plain\.txt cannot be used: it is a file, not a directory\.\nTry this: /],
      ['sandbox status --sandbox-dir pointing at a file', () => ['sandbox', 'status', '--sandbox-dir', plainFile], /^Error: The sandbox directory \(--sandbox-dir\) .*plain\.txt cannot be used: it is a file, not a directory\.\nTry this: /],
      ['--sandbox-dir below a file', () => ['key', 'list', '--sandbox', '--sandbox-dir', join(plainFile, 'sub')], /^Error: The sandbox directory \(--sandbox-dir\) .*plain\.txt\/sub cannot be used: a part of the path is not a directory\.\nTry this: /],
      ['policy put --file missing', () => ['policy', 'put', 'alias/e2e-faults', '--file', join(scratch, 'missing.json'), '--yes'], /^Error: --file .*missing\.json: no such file\.\nTry this: /],
      ['policy put --file a directory', () => ['policy', 'put', 'alias/e2e-faults', '--file', join(scratch, 'a-directory'), '--yes'], /^Error: --file .*a-directory: it is a directory\.\nTry this: /],
      ['policy put --file /dev/zero', () => ['policy', 'put', 'alias/e2e-faults', '--file', '/dev/zero', '--yes'], /^Error: --file \/dev\/zero: it is not a regular file\.\nTry this: /],
      ['policy diff --file /dev/zero', () => ['policy', 'diff', 'alias/e2e-faults', '--file', '/dev/zero'], /^Error: --file \/dev\/zero: it is not a regular file\.\nTry this: /],
      ['trail query --source files /dev/zero', () => ['trail', 'query', '--source', 'files', '/dev/zero'], /^Error: \/dev\/zero is not a regular file or a directory\.\nTry this: /],
      ['key disable --file /dev/zero', () => ['key', 'disable', '--file', '/dev/zero', '--yes'], /^Error: --file \/dev\/zero: it is not a regular file\.\nTry this: /],
    ]

    for (const [name, args, message] of cases) {
      it(name, async () => {
        // Every AWS endpoint points at the counter: whatever would be sent reaches it.
        const to = {AWS_ENDPOINT_URL: counter.url}
        const human = await kmsctl(args(), to)
        expect(human.code, human.stderr).to.equal(2)
        expect(human.stderr).to.match(message)
        expect(human.stderr.trim().split('\n'), human.stderr).to.have.length(2)
        expect(human.stdout).to.equal('')
        expectNoStack(human)
        const doc = await kmsctl([...args(), '--json'], to)
        expect(doc.code).to.equal(2)
        expect(json(doc).error).to.include({code: 'USAGE', exitCode: 2})
        expect(json(doc).error.remedy).to.match(/^Try this: /)
        expectNoStack(doc)
        expect(counter.count(), 'requests sent').to.equal(0)
      })
    }

    it('an unreadable policy file', async function () {
      // The superuser reads any file whatever its mode: the refusal can only be seen as another user.
      if (process.getuid?.() === 0) this.skip()
      const file = join(scratch, 'unreadable.json')
      writeFileSync(file, '{}')
      chmodSync(file, 0o000)
      const r = await kmsctl(['policy', 'put', 'alias/e2e-faults', '--file', file, '--yes'], {AWS_ENDPOINT_URL: counter.url})
      expect(r.code).to.equal(2)
      expect(r.stderr).to.match(/^Error: --file .*unreadable\.json: permission denied\.\nTry this: /)
      expectNoStack(r)
      expect(counter.count()).to.equal(0)
    })
  })

  it('policy simulate --action kms:Decrpyt warns of an unknown action, with the likely one', async () => {
    const args = ['policy', 'simulate', 'alias/e2e-faults', '--action', 'kms:Decrpyt', '--principal', 'arn:aws:iam::111122223333:role/App']
    const human = await kmsctl(args)
    expect(human.code).to.equal(0)
    expect(human.stderr).to.contain('Warning: kms:Decrpyt is not a KMS action, so no statement can allow it; did you mean kms:Decrypt?')
    expectNoStack(human)
    const doc = await kmsctl([...args, '--json'])
    expect(json(doc).results.map((r: {action: string}) => r.action)).to.deep.equal(['kms:Decrpyt'])
    expect(doc.stderr).to.contain('kms:Decrpyt is not a KMS action')
  })

  it('key verify of a KEY_AGREEMENT key derives a shared secret with the sandbox', async () => {
    const id = (await kms.send(new CreateKeyCommand({KeySpec: 'ECC_NIST_P256', KeyUsage: 'KEY_AGREEMENT'}))).KeyMetadata!.KeyId!
    const r = await kmsctl(['key', 'verify', id, '--json'])
    expect(r.code, r.stderr).to.equal(0)
    const report = json(r)
    expect(report).to.include({keyUsage: 'KEY_AGREEMENT', method: 'key-agreement', ok: true})
    expect(report.steps.map((s: {status: string; step: string}) => [s.step, s.status])).to.deep.equal([
      ['GetPublicKey', 'ok'],
      ['DeriveSharedSecret', 'ok'],
      ['Compare', 'ok'],
    ])
    expectNoStack(r)
  })

  it('trail query --source files: a log file without Records is skipped by name, and listed under --json (exit 3)', async () => {
    const root = mkdtempSync(join(tmpdir(), 'kmsctl-e2e-faults-trail-'))
    writeFileSync(join(root, 'good.json'), JSON.stringify({Records: [f.record({eventTime: '2026-11-02T10:00:00Z'})]}))
    writeFileSync(join(root, 'lookup-export.json'), JSON.stringify({Events: [{EventName: 'Decrypt'}]}))
    const human = await kmsctl(['trail', 'query', '--source', 'files', root])
    expect(human.code).to.equal(3)
    expect(human.stderr).to.contain(`Skipped ${join(root, 'lookup-export.json')}: no Records array: not a CloudTrail log file`)
    expect(human.stderr).to.contain('1 matching event, 2 log files read, 1 skipped as unreadable.')
    expectNoStack(human)
    const doc = await kmsctl(['trail', 'query', '--source', 'files', root, '--json'])
    expect(doc.code).to.equal(3)
    const error = json(doc).error
    expect(error).to.include({code: 'PARTIAL_FAILURE', exitCode: 3})
    expect(error.details.skipped).to.deep.equal([{file: join(root, 'lookup-export.json'), reason: 'no Records array: not a CloudTrail log file'}])
    expect(error.details.events.map((e: {eventId: string}) => e.eventId)).to.have.length(1)
  })

  describe('a responder whose ListAliases is refused', () => {
    const asResponder = {AWS_ACCESS_KEY_ID: RESPONDER_KEY_ID, AWS_SECRET_ACCESS_KEY: 'responder-secret-not-checked-000000000000'}

    for (const [name, args] of [
      ['key disable --tag --dry-run', ['key', 'disable', '--tag', 'team=e2e-faults', '--dry-run', '--yes']],
      ['key disable --tag', ['key', 'disable', '--tag', 'team=e2e-faults', '--yes']],
      ['key enable --tag --dry-run', ['key', 'enable', '--tag', 'team=e2e-faults', '--dry-run', '--yes']],
      ['key enable --tag', ['key', 'enable', '--tag', 'team=e2e-faults', '--yes']],
      ['incident contain --dry-run', ['incident', 'contain', 'alias/e2e-faults', '--dry-run', '--yes']],
      ['incident contain', ['incident', 'contain', 'alias/e2e-faults', '--yes']],
    ] as const) {
      it(`${name}: goes on without aliases and says why`, async () => {
        const human = await kmsctl([...args], asResponder)
        expect(human.code, human.stderr).to.equal(0)
        expect(human.stderr).to.match(/Warning: Aliases could not be read \(.*kms:ListAliases.*\); keys are shown by ID\./)
        // Said once, however many steps met the refusal.
        expect(human.stderr.match(/Aliases could not be read/g), human.stderr).to.have.length(1)
        expectNoStack(human)
        if (name.startsWith('key disable') && !name.includes('dry-run')) for (const id of tagged) expect(await stateOf(id)).to.equal('Disabled')
        if (name.startsWith('key enable') && !name.includes('dry-run')) for (const id of tagged) expect(await stateOf(id)).to.equal('Enabled')
        if (name === 'incident contain') expect(await stateOf(aliased)).to.equal('Disabled')
      })
    }

    it('key enable of one key by ID: the warning once', async () => {
      const key = tagged[1]
      for (const verb of ['disable', 'enable']) {
        // eslint-disable-next-line no-await-in-loop
        const r = await kmsctl(['key', verb, key, '--confirm', key], asResponder)
        expect(r.code, r.stderr).to.equal(0)
        expect(r.stderr.match(/Aliases could not be read/g), r.stderr).to.have.length(1)
      }

      expect(await stateOf(key)).to.equal('Enabled')
    })

    it('key enable on a terminal, confirmed at the prompt: the warning once', async () => {
      const off = await kmsctl(['key', 'disable', '--tag', 'team=e2e-faults', '--yes', '--json'], asResponder)
      expect(off.code, off.stderr).to.equal(0)
      const term = runInPty(['key', 'enable', '--tag', 'team=e2e-faults'], {...env, ...asResponder})
      await term.waitFor(`type enable ${tagged.length} keys`)
      term.write(`enable ${tagged.length} keys\r`)
      expect(await term.exit, term.output()).to.equal(0)
      expect(term.output().match(/Aliases could not be read/g), term.output()).to.have.length(1)
    })

    it('under --json too: one document carrying aliasesUnavailable', async () => {
      const r = await kmsctl(['key', 'enable', '--tag', 'team=e2e-faults', '--yes', '--json'], asResponder)
      expect(r.code, r.stderr).to.equal(0)
      const report = json(r)
      expect(report.aliasesUnavailable).to.match(/kms:ListAliases/)
      expect(report.keys).to.have.length(tagged.length)
      expectNoStack(r)
      for (const id of tagged) expect(await stateOf(id)).to.equal('Enabled')
    })
  })

  describe('injected server errors', () => {
    it('--fail-rate 0.2: key list and grant list answer whole (exit 0), partial with what was read (exit 3), or an error naming ListKeys when no page of keys was read (exit 1), never a crash', async () => {
      const faulty = await startSandboxServer({args: ['--fail-rate', '0.2'], dir: server.dir})
      const faultyEnv = {...faulty.env, KMSCTL_HOME: home}
      const codes: Record<string, number[]> = {}
      try {
        for (let run = 0; run < 4; run++) {
          for (const args of [['key', 'list', '--json'], ['grant', 'list', '--all-keys', '--json'], ['grant', 'list', aliased, '--json']]) {
            // eslint-disable-next-line no-await-in-loop
            const r = await runCli(args, {env: faultyEnv})
            const name = args.slice(0, 3).join(' ')
            ;(codes[name] ??= []).push(r.code ?? -1)
            expectNoStack(r)
            const doc = json(r)
            // With no page of keys read (ListKeys failed all its attempts, 0.2^3 a call), there is nothing
            // to be partial about: the command fails naming ListKeys (exit 1).
            if (args[2] !== aliased && r.code === 1) {
              expect(doc.error.message, `${name}: exit 1\n${r.stdout}`).to.match(/ListKeys/)
              continue
            }

            if (args[0] === 'key') {
              expect([0, 3], `${name}: exit ${r.code}\n${r.stdout}`).to.include(r.code)
              if (r.code === 0) expect(doc.map((k: {keyId: string}) => k.keyId)).to.include.members(tagged)
              else expect(doc.error.details.keys.length, name).to.be.at.least(1)
            } else if (args[2] === '--all-keys') {
              expect([0, 3], `${name}: exit ${r.code}\n${r.stdout}`).to.include(r.code)
              if (r.code === 0) expect(doc.failures).to.deep.equal([])
              else expect(doc.failures.length).to.be.at.least(1)
              expect(doc.keysScanned).to.be.at.least(tagged.length)
            } else {
              // One key: its grants are listed, or the one failure is an error naming it (exit 1).
              expect([0, 1], `${name}: exit ${r.code}\n${r.stdout}`).to.include(r.code)
              if (r.code === 1) expect(doc.error.message).to.match(/ListGrants|DescribeKey/)
            }
          }
        }
      } finally {
        await faulty.stop()
      }

      if (process.env.KMSCTL_TEST_VERBOSE) console.log(codes)
    })

    it('--fail-rate 0.6: a key that cannot be read is its own failed row, the others proceed, and re-runs converge', async () => {
      const faulty = await startSandboxServer({args: ['--fail-rate', '0.6'], dir: server.dir})
      const faultyEnv = {...faulty.env, KMSCTL_HOME: home}
      const outcomes: string[] = []
      let converged = false
      try {
        for (let run = 0; run < 15 && !converged; run++) {
          // eslint-disable-next-line no-await-in-loop
          const r = await runCli(['key', 'disable', '--tag', 'team=e2e-faults', '--yes', '--json', '--max-attempts', '6'], {env: faultyEnv})
          expectNoStack(r)
          const doc = json(r)
          if (doc.error) {
            // The listing of the account's keys itself failed: nothing was changed, and it says which call.
            expect(doc.error.message, r.stdout).to.match(/ListKeys|GetCallerIdentity/)
            outcomes.push(`error ${r.code}`)
            continue
          }

          const failed = doc.keys.filter((k: {outcome: string}) => k.outcome === 'failed')
          for (const k of failed) expect(k.error?.message ?? k.reason, JSON.stringify(k)).to.match(/\S/)
          expect(r.code).to.equal(failed.length === 0 ? 0 : failed.length === doc.keys.length ? 1 : 3)
          outcomes.push(`exit ${r.code}: ${doc.keys.length - failed.length} ok, ${failed.length} failed`)
          const mine = doc.keys.filter((k: {key: string}) => tagged.includes(k.key))
          // Keys of other teams whose tags could not be read are failed rows too; the tagged ones must all be done.
          converged = mine.length === tagged.length && mine.every((k: {outcome: string}) => k.outcome === 'changed' || k.outcome === 'unchanged')
        }
      } finally {
        await faulty.stop()
      }

      if (process.env.KMSCTL_TEST_VERBOSE) console.log(outcomes)
      expect(converged, outcomes.join('\n')).to.equal(true)
      for (const id of tagged) expect(await stateOf(id)).to.equal('Disabled')
    })
  })
})
