// The AWS Encryption SDK is loaded by the data commands only: other commands (and --help) never pay for it.
import {expect} from 'chai'
import {spawnSync} from 'node:child_process'
import {mkdtempSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {binRun, projectRoot} from '../../helpers/cli.js'

describe('lazy Encryption SDK', function () {
  this.timeout(60_000)
  const trace = join(projectRoot, 'test/lib/data/trace-esdk.cjs')
  const run = (args: string[]) => spawnSync(process.execPath, ['--require', trace, binRun, ...args], {encoding: 'utf8', env: {...process.env, NODE_OPTIONS: ''}})

  it('key list and data --help do not load it; data inspect does', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kmsctl-lazy-esdk-'))
    for (const args of [['key', 'list', '--sandbox', '--sandbox-dir', dir], ['data', 'encrypt', '--help']]) {
      const r = run(args)
      expect(r.status, r.stderr).to.equal(0)
      expect(r.stderr).to.not.contain('Encryption SDK loaded')
    }

    writeFileSync(join(dir, 'junk'), 'not a message')
    const r = run(['data', 'inspect', join(dir, 'junk')])
    expect(r.status).to.equal(1)
    expect(r.stderr).to.contain('Encryption SDK loaded: ')
  })
})
