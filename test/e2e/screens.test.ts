// End-to-end: the screens a person reads, through a pseudo-terminal at 80 and 120 columns, the
// built binary against `kmsctl sandbox serve`: lists are one line a row and never wider than the
// terminal; prompts take the text that names the change, and Ctrl-C at a prompt exits 130.
import {expect} from 'chai'
import {mkdtempSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {json, runCli} from '../helpers/cli.js'
import {runInPty} from '../helpers/pty.js'
import {type SandboxServer, startSandboxServer} from '../helpers/sandbox-server.js'

const KEYS = 6
const ROLE = 'arn:aws:iam::111122223333:role/Reporting-Service-Role-For-Nightly-Exports'

describe('e2e: screens at 80 and 120 columns', function () {
  this.timeout(180_000)
  let server: SandboxServer
  let env: NodeJS.ProcessEnv
  const kmsctl = (...args: string[]) => runCli(args, {env})

  before(async () => {
    server = await startSandboxServer()
    env = {...server.env, KMSCTL_HOME: mkdtempSync(join(tmpdir(), 'kmsctl-screens-'))}
    for (let i = 1; i <= KEYS; i++) {
      const alias = i % 3 === 0 ? [] : ['--alias', `alias/screens-production-service-${i}`]
      // eslint-disable-next-line no-await-in-loop
      const r = await kmsctl('key', 'create', ...alias, '--tag', 'team=screens', '--description', `Production data encryption key number ${i} for the nightly reporting batch`)
      expect(r.code, r.stderr).to.equal(0)
    }

    const added = await kmsctl('sandbox', 'principal', 'add', 'AKIASCREENSROLE00001', 'arn:aws:sts::111122223333:assumed-role/Reporting-Service-Role-For-Nightly-Exports/nightly', '--sandbox-dir', server.dir)
    expect(added.code, added.stderr).to.equal(0)
    for (let i = 0; i < 3; i++) {
      // eslint-disable-next-line no-await-in-loop
      const r = await kmsctl('grant', 'create', 'alias/screens-production-service-1', '--grantee', ROLE, '--operations', 'Decrypt,GenerateDataKey')
      expect(r.code, r.stderr).to.equal(0)
    }
  })

  after(async () => server?.stop())

  /** The lines a command shows on a terminal of this width, and its exit code. */
  async function screen(args: string[], cols: number): Promise<{code: number; lines: string[]}> {
    const session = runInPty(args, env, {cols, rows: 50})
    const code = await session.exit
    const lines = session.screenLines().filter((l) => l.trim() !== '')
    return {code, lines}
  }

  for (const cols of [80, 120]) {
    it(`key list at ${cols} columns: one line a key, none wider than the terminal, aliases whole`, async () => {
      const {code, lines} = await screen(['key', 'list'], cols)
      expect(code).to.equal(0)
      for (const l of lines) expect(l.length, l).to.be.at.most(cols)
      // Header, one line a key, and the count on stderr.
      expect(lines[0]).to.match(/^Alias\s+Key ID\s+State/)
      expect(lines.at(-1)).to.equal(`${KEYS} keys`)
      expect(lines.length - 2).to.equal(KEYS)
      for (let i = 1; i <= KEYS; i++) if (i % 3 !== 0) expect(lines.some((l) => l.startsWith(`alias/screens-production-service-${i} `))).to.equal(true)
    })

    it(`grant list at ${cols} columns: the role name is whole, the grant ID gives way`, async () => {
      const {code, lines} = await screen(['grant', 'list', 'alias/screens-production-service-1'], cols)
      expect(code).to.equal(0)
      for (const l of lines) expect(l.length, l).to.be.at.most(cols)
      expect(lines.length - 2).to.equal(3)
      for (const row of lines.slice(1, -1)) expect(row).to.contain('role/Reporting-Service-Role-For-Nightly-Exports')
    })

    it(`journal list at ${cols} columns: every entry shows its key, key.create included`, async () => {
      const {code, lines} = await screen(['journal', 'list', '--action', 'key.create'], cols)
      expect(code).to.equal(0)
      for (const l of lines) expect(l.length, l).to.be.at.most(cols)
      const rows = lines.slice(1, -1)
      expect(rows, lines.join('\n')).to.have.length(KEYS)
      for (const row of rows) expect(row, lines.join("\n")).to.match(/key\.create\s+(alias\/screens-production-serv|[0-9a-f]{8}-)/)
    })
  }

  it('a bulk disable asks for the text that names the change; Ctrl-C at the prompt exits 130 and changes nothing', async () => {
    const interrupted = runInPty(['key', 'disable', '--tag', 'team=screens'], env)
    await interrupted.waitFor(`type disable ${KEYS} keys:`)
    interrupted.write('\u0003')
    expect(await interrupted.exit).to.equal(130)
    const states = () => kmsctl('key', 'list', '--json').then((r) => (json(r) as Array<{state: string}>).map((k) => k.state))
    expect(await states()).to.deep.equal(Array.from({length: KEYS}, () => 'Enabled'))

    const session = runInPty(['key', 'disable', '--tag', 'team=screens'], env)
    await session.waitFor(`type disable ${KEYS} keys:`)
    session.write(`${KEYS}\r`)
    await session.waitFor(`"${KEYS}" does not match. Type disable ${KEYS} keys exactly (2 more tries)`)
    session.write(`disable ${KEYS} keys\r`)
    expect(await session.exit).to.equal(0)
    expect(session.output()).not.to.contain('✔')
    expect(await states()).to.deep.equal(Array.from({length: KEYS}, () => 'Disabled'))
  })

  it('a mistyped alias in a bulk plan is refused with the alias meant, before anything is sent', async () => {
    const r = await kmsctl('key', 'enable', 'alias/screens-production-service-1', 'alias/screens-prodution-service-2', '--yes')
    expect(r.code).to.equal(2)
    expect(r.stderr).to.contain('No key alias/screens-prodution-service-2 (did you mean alias/screens-production-service-2?): nothing was sent.')
    const listed = json(await kmsctl('key', 'list', '--json')) as Array<{aliases: string[]; state: string}>
    expect(listed.find((k) => k.aliases.includes('alias/screens-production-service-1'))?.state).to.equal('Disabled')
  })

  it('a mistyped region is refused before any request, naming the region meant', async () => {
    const r = await kmsctl('key', 'list', '--region', 'us-esat-1')
    expect(r.code).to.equal(2)
    expect(r.stderr).to.equal('Error: --region "us-esat-1" is not an AWS region. Did you mean us-east-1?\nTry this: --region us-east-1\n')
  })
})
