import {expect} from 'chai'

import {summariseHeader} from '../../../src/lib/data/message.js'
import {formatBytes, renderHeader, shortBytes} from '../../../src/lib/data/render.js'

describe('data render', () => {
  it('formats sizes', () => {
    expect(formatBytes(0)).to.equal('0 B')
    expect(formatBytes(1023)).to.equal('1023 B')
    expect(formatBytes(1_048_576)).to.equal('1.0 MiB (1048576 bytes)')
    expect(formatBytes(1024 ** 3 * 1.5)).to.equal('1.5 GiB (1610612736 bytes)')
    expect(shortBytes(300 * 1024)).to.equal('300 KiB')
  })

  it('renders a header with its sizes, escaping control characters', () => {
    const header = summariseHeader({
      contentType: 2,
      encryptedDataKeys: [
        {encryptedDataKey: new Uint8Array(184), providerId: 'aws-kms', providerInfo: 'arn:aws:kms:us-east-1:111122223333:key/a'},
        {encryptedDataKey: new Uint8Array(184), providerId: 'aws-kms', providerInfo: 'arn:aws:kms:eu-west-1:111122223333:key/b\u001b[2J'},
      ],
      encryptionContext: {app: 'billing', env: 'prod'},
      frameLength: 1_048_576,
      messageId: new Uint8Array([0xab, 0xcd]),
      suiteId: 0x0478,
      version: 2,
    })
    const text = renderHeader(header, {body: 3_145_824, frames: 4, header: 339, plaintext: 3_000_000, total: 3_146_163, trailer: 0}).replaceAll(/\u001B\[[0-9;]*m/g, '')
    expect(text.split('\n')).to.deep.equal([
      'Message ID  abcd',
      'Algorithm   ALG_AES256_GCM_IV12_TAG16_HKDF_SHA512_COMMIT_KEY (0x0478)',
      'Commitment  yes (key commitment)',
      'Signed      no',
      'Data keys   arn:aws:kms:us-east-1:111122223333:key/a',
      '            arn:aws:kms:eu-west-1:111122223333:key/b\\x1b[2J',
      'Context     app=billing, env=prod',
      'Content     framed, frame length 1.0 MiB (1048576 bytes)',
      'Frames      4',
      'Plaintext   2.9 MiB (3000000 bytes)',
      'Message     3.0 MiB (3146163 bytes)',
      'Header      339 B',
      'Body        3.0 MiB (3145824 bytes)',
      'Trailer     0 B',
    ])
  })
})
