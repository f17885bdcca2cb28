import {expect} from 'chai'

import {unknownActionWarning} from '../../src/lib/action-names.js'

describe('action names', () => {
  it('says nothing for a KMS action, a wildcard that matches some, or another service', () => {
    for (const ok of ['kms:Decrypt', 'KMS:decrypt', 'kms:Generate*', 'kms:*', 's3:GetObject']) expect(unknownActionWarning(ok), ok).to.equal(undefined)
  })

  it('names a misspelt action with the closest real ones', () => {
    expect(unknownActionWarning('kms:Decrpyt')).to.equal('kms:Decrpyt is not a KMS action, so no statement can allow it; did you mean kms:Decrypt?')
    expect(unknownActionWarning('kms:Nothing*')).to.match(/^kms:Nothing\* is not a KMS action, so no statement can allow it/)
  })
})
