// Starts the built `kmsctl sandbox serve` on a free loopback port for end-to-end tests.
// Usage:
//   const server = await startSandboxServer()
//   await runCli(['key', 'list', '--json'], {env: server.env})
//   await server.stop()
import {KMSClient} from '@aws-sdk/client-kms'
import {type ChildProcess, spawn} from 'node:child_process'
import {mkdtempSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {DEFAULT_ACCESS_KEY_ID, DEFAULT_SECRET_ACCESS_KEY, SANDBOX_REGION} from '../../src/sandbox/constants.js'
import {binRun, projectRoot} from './cli.js'

export interface SandboxServer {
  dir: string
  /** Environment for runCli: endpoint, region and the sandbox's default credentials. */
  env: NodeJS.ProcessEnv
  port: number
  /** Sends SIGTERM and waits for the server to exit (SIGKILL after 5 s). */
  stop(): Promise<void>
  url: string
}

export interface SandboxServerOptions {
  /** State directory; a new temporary directory by default. */
  dir?: string
  /** Extra arguments for `sandbox serve`. */
  args?: string[]
  /** Extra environment for the server process. */
  env?: NodeJS.ProcessEnv
}

const LISTENING = /Sandbox listening on (http:\/\/[^\s]+:(\d+)) \(state: (.*)\)\s*$/m

export async function startSandboxServer(opts: SandboxServerOptions = {}): Promise<SandboxServer> {
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'kmsctl-sandbox-'))
  const child = spawn(process.execPath, [binRun, 'sandbox', 'serve', '--port', '0', '--sandbox-dir', dir, ...(opts.args ?? [])], {
    cwd: projectRoot,
    env: {...process.env, NODE_OPTIONS: '', ...opts.env},
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let stdout = ''
  let stderr = ''
  child.stdout!.setEncoding('utf8')
  child.stderr!.setEncoding('utf8')
  child.stderr!.on('data', (d: string) => {
    stderr += d
  })

  const {port, url} = await new Promise<{port: number; url: string}>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`sandbox serve did not start within 20 s\nstdout:\n${stdout}\nstderr:\n${stderr}`))
    }, 20_000)
    const onData = (d: string) => {
      stdout += d
      const m = LISTENING.exec(stdout)
      if (m) {
        clearTimeout(timer)
        child.stdout!.off('data', onData)
        // Keep draining stdout so that the child never blocks on a full pipe.
        child.stdout!.on('data', () => {})
        resolve({port: Number(m[2]), url: m[1]})
      }
    }

    child.stdout!.on('data', onData)
    child.once('exit', (code, signal) => {
      clearTimeout(timer)
      reject(new Error(`sandbox serve exited early (code ${code}, signal ${signal})\nstdout:\n${stdout}\nstderr:\n${stderr}`))
    })
  })

  return {
    dir,
    env: {
      AWS_ACCESS_KEY_ID: DEFAULT_ACCESS_KEY_ID,
      AWS_ENDPOINT_URL: url,
      AWS_REGION: SANDBOX_REGION,
      AWS_SECRET_ACCESS_KEY: DEFAULT_SECRET_ACCESS_KEY,
    },
    port,
    stop: () => stopChild(child),
    url,
  }
}

/** An SDK KMS client of the sandbox's default administrator, for setting keys up and checking them. */
export function sandboxKmsClient(server: SandboxServer): KMSClient {
  return new KMSClient({
    credentials: {accessKeyId: server.env.AWS_ACCESS_KEY_ID!, secretAccessKey: server.env.AWS_SECRET_ACCESS_KEY!},
    endpoint: server.url,
    region: server.env.AWS_REGION!,
  })
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve()
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000)
    child.once('exit', () => {
      clearTimeout(timer)
      resolve()
    })
    child.kill('SIGTERM')
  })
}
