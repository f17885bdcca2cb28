// Drives the built CLI through a pseudo-terminal, for the typed confirmations.
import * as pty from 'node-pty'

import {binRun, projectRoot} from './cli.js'

export interface PtySession {
  /** Everything the terminal has shown so far (ANSI codes stripped). */
  output(): string
  /**
   * The lines left on the screen: what a carriage return and erase-line rewrote (progress lines)
   * is gone, ANSI codes stripped.
   */
  screenLines(): string[]
  /** Resolves when the text has appeared on the terminal. */
  waitFor(text: string | RegExp, timeoutMs?: number): Promise<void>
  write(data: string): void
  /** Ends the process (SIGHUP), e.g. when a test gives up on it. */
  kill(): void
  /** Resolves with the exit code. */
  exit: Promise<number>
}

// eslint-disable-next-line no-control-regex
const strip = (s: string) => s.replaceAll(/\u001B\[[0-?]*[ -/]*[@-~]/g, '').replaceAll('\r', '')

export function runInPty(args: string[], env: NodeJS.ProcessEnv = {}, size: {cols?: number; rows?: number} = {}): PtySession {
  const term = pty.spawn(process.execPath, [binRun, ...args], {
    cols: size.cols ?? 120,
    cwd: projectRoot,
    env: {...process.env, NODE_OPTIONS: '', ...env} as Record<string, string>,
    name: 'xterm',
    rows: size.rows ?? 40,
  })
  let buffer = ''
  const waiters: Array<() => void> = []
  term.onData((d) => {
    buffer += d
    for (const w of [...waiters]) w()
  })
  const exit = new Promise<number>((resolve) => {
    term.onExit(({exitCode}) => resolve(exitCode))
  })
  return {
    exit,
    output: () => strip(buffer),
    screenLines: () =>
      buffer
        .replaceAll('\r\n', '\n')
        .split('\n')
        .map((line) => strip(line.slice(line.lastIndexOf('\r') + 1))),
    waitFor(text, timeoutMs = 15_000) {
      return new Promise((resolve, reject) => {
        const matches = () => (typeof text === 'string' ? strip(buffer).includes(text) : text.test(strip(buffer)))
        if (matches()) return resolve()
        const timer = setTimeout(() => {
          waiters.splice(waiters.indexOf(check), 1)
          reject(new Error(`timed out waiting for ${String(text)}; screen:\n${strip(buffer)}`))
        }, timeoutMs)
        const check = () => {
          if (matches()) {
            clearTimeout(timer)
            waiters.splice(waiters.indexOf(check), 1)
            resolve()
          }
        }

        waiters.push(check)
      })
    },
    kill: () => term.kill(),
    write: (data) => term.write(data),
  }
}
