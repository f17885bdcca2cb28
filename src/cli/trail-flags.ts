// What `trail query` and `trail who` share: their source and filter flags, and turning the parsed
// flags plus the command's AWS client factory into the options of runTrailQuery().
import {Flags} from '@oclif/core'

import type {AwsClients} from '../lib/aws/clients.js'
import {checkRegion} from '../lib/aws/regions.js'
import {usageError} from '../lib/errors.js'
import {LOOKUP_EVENTS_RATE} from '../lib/pacing.js'
import type {Progress} from '../lib/output.js'
import {type FilterSpec} from '../lib/trail/filters.js'
import {type ResolvedKeyForms, TRAIL_SOURCES, type TrailQueryOptions, type TrailSource} from '../lib/trail/query.js'
import {type OrgFlagValues, targetsFrom} from './org-flags.js'

const SOURCE = 'SOURCE'
const FILTER = 'FILTER'

export const sourceFlags = {
  accounts: Flags.string({
    description: 'api (trail query): read LookupEvents in these accounts through --role-name; s3, athena: comma-separated account IDs whose logs are read (prefix and partition pruning); files, lake: only events of these accounts.',
    helpGroup: SOURCE,
  }),
  'all-regions': Flags.boolean({
    description: 'api: read every region enabled by default, in parallel (with --accounts, --accounts-file or --org: the regions enabled in each account, account:ListRegions).',
    exclusive: ['regions'],
    helpGroup: SOURCE,
  }),
  'event-data-store': Flags.string({
    description: 'lake: the CloudTrail Lake event data store (ARN or ID).',
    helpGroup: SOURCE,
  }),
  'max-events': Flags.integer({
    description: 'Stop after this many matching events.',
    helpGroup: SOURCE,
    min: 1,
  }),
  rate: Flags.string({
    default: String(LOOKUP_EVENTS_RATE),
    description: 'api: LookupEvents requests per second per region (CloudTrail allows 2).',
    helpGroup: SOURCE,
  }),
  'output-location': Flags.string({
    description: 'athena: s3:// location for the query results (when the workgroup does not set one).',
    helpGroup: SOURCE,
  }),
  regions: Flags.string({
    description: 'api: comma-separated regions to read in parallel (default: the current region); s3, athena: regions whose logs are read; files, lake: only events of these regions.',
    helpGroup: SOURCE,
  }),
  source: Flags.string({
    default: 'api',
    description:
      'Where to read events: api (LookupEvents, last 90 days), files (log files: give PATH...), s3 (the trail bucket: give s3://BUCKET[/PREFIX]), athena (--table), lake (CloudTrail Lake).',
    helpGroup: SOURCE,
    options: [...TRAIL_SOURCES],
  }),
  table: Flags.string({
    description: 'athena: the CloudTrail table, DATABASE.TABLE (see kmsctl trail athena setup).',
    helpGroup: SOURCE,
  }),
  workgroup: Flags.string({
    description: 'athena: the workgroup to run the query in (default: the primary workgroup).',
    helpGroup: SOURCE,
  }),
  workers: Flags.integer({
    description: 'files: worker threads (default: the number of cores; 0 reads in one thread).',
    helpGroup: SOURCE,
    min: 0,
  }),
}

export const filterFlags = {
  'access-key': Flags.string({description: 'Access key ID used for the call (comma-separated or repeated).', helpGroup: FILTER, multiple: true}),
  'all-services': Flags.boolean({description: 'Every service\'s events, not only KMS (kms.amazonaws.com).', helpGroup: FILTER}),
  denied: Flags.boolean({description: 'Only calls refused with AccessDenied*.', helpGroup: FILTER}),
  errors: Flags.boolean({description: 'Only failed calls (any error code).', helpGroup: FILTER}),
  event: Flags.string({description: 'Event names or globs, e.g. Decrypt,GenerateDataKey or "Create*" (case-sensitive).', helpGroup: FILTER, multiple: true}),
  ip: Flags.string({description: 'Source IP address or CIDR range (comma-separated or repeated).', helpGroup: FILTER, multiple: true}),
  key: Flags.string({description: 'Key ID, key ARN, alias name or alias ARN; matched however the call named the key.', helpGroup: FILTER, multiple: true}),
  principal: Flags.string({description: 'Substring or glob of the caller: ARN, user name, role session, the role behind it, or account.', helpGroup: FILTER, multiple: true}),
  'read-only': Flags.boolean({description: 'Only read-only calls.', exclusive: ['write'], helpGroup: FILTER}),
  since: Flags.string({description: 'Start of the window: 2h, 7d, or ISO 8601 (2026-11-02T10:00Z).', helpGroup: FILTER}),
  until: Flags.string({description: 'End of the window: 30m, 1d, or ISO 8601.', helpGroup: FILTER}),
  'user-agent': Flags.string({description: 'Substring or glob of the user agent.', helpGroup: FILTER, multiple: true}),
  write: Flags.boolean({description: 'Only calls that change something.', exclusive: ['read-only'], helpGroup: FILTER}),
}

export interface SourceFlagValues extends Omit<OrgFlagValues, 'accounts' | 'all-regions' | 'regions'> {
  accounts?: string
  'all-regions'?: boolean
  'event-data-store'?: string
  'max-events'?: number
  'output-location'?: string
  rate?: string
  regions?: string
  source?: string
  table?: string
  workers?: number
  workgroup?: string
}

/** A comma-separated list of account IDs (usage error otherwise). */
export function parseAccounts(value: string | undefined, flag = '--accounts'): string[] | undefined {
  if (value === undefined) return undefined
  const accounts = [...new Set(value.split(',').map((a) => a.trim()).filter(Boolean))]
  if (accounts.length === 0) throw usageError(`${flag} is empty.`, `Try this: ${flag} 111122223333,444455556666`)
  for (const a of accounts) if (!/^\d{12}$/.test(a)) throw usageError(`${flag}: "${a}" is not a 12-digit account ID.`, `Try this: ${flag} 111122223333,444455556666`)
  return accounts
}

/** A comma-separated list of region names (usage error otherwise). */
export function parseRegions(value: string | undefined, flag = '--regions'): string[] | undefined {
  if (value === undefined) return undefined
  const regions = [...new Set(value.split(',').map((r) => r.trim()).filter(Boolean))]
  if (regions.length === 0) throw usageError(`${flag} is empty.`, `Try this: ${flag} us-east-1,eu-west-1`)
  for (const r of regions) if (!/^[a-z]{2}(-[a-z]+)+-\d+$/.test(r)) throw usageError(`${flag}: "${r}" is not an AWS region name.`, `Try this: ${flag} us-east-1,eu-west-1`)
  return regions
}

function parseRate(value: string | undefined): number | undefined {
  if (value === undefined) return undefined
  const rate = Number(value)
  if (!Number.isFinite(rate) || rate <= 0 || rate > 100) throw usageError(`--rate "${value}" is not a rate between 0 and 100 requests per second.`, 'Try this: --rate 2')
  return rate
}

/**
 * Checks the source flags against each other and the paths (usage errors, exit 2, nothing read or
 * sent), and builds the options of runTrailQuery.
 */
export async function queryOptions(
  flags: SourceFlagValues,
  paths: string[],
  spec: FilterSpec,
  aws: AwsClients,
  /** false for commands about one key (trail who): --accounts stays a filter of the log sources. */
  acrossAccounts = true,
): Promise<TrailQueryOptions> {
  const source = (flags.source ?? 'api') as TrailSource
  const rate = parseRate(flags.rate)
  if (source === 'files' && paths.length === 0) {
    throw usageError('--source files needs one or more paths: log files or directories holding them.', 'Try this: kmsctl trail query --source files ./AWSLogs --key alias/payments')
  }

  if (source === 'files' && paths.some((p) => p.startsWith('s3://'))) {
    throw usageError(`${paths.find((p) => p.startsWith('s3://'))} is an S3 location: read it with --source s3.`, `Try this: kmsctl trail query --source s3 ${paths.find((p) => p.startsWith('s3://'))}`)
  }

  if (source === 's3' && paths.length !== 1) {
    throw usageError('--source s3 needs one S3 location: the bucket (and prefix) the trail delivers to.', 'Try this: kmsctl trail query --source s3 s3://my-trail-bucket --key alias/payments')
  }

  if (source !== 'files' && source !== 's3' && paths.length > 0) {
    throw usageError(`Paths are only read with --source files or --source s3 (got ${paths[0]}).`, paths[0].startsWith('s3://') ? `Try this: kmsctl trail query --source s3 ${paths[0]}` : `Try this: kmsctl trail query --source files ${paths.join(' ')}`)
  }

  if (source === 'lake' && !flags['event-data-store']) {
    throw usageError('--source lake needs --event-data-store.', 'Try this: --event-data-store arn:aws:cloudtrail:REGION:ACCOUNT:eventdatastore/ID')
  }

  if (source !== 'lake' && flags['event-data-store']) throw usageError('--event-data-store is only used with --source lake.', 'Try this: --source lake')
  if (source === 'athena' && !flags.table) throw usageError('--source athena needs --table DATABASE.TABLE.', 'Try this: --table security.cloudtrail (kmsctl trail athena setup creates it)')
  for (const f of ['table', 'workgroup', 'output-location'] as const) {
    if (source !== 'athena' && flags[f]) throw usageError(`--${f} is only used with --source athena.`, 'Try this: --source athena')
  }

  if (source !== 'api' && flags['all-regions']) throw usageError('--all-regions is for --source api.', 'Try this: --regions us-east-1,eu-west-1')
  const reachesAccounts = flags.accounts !== undefined || flags['accounts-file'] !== undefined || Boolean(flags.org)
  if (source !== 'api') {
    for (const f of ['org', 'accounts-file', 'exclude-accounts', 'role-name', 'role-arn-template', 'external-id', 'max-parallel'] as const) {
      if (flags[f] !== undefined && flags[f] !== false) throw usageError(`--${f} is for --source api (LookupEvents in each account through the role).`, source === 's3' || source === 'athena' ? `Try this: --accounts 111122223333 (the accounts whose logs ${source} reads)` : 'Try this: --source api')
    }
  }

  if (source === 'api' && flags.accounts && !acrossAccounts) throw usageError('--accounts is for --source s3, athena, files or lake here: a key\'s calls are read in its own account.', 'Try this: --source s3 s3://my-trail-bucket --accounts 111122223333')
  if (source === 'api' && reachesAccounts) {
    // LookupEvents in every account-region, through the role: the targets as every org command takes them.
    const targets = targetsFrom({...flags, accounts: flags.accounts, 'all-regions': flags['all-regions'], regions: flags.regions})!
    return {maxEvents: flags['max-events'], paths, rate, source, spec, targets}
  }

  const accounts = parseAccounts(flags.accounts)
  const base: TrailQueryOptions = {maxEvents: flags['max-events'], paths, source, spec, workers: flags.workers}
  if (source !== 'api') {
    // Accounts and regions are filters on every event (the recipient account, awsRegion), and what
    // s3 and athena prune their listing and partitions to.
    const regions = parseRegions(flags.regions)
    base.spec = {...spec, ...(accounts ? {accounts} : {}), ...(regions ? {regions} : {})}
    base.accounts = accounts
    base.regions = regions
  }

  if (source === 'files') return base
  if (source === 's3') {
    const {parseS3Url} = await import('../lib/trail/sources/s3-layout.js')
    const s3Threads = async () => {
      const settings = await aws.s3ThreadSettings()
      if (!settings) return undefined
      const provider = await aws.baseCredentials()
      return {credentials: () => provider(), settings}
    }

    return {...base, paths: [], s3: () => aws.s3(), s3Location: parseS3Url(paths[0]), s3Threads}
  }

  const resolveKeyWithKms = async (ref: string): Promise<ResolvedKeyForms> => {
    const {resolveKey} = await import('../lib/key-ref.js')
    const {listAllAliases} = await import('../lib/aws/paging.js')
    const kms = await aws.kms()
    const key = await resolveKey(kms, ref)
    let aliases: string[] = []
    try {
      aliases = (await listAllAliases(kms, key.keyId)).map((a) => a.AliasName ?? '').filter(Boolean)
    } catch {
      // Matching still works on the ID, the ARN and the alias as given.
    }

    return {aliases, arn: key.arn, id: key.keyId}
  }

  if (source === 'athena') {
    const {parseTableName} = await import('../lib/trail/athena-sql.js')
    const outputLocation = flags['output-location']
    if (outputLocation !== undefined) {
      const {parseS3Url} = await import('../lib/trail/sources/s3-layout.js')
      parseS3Url(outputLocation, '--output-location')
    }

    return {
      ...base,
      athena: () => aws.athena(),
      outputLocation,
      resolveKey: resolveKeyWithKms,
      table: parseTableName(flags.table!),
      workgroup: flags.workgroup === undefined ? undefined : checkWorkgroup(flags.workgroup),
    }
  }

  if (source === 'lake') {
    const {eventDataStoreId} = await import('../lib/trail/sources/lake.js')
    eventDataStoreId(flags['event-data-store']!)
  }

  let regions: string[]
  if (source === 'lake') {
    regions = [await aws.region()]
  } else if (flags['all-regions']) {
    const {DEFAULT_REGIONS} = await import('../lib/trail/sources/api.js')
    regions = [...DEFAULT_REGIONS]
  } else if (flags.regions) {
    regions = [...new Set(flags.regions.split(',').map((r) => r.trim()).filter(Boolean))]
    for (const r of regions) {
      if (!/^[a-z]{2}(-[a-z]+)+-\d+$/.test(r)) throw usageError(`--regions: "${r}" is not an AWS region name.`, 'Try this: --regions us-east-1,eu-west-1')
      checkRegion(r, '--regions')
    }
  } else {
    regions = [await aws.region()]
  }

  const {AwsClients: Clients} = await import('../lib/aws/clients.js')
  const current = await aws.region()
  const clientFor = async (region: string) => (region === current || region === '' ? aws.cloudtrail() : new Clients({...aws.settings, region}).cloudtrail())
  return {
    ...base,
    cloudtrailFor: clientFor,
    eventDataStore: flags['event-data-store'],
    async knownAliases() {
      const {listAllAliases} = await import('../lib/aws/paging.js')
      const aliases = await listAllAliases(await aws.kms())
      return aliases.filter((a) => a.AliasName && a.TargetKeyId).map((a): [string, string] => [a.AliasName!, a.TargetKeyId!])
    },
    rate,
    regions,
    resolveKey: resolveKeyWithKms,
  }
}

/**
 * The progress line of a trail query on a terminal: the source's own line (pages and matches;
 * files and bytes) with the elapsed time and, for LookupEvents, which reads newest first, how far
 * back it has reached as a share of the --since window.
 */
export function trailProgress(progress: Progress, spec: Pick<FilterSpec, 'since' | 'until'>): (line: string) => void {
  const start = spec.since ? Date.parse(spec.since) : Number.NaN
  const end = spec.until ? Date.parse(spec.until) : Date.now()
  return (line) => {
    const reached = /reached (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)/.exec(line)
    let window = ''
    if (reached && Number.isFinite(start) && end > start) {
      const at = Date.parse(reached[1].replace(' ', 'T') + (reached[1].endsWith('Z') ? '' : 'Z'))
      const done = Math.min(100, Math.max(0, Math.round(((end - at) / (end - start)) * 100)))
      if (Number.isFinite(done)) window = ` (${done}% of the window back to ${spec.since!.replace('T', ' ').replace(/\.\d+Z$/, 'Z')})`
    }

    progress.reached('', (line + window).trim())
  }
}

/** Workgroup names: letters, digits, . _ - (1 to 128). */
function checkWorkgroup(value: string): string {
  if (!/^[\w.-]{1,128}$/.test(value)) throw usageError(`--workgroup "${value}" is not a workgroup name.`, 'Try this: --workgroup primary')
  return value
}
