// How journal entries are selected and shown by `journal list` and `journal show`.
import type {JournalKey, JournalRecord} from '../lib/journal.js'

import {parseKeyRef} from '../lib/key-ref.js'

/**
 * The key an entry is about: recorded with the entry, or, for entries that create the key
 * (key.create), the key its outcome reports.
 */
export function entryKey(r: JournalRecord): JournalKey | undefined {
  if (r.key) return r.key
  const after = r.outcome?.after as {alias?: string; arn?: string; keyId?: string} | undefined
  if (after && typeof after === 'object' && typeof after.keyId === 'string') {
    return {aliases: after.alias ? [after.alias] : [], arn: after.arn, keyId: after.keyId}
  }

  return undefined
}

/** The entries about a key: by key ID or ARN, or by an alias recorded with the entry. */
export function matchesKey(r: JournalRecord, ref: string): boolean {
  const parsed = parseKeyRef(ref)
  const k = entryKey(r)
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
