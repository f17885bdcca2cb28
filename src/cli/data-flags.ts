// Flags the data commands share (encrypt, decrypt, inspect, sign, verify).
import {Flags} from '@oclif/core'

import {DEFAULT_MAX_ENCRYPTED_DATA_KEYS} from '../lib/data/envelope.js'

export const outputFlags = {
  force: Flags.boolean({description: 'Replace the output file if it exists.'}),
  fsync: Flags.boolean({description: 'Flush the output file to disk before renaming it into place (survives a power loss; slower).'}),
  output: Flags.string({char: 'o', description: 'Write to this file (written to a temporary file beside it, then renamed); - or none: stdout.'}),
}

export const maxDataKeysFlag = {
  'max-encrypted-data-keys': Flags.integer({
    default: DEFAULT_MAX_ENCRYPTED_DATA_KEYS,
    description: 'Refuse messages with more encrypted data keys than this (a guard against hostile messages).',
    max: 65_535,
    min: 1,
  }),
}
