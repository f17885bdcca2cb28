// The one Ctrl-C handler. While a long run is in progress (a bulk change, a trail query), the first
// SIGINT aborts it: no new call starts, queued paced calls are dropped, calls in flight finish and
// the run reports what it did. A second SIGINT exits at once with 130.

export interface Interrupt {
  /** Aborted by the first SIGINT. */
  signal: AbortSignal
  /** Removes the handler; call when the run is over. */
  dispose: () => void
}

/** Installs the handler for the duration of a run; `onFirst` runs once, on the first SIGINT. */
export function interruptOnSigint(onFirst?: () => void): Interrupt {
  const controller = new AbortController()
  const handler = () => {
    if (controller.signal.aborted) process.exit(130)
    controller.abort()
    onFirst?.()
  }

  process.on('SIGINT', handler)
  return {dispose: () => process.off('SIGINT', handler), signal: controller.signal}
}

/** Waits `ms`, or less when the signal aborts (it resolves either way, never rejects). */
export function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve()
    const timer = setTimeout(done, ms)
    function done() {
      clearTimeout(timer)
      signal?.removeEventListener('abort', done)
      resolve()
    }

    signal?.addEventListener('abort', done, {once: true})
  })
}
