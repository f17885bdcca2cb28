// Baselines: findings a team has accepted, each with a reason and an expiry date. An accepted
// finding is suppressed until its entry expires; from then on it counts again and is reported as
// expired, so that accepted risks are looked at again.
//
//   {
//     "version": 1,
//     "accepted": [
//       {"check": "rotation-off", "key": "alias/legacy-reports", "reason": "Imported into a vendor HSM; rotated by hand", "expires": "2027-03-31"},
//       {"check": "multi-region", "key": "*", "reason": "Multi-Region by design", "expires": "2027-12-31"},
//       {"check": "policy-cross-account", "fingerprint": "3f1c...", "reason": "Auditor account", "expires": "2027-01-15"}
//     ]
//   }
//
// "key" is a key ID, key ARN, alias name or "*" (every key); "fingerprint" (from --json, SARIF or
// CSV output) picks out one finding exactly.
import {readFile} from 'node:fs/promises'

import {usageError} from '../errors.js'
import {DAY_MS} from '../time.js'
import {validateCheckIds} from './registry.js'
import type {AuditFinding} from './types.js'

export interface BaselineEntry {
  check: string
  key?: string
  fingerprint?: string
  reason: string
  /** YYYY-MM-DD: accepted through the end of that day (UTC). */
  expires: string
}

export interface Baseline {
  file: string
  entries: BaselineEntry[]
}

export interface BaselineEntryUse extends BaselineEntry {
  status: 'accepted' | 'expired' | 'unused'
  /** Findings it matched. */
  matched: number
}

export interface BaselineOutcome {
  active: AuditFinding[]
  suppressed: AuditFinding[]
  entries: BaselineEntryUse[]
}

/** Reads and checks a baseline file; anything wrong is a usage error naming the entry. */
export async function readBaseline(file: string): Promise<Baseline> {
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch (error) {
    throw usageError(`Cannot read --baseline ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}.`, 'Try this: a JSON file of accepted findings (see docs/audit.md)')
  }

  return parseBaseline(text, file)
}

export function parseBaseline(text: string, file = 'the baseline'): Baseline {
  let doc: unknown
  try {
    doc = JSON.parse(text)
  } catch (error) {
    throw usageError(`${file} is not JSON: ${(error as Error).message}.`, 'Try this: {"version": 1, "accepted": [{"check": "...", "key": "...", "reason": "...", "expires": "YYYY-MM-DD"}]}')
  }

  const accepted = (doc as {accepted?: unknown})?.accepted
  if (!Array.isArray(accepted)) throw usageError(`${file} has no "accepted" list.`, 'Try this: {"version": 1, "accepted": [...]}')
  const entries = accepted.map((raw, i): BaselineEntry => {
    const where = `${file}, accepted[${i}]`
    const e = raw as Record<string, unknown>
    if (!e || typeof e !== 'object') throw usageError(`${where} is not an object.`)
    const str = (name: string) => (typeof e[name] === 'string' ? (e[name] as string).trim() : undefined)
    const check = str('check')
    if (!check) throw usageError(`${where} has no "check".`, 'Try this: a check ID from kmsctl audit checks')
    try {
      validateCheckIds([check], `${where}: check`)
    } catch (error) {
      throw usageError((error as Error).message, (error as {remedy?: string}).remedy)
    }

    const key = str('key')
    const fingerprint = str('fingerprint')
    if (!key && !fingerprint) throw usageError(`${where} names neither "key" nor "fingerprint".`, 'Try this: "key": "alias/NAME" (or "*" for every key)')
    const reason = str('reason')
    if (!reason) throw usageError(`${where} has no "reason": say why the finding is accepted.`)
    const expires = str('expires')
    if (!expires || !/^\d{4}-\d{2}-\d{2}$/.test(expires) || Number.isNaN(Date.parse(`${expires}T00:00:00Z`))) {
      throw usageError(`${where} has no valid "expires" date (YYYY-MM-DD).`, 'Try this: "expires": "2027-06-30" (every acceptance is looked at again)')
    }

    return {check, expires, fingerprint, key, reason}
  })
  return {entries, file}
}

/** True once the entry's expiry day (UTC) is over. */
export function isExpired(entry: Pick<BaselineEntry, 'expires'>, now: Date): boolean {
  return now.getTime() >= Date.parse(`${entry.expires}T00:00:00Z`) + DAY_MS
}

function matches(entry: BaselineEntry, f: AuditFinding, aliases: readonly string[]): boolean {
  if (entry.check !== f.check) return false
  if (entry.fingerprint) return entry.fingerprint === f.fingerprint
  const k = entry.key!
  return k === '*' || k === f.keyId || k === f.keyArn || aliases.includes(k)
}

/** Splits findings into active and suppressed; expired entries leave their findings active, marked. */
export function applyBaseline(findings: readonly AuditFinding[], baseline: Baseline, aliasesOf: (keyId: string) => readonly string[], now: Date): BaselineOutcome {
  const uses: BaselineEntryUse[] = baseline.entries.map((e) => ({...e, matched: 0, status: isExpired(e, now) ? 'expired' : 'accepted'}))
  const active: AuditFinding[] = []
  const suppressed: AuditFinding[] = []
  for (const f of findings) {
    const aliases = aliasesOf(f.keyId)
    const hits = uses.filter((u) => matches(u, f, aliases))
    for (const h of hits) h.matched++
    const live = hits.find((h) => h.status === 'accepted')
    if (live) {
      suppressed.push({...f, baseline: {expires: live.expires, reason: live.reason, status: 'accepted'}})
      continue
    }

    const expired = hits.find((h) => h.status === 'expired')
    active.push(expired ? {...f, baseline: {expires: expired.expires, reason: expired.reason, status: 'expired'}} : f)
  }

  for (const u of uses) if (u.matched === 0 && u.status === 'accepted') u.status = 'unused'
  return {active, entries: uses, suppressed}
}
