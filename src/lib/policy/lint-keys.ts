// Lint the policies of many keys: every customer-managed key of a region (or those with some tags),
// each policy read with GetKeyPolicy under its quota and linted with the rules of lint.ts. A key
// whose policy cannot be read is that key's failure; the others are still linted.
import type {KMSClient, KeyMetadata} from '@aws-sdk/client-kms'

import {listTags} from '../aws/paging.js'
import {kmsSdk} from '../aws/sdk.js'
import {fromAwsError, isRunWide} from '../errors.js'
import {listKeysWithAliases} from '../inventory.js'
import {Pacer} from '../pacing.js'
import {type Finding, lintPolicyText} from './lint.js'
import {arnAccount} from './model.js'
import {fetchKeyPolicy} from './source.js'

/** The lint of one key's policy. */
export interface KeyPolicyLint {
  aliases: string[]
  arn: string
  errors: number
  findings: Finding[]
  keyId: string
  warnings: number
}

/** A key whose policy could not be linted (its metadata, tags or policy could not be read). */
export interface KeyLintFailure {
  code: string
  keyId?: string
  message: string
  operation: string
}

export interface KeysLint {
  failures: KeyLintFailure[]
  keys: KeyPolicyLint[]
}

export interface LintKeysOptions {
  onProgress?: (done: number, total: number) => void
  pacer?: Pacer
  /** Only keys with every one of these tags. */
  tags?: Readonly<Record<string, string>>
}

/**
 * Lints the policy of every customer-managed key of the region (AWS-managed keys have AWS's own
 * policy, and keys pending deletion are left out), or of those carrying every tag. Keys come back
 * in ListKeys order; a key deleted meanwhile is simply gone.
 */
export async function lintKeyPolicies(kms: KMSClient, options: LintKeysOptions = {}): Promise<KeysLint> {
  const pacer = options.pacer ?? new Pacer({concurrency: 32})
  const {DescribeKeyCommand} = await kmsSdk()
  const {aliases, failures: listing, keys} = await listKeysWithAliases(kms, pacer)
  const failures: KeyLintFailure[] = [...listing]
  const wantTags = Object.keys(options.tags ?? {}).length > 0
  let done = 0
  const linted = await Promise.all(
    keys.map(async ({KeyId}): Promise<KeyPolicyLint | undefined> => {
      const known = aliases.get(KeyId) ?? []
      if (known.some((a) => a.startsWith('alias/aws/'))) {
        options.onProgress?.(++done, keys.length)
        return undefined
      }

      let operation = 'DescribeKey'
      try {
        const m: KeyMetadata | undefined = (await pacer.run('DescribeKey', () => kms.send(new DescribeKeyCommand({KeyId})))).KeyMetadata
        if (!m || m.KeyManager !== 'CUSTOMER' || m.KeyState === 'PendingDeletion' || m.KeyState === 'PendingReplicaDeletion') return undefined
        if (wantTags) {
          operation = 'ListResourceTags'
          const tags = await listTags(kms, KeyId, pacer)
          for (const [k, v] of Object.entries(options.tags ?? {})) if (tags[k] !== v) return undefined
        }

        operation = 'GetKeyPolicy'
        const text = await pacer.run('GetKeyPolicy', () => fetchKeyPolicy(kms, KeyId))
        const arn = m.Arn ?? ''
        const lint = lintPolicyText(text, {keyAccount: arnAccount(arn) ?? m.AWSAccountId})
        return {aliases: [...known].sort(), arn, errors: lint.errors, findings: lint.findings, keyId: KeyId, warnings: lint.warnings}
      } catch (error) {
        const e = fromAwsError(error, {key: KeyId, operation})
        if (isRunWide(e)) throw e
        if (e.code !== 'NOT_FOUND') failures.push({code: e.code, keyId: KeyId, message: e.message, operation})
        return undefined
      } finally {
        options.onProgress?.(++done, keys.length)
      }
    }),
  )
  return {failures, keys: linted.filter((k): k is KeyPolicyLint => k !== undefined)}
}

/** One finding of one key: the rows of the table, --csv and --ndjson. */
export interface KeyFindingRow extends Finding {
  account?: string
  alias?: string
  keyArn: string
  keyId: string
  region?: string
}

/** The findings of linted keys, one row each, in key order. */
export function findingRows(keys: ReadonlyArray<KeyPolicyLint & {account?: string; region?: string}>): KeyFindingRow[] {
  return keys.flatMap((k) =>
    k.findings.map((f) => ({
      ...(k.account === undefined ? {} : {account: k.account, region: k.region}),
      ...(k.aliases[0] ? {alias: k.aliases[0]} : {}),
      keyArn: k.arn,
      keyId: k.keyId,
      ...f,
    })),
  )
}
