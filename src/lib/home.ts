// Where kmsctl keeps its own files: the journal, policy backups and the default sandbox.
// KMSCTL_HOME moves all of them (tests point it at a temporary directory).
import {homedir} from 'node:os'
import {join} from 'node:path'

export function kmsctlHome(env: NodeJS.ProcessEnv = process.env): string {
  return env.KMSCTL_HOME && env.KMSCTL_HOME.length > 0 ? env.KMSCTL_HOME : join(homedir(), '.kmsctl')
}

export function journalDir(env: NodeJS.ProcessEnv = process.env): string {
  return join(kmsctlHome(env), 'journal')
}

export function backupsDir(env: NodeJS.ProcessEnv = process.env): string {
  return join(kmsctlHome(env), 'backups')
}

export function defaultSandboxDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.KMSCTL_SANDBOX_DIR && env.KMSCTL_SANDBOX_DIR.length > 0 ? env.KMSCTL_SANDBOX_DIR : join(kmsctlHome(env), 'sandbox')
}
