// Time values: the length of a day, and ISO 8601 dates and date-times as users type them.

export const DAY_MS = 86_400_000

const ISO = /^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/

/**
 * An ISO 8601 date (`2026-11-01`, midnight UTC) or date-time (`2026-11-01T10:00:00Z`, a space for
 * the T allowed; UTC when no zone is given); undefined when the text is not one.
 */
export function parseIsoTime(text: string): Date | undefined {
  const t = text.trim()
  if (!ISO.test(t)) return undefined
  let iso = t.replace(' ', 'T')
  if (/^\d{4}-\d{2}-\d{2}$/.test(iso)) iso += 'T00:00:00Z'
  else if (!/(Z|[+-]\d{2}:?\d{2})$/.test(iso)) iso += 'Z'
  const d = new Date(iso)
  return Number.isNaN(d.getTime()) ? undefined : d
}
