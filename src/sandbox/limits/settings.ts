// The sandbox's limits and faults settings: request-rate quotas and injected faults. Off by default. They come
// from the sandbox directory's config.json (for the in-process sandbox, `kmsctl sandbox config`) and,
// when serving, from `kmsctl sandbox serve` flags, which win over the file.
import {readFileSync} from 'node:fs'
import {join} from 'node:path'

import {usageError} from '../../lib/errors.js'
import {tryParseDuration} from '../../lib/parse.js'
import {fileSignature} from '../store/signature.js'
import {writeAtomic} from '../store/store.js'

export const CONFIG_FILE = 'config.json'

export interface LatencyRange {
  maxMs: number
  minMs: number
}

export interface RealismSettings {
  /** Fraction of requests whose connection is closed without an answer (0..1). */
  dropRate: number
  /** Fraction of requests answered HTTP 500 KMSInternalException / InternalFailure (0..1). */
  failRate: number
  /** Added to every request: a fixed delay or a uniformly drawn one. */
  latency?: LatencyRange
  quotas: 'aws' | 'off'
  /** Multiplies every quota (with quotas "aws"). */
  quotasScale: number
}

export const DEFAULT_SETTINGS: RealismSettings = {dropRate: 0, failRate: 0, quotas: 'off', quotasScale: 1}

/** The config file's form: the same settings, latency as text ("30ms", "10ms-50ms"). */
export interface ConfigFile {
  dropRate?: number
  failRate?: number
  latency?: string
  quotas?: 'aws' | 'off'
  quotasScale?: number
}

export function parseLatency(text: string, flag = 'latency'): LatencyRange {
  const parts = text.split('-').map((p) => p.trim())
  const ms = parts.map((p) => tryParseDuration(p) ?? (/^\d+$/.test(p) ? Number(p) : undefined))
  if (parts.length > 2 || ms.some((v) => v === undefined)) {
    throw usageError(`--${flag} "${text}" is not a latency.`, `Try this: --${flag} 30ms, or a range: --${flag} 10ms-50ms`)
  }

  const [minMs, maxMs = minMs] = ms as number[]
  if (maxMs < minMs) throw usageError(`--${flag} "${text}": the range goes down.`, `Try this: --${flag} ${parts[1]}-${parts[0]}`)
  if (maxMs > 60_000) throw usageError(`--${flag} "${text}" is over a minute.`, `Try this: --${flag} 30ms`)
  return {maxMs, minMs}
}

export function formatLatency(l: LatencyRange | undefined): string {
  if (!l) return 'none'
  return l.minMs === l.maxMs ? `${l.minMs}ms` : `${l.minMs}ms-${l.maxMs}ms`
}

export function parseRate(text: string | number, flag: string): number {
  const n = typeof text === 'number' ? text : Number(text)
  if (!Number.isFinite(n) || n < 0 || n > 1 || (typeof text === 'string' && text.trim() === '')) {
    throw usageError(`--${flag} "${text}" is not a fraction between 0 and 1.`, `Try this: --${flag} 0.05 (5% of requests)`)
  }

  return n
}

export function parseQuotas(text: string, flag = 'quotas'): 'aws' | 'off' {
  if (text === 'aws' || text === 'off') return text
  throw usageError(`--${flag} "${text}" is not a quota set.`, `Try this: --${flag} aws (KMS's published rates) or --${flag} off`)
}

export function parseScale(text: string | number, flag = 'quotas-scale'): number {
  const n = typeof text === 'number' ? text : Number(text)
  if (!Number.isFinite(n) || n <= 0 || n > 1000) throw usageError(`--${flag} "${text}" is not a positive factor.`, `Try this: --${flag} 0.5 (half of every rate)`)
  return n
}

/** Settings from the config file's form; throws a usage error naming the bad member. */
export function settingsFromConfig(file: ConfigFile): RealismSettings {
  return {
    dropRate: file.dropRate === undefined ? 0 : parseRate(file.dropRate, 'drop-rate'),
    failRate: file.failRate === undefined ? 0 : parseRate(file.failRate, 'fail-rate'),
    ...(file.latency ? {latency: parseLatency(file.latency)} : {}),
    quotas: file.quotas === undefined ? 'off' : parseQuotas(file.quotas),
    quotasScale: file.quotasScale === undefined ? 1 : parseScale(file.quotasScale),
  }
}

export function configToFile(s: RealismSettings): ConfigFile {
  return {
    dropRate: s.dropRate,
    failRate: s.failRate,
    ...(s.latency ? {latency: formatLatency(s.latency)} : {}),
    quotas: s.quotas,
    quotasScale: s.quotasScale,
  }
}

export const configPath = (dir: string): string => join(dir, CONFIG_FILE)

export function readConfigFile(dir: string): ConfigFile {
  let text: string
  try {
    text = readFileSync(configPath(dir), 'utf8')
  } catch {
    return {}
  }

  const parsed = JSON.parse(text) as ConfigFile
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error(`${CONFIG_FILE} in the sandbox directory is not a JSON object.`)
  return parsed
}

export function writeConfigFile(dir: string, settings: RealismSettings): void {
  writeAtomic(configPath(dir), JSON.stringify(configToFile(settings), null, 2) + '\n')
}

/** The settings in force: the config file (re-read when it changes) under the overrides given when serving. */
export class SettingsSource {
  private cache?: {settings: RealismSettings; signature: string}
  private readonly dir: string
  private readonly overrides: Partial<RealismSettings>

  constructor(dir: string, overrides: Partial<RealismSettings> = {}) {
    this.dir = dir
    this.overrides = overrides
  }

  current(): RealismSettings {
    const signature = fileSignature(configPath(this.dir))

    if (this.cache?.signature === signature) return this.cache.settings
    let fromFile: RealismSettings
    try {
      fromFile = settingsFromConfig(readConfigFile(this.dir))
    } catch {
      fromFile = this.cache?.settings ?? DEFAULT_SETTINGS
    }

    const settings: RealismSettings = {...fromFile, ...definedOnly(this.overrides)}
    // `--latency none` given when serving turns off a latency the file sets.
    if (Object.hasOwn(this.overrides, 'latency') && this.overrides.latency === undefined) delete settings.latency
    this.cache = {settings, signature}
    return settings
  }
}

function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>
}
