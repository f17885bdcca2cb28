// Wildcard patterns as IAM and CloudTrail users write them: `*` any run of characters (slashes
// included), `?` exactly one character, everything else literal (no brackets, braces, extglobs or
// negation). Used by policy conditions (StringLike, ArnLike), trail filters (--event, --principal,
// --user-agent) and alias filters. Built on picomatch, with its path rules turned off: slashes are
// swapped for a character picomatch does not treat specially, so that `*` and `?` cross them.
import picomatch from 'picomatch'

const SLASH = '\u001F'
const OPTIONS = {
  bash: true,
  dot: true,
  nobrace: true,
  nobracket: true,
  noextglob: true,
  nonegate: true,
  noquantifiers: true,
  windows: false,
} as const

const cache = new Map<string, (value: string) => boolean>()

/** The pattern for picomatch: every character but `*` and `?` escaped, slashes swapped. */
function literalExceptWildcards(pattern: string): string {
  let out = ''
  for (const ch of pattern) {
    if (ch === '*' || ch === '?' || /[\p{L}\p{N}]/u.test(ch)) out += ch
    else if (ch === '/') out += SLASH
    else out += `\\${ch}`
  }

  return out
}

/** True when a value has a wildcard (`*` or `?`). */
export function isGlob(value: string): boolean {
  return value.includes('*') || value.includes('?')
}

/** A matcher for one pattern (compiled once, cached); `ignoreCase` for case-insensitive matching. */
export function globMatcher(pattern: string, ignoreCase = false): (value: string) => boolean {
  const key = `${ignoreCase ? 'i' : 's'}${pattern}`
  let match = cache.get(key)
  if (!match) {
    if (pattern === '*') match = () => true
    else if (!isGlob(pattern)) {
      const lower = pattern.toLowerCase()
      match = ignoreCase ? (value) => value.length === pattern.length && value.toLowerCase() === lower : (value) => value === pattern
    } else {
      const compiled = picomatch(literalExceptWildcards(pattern), {...OPTIONS, flags: ignoreCase ? 'is' : 's', nocase: ignoreCase})
      const onlyStars = /^\*+$/.test(pattern)
      match = (value) => (value === '' ? onlyStars : compiled(value.replaceAll('/', SLASH)))
    }

    if (cache.size > 5000) cache.clear()
    cache.set(key, match)
  }

  return match
}

/** Whether a value matches a pattern. */
export function globMatch(pattern: string, value: string, ignoreCase = false): boolean {
  return globMatcher(pattern, ignoreCase)(value)
}
