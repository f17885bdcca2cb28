// The flags that take a command across accounts and regions, and the rendering every such command
// shares: the progress line (stderr, on a terminal), the closing summary per account-region and
// the naming of each failed account-region.
import {Flags} from '@oclif/core'

import type {TargetSummary} from '../lib/org/run.js'
import {DEFAULT_MAX_PARALLEL, MAX_PARALLEL_LIMIT, type RoleSpec, type Targets, parseRole, parseTargets} from '../lib/org/targets.js'
import {type Column, type Progress, chalk, renderTable} from '../lib/output.js'

const ORG = 'ORGANISATION'

/** The role that reaches a key in another account (a key ARN given to describe, contain, undo). */
export const roleFlags = {
  'external-id': Flags.string({description: 'External ID the role\'s trust policy requires.', helpGroup: ORG}),
  'role-arn-template': Flags.string({description: "Role to assume in the key's account, as an ARN with {account}.", helpGroup: ORG}),
  'role-name': Flags.string({description: "Role to assume when the key is in another account (env KMSCTL_ROLE_NAME).", helpGroup: ORG}),
}

/** The role the flags (or KMSCTL_ROLE_NAME) name, if any. */
export function roleFrom(flags: {'external-id'?: string; 'role-arn-template'?: string; 'role-name'?: string}): RoleSpec | undefined {
  return parseRole({externalId: flags['external-id'], roleArnTemplate: flags['role-arn-template'], roleName: flags['role-name']})
}

/** --accounts, --accounts-file, --org, --exclude-accounts, --regions, --all-regions and how to reach each account. */
export const orgFlags = {
  accounts: Flags.string({description: 'Work in these accounts (comma-separated or repeated), reached through --role-name.', helpGroup: ORG, multiple: true}),
  'accounts-file': Flags.string({description: 'Work in the accounts listed in this file (one a line, # comments).', helpGroup: ORG}),
  'all-regions': Flags.boolean({description: 'Work in every region enabled in each account (account:ListRegions).', helpGroup: ORG}),
  'exclude-accounts': Flags.string({description: 'Leave these accounts out (with --org, --accounts or --accounts-file).', helpGroup: ORG, multiple: true}),
  'external-id': Flags.string({description: 'External ID the role\'s trust policy requires.', helpGroup: ORG}),
  'max-parallel': Flags.integer({description: `Most account-regions worked on at once (default ${DEFAULT_MAX_PARALLEL}); each has its own request pacing.`, helpGroup: ORG, max: MAX_PARALLEL_LIMIT, min: 1}),
  org: Flags.boolean({description: 'Work in every ACTIVE account of the organisation (Organizations ListAccounts).', helpGroup: ORG}),
  regions: Flags.string({description: 'Work in these regions (comma-separated or repeated).', helpGroup: ORG, multiple: true}),
  'role-arn-template': Flags.string({description: "Role to assume in each account, as an ARN with {account}: 'arn:aws:iam::{account}:role/Ops'.", helpGroup: ORG}),
  'role-name': Flags.string({description: 'Role to assume in each other account (env KMSCTL_ROLE_NAME); never assumed unless named.', helpGroup: ORG}),
}

/**
 * The organisation flags of `trail query` and `trail who`, whose --accounts, --regions and
 * --all-regions are source flags (see trail-flags.ts): with --source api, --accounts, --accounts-file
 * or --org read LookupEvents in every account-region through the role.
 */
export const trailOrgFlags = {
  'accounts-file': Flags.string({description: 'api: read the accounts listed in this file (one a line, # comments), through --role-name.', helpGroup: ORG}),
  'exclude-accounts': Flags.string({description: 'api: leave these accounts out (with --org, --accounts or --accounts-file).', helpGroup: ORG, multiple: true}),
  'external-id': orgFlags['external-id'],
  'max-parallel': orgFlags['max-parallel'],
  org: Flags.boolean({description: 'api: read every ACTIVE account of the organisation (Organizations ListAccounts), through --role-name.', helpGroup: ORG}),
  'role-arn-template': orgFlags['role-arn-template'],
  'role-name': orgFlags['role-name'],
}

export interface OrgFlagValues {
  accounts?: string | string[]
  'accounts-file'?: string
  'all-regions'?: boolean
  'exclude-accounts'?: string[]
  'external-id'?: string
  'max-parallel'?: number
  org?: boolean
  regions?: string | string[]
  'role-arn-template'?: string
  'role-name'?: string
}

/** The targets the flags name, or undefined when none is given (the command works as it always has). */
export function targetsFrom(flags: OrgFlagValues): Targets | undefined {
  return parseTargets({
    accounts: flags.accounts,
    accountsFile: flags['accounts-file'],
    allRegions: flags['all-regions'],
    excludeAccounts: flags['exclude-accounts'],
    externalId: flags['external-id'],
    maxParallel: flags['max-parallel'],
    org: flags.org,
    regions: flags.regions,
    roleArnTemplate: flags['role-arn-template'],
    roleName: flags['role-name'],
  })
}

/** The progress line of a fan-out: account-regions done of their total, and what was seen so far. */
export function progressReporter(progress: Progress, noun: string): (done: number, total: number, seen: number) => void {
  return (done, total, seen) => progress.update(`Account-regions: ${done}/${total} done, ${seen} ${noun} so far`, done === total)
}

/** Account and Region columns of a listing across accounts or regions: short, fixed, never dropped. */
export function whereColumns<R extends {account?: string; region?: string}>(): Array<Column<R>> {
  return [
    {align: 'left', get: (r) => r.account ?? '', header: 'Account', kind: 'fixed', priority: 1},
    {get: (r) => r.region ?? '', header: 'Region', kind: 'fixed', priority: 1},
  ]
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`

/** The closing summary: one row per account-region, and a line per failure with its remedy. */
export function renderSummary(summaries: readonly TargetSummary[], noun: string, width?: number): string {
  const withChanges = summaries.some((s) => s.changed !== undefined)
  const table = renderTable(
    summaries,
    [
      {align: 'left', get: (s) => s.account, header: 'Account', kind: 'fixed'},
      {get: (s) => s.region, header: 'Region', kind: 'fixed'},
      {get: (s) => (s.role ? s.role.split('/').slice(1).join('/') : '(caller)'), header: 'Role', kind: 'name'},
      {get: (s) => (s.error ? '-' : String(s.seen)), header: noun[0].toUpperCase() + noun.slice(1), kind: 'fixed'},
      ...(withChanges ? [{get: (s: TargetSummary) => (s.error ? '-' : String(s.changed ?? 0)), header: 'Changed', kind: 'fixed' as const}] : []),
      {get: (s) => (s.error ? chalk.red('failed') : s.failed > 0 ? chalk.yellow(String(s.failed)) : '0'), header: 'Failed', kind: 'fixed'},
    ],
    width,
  )
  const failedTargets = summaries.filter((s) => s.error)
  const lines = [table]
  const total = summaries.reduce((n, s) => n + s.seen, 0)
  lines.push(`${plural(summaries.length, 'account-region')}: ${total} ${noun}${failedTargets.length > 0 ? `, ${failedTargets.length} failed` : ''}`)
  for (const s of failedTargets) {
    lines.push(`${chalk.red('Failed:')} ${s.account}/${s.region}: ${s.error!.message}`)
    if (s.error!.remedy) lines.push(`  ${s.error!.remedy}`)
  }

  return lines.join('\n')
}
