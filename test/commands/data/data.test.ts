// The data commands' input checks: one clear line naming the fix, exit 2, and nothing sent to AWS.
import {DescribeKeyCommand, GenerateDataKeyCommand, SignCommand} from '@aws-sdk/client-kms'
import {expect} from 'chai'
import {mkdtempSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {A, commandContext, meta} from '../alias/fixtures.js'

describe('data commands: usage errors send nothing', function () {
  this.timeout(30_000)
  const t = commandContext()
  let dir: string
  let file: string
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'kmsctl-data-cmd-'))
    file = join(dir, 'in.txt')
    writeFileSync(file, 'data')
    writeFileSync(file + '.x', 'existing')
    t.kms.on(DescribeKeyCommand).resolves({KeyMetadata: meta(A)})
  })

  const cases: Array<[string, () => string[], string]> = [
    ['decrypt without a key', () => ['data', 'decrypt', file, '-o', join(dir, 'o')], 'Name the key the data key must be encrypted under: --expect-key KEY.'],
    ['discovery without an account', () => ['data', 'decrypt', file, '--discovery', '-o', join(dir, 'o')], '--discovery needs --account ID'],
    ['discovery with a key', () => ['data', 'decrypt', file, '--discovery', '--account', '111122223333', '--expect-key', A], '--discovery and --expect-key exclude each other.'],
    ['a bad account', () => ['data', 'decrypt', file, '--discovery', '--account', '12'], '--account 12 is not a 12-digit account ID.'],
    ['a reserved context key', () => ['data', 'encrypt', file, '--key', A, '--context', 'aws-crypto-x=1', '-o', join(dir, 'o')], 'are reserved by the AWS Encryption SDK'],
    ['a bad context pair', () => ['data', 'encrypt', file, '--key', A, '--context', 'novalue', '-o', join(dir, 'o')], 'is not of the form key=value'],
    ['a missing input', () => ['data', 'encrypt', join(dir, 'nope'), '--key', A, '-o', join(dir, 'o')], 'no such file'],
    ['the input as output', () => ['data', 'encrypt', file, '--key', A, '--force', '-o', file], 'is the input file'],
    ['an existing output', () => ['data', 'decrypt', file, '--expect-key', A, '-o', file + '.x'], 'already exists'],
    ['an output directory that does not exist', () => ['data', 'encrypt', file, '--key', A, '-o', join(dir, 'no', 'such', 'dir', 'o')], 'Cannot write in'],
    ['a frame length out of range', () => ['data', 'encrypt', file, '--key', A, '--frame-length', '0', '-o', join(dir, 'o')], '--frame-length 0 is out of range'],
    ['signing stdin without -o', () => ['data', 'sign', '-', '--key', A], 'Signing stdin: say where the signature document goes.'],
    ['verify without a signature document', () => ['data', 'verify', file], 'Cannot read the signature document'],
  ]

  it('--json without -o: the error is the JSON document', async () => {
    const r = await t.run(['data', 'encrypt', file, '--key', A, '--json'])
    expect(r.code).to.equal(2)
    expect(JSON.parse(r.stdout).error.message).to.equal('--json prints its document on stdout: the ciphertext needs -o FILE.')
    expect(t.kms.commandCalls(DescribeKeyCommand)).to.have.length(0)
  })

  for (const [label, args, message] of cases) {
    it(label, async () => {
      const r = await t.run(args())
      expect(r.code, r.stderr).to.equal(2)
      expect(r.stderr).to.contain(message)
      expect(t.kms.commandCalls(GenerateDataKeyCommand)).to.have.length(0)
      expect(t.kms.commandCalls(SignCommand)).to.have.length(0)
      expect(t.kms.commandCalls(DescribeKeyCommand)).to.have.length(0)
    })
  }

  it('sign refuses a symmetric key after DescribeKey, before Sign', async () => {
    const r = await t.run(['data', 'sign', file, '--key', A])
    expect(r.code).to.equal(2)
    expect(r.stderr).to.contain(`${A} is a symmetric encryption key: it cannot sign.`)
    expect(t.kms.commandCalls(SignCommand)).to.have.length(0)
  })

  it('encrypt refuses an asymmetric key before GenerateDataKey', async () => {
    t.kms.on(DescribeKeyCommand).resolves({KeyMetadata: meta(A, {KeySpec: 'ECC_NIST_P256', KeyUsage: 'SIGN_VERIFY'})})
    const r = await t.run(['data', 'encrypt', file, '--key', A, '-o', join(dir, 'o'), '--json'])
    expect(r.code).to.equal(2)
    expect(JSON.parse(r.stdout).error.message).to.contain('envelope encryption needs a symmetric encryption key')
    expect(t.kms.commandCalls(GenerateDataKeyCommand)).to.have.length(0)
  })
})
