// The audit's data: what is read about each key (facts), what the checks conclude (findings), and
// the options the checks take.
import type {KeyMetadata} from '@aws-sdk/client-kms'

import type {LastUsage, TrailUsage} from '../deletion/recent-use.js'
import type {GrantInfo} from '../grants/list.js'
import type {Severity} from './registry.js'

export interface AuditOptions {
  /** Accounts (12 digits) whose principals may use the keys: no cross-account finding for them. */
  trustedAccounts: string[]
  /** Principal ARNs that administer keys, besides the key account's root. */
  adminPrincipals: string[]
  disabledDays: number
  unusedDays: number
  /** A key pending deletion that was used within this many days is a finding. */
  recentDays: number
  requireTags: string[]
  /** Grants on one key from which grants-near-quota is raised. */
  grantThreshold: number
  now: Date
}

export const GRANTS_PER_KEY_QUOTA = 50_000

/** States of a key on its way to deletion (a multi-Region primary waits for its replicas first). */
export const PENDING: ReadonlySet<string> = new Set(['PendingDeletion', 'PendingReplicaDeletion'])

export const DEFAULT_OPTIONS: Omit<AuditOptions, 'now'> = {
  adminPrincipals: [],
  disabledDays: 90,
  grantThreshold: 40_000,
  recentDays: 30,
  requireTags: ['owner'],
  trustedAccounts: [],
  unusedDays: 90,
}

export interface RotationFact {
  status: 'n/a' | 'off' | 'on'
  periodDays?: number
  reason?: string
}

/** When a disabled key was disabled, and how that is known. */
export interface DisabledSince {
  /** ISO time of the change that disabled it, when found. */
  time?: string
  /** At least this many days, when only a lower bound is known (no event in CloudTrail's window). */
  atLeastDays?: number
  source: 'cloudtrail' | 'journal' | 'key metadata'
  detail: string
}

export interface KeyFacts {
  keyId: string
  arn: string
  account: string
  region: string
  aliases: string[]
  metadata: KeyMetadata
  policyText?: string
  grants?: GrantInfo[]
  tags?: Record<string, string>
  rotation?: RotationFact
  lastUsage?: LastUsage
  /** CloudTrail use in the recent window (keys pending deletion only). */
  trail?: TrailUsage
  disabledSince?: DisabledSince
  /** Reads that failed, by operation, with why. */
  unavailable: Record<string, string>
}

/** What a check function returns: the registry adds severity, title and remedy. */
export interface RawFinding {
  check: string
  message: string
  /** What in the key the finding is about (a principal, a grant ID, an alias): part of the fingerprint. */
  subject?: string
  /** The alias or grant the remedy command names. */
  alias?: string
  grant?: string
  evidence?: Record<string, unknown>
}

export interface BaselineMark {
  status: 'accepted' | 'expired'
  reason: string
  expires: string
}

export interface AuditFinding {
  /** Account and region (audits across accounts or regions only). */
  account?: string
  region?: string
  check: string
  severity: Severity
  title: string
  keyId: string
  keyArn: string
  /** The key as people know it: its first alias, else its ID. */
  key: string
  message: string
  remedy: string
  /** The kmsctl command that fixes it, when there is one. */
  command?: string
  subject?: string
  evidence?: Record<string, unknown>
  /** Stable across runs: check, key ARN and subject. */
  fingerprint: string
  baseline?: BaselineMark
}

/** A check that could not run on a key, and why. */
export interface NotChecked {
  account?: string
  region?: string
  check: string
  keyId: string
  reason: string
}
