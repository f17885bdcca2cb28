// The realism flags of `kmsctl sandbox serve` and `kmsctl sandbox config`, and their parsing into settings.
import {Flags} from '@oclif/core'

import {type RealismSettings, formatLatency, parseLatency, parseQuotas, parseRate, parseScale} from '../sandbox/limits/settings.js'

const GROUP = 'REALISM'

export const realismFlags = {
  'drop-rate': Flags.string({description: 'Fraction of requests whose connection is closed without an answer, e.g. 0.01.', helpGroup: GROUP}),
  'fail-rate': Flags.string({description: 'Fraction of requests answered HTTP 500 (KMSInternalException), e.g. 0.05.', helpGroup: GROUP}),
  latency: Flags.string({description: 'Delay added to every request: 30ms, a range such as 10ms-50ms, or none.', helpGroup: GROUP}),
  quotas: Flags.string({description: "Request-rate quotas: aws (KMS's published rates, LookupEvents 2/s) or off.", helpGroup: GROUP}),
  'quotas-scale': Flags.string({description: 'Multiply every quota by this factor, e.g. 0.5 or 10.', helpGroup: GROUP}),
}

export interface RealismFlagValues {
  'drop-rate'?: string
  'fail-rate'?: string
  latency?: string
  quotas?: string
  'quotas-scale'?: string
}

/** The settings the flags give (only those given); usage errors name the flag. */
export function settingsFromFlags(flags: RealismFlagValues): Partial<RealismSettings> {
  const out: Partial<RealismSettings> = {}
  if (flags.quotas !== undefined) out.quotas = parseQuotas(flags.quotas)
  if (flags['quotas-scale'] !== undefined) out.quotasScale = parseScale(flags['quotas-scale'])
  if (flags.latency !== undefined) out.latency = flags.latency === 'none' || flags.latency === '0' ? undefined : parseLatency(flags.latency)
  if (flags['fail-rate'] !== undefined) out.failRate = parseRate(flags['fail-rate'], 'fail-rate')
  if (flags['drop-rate'] !== undefined) out.dropRate = parseRate(flags['drop-rate'], 'drop-rate')
  return out
}

/** One line describing the settings, or undefined when everything is off. */
export function describeSettings(s: RealismSettings): string | undefined {
  const parts: string[] = []
  if (s.quotas === 'aws') parts.push(`quotas aws${s.quotasScale === 1 ? '' : ` x${s.quotasScale}`}`)
  if (s.latency) parts.push(`latency ${formatLatency(s.latency)}`)
  if (s.failRate > 0) parts.push(`fail-rate ${s.failRate}`)
  if (s.dropRate > 0) parts.push(`drop-rate ${s.dropRate}`)
  return parts.length > 0 ? parts.join(', ') : undefined
}
