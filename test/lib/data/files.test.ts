import {expect} from 'chai'
import {mkdtempSync, readFileSync, readdirSync, statSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {checkOutputPath, openInput, openOutput} from '../../../src/lib/data/files.js'
import {KmsctlError} from '../../../src/lib/errors.js'

describe('data files: input, and output through a temporary file', () => {
  let dir: string
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'kmsctl-files-'))
  })

  it('writes to a 0600 temporary file beside the target, renamed on commit', async () => {
    const target = join(dir, 'out.txt')
    const out = await openOutput(target)
    await out.write([Buffer.from('hello ')])
    const during = readdirSync(dir)
    expect(during).to.have.length(1)
    expect(during[0]).to.match(/^\.out\.txt\.[0-9a-f]{12}\.part$/)
    expect(statSync(join(dir, during[0])).mode & 0o777).to.equal(0o600)
    await out.write([Buffer.from('wor'), Buffer.alloc(0), Buffer.from('ld')])
    await out.commit()
    expect(readdirSync(dir)).to.deep.equal(['out.txt'])
    expect(readFileSync(target, 'utf8')).to.equal('hello world')
    expect(out.bytes).to.equal(11)
  })

  it('abort removes the temporary file and leaves no target', async () => {
    const out = await openOutput(join(dir, 'out.txt'), {fsync: true})
    await out.write([Buffer.from('partial')])
    await out.abort()
    await out.abort()
    expect(readdirSync(dir)).to.deep.equal([])
  })

  it('checks the output path before anything is sent', async () => {
    writeFileSync(join(dir, 'exists'), 'x')
    const refused = await checkOutputPath(join(dir, 'exists'), {}).catch((error: unknown) => error)
    expect(refused).to.be.instanceOf(KmsctlError)
    expect((refused as KmsctlError).exitCode).to.equal(2)
    expect((refused as KmsctlError).message).to.equal(`${join(dir, 'exists')} already exists.`)
    await checkOutputPath(join(dir, 'exists'), {force: true})
    const same = await checkOutputPath(join(dir, 'exists'), {force: true, input: join(dir, 'exists')}).catch((error: unknown) => error)
    expect((same as KmsctlError).message).to.contain('is the input file')
    await checkOutputPath(undefined, {})
    await checkOutputPath('-', {})
  })

  it('a file input reads into the caller\'s buffer, to the end', async () => {
    writeFileSync(join(dir, 'in'), 'abcdefghij')
    const source = await (await openInput(join(dir, 'in'))).open()
    const buffer = Buffer.alloc(4)
    const got: string[] = []
    for (let n = await source.read(buffer, 0, 4); n > 0; n = await source.read(buffer, 0, 4)) got.push(buffer.toString('utf8', 0, n))
    await source.close()
    expect(got).to.deep.equal(['abcd', 'efgh', 'ij'])
  })

  it('a missing input is a usage error; a file reports its size', async () => {
    const missing = await openInput(join(dir, 'nope')).catch((error: unknown) => error)
    expect((missing as KmsctlError).code).to.equal('USAGE')
    expect((missing as KmsctlError).message).to.equal(`Cannot read ${join(dir, 'nope')}: no such file.`)
    writeFileSync(join(dir, 'in'), 'abc')
    expect((await openInput(join(dir, 'in'))).size).to.equal(3)
    expect((await openInput('-')).size).to.equal(undefined)
  })
})
