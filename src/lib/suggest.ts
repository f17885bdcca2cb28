// "Did you mean": the known names closest to what was typed, by edit distance (fastest-levenshtein),
// case-insensitive. One module for every suggestion: aliases, flags, commands, regions, columns.
import {distance} from 'fastest-levenshtein'

const far = (a: string, b: string) => distance(a.toLowerCase(), b.toLowerCase())

/**
 * The one known name closest to `typed`, when it is close enough to be a typo: at most a third
 * of its length away (at least 1 edit, at most 3), or else the only name that starts with it.
 */
export function closest(typed: string, known: Iterable<string>): string | undefined {
  const limit = Math.min(3, Math.max(1, Math.floor(typed.length / 3)))
  let best: string | undefined
  let bestDistance = Number.POSITIVE_INFINITY
  const prefixed: string[] = []
  for (const name of known) {
    if (name === typed) return name
    if (typed.length >= 3 && name.toLowerCase().startsWith(typed.toLowerCase())) prefixed.push(name)
    const d = far(typed, name)
    if (d < bestDistance) {
      best = name
      bestDistance = d
    }
  }

  if (bestDistance <= limit) return best
  return prefixed.length === 1 ? prefixed[0] : undefined
}

/** Up to `max` names close to the one given, closest first (a looser match, for "one of these?" lists). */
export function closestNames(name: string, candidates: readonly string[], max = 3): string[] {
  return candidates
    .filter((c) => c && c !== name)
    .map((c) => ({c, d: far(name, c)}))
    .filter(({c, d}) => d <= Math.max(3, Math.floor(name.length / 2)) || c.includes(name.replace(/^alias\//, '')))
    .sort((a, b) => a.d - b.d || a.c.localeCompare(b.c))
    .slice(0, max)
    .map((s) => s.c)
}

/** ' Did you mean X?' or ''. */
export function didYouMean(typed: string, known: Iterable<string>, format: (name: string) => string = (n) => n): string {
  const match = closest(typed, known)
  return match === undefined ? '' : ` Did you mean ${format(match)}?`
}
