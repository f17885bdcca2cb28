// Hygiene checks: what people need to know about a key (alias, description, owner tag), and
// aliases that lead callers to a key they cannot use.
import type {RawFinding} from '../types.js'
import {type CheckFn, missing} from './check.js'

const noAlias: CheckFn = (k) => (k.aliases.length > 0 ? [] : [{check: 'no-alias', message: 'The key has no alias.'}])

const noDescription: CheckFn = (k) => ((k.metadata.Description ?? '').trim() ? [] : [{check: 'no-description', message: 'The key has no description.'}])

const missingTag: CheckFn = (k, o) => {
  if (o.requireTags.length === 0) return []
  const why = missing(k, 'ListResourceTags', k.tags)
  if (why) return why
  return o.requireTags
    .filter((t) => !(k.tags![t] ?? '').trim())
    .map((t): RawFinding => ({check: 'missing-tag', evidence: {tag: t}, message: `The key has no "${t}" tag.`, subject: t}))
}

const UNUSABLE = new Set(['Disabled', 'PendingDeletion', 'PendingReplicaDeletion'])

const aliasToUnusable: CheckFn = (k) => {
  const state = k.metadata.KeyState ?? ''
  if (!UNUSABLE.has(state)) return []
  return k.aliases.map((a) => ({
    alias: a,
    check: 'alias-to-unusable-key',
    evidence: {alias: a, state},
    message: `${a} points at this key, which is ${state}: calls through the alias fail.`,
    subject: a,
  }))
}

export const hygieneChecks: Record<string, CheckFn> = {
  'alias-to-unusable-key': aliasToUnusable,
  'missing-tag': missingTag,
  'no-alias': noAlias,
  'no-description': noDescription,
}
