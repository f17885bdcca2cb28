import {expect} from 'chai'
import {execFileSync} from 'node:child_process'
import {mkdtempSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {KmsctlError} from '../../src/lib/errors.js'
import {readLocalText} from '../../src/lib/local-file.js'
import {readPolicyFile} from '../../src/lib/policy/source.js'

describe('local input files', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kmsctl-local-'))
  const options = {flag: '--file', what: 'a text file'}
  const refusal = (p: Promise<unknown>) => p.then(() => expect.fail('read'), (error: KmsctlError) => error)

  it('reads a regular file', async () => {
    writeFileSync(join(dir, 'ok.txt'), 'hello\n')
    expect(await readLocalText(join(dir, 'ok.txt'), options)).to.equal('hello\n')
  })

  it('refuses a missing file, a directory, a device and an oversized file: exit 2, a fix line, no errno code', async () => {
    writeFileSync(join(dir, 'big.txt'), 'x'.repeat(100))
    for (const [path, why, max] of [
      [join(dir, 'nope.txt'), 'no such file', undefined],
      [dir, 'it is a directory', undefined],
      ['/dev/zero', 'it is not a regular file', undefined],
      [join(dir, 'big.txt'), 'it is too large (100 bytes; at most 10)', 10],
    ] as const) {
      // eslint-disable-next-line no-await-in-loop
      const err = await refusal(readLocalText(path, {...options, maxBytes: max}))
      expect(err).to.be.instanceOf(KmsctlError)
      expect(err.message).to.equal(`--file ${path}: ${why}.`)
      expect(err.exitCode).to.equal(2)
      expect(err.remedy).to.equal('Try this: a text file')
    }
  })

  it('reads a named pipe up to the limit', async () => {
    const fifo = join(dir, 'pipe')
    execFileSync('mkfifo', [fifo])
    const writer = import('node:fs/promises').then(({writeFile}) => writeFile(fifo, 'from a pipe\n'))
    expect(await readLocalText(fifo, options)).to.equal('from a pipe\n')
    await writer
  })

  it('refuses a policy file that cannot be a policy before anything is sent', async () => {
    const err = await refusal(readPolicyFile('/dev/zero'))
    expect(err.message).to.equal('--file /dev/zero: it is not a regular file.')
    expect(err.exitCode).to.equal(2)
    expect(err.remedy).to.match(/^Try this: the path of a readable JSON policy document/)
  })
})
