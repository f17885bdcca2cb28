// How journal entries are selected and shown by `journal list` and `journal show`.
import type {JournalRecord} from '../lib/journal.js'

import {parseKeyRef} from '../lib/key-ref.js'

/** The entries about a key: by key ID or ARN, or by an alias recorded with the entry. */
export function matchesKey(r: JournalRecord, ref: string): boolean {
  const parsed = parseKeyRef(ref)
  const k = r.key
  if (!k) return false
  switch (parsed.kind) {
    case 'key-id': {
      return k.keyId === ref || (k.arn ?? '').endsWith(`/${ref}`)
    }

    case 'key-arn': {
      return k.arn === ref || ref.endsWith(`/${k.keyId}`)
    }

    case 'alias-arn': {
      const name = `alias/${ref.split(':alias/')[1]}`
      return k.ref === ref || k.ref === name || (k.aliases ?? []).includes(name)
    }

    default: {
      return k.ref === ref || (k.aliases ?? []).includes(ref)
    }
  }
}

export function statusText(r: JournalRecord): string {
  return r.outcome?.status ?? 'unfinished'
}
