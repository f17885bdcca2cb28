// The AWS SDK is loaded only by src/lib/aws/sdk.ts (and the credential chain in clients.ts), so
// that --help, --version and commands without AWS calls never pay for it.
import {expect} from 'chai'
import {spawnSync} from 'node:child_process'
import {mkdtempSync, readFileSync, readdirSync, statSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join, relative} from 'node:path'

import {binRun, projectRoot} from '../helpers/cli.js'

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n)
    return statSync(p).isDirectory() ? walk(p) : [p]
  })
}

describe('lazy AWS SDK', () => {
  it('no source file imports SDK values statically outside src/lib/aws/sdk.ts', () => {
    const offenders = walk(join(projectRoot, 'src'))
      .filter((f) => f.endsWith('.ts'))
      .filter((f) => {
        const text = readFileSync(f, 'utf8')
        return /^import\s+(?!type\b)[^;]*from\s+'@aws-sdk\//m.test(text)
      })
      .map((f) => relative(projectRoot, f))
    expect(offenders).to.deep.equal([])
  })

  it('--version and --help load no SDK module', () => {
    for (const args of [['--version'], ['key', 'list', '--help']]) {
      const r = spawnSync(process.execPath, ['--require', join(projectRoot, 'test/helpers/trace-sdk.cjs'), binRun, ...args], {encoding: 'utf8', env: {...process.env, NODE_OPTIONS: ''}})
      expect(r.status, r.stderr).to.equal(0)
      expect(r.stderr).to.equal('')
    }

    // The probe does see the SDK when a command needs it.
    const dir = mkdtempSync(join(tmpdir(), 'kmsctl-lazy-'))
    const r = spawnSync(process.execPath, ['--require', join(projectRoot, 'test/helpers/trace-sdk.cjs'), binRun, 'key', 'list', '--sandbox', '--sandbox-dir', dir], {encoding: 'utf8', env: {...process.env, NODE_OPTIONS: ''}})
    expect(r.stderr).to.contain('AWS SDK loaded: ')
  })
})
