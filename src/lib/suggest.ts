// "Did you mean": the closest of the known names to what was typed, by edit distance.

/** Optimal string alignment distance (Levenshtein with adjacent transpositions), case-insensitive. */
export function editDistance(a: string, b: string): number {
  const s = a.toLowerCase()
  const t = b.toLowerCase()
  const d: number[][] = Array.from({length: s.length + 1}, (_, i) => [i, ...Array.from({length: t.length}, () => 0)])
  for (let j = 1; j <= t.length; j++) d[0][j] = j
  for (let i = 1; i <= s.length; i++) {
    for (let j = 1; j <= t.length; j++) {
      const cost = s[i - 1] === t[j - 1] ? 0 : 1
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost)
      if (i > 1 && j > 1 && s[i - 1] === t[j - 2] && s[i - 2] === t[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1)
    }
  }

  return d[s.length][t.length]
}

/**
 * The known name closest to `typed`, when it is close enough to be a typo: at most a third of its
 * length away (at least 1, at most 3 edits), or a unique name that starts with what was typed.
 */
export function closest(typed: string, known: Iterable<string>): string | undefined {
  const limit = Math.min(3, Math.max(1, Math.floor(typed.length / 3)))
  let best: string | undefined
  let bestDistance = Number.POSITIVE_INFINITY
  const prefixed: string[] = []
  for (const name of known) {
    if (name === typed) return name
    if (typed.length >= 3 && name.toLowerCase().startsWith(typed.toLowerCase())) prefixed.push(name)
    const distance = editDistance(typed, name)
    if (distance < bestDistance) {
      best = name
      bestDistance = distance
    }
  }

  if (bestDistance <= limit) return best
  return prefixed.length === 1 ? prefixed[0] : undefined
}

/** ' Did you mean X?' or ''. */
export function didYouMean(typed: string, known: Iterable<string>, format: (name: string) => string = (n) => n): string {
  const match = closest(typed, known)
  return match === undefined ? '' : ` Did you mean ${format(match)}?`
}
