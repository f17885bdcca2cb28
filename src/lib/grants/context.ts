// What every grant change records in the journal besides the grant itself: where, by whom, and
// with which command line. Built once per command run.
import type {AwsClients} from '../aws/clients.js'
import {Journal} from '../journal.js'

export interface ChangeContext {
  journal: Journal
  region: string
  account?: string
  /** The caller's ARN. */
  caller?: string
  command?: string[]
}

/**
 * The journal context of a command run. The caller's identity is best effort: when STS cannot
 * say who is calling, the change is still recorded, without it.
 */
export async function changeContext(aws: AwsClients, argv: readonly string[], journal: Journal = new Journal()): Promise<ChangeContext> {
  const region = await aws.region()
  let account: string | undefined
  let caller: string | undefined
  try {
    const id = await aws.callerIdentity()
    account = id.account || undefined
    caller = id.arn || undefined
  } catch {
    // Recorded without the caller.
  }

  return {account, caller, command: [...argv], journal, region}
}

/** The command line as the user typed it after the binary: `grant revoke --grantee ...`. */
export function commandLine(id: string | undefined, argv: readonly string[]): string[] {
  return [...(id ? id.split(':') : []), ...argv]
}
