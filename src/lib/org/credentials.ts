// Credentials per account: STS AssumeRole from the base credentials into the role the user named
// (--role-name, --role-arn-template, KMSCTL_ROLE_NAME), once per account for the whole run and
// refreshed before it expires. The caller's own account is reached with the base credentials.
import type {AwsCredentialIdentity, AwsCredentialIdentityProvider} from '@smithy/types'

import type {AwsClients, CallerIdentity} from '../aws/clients.js'
import {loadSdkPackage} from '../aws/sdk.js'
import {KmsctlError, fromAwsError} from '../errors.js'
import {type RoleSpec, accountOfArn, regionOfArn, roleArnFor, sessionNameFor} from './targets.js'

/** Credentials are fetched again when they have less than this left. */
export const REFRESH_BEFORE_MS = 5 * 60_000

/** How one account is reached. */
export interface AccountAccess {
  account: string
  /** The role ARN assumed, or undefined for the caller's own account (base credentials). */
  roleArn?: string
  sessionName?: string
}

type AssumeRoleProvider = (input: {externalId?: string; roleArn: string; sessionName: string}) => AwsCredentialIdentityProvider

/**
 * Caches a credentials provider: one fetch shared by every caller, kept until it is within
 * REFRESH_BEFORE_MS of expiry. A failure is kept too (for `failureTtlMs`), so that the regions of an
 * account whose role cannot be assumed fail at once rather than each asking STS again.
 */
export function cachedProvider(fetch: AwsCredentialIdentityProvider, now: () => number = Date.now, failureTtlMs = 60_000): AwsCredentialIdentityProvider {
  let current: {at: number; promise: Promise<AwsCredentialIdentity>} | undefined
  return () => {
    const t = now()
    if (current) {
      const {at, promise} = current
      const settled = (promise as Promise<AwsCredentialIdentity> & {value?: AwsCredentialIdentity; failed?: boolean})
      const expiry = settled.value?.expiration?.getTime()
      const fresh = settled.failed ? t - at < failureTtlMs : expiry === undefined || expiry - t > REFRESH_BEFORE_MS
      if (fresh) return promise
    }

    const promise = fetch() as Promise<AwsCredentialIdentity> & {value?: AwsCredentialIdentity; failed?: boolean}
    promise.then(
      (v) => {
        promise.value = v
      },
      () => {
        promise.failed = true
      },
    )
    current = {at: t, promise}
    return promise
  }
}

/** The error a refused AssumeRole becomes: which role, which account, and what to check. */
export function assumeRoleError(error: unknown, access: Required<Pick<AccountAccess, 'account' | 'roleArn'>>, caller?: string): KmsctlError {
  const base = fromAwsError(error, {operation: 'AssumeRole'})
  const aws = base.awsMessage ?? base.message
  const denied = base.code === 'ACCESS_DENIED' || /AccessDenied|not authorized/i.test(aws)
  return new KmsctlError(denied ? 'ACCESS_DENIED' : base.code, `Cannot assume ${access.roleArn} in account ${access.account}: ${aws}`, {
    awsCode: base.awsCode,
    awsMessage: base.awsMessage,
    cause: error,
    remedy: denied
      ? `Try this: check that the role exists in ${access.account} and that its trust policy allows ${caller ?? 'your principal'} (sts:AssumeRole), or name another role with --role-name.`
      : base.remedy,
  })
}

/**
 * Reaches accounts from the base credentials: the caller's account directly, any other by assuming
 * the configured role. Providers and clients are cached per account (and per account-region).
 */
export class AccountCredentials {
  readonly base: AwsClients
  readonly role?: RoleSpec
  private readonly assume: AssumeRoleProvider | undefined
  private callerPromise?: Promise<CallerIdentity | undefined>
  private readonly clients = new Map<string, AwsClients>()
  private readonly providers = new Map<string, AwsCredentialIdentityProvider>()

  constructor(base: AwsClients, role?: RoleSpec, assume?: AssumeRoleProvider) {
    this.base = base
    this.role = role
    this.assume = assume
  }

  /** The caller (GetCallerIdentity with the base credentials), or undefined when it cannot be read. */
  caller(): Promise<CallerIdentity | undefined> {
    this.callerPromise ??= this.base.callerIdentity().catch(() => undefined)
    return this.callerPromise
  }

  /** How an account is reached: directly (the caller's own) or through the role. */
  async access(account: string): Promise<AccountAccess> {
    const caller = await this.caller()
    if (caller?.account === account) return {account}
    if (!this.role) {
      throw new KmsctlError('USAGE', `Account ${account} is not the caller's, and no role to assume in it is configured.`, {
        remedy: 'Try this: --role-name NAME (or export KMSCTL_ROLE_NAME=NAME) naming the role to assume in other accounts.',
      })
    }

    return {account, roleArn: roleArnFor(this.role, account, partitionOf(caller?.arn)), sessionName: sessionNameFor(caller?.arn)}
  }

  /** The credentials for an account: cached, shared by its regions, refreshed before expiry. */
  async credentials(account: string): Promise<{access: AccountAccess; provider?: AwsCredentialIdentityProvider}> {
    const access = await this.access(account)
    if (!access.roleArn) return {access}
    let provider = this.providers.get(account)
    if (!provider) {
      const fetch = await this.assumeRoleProvider(access)
      const caller = (await this.caller())?.arn
      const roleArn = access.roleArn
      provider = cachedProvider(async () => {
        try {
          return await fetch()
        } catch (error) {
          throw assumeRoleError(error, {account, roleArn}, caller)
        }
      })
      this.providers.set(account, provider)
    }

    return {access, provider}
  }

  /**
   * Clients for one account-region. The role is assumed first (once per account), so that a role
   * that cannot be assumed fails here, as that account-region's failure, before any KMS call.
   */
  async clientsFor(account: string, region: string): Promise<{access: AccountAccess; clients: AwsClients}> {
    const {access, provider} = await this.credentials(account)
    if (provider) await provider()
    const id = `${account}/${region}`
    let clients = this.clients.get(id)
    if (!clients) {
      clients = this.base.derive(region, provider ?? (await this.base.baseCredentials()))
      this.clients.set(id, clients)
    }

    return {access, clients}
  }

  /**
   * Lets go of an account-region's clients and closes them (their HTTP agents and sockets); the
   * credentials stay cached for the account. Asking for the account-region again builds new clients.
   */
  async forget(account: string, region: string): Promise<void> {
    const id = `${account}/${region}`
    const clients = this.clients.get(id)
    if (!clients) return
    this.clients.delete(id)
    await clients.destroy()
  }

  private async assumeRoleProvider(access: AccountAccess): Promise<AwsCredentialIdentityProvider> {
    const input = {externalId: this.role?.externalId, roleArn: access.roleArn!, sessionName: access.sessionName ?? 'kmsctl'}
    if (this.assume) return this.assume(input)
    const {fromTemporaryCredentials} = await loadSdkPackage<typeof import('@aws-sdk/credential-providers')>('@aws-sdk/credential-providers')
    const clientConfig = await this.base.serviceConfig('sts')
    // Every account's AssumeRole goes through the base STS client's HTTP handler: one agent and its
    // few sockets for the run, rather than an agent (and kept-alive sockets) per account.
    clientConfig.requestHandler ??= (await this.base.sts()).config.requestHandler
    return fromTemporaryCredentials({
      clientConfig,
      masterCredentials: await this.base.baseCredentials(),
      params: {
        RoleArn: input.roleArn,
        RoleSessionName: input.sessionName,
        ...(input.externalId ? {ExternalId: input.externalId} : {}),
      },
    })
  }
}

function partitionOf(arn: string | undefined): string {
  return /^arn:(aws[a-z-]*):/.exec(arn ?? '')?.[1] ?? 'aws'
}

/** Where a key lives, and (when recorded) the role that reached it. */
export interface Place {
  account?: string
  region: string
  /** The role ARN recorded for this place (a journal entry's). */
  role?: string
}

/**
 * Clients for one place: the base clients for the caller's account (in the place's region), else
 * the recorded role, else the configured one (--role-name, KMSCTL_ROLE_NAME). Says which role it is.
 */
export async function clientsForPlace(base: AwsClients, place: Place, configured?: RoleSpec): Promise<{clients: AwsClients; role?: string}> {
  const caller = await base.callerIdentity().catch(() => undefined)
  const home = await base.region()
  if (!place.account || !caller || place.account === caller.account) {
    return {clients: place.region === home ? base : base.derive(place.region, await base.baseCredentials())}
  }

  const role: RoleSpec | undefined = place.role ? {...configured, roleArn: place.role, template: undefined} : configured
  if (!role) {
    throw new KmsctlError('USAGE', `The key is in account ${place.account}, not the caller's (${caller.account}), and no role to assume there is configured.`, {
      remedy: 'Try this: --role-name NAME (or export KMSCTL_ROLE_NAME=NAME) naming the role to assume in that account.',
    })
  }

  const creds = new AccountCredentials(base, role)
  const {access, clients} = await creds.clientsFor(place.account, place.region)
  return {clients, role: access.roleArn}
}

/**
 * Clients for the keys a command was given: when they are ARNs of one other account and a role is
 * configured, that account and region through the role; otherwise the base clients, as always. Key
 * ARNs of several accounts at once are a usage error (one account a run).
 */
export async function clientsForKeyRefs(base: AwsClients, refs: readonly string[], role?: RoleSpec): Promise<{clients: AwsClients; role?: string}> {
  if (!role) return {clients: base}
  const places = new Set(refs.map((r) => (accountOfArn(r) ? `${accountOfArn(r)}/${regionOfArn(r)}` : 'here')))
  if (places.size !== 1 || places.has('here')) {
    if ([...places].some((p) => p !== 'here') && places.size > 1) {
      throw new KmsctlError('USAGE', 'These keys are in several accounts or regions: give the keys of one account and region at a time.', {
        remedy: 'Try this: one run per account, or select by tag across accounts (kmsctl key disable --tag k=v --accounts ...).',
      })
    }

    return {clients: base}
  }

  const [place] = places
  const [account, region] = place.split('/')
  return clientsForPlace(base, {account, region}, role)
}
