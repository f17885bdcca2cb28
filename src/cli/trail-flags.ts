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

const SOURCE = 'SOURCE'
const FILTER = 'FILTER'

export const sourceFlags = {
  'all-regions': Flags.boolean({
    description: 'api: read every region enabled by default, in parallel.',
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
  regions: Flags.string({
    description: 'api: comma-separated regions to read in parallel (default: the current region).',
    helpGroup: SOURCE,
  }),
  source: Flags.string({
    default: 'api',
    description: 'Where to read events: api (LookupEvents, last 90 days), files (log files: give PATH...), lake (CloudTrail Lake).',
    helpGroup: SOURCE,
    options: [...TRAIL_SOURCES],
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

export interface SourceFlagValues {
  'all-regions'?: boolean
  'event-data-store'?: string
  'max-events'?: number
  rate?: string
  regions?: string
  source?: string
  workers?: number
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
): Promise<TrailQueryOptions> {
  const source = (flags.source ?? 'api') as TrailSource
  const rate = parseRate(flags.rate)
  if (source === 'files' && paths.length === 0) {
    throw usageError('--source files needs one or more paths: log files or directories holding them.', 'Try this: kmsctl trail query --source files ./AWSLogs --key alias/payments')
  }

  if (source !== 'files' && paths.length > 0) {
    throw usageError(`Paths are only read with --source files (got ${paths[0]}).`, `Try this: kmsctl trail query --source files ${paths.join(' ')}`)
  }

  if (source === 'lake' && !flags['event-data-store']) {
    throw usageError('--source lake needs --event-data-store.', 'Try this: --event-data-store arn:aws:cloudtrail:REGION:ACCOUNT:eventdatastore/ID')
  }

  if (source !== 'lake' && flags['event-data-store']) throw usageError('--event-data-store is only used with --source lake.', 'Try this: --source lake')
  if (source !== 'api' && (flags.regions || flags['all-regions'])) throw usageError('--regions and --all-regions are for --source api.', 'Try this: --source api')
  const base: TrailQueryOptions = {maxEvents: flags['max-events'], paths, source, spec, workers: flags.workers}
  if (source === 'files') return base
  if (source === 'lake') {
    const {eventDataStoreId} = await import('../lib/trail/sources/lake.js')
    eventDataStoreId(flags['event-data-store']!)
  }

  let regions: string[]
  if (flags['all-regions']) {
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
    async resolveKey(ref: string): Promise<ResolvedKeyForms> {
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
    },
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
