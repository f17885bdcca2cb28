// One client factory for every command: shared region, credentials, retries, user agent and
// endpoint; clients are built on first use so that commands that need none never load the SDK.
// Retries live here and only here: the SDK's standard retry strategy, at most `maxAttempts`
// requests per call (--max-attempts, AWS_MAX_ATTEMPTS, default 3). Pacing (the Pacer) sits in
// front of it and never retries; paged readers (paging.ts) read page by page through both.
import type {AccountClient} from '@aws-sdk/client-account'
import type {AthenaClient} from '@aws-sdk/client-athena'
import type {CloudTrailClient} from '@aws-sdk/client-cloudtrail'
import type {KMSClient} from '@aws-sdk/client-kms'
import type {OrganizationsClient} from '@aws-sdk/client-organizations'
import type {S3Client} from '@aws-sdk/client-s3'
import type {STSClient} from '@aws-sdk/client-sts'
import type {AwsCredentialIdentityProvider} from '@smithy/types'

import {DEFAULT_ACCESS_KEY_ID, DEFAULT_SECRET_ACCESS_KEY, SANDBOX_REGION} from '../../sandbox/constants.js'
import {KmsctlError, fromAwsError} from '../errors.js'
import {defaultSandboxDir} from '../home.js'
import {S3_CHECKSUMS, type S3ThreadSettings} from './s3-config.js'
import {accountSdk, athenaSdk, cloudtrailSdk, kmsSdk, loadSdkPackage, organizationsSdk, s3Sdk, stsSdk} from './sdk.js'

export interface AwsSettings {
  /** Credentials to sign with instead of the provider chain (a role assumed in another account). */
  credentials?: AwsCredentialIdentityProvider
  /** --endpoint-url: one endpoint for every service (a sandbox, a VPC endpoint, a proxy). */
  endpointUrl?: string
  env?: NodeJS.ProcessEnv
  /** --max-attempts / AWS_MAX_ATTEMPTS; default 3 (the SDK's). */
  maxAttempts?: number
  profile?: string
  region?: string
  /** --sandbox: route every call to the in-process sandbox. */
  sandbox?: boolean
  sandboxDir?: string
  /** kmsctl's version, for the user agent. */
  version?: string
  /** For tests: the HTTP handler every client sends through (counts requests, answers faults). */
  requestHandler?: unknown
}

/** Default most requests per call, retries included (the SDK's default). */
export const DEFAULT_MAX_ATTEMPTS = 3

export interface CallerIdentity {
  account: string
  arn: string
  userId: string
}

export type Service = 'account' | 'athena' | 'cloudtrail' | 'kms' | 'organizations' | 's3' | 'sts'

const ENDPOINT_ENV: Record<Service, string> = {
  account: 'AWS_ENDPOINT_URL_ACCOUNT',
  athena: 'AWS_ENDPOINT_URL_ATHENA',
  organizations: 'AWS_ENDPOINT_URL_ORGANIZATIONS',
  cloudtrail: 'AWS_ENDPOINT_URL_CLOUDTRAIL',
  kms: 'AWS_ENDPOINT_URL_KMS',
  s3: 'AWS_ENDPOINT_URL_S3',
  sts: 'AWS_ENDPOINT_URL_STS',
}

/** The endpoint for one service: the flag, else the service's own variable, else AWS_ENDPOINT_URL. */
export function endpointFor(service: Service, settings: AwsSettings): string | undefined {
  const env = settings.env ?? process.env
  if (settings.endpointUrl !== undefined) return validateEndpoint(settings.endpointUrl, '--endpoint-url')
  const specific = env[ENDPOINT_ENV[service]]
  if (specific) return validateEndpoint(specific, ENDPOINT_ENV[service])
  return env.AWS_ENDPOINT_URL ? validateEndpoint(env.AWS_ENDPOINT_URL, 'AWS_ENDPOINT_URL') : undefined
}

/** An endpoint URL must be an absolute http:// or https:// URL; anything else is a usage error. */
export function validateEndpoint(url: string, source: string): string {
  let parsed: URL | undefined
  try {
    parsed = new URL(url)
  } catch {
    parsed = undefined
  }

  if (!parsed || (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') || !parsed.hostname) {
    throw new KmsctlError('USAGE', `${source} "${url}" is not an http:// or https:// URL.`, {
      remedy: `Try this: ${source === '--endpoint-url' ? '--endpoint-url ' : `${source}=`}http://127.0.0.1:4566 (a sandbox) or https://kms.us-east-1.amazonaws.com`,
    })
  }

  return url
}

/** Checks the region and endpoint settings without sending anything (exit 2 with a fix line). */
export function validateAwsSettings(settings: AwsSettings): void {
  if (settings.region !== undefined) validateRegion(settings.region)
  for (const service of Object.keys(ENDPOINT_ENV) as Service[]) endpointFor(service, settings)
}

/**
 * Region, in the order the AWS CLI uses: --region, AWS_REGION, AWS_DEFAULT_REGION, then the
 * profile's `region` in the shared config file. None is an error with a hint, never a silent default.
 */
export async function resolveRegion(settings: AwsSettings): Promise<string> {
  const env = settings.env ?? process.env
  if (settings.region !== undefined) return validateRegion(settings.region)
  if (env.AWS_REGION) return validateRegion(env.AWS_REGION)
  if (env.AWS_DEFAULT_REGION) return validateRegion(env.AWS_DEFAULT_REGION)
  if (settings.sandbox) return SANDBOX_REGION
  const profile = settings.profile ?? env.AWS_PROFILE ?? 'default'
  try {
    const {loadSharedConfigFiles} = await loadSdkPackage<typeof import('@smithy/shared-ini-file-loader')>('@smithy/shared-ini-file-loader')
    const files = await loadSharedConfigFiles({ignoreCache: true})
    const region = files.configFile?.[profile]?.region ?? files.credentialsFile?.[profile]?.region
    if (region) return validateRegion(region)
  } catch {
    // An unreadable config file is the same as no region for the purpose of this message.
  }

  throw new KmsctlError('NO_REGION', `No AWS region found (looked at --region, AWS_REGION, AWS_DEFAULT_REGION and profile "${profile}").`, {
    remedy: 'Try this: --region us-east-1, or export AWS_REGION=us-east-1, or set region in ~/.aws/config.',
  })
}

function validateRegion(region: string): string {
  if (region.trim() === '') throw new KmsctlError('USAGE', '--region is empty.', {remedy: 'Try this: --region us-east-1, or leave --region out to use AWS_REGION or your profile\'s region'})
  if (!/^[a-z]{2}(-[a-z]+)+-\d+$/.test(region)) {
    throw new KmsctlError('USAGE', `"${region}" is not an AWS region name.`, {remedy: 'Try this: --region us-east-1'})
  }

  return region
}

export class AwsClients {
  readonly settings: AwsSettings
  private caller?: Promise<CallerIdentity>
  private readonly clients = new Map<Service, Promise<unknown>>()
  private credentials?: AwsCredentialIdentityProvider
  private regionPromise?: Promise<string>

  /** Checks the region and endpoint given (validateAwsSettings): bad ones are usage errors before anything is sent. */
  constructor(settings: AwsSettings) {
    validateAwsSettings(settings)
    this.settings = settings
  }

  /** The caller's identity (STS GetCallerIdentity), fetched once. */
  callerIdentity(): Promise<CallerIdentity> {
    this.caller ??= (async () => {
      const sts = await this.sts()
      const {GetCallerIdentityCommand} = await stsSdk()
      try {
        const out = await sts.send(new GetCallerIdentityCommand({}))
        return {account: out.Account ?? '', arn: out.Arn ?? '', userId: out.UserId ?? ''}
      } catch (error) {
        throw fromAwsError(error, {operation: 'GetCallerIdentity', profile: this.settings.profile})
      }
    })()
    return this.caller
  }

  /** The Account Management API (account:ListRegions). */
  account(): Promise<AccountClient> {
    return this.client('account', async (config) => {
      const {AccountClient} = await accountSdk()
      return new AccountClient(config)
    })
  }

  /** The base credentials (the provider chain, or the ones given), for assuming roles from them. */
  baseCredentials(): Promise<AwsCredentialIdentityProvider> {
    return this.credentialProvider()
  }

  athena(): Promise<AthenaClient> {
    return this.client('athena', async (config) => {
      const {AthenaClient} = await athenaSdk()
      return new AthenaClient(config)
    })
  }

  /** S3: path-style addressing when an endpoint is given (a sandbox or proxy on an IP address has no bucket subdomains). */
  s3(): Promise<S3Client> {
    return this.client('s3', async (config) => {
      const {S3Client} = await s3Sdk()
      return new S3Client({...config, ...(config.endpoint ? {forcePathStyle: true} : {}), ...S3_CHECKSUMS})
    })
  }

  /**
   * What a worker thread needs to build its own S3 client like s3() (region, endpoint, retries, user
   * agent; credentials are asked of this thread), or undefined when requests go through a handler
   * that cannot leave this thread (the in-process sandbox, a test's handler).
   */
  async s3ThreadSettings(): Promise<S3ThreadSettings | undefined> {
    if (this.settings.requestHandler || this.settings.sandbox) return undefined
    // FIPS and dual-stack endpoints are the SDK's to choose: leave those downloads to its client.
    const env = this.settings.env ?? process.env
    if (/^true$/i.test(env.AWS_USE_FIPS_ENDPOINT ?? '') || /^true$/i.test(env.AWS_USE_DUALSTACK_ENDPOINT ?? '')) return undefined
    const endpoint = endpointFor('s3', this.settings)
    return {
      customUserAgent: [['kmsctl', this.settings.version ?? '0.0.0']],
      ...(endpoint ? {endpoint, forcePathStyle: true} : {}),
      maxAttempts: this.settings.maxAttempts ?? DEFAULT_MAX_ATTEMPTS,
      region: await this.region(),
    }
  }

  cloudtrail(): Promise<CloudTrailClient> {
    return this.client('cloudtrail', async (config) => {
      const {CloudTrailClient} = await cloudtrailSdk()
      return new CloudTrailClient(config)
    })
  }

  kms(): Promise<KMSClient> {
    return this.client('kms', async (config) => {
      const {KMSClient} = await kmsSdk()
      return new KMSClient(config)
    })
  }

  /** The same settings in another region, signing with other credentials (one account-region of a fan-out). */
  derive(region: string, credentials?: AwsCredentialIdentityProvider): AwsClients {
    return new AwsClients({...this.settings, region, ...(credentials ? {credentials} : {})})
  }

  /**
   * Closes the clients built so far (their HTTP agents and kept-alive sockets) and forgets them: for
   * an account-region of a fan-out whose work is done. A request handler given in the settings is
   * its owner's to close, so clients sending through one are only forgotten. Later calls build anew.
   */
  async destroy(): Promise<void> {
    const made = [...this.clients.values()]
    this.clients.clear()
    this.caller = undefined
    const shared = this.settings.requestHandler !== undefined
    await Promise.all(
      made.map(async (p) => {
        const client = (await p.catch(() => undefined)) as {destroy?: () => void} | undefined
        if (!shared) client?.destroy?.()
      }),
    )
  }

  organizations(): Promise<OrganizationsClient> {
    return this.client('organizations', async (config) => {
      const {OrganizationsClient} = await organizationsSdk()
      return new OrganizationsClient(config)
    })
  }

  region(): Promise<string> {
    this.regionPromise ??= resolveRegion(this.settings)
    return this.regionPromise
  }

  sts(): Promise<STSClient> {
    return this.client('sts', async (config) => {
      const {STSClient} = await stsSdk()
      return new STSClient(config)
    })
  }

  private client<T>(service: Service, make: (config: Record<string, unknown>) => Promise<T>): Promise<T> {
    let existing = this.clients.get(service) as Promise<T> | undefined
    if (!existing) {
      existing = (async () => make(await this.sharedConfig(service)))()
      this.clients.set(service, existing)
    }

    return existing
  }

  private async credentialProvider(): Promise<AwsCredentialIdentityProvider> {
    if (this.credentials) return this.credentials
    if (this.settings.credentials) {
      this.credentials = this.settings.credentials
      return this.credentials
    }

    const env = this.settings.env ?? process.env
    if (this.settings.sandbox && !env.AWS_ACCESS_KEY_ID) {
      const fixed = {accessKeyId: DEFAULT_ACCESS_KEY_ID, secretAccessKey: DEFAULT_SECRET_ACCESS_KEY}
      this.credentials = async () => fixed
      return this.credentials
    }

    // Static keys in the environment and no profile asked for: the chain would take them first
    // anyway (its environment provider reads the same variables), so use them without loading the
    // rest of it (SSO, IMDS, process and web-identity providers), which costs every command time.
    const profile = this.settings.profile
    if (!profile && !env.AWS_PROFILE && env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY) {
      const expiration = env.AWS_CREDENTIAL_EXPIRATION ? new Date(env.AWS_CREDENTIAL_EXPIRATION) : undefined
      const fromEnvironment = {
        accessKeyId: env.AWS_ACCESS_KEY_ID,
        secretAccessKey: env.AWS_SECRET_ACCESS_KEY,
        ...(env.AWS_SESSION_TOKEN ? {sessionToken: env.AWS_SESSION_TOKEN} : {}),
        ...(expiration && !Number.isNaN(expiration.getTime()) ? {expiration} : {}),
        ...(env.AWS_ACCOUNT_ID ? {accountId: env.AWS_ACCOUNT_ID} : {}),
      }
      this.credentials = async () => fromEnvironment
      return this.credentials
    }

    const {fromNodeProviderChain} = await loadSdkPackage<typeof import('@aws-sdk/credential-providers')>('@aws-sdk/credential-providers')
    const chain = fromNodeProviderChain(profile ? {profile} : {})
    this.credentials = async () => {
      try {
        return await chain()
      } catch (error) {
        throw fromAwsError(error, {profile})
      }
    }

    return this.credentials
  }

  /**
   * The configuration every client of a service gets (region, retries, user agent, endpoint or the
   * in-process sandbox), without credentials: for an STS client that assumes roles from the base ones.
   */
  async serviceConfig(service: Service): Promise<Record<string, unknown>> {
    const {credentials: _credentials, ...config} = await this.sharedConfig(service)
    return config
  }

  private async sharedConfig(service: Service): Promise<Record<string, unknown>> {
    const region = await this.region()
    const config: Record<string, unknown> = {
      // The middleware stack is resolved once per command class, not on every call (kmsctl adds no
      // middleware to its clients; a call with per-call options still resolves its own).
      cacheMiddleware: true,
      credentials: await this.credentialProvider(),
      customUserAgent: [['kmsctl', this.settings.version ?? '0.0.0']],
      maxAttempts: this.settings.maxAttempts ?? DEFAULT_MAX_ATTEMPTS,
      region,
      retryMode: 'standard',
    }
    if (this.settings.requestHandler) {
      config.requestHandler = this.settings.requestHandler
      const endpoint = endpointFor(service, this.settings)
      if (endpoint) config.endpoint = endpoint
    } else if (this.settings.sandbox) {
      const {createSandboxRequestHandler} = await import('../../sandbox/http/inprocess.js')
      config.requestHandler = await createSandboxRequestHandler({dir: this.settings.sandboxDir ?? defaultSandboxDir(this.settings.env)})
    } else {
      const endpoint = endpointFor(service, this.settings)
      if (endpoint) config.endpoint = endpoint
    }

    return config
  }
}
