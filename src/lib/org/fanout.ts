// Work over many account-regions at once. KMS quotas are per account and region, so each
// account-region gets its own client and its own Pacer, and all of them run in parallel under one
// global cap (--max-parallel). A failure in one account-region (the role cannot be assumed, access
// denied, throttling that outlasts the retries) never stops or slows the others: it becomes that
// account-region's row in the report.
import pLimit from 'p-limit'

import {listAllTokenPages} from '../aws/paging.js'
import {accountSdk, organizationsSdk} from '../aws/sdk.js'
import type {AwsClients} from '../aws/clients.js'
import {KmsctlError, fromAwsError} from '../errors.js'
import {Pacer} from '../pacing.js'
import {type AccountAccess, AccountCredentials} from './credentials.js'
import type {Targets} from './targets.js'

export interface AccountRegion {
  account: string
  region: string
}

/** The error of one account-region, as reports and --json show it. */
export interface TargetFailure {
  code: string
  message: string
  remedy?: string
}

/** One account-region's outcome. */
export interface TargetOutcome<T> extends AccountRegion {
  error?: TargetFailure
  /** The role assumed to reach the account (absent for the caller's own account). */
  role?: string
  value?: T
}

/** What a unit of work gets: where it runs, how the account was reached, its clients and its pacer. */
export interface TargetContext extends AccountRegion {
  access: AccountAccess
  clients: AwsClients
  pacer: Pacer
}

export interface OrgAccount {
  id: string
  name?: string
  status?: string
}

export function failureOf(error: unknown): TargetFailure {
  const e = error instanceof KmsctlError ? error : fromAwsError(error)
  return {code: e.code, message: e.message, ...(e.remedy ? {remedy: e.remedy} : {})}
}

/** Every ACTIVE account of the organisation (Organizations ListAccounts, all pages). */
export async function listOrganizationAccounts(base: AwsClients): Promise<OrgAccount[]> {
  const org = await base.organizations()
  const {ListAccountsCommand} = await organizationsSdk()
  try {
    const accounts = await listAllTokenPages(
      'ListAccounts',
      (token) => org.send(new ListAccountsCommand({NextToken: token})),
      (page) => page.Accounts,
    )
    return accounts
      .filter((a) => a.Id && (a.State ?? a.Status) === 'ACTIVE')
      .map((a) => ({id: a.Id!, name: a.Name, status: a.State ?? a.Status}))
  } catch (error) {
    const e = fromAwsError(error, {operation: 'ListAccounts'})
    const name = (error as Error).name
    if (name === 'AWSOrganizationsNotInUseException') {
      throw new KmsctlError('FAILED', 'The caller\'s account is not in an organisation, so --org has no accounts to list.', {cause: error, remedy: 'Try this: --accounts 111122223333,444455556666 or --accounts-file FILE.'})
    }

    if (e.code === 'ACCESS_DENIED') {
      throw new KmsctlError('ACCESS_DENIED', `Organizations ListAccounts was refused: ${e.awsMessage ?? e.message}`, {
        cause: error,
        remedy: 'Try this: run from the management account or a delegated administrator with organizations:ListAccounts, or name the accounts with --accounts / --accounts-file.',
      })
    }

    throw e
  }
}

/** The regions enabled in an account (account:ListRegions: ENABLED and ENABLED_BY_DEFAULT), sorted. */
export async function enabledRegions(clients: AwsClients, account: string): Promise<string[]> {
  const client = await clients.account()
  const {ListRegionsCommand} = await accountSdk()
  try {
    const regions = await listAllTokenPages(
      'ListRegions',
      (token) => client.send(new ListRegionsCommand({MaxResults: 50, NextToken: token, RegionOptStatusContains: ['ENABLED', 'ENABLED_BY_DEFAULT']})),
      (page) => page.Regions,
    )
    return regions.map((r) => r.RegionName ?? '').filter(Boolean).sort()
  } catch (error) {
    const e = fromAwsError(error, {operation: 'ListRegions'})
    if (e.code === 'ACCESS_DENIED') {
      throw new KmsctlError('ACCESS_DENIED', `account:ListRegions was refused in ${account}, so its enabled regions are unknown: ${e.awsMessage ?? e.message}`, {
        cause: error,
        remedy: 'Try this: allow account:ListRegions to the role, or name the regions with --regions.',
      })
    }

    throw e
  }
}

export interface ResolvedTargets {
  /** The account-regions to work on, account by account. */
  accountRegions: AccountRegion[]
  /** Accounts that failed before any region was known (--all-regions: ListRegions refused, or the role refused). */
  failed: Array<TargetOutcome<never>>
  /** Organisation account names, by ID (--org). */
  names: Map<string, string>
}

/** Expands the targets to account-regions: the organisation's accounts, each account's enabled regions. */
export async function resolveTargets(creds: AccountCredentials, targets: Targets): Promise<ResolvedTargets> {
  const names = new Map<string, string>()
  let accounts: string[]
  if (targets.accounts.kind === 'caller') {
    const caller = await creds.caller()
    if (!caller) await creds.base.callerIdentity()
    accounts = [caller!.account]
  } else if (targets.accounts.kind === 'org') {
    const excluded = new Set(targets.accounts.exclude)
    const listed = await listOrganizationAccounts(creds.base)
    for (const a of listed) if (a.name) names.set(a.id, a.name)
    accounts = listed.map((a) => a.id).filter((id) => !excluded.has(id))
    if (accounts.length === 0) throw new KmsctlError('FAILED', 'The organisation has no active account left to work on.', {remedy: 'Try this: exclude fewer accounts.'})
  } else {
    accounts = targets.accounts.accounts
  }

  const failed: Array<TargetOutcome<never>> = []
  const accountRegions: AccountRegion[] = []
  if (targets.regions.kind === 'enabled') {
    const home = await creds.base.region()
    const limit = pLimit(targets.maxParallel)
    const lists = await Promise.all(
      accounts.map((account) =>
        limit(async () => {
          try {
            const {clients} = await creds.clientsFor(account, home)
            const regions = await enabledRegions(clients, account)
            // Its KMS work in the home region makes its own clients when its turn comes.
            await creds.forget(account, home)
            return regions
          } catch (error) {
            const access = await creds.access(account).catch(() => undefined)
            failed.push({account, error: failureOf(error), region: '*', ...(access?.roleArn ? {role: access.roleArn} : {})})
            return []
          }
        }),
      ),
    )
    for (const [i, account] of accounts.entries()) for (const region of lists[i]) accountRegions.push({account, region})
  } else {
    const regions = targets.regions.kind === 'list' ? targets.regions.regions : [await creds.base.region()]
    for (const account of accounts) for (const region of regions) accountRegions.push({account, region})
  }

  return {accountRegions, failed, names}
}

export interface FanOutOptions {
  maxParallel: number
  /** Called as each account-region finishes (progress lines). */
  onSettled?: (outcome: TargetOutcome<unknown>, done: number, total: number) => void
  /** A Pacer per account-region (default: KMS's quotas). */
  pacer?: () => Pacer
}

/**
 * Runs `work` once per account-region, at most maxParallel at once, each with its own clients and
 * Pacer. Never throws for one account-region's failure: it is that outcome's `error`. Outcomes come
 * back in the order of `list`.
 */
export async function fanOut<T>(creds: AccountCredentials, list: readonly AccountRegion[], work: (ctx: TargetContext) => Promise<T>, options: FanOutOptions): Promise<Array<TargetOutcome<T>>> {
  const limit = pLimit(Math.max(1, options.maxParallel))
  let done = 0
  return Promise.all(
    list.map((target) =>
      limit(async (): Promise<TargetOutcome<T>> => {
        let outcome: TargetOutcome<T>
        let role: string | undefined
        try {
          const access = await creds.access(target.account)
          role = access.roleArn
          const {clients} = await creds.clientsFor(target.account, target.region)
          const value = await work({...target, access, clients, pacer: options.pacer?.() ?? new Pacer({concurrency: 32, smooth: true})})
          outcome = {...target, ...(role ? {role} : {}), value}
        } catch (error) {
          outcome = {...target, ...(role ? {role} : {}), error: failureOf(error)}
        }

        // Its clients, their sockets and its pacer go now: memory follows maxParallel, not the total.
        await creds.forget(target.account, target.region)
        options.onSettled?.(outcome, ++done, list.length)
        return outcome
      }),
    ),
  )
}

/** "444455556666/eu-west-1" */
export function targetLabel(t: AccountRegion): string {
  return `${t.account}/${t.region}`
}
