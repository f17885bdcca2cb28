// How the files and s3 sources run their scans: tasks started with a bounded number in flight and
// their results delivered in order (runOrdered), and the two passes over the log files (scanLogs):
// when --key names an alias no one could resolve, a first pass learns from the logs which key it
// named; then the matching pass, whose matches are delivered without duplicates (same eventID).
import {type FilterSpec, rawNeedles} from '../filters.js'
import type {FileMatch, FileResult, ScanJob} from './file-scan.js'

/**
 * Starts task(0..count-1) in order, at most `window` started and not yet delivered, and delivers
 * each result in index order. Resolves true when the signal stopped it.
 */
export async function runOrdered<T>(count: number, window: number, task: (index: number) => Promise<T>, deliver: (result: T, index: number) => void, signal?: AbortSignal): Promise<boolean> {
  const done = new Map<number, T>()
  let next = 0
  let emitted = 0
  let interrupted = false
  await new Promise<void>((resolveAll, rejectAll) => {
    const pump = () => {
      if (signal?.aborted) {
        interrupted = true
        resolveAll()
        return
      }

      if (emitted === count) {
        resolveAll()
        return
      }

      while (next < count && next - emitted < window) {
        const index = next++
        task(index).then(
          (r) => {
            done.set(index, r)
            try {
              while (done.has(emitted)) {
                const out = done.get(emitted)!
                done.delete(emitted)
                deliver(out, emitted++)
              }
            } catch (error) {
              rejectAll(error)
              return
            }

            pump()
          },
          (error: Error) => rejectAll(error),
        )
      }
    }

    signal?.addEventListener('abort', () => pump(), {once: true})
    pump()
  })
  return interrupted
}

/** A limit on how many of some work run at once: wrap each in limited(...). */
export function concurrencyLimit(limit: number): <T>(work: () => Promise<T>) => Promise<T> {
  let active = 0
  const queue: Array<() => void> = []
  return async (work) => {
    if (active >= limit) await new Promise<void>((resolve) => queue.push(resolve))
    active++
    try {
      return await work()
    } finally {
      active--
      queue.shift()?.()
    }
  }
}

export interface ScanLogsOptions {
  /** Known alias -> key bindings, for the key column. */
  aliases?: Array<[string, string]>
  /** Log files (or objects) to scan. */
  count: number
  onMatches?: (matches: FileMatch[]) => void
  /** Every result of both passes, in order, after its matches are counted (`matched`: so far). */
  onResult?: (result: FileResult, index: number, pass: 'learn' | 'match', matched: number) => void
  raw?: boolean
  /** Runs one job over every file; results in file order; resolves true when interrupted. */
  run: (job: ScanJob, deliver: (result: FileResult, index: number) => void) => Promise<boolean>
  spec: FilterSpec
}

export interface ScanLogsResult {
  duplicates: number
  interrupted: boolean
  /** Aliases learned from the logs (alias -> key), when --key named an alias. */
  learned: Array<[string, string]>
  matched: number
}

export async function scanLogs(options: ScanLogsOptions): Promise<ScanLogsResult> {
  const result: ScanLogsResult = {duplicates: 0, interrupted: false, learned: [], matched: 0}
  let {spec} = options
  const aliases = [...(options.aliases ?? [])]

  // A key given as an alias that could not be resolved: learn which key it named from the logs
  // themselves (CreateAlias/UpdateAlias, and calls that sent the alias and name the key ARN).
  const unresolved = spec.keys?.filter((k) => !k.id && k.aliases.length > 0) ?? []
  if (unresolved.length > 0 && options.count > 0) {
    const bindings = new Map<string, Set<string>>()
    const learnJob: ScanJob = {aliases: [], mode: 'learn', needles: [unresolved.flatMap((k) => k.aliases)], raw: false, spec}
    result.interrupted = await options.run(learnJob, (r, index) => {
      for (const [alias, key] of r.bindings) {
        if (!bindings.has(alias)) bindings.set(alias, new Set())
        bindings.get(alias)!.add(key)
      }

      options.onResult?.(r, index, 'learn', 0)
    })
    const keys = spec.keys!.map((k) => {
      if (k.id) return k
      const targets = k.aliases.flatMap((a) => [...(bindings.get(a) ?? [])])
      if (targets.length === 0) return k
      const arn = targets.find((t) => t.startsWith('arn:'))
      const id = arn ? arn.slice(arn.indexOf(':key/') + 5) : targets[0]
      for (const a of k.aliases) {
        result.learned.push([a, arn ?? id])
        aliases.push([a, arn ?? id])
      }

      return {...k, arn, id}
    })
    spec = {...spec, keys}
    if (result.interrupted) return result
  }

  const job: ScanJob = {aliases, mode: 'match', needles: rawNeedles(spec), raw: Boolean(options.raw), spec}
  const seen = new Set<string>()
  result.interrupted = await options.run(job, (r, index) => {
    if (!r.error && !r.failure && r.matches.length > 0) {
      const fresh: FileMatch[] = []
      for (const m of r.matches) {
        const id = m.event.eventId
        if (id && seen.has(id)) {
          result.duplicates++
          continue
        }

        if (id) seen.add(id)
        fresh.push(m)
      }

      result.matched += fresh.length
      if (fresh.length > 0) options.onMatches?.(fresh)
    }

    options.onResult?.(r, index, 'match', result.matched)
  })
  return result
}
