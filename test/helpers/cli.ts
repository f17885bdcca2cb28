// Runs the built CLI (bin/run.js) as a child process: the end-to-end layer.
import {type ChildProcess, spawn} from 'node:child_process'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'

export const projectRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
export const binRun = join(projectRoot, 'bin', 'run.js')

export interface CliResult {
  code: number | null
  signal: NodeJS.Signals | null
  stderr: string
  stdout: string
}

export interface CliOptions {
  env?: NodeJS.ProcessEnv
  input?: string
  timeoutMs?: number
  cwd?: string
}

/** A running `kmsctl ARGS...`: the child (to signal it) and its output so far. */
export interface CliChild {
  child: ChildProcess
  output: {stdout: string; stderr: string}
}

/** Starts `kmsctl ARGS...` without waiting for it; stdout and stderr are collected in `output`. */
export function startCli(args: string[], options: CliOptions = {}): CliChild {
  const child = spawn(process.execPath, [binRun, ...args], {
    cwd: options.cwd ?? projectRoot,
    env: {...process.env, NODE_OPTIONS: '', ...options.env},
    stdio: ['pipe', 'pipe', 'pipe'],
  })
  const output = {stderr: '', stdout: ''}
  child.stdout!.setEncoding('utf8').on('data', (d: string) => {
    output.stdout += d
  })
  child.stderr!.setEncoding('utf8').on('data', (d: string) => {
    output.stderr += d
  })
  return {child, output}
}

/** Runs `kmsctl ARGS...` and collects its output. stdin is closed (no TTY) unless input is given. */
export function runCli(args: string[], options: CliOptions = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const {child, output} = startCli(args, options)
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 60_000)
    child.on('error', reject)
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      resolve({code, signal, stderr: output.stderr, stdout: output.stdout})
    })
    if (options.input !== undefined) child.stdin!.end(options.input)
    else child.stdin!.end()
  })
}

/** Parses the single JSON document a --json run prints. */
export function json<T = any>(result: CliResult): T {
  try {
    return JSON.parse(result.stdout) as T
  } catch {
    throw new Error(`stdout is not one JSON document (exit ${result.code}):\n${result.stdout}\nstderr:\n${result.stderr}`)
  }
}
