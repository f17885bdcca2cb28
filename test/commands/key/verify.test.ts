import {DecryptCommand, DescribeKeyCommand, GenerateDataKeyCommand, GenerateMacCommand, SignCommand, VerifyMacCommand} from '@aws-sdk/client-kms'
import {expect} from 'chai'

import {A, awsError, commandContext, meta, sent} from '../alias/fixtures.js'

const bytes = (n: number, v: number) => new Uint8Array(n).fill(v)

describe('key verify', () => {
  const t = commandContext()
  beforeEach(() => {
    t.kms.on(DescribeKeyCommand).resolves({KeyMetadata: meta(A)})
    t.kms.on(GenerateDataKeyCommand).callsFake(() => ({CiphertextBlob: bytes(184, 1), KeyId: A, Plaintext: bytes(32, 2)}))
    t.kms.on(DecryptCommand).callsFake(() => ({KeyId: A, Plaintext: bytes(32, 2)}))
  })

  it('reports each step with its latency, and exits 0 when the key works', async () => {
    const r = await t.run(['key', 'verify', 'alias/app', '--context', 'app=billing', '--context', 'env=prod'])
    expect(r.code).to.equal(0)
    for (const step of ['GenerateDataKey', 'Decrypt', 'Compare']) expect(r.stdout).to.match(new RegExp(`${step}\\s+ok`))
    expect(r.stdout).to.match(/GenerateDataKey\s+ok\s+\d+\.\d ms/)
    expect(r.stderr).to.contain(`Verifying alias/app (${A}): SYMMETRIC_DEFAULT ENCRYPT_DECRYPT, state Enabled, context app=billing,env=prod`)
    expect(r.stderr).to.match(/Key works: 3 steps in \d+\.\d ms\./)
    expect(t.kms.commandCalls(GenerateDataKeyCommand)[0].args[0].input.EncryptionContext).to.deep.equal({app: 'billing', env: 'prod'})
  })

  it('--json is the report', async () => {
    const r = await t.run(['key', 'verify', A, '--json'])
    const doc = JSON.parse(r.stdout)
    expect(doc).to.deep.include({keyId: A, method: 'data-key', ok: true})
    expect(doc.steps.map((s: {step: string; status: string}) => `${s.step}:${s.status}`)).to.deep.equal(['GenerateDataKey:ok', 'Decrypt:ok', 'Compare:ok'])
    expect(doc.steps[0].ms).to.be.a('number')
  })

  it('a disabled key: says so and exits 1; the JSON report has ok false', async () => {
    t.kms.on(DescribeKeyCommand).resolves({KeyMetadata: meta(A, {Enabled: false, KeyState: 'Disabled'})})
    t.kms.on(GenerateDataKeyCommand).rejects(awsError('DisabledException', 'key is disabled'))
    let r = await t.run(['key', 'verify', 'alias/app'])
    expect(r.code).to.equal(1)
    expect(r.stdout).to.match(/GenerateDataKey\s+FAILED/)
    expect(r.stdout).to.match(/Decrypt\s+skipped/)
    expect(r.stderr).to.contain('Error: alias/app failed verification: GenerateDataKey failed: Key alias/app is disabled')
    expect(r.stderr).to.contain('Try this: the key is Disabled; kmsctl key enable alias/app, if that is intended.')
    expect(t.kms.commandCalls(DecryptCommand)).to.have.length(0)
    r = await t.run(['key', 'verify', 'alias/app', '--json'])
    expect(r.code).to.equal(1)
    expect(JSON.parse(r.stdout)).to.deep.include({ok: false, state: 'Disabled'})
  })

  it('HMAC keys use GenerateMac and VerifyMac', async () => {
    t.kms.on(DescribeKeyCommand).resolves({KeyMetadata: meta(A, {KeySpec: 'HMAC_256', KeyUsage: 'GENERATE_VERIFY_MAC', MacAlgorithms: ['HMAC_SHA_256']})})
    t.kms.on(GenerateMacCommand).resolves({Mac: bytes(32, 3)})
    t.kms.on(VerifyMacCommand).resolves({MacValid: true})
    const r = await t.run(['key', 'verify', A])
    expect(r.code).to.equal(0)
    expect(sent(t.kms)).to.deep.equal(['DescribeKey', 'GenerateMac', 'VerifyMac'])
  })

  it('refuses --context for an asymmetric key (exit 2) before any cryptographic call', async () => {
    t.kms.on(DescribeKeyCommand).resolves({KeyMetadata: meta(A, {KeySpec: 'RSA_2048', KeyUsage: 'SIGN_VERIFY'})})
    const r = await t.run(['key', 'verify', A, '--context', 'a=b'])
    expect(r.code).to.equal(2)
    expect(r.stderr).to.contain('--context applies to symmetric encryption keys only')
    expect(t.kms.commandCalls(SignCommand)).to.have.length(0)
  })

  it('refuses a malformed --context or key reference (exit 2) with nothing sent', async () => {
    let r = await t.run(['key', 'verify', A, '--context', 'novalue'])
    expect(r.code).to.equal(2)
    expect(r.stderr).to.contain('--context "novalue" is not of the form key=value.')
    r = await t.run(['key', 'verify', 'payments'])
    expect(r.code).to.equal(2)
    expect(r.stderr).to.contain('Try this: alias/payments')
    expect(sent(t.kms)).to.deep.equal([])
  })

  it('a missing key exits 1 with the key named', async () => {
    t.kms.on(DescribeKeyCommand).rejects(awsError('NotFoundException'))
    const r = await t.run(['key', 'verify', A])
    expect(r.code).to.equal(1)
    expect(r.stderr).to.contain(`Key ${A} does not exist in this region.`)
  })
})
