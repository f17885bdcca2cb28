// Choosing the keys of a bulk action: references given as arguments, every customer-managed key
// with some tags, or a list from a file or stdin. Each key that cannot be read is that key's
// failure, not the run's; aliases are a nicety that the selection goes on without.
import type {AliasListEntry, KMSClient, KeyMetadata} from '@aws-sdk/client-kms'

import {listAllAliases, listAllKeyIds, listTags} from '../aws/paging.js'
import {kmsSdk} from '../aws/sdk.js'
import {type KmsctlError, fromAwsError, isRunWide, usageError} from '../errors.js'
import {aliasesOf, parseKeyRef, resolveKey} from '../key-ref.js'
import {Pacer} from '../pacing.js'
import {readLocalText} from '../local-file.js'

export interface KeySource {
  /** References given as arguments. */
  refs?: readonly string[]
  /** Every customer-managed key carrying all of these tags. */
  tags?: Readonly<Record<string, string>>
  /** Text of a reference list (--file or stdin), one reference a line. */
  listText?: string
  /** Where listText came from, for messages ("keys.txt", "stdin"). */
  listName?: string
}

export interface SelectedKey {
  /** The reference as given (or the key ID for keys found by tag). */
  ref: string
  keyId: string
  arn: string
  aliases: string[]
  state: string
  manager: string
  metadata: KeyMetadata
}

export interface UnresolvedKey {
  ref: string
  error: KmsctlError
}

export interface Selection {
  keys: SelectedKey[]
  /** References (or keys found by tag) that could not be read: not found, not allowed, failing. */
  unresolved: UnresolvedKey[]
  /** Why the aliases could not be read (ListAliases refused or failing); the keys are shown without them. */
  aliasesUnavailable?: string
}

/**
 * Parses a reference list: one reference a line; blank lines and `#` comments (whole-line or
 * trailing) are ignored. A malformed reference is a usage error naming its line.
 */
export function parseRefList(text: string, name = 'the list'): string[] {
  const refs: string[] = []
  const lines = text.split(/\r?\n/)
  for (const [i, line] of lines.entries()) {
    const hash = line.indexOf('#')
    const ref = (hash === -1 ? line : line.slice(0, hash)).trim()
    if (!ref) continue
    try {
      parseKeyRef(ref)
    } catch (error) {
      const e = error as KmsctlError
      throw usageError(`${name}, line ${i + 1}: ${e.message}`, e.remedy)
    }

    refs.push(ref)
  }

  return refs
}

/** Reads a reference list from a file, or from stdin when the name is "-". */
export async function readRefList(file: string, stdin: NodeJS.ReadableStream = process.stdin): Promise<{name: string; text: string}> {
  if (file === '-') {
    if ((stdin as NodeJS.ReadStream).isTTY) {
      throw usageError('Reading key references from stdin, but stdin is a terminal.', 'Try this: pipe the list in (cat keys.txt | kmsctl key disable -) or use --file keys.txt')
    }

    const chunks: Buffer[] = []
    for await (const chunk of stdin) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer))
    return {name: 'stdin', text: Buffer.concat(chunks).toString('utf8')}
  }

  return {name: file, text: await readLocalText(file, {flag: '--file', what: 'a text file with one key ID, ARN or alias a line'})}
}

/** Checks the references given before anything is sent; returns them in order, without duplicates. */
export function validateSource(source: KeySource): string[] {
  const refs: string[] = []
  for (const ref of source.refs ?? []) {
    parseKeyRef(ref)
    refs.push(ref.trim())
  }

  if (source.listText !== undefined) refs.push(...parseRefList(source.listText, source.listName))
  const hasTags = Object.keys(source.tags ?? {}).length > 0
  if (refs.length === 0 && !hasTags) {
    if (source.listText !== undefined) throw usageError(`${source.listName ?? 'The list'} names no key.`, 'Try this: one key ID, ARN or alias a line (# starts a comment)')
    throw usageError('No key given.', 'Try this: KEY... (ID, ARN or alias), --tag team=payments, or --file keys.txt (- for stdin)')
  }

  return [...new Set(refs)]
}

/** Every alias of the region, or why it could not be read. Never rejects. */
export async function readAliases(kms: KMSClient, pacer: Pacer): Promise<{aliases: AliasListEntry[]; unavailable?: string}> {
  try {
    return {aliases: await listAllAliases(kms, undefined, pacer)}
  } catch (error) {
    return {aliases: [], unavailable: fromAwsError(error, {operation: 'ListAliases'}).message}
  }
}

/**
 * Resolves the keys of a source: each reference with DescribeKey, and with tags every
 * customer-managed key of the region carrying them. Keys named twice appear once. A key that
 * cannot be read is in `unresolved` with the reason; only errors that concern the whole run
 * (credentials, network) are thrown.
 */
export async function selectKeys(kms: KMSClient, source: KeySource, options: {pacer?: Pacer} = {}): Promise<Selection> {
  const refs = validateSource(source)
  const pacer = options.pacer ?? new Pacer()
  const aliasRead = readAliases(kms, pacer)
  const unresolved: UnresolvedKey[] = []
  const found: Array<SelectedKey | undefined> = await Promise.all(
    refs.map(async (ref) => {
      try {
        const r = await pacer.run('DescribeKey', () => resolveKey(kms, ref))
        return selected(ref, r.metadata)
      } catch (error) {
        const e = fromAwsError(error, {key: ref, operation: 'DescribeKey'})
        if (isRunWide(e)) throw e
        unresolved.push({error: e, ref})
        return undefined
      }
    }),
  )

  if (Object.keys(source.tags ?? {}).length > 0) {
    const tagged = await selectByTags(kms, source.tags ?? {}, pacer, aliasRead, unresolved)
    found.push(...tagged)
  }

  const {aliases, unavailable} = await aliasRead
  const seen = new Set<string>()
  const keys: SelectedKey[] = []
  for (const k of found) {
    if (!k || seen.has(k.keyId)) continue
    seen.add(k.keyId)
    k.aliases = aliasesOf(k.keyId, aliases)
    if (k.ref === k.keyId && k.aliases.length > 0) k.ref = k.aliases[0]
    keys.push(k)
  }

  return {aliasesUnavailable: unavailable, keys, unresolved}
}

function selected(ref: string, m: KeyMetadata): SelectedKey {
  return {aliases: [], arn: m.Arn ?? '', keyId: m.KeyId ?? ref, manager: m.KeyManager ?? '', metadata: m, ref, state: m.KeyState ?? ''}
}

/**
 * The customer-managed keys carrying every tag. AWS-managed keys (alias/aws/*) cannot carry tags:
 * not asked. The others are asked for their tags first and described only when they match, which
 * is the fewer calls in most accounts. A key whose tags or metadata cannot be read is added to
 * `unresolved` (unless it turns out not to be a customer key); a key deleted meanwhile is left out.
 */
async function selectByTags(
  kms: KMSClient,
  tags: Readonly<Record<string, string>>,
  pacer: Pacer,
  aliasRead: ReturnType<typeof readAliases>,
  unresolved: UnresolvedKey[],
): Promise<Array<SelectedKey | undefined>> {
  const {DescribeKeyCommand} = await kmsSdk()
  let ids: Array<{KeyId: string}>
  try {
    ids = await listAllKeyIds(kms, pacer)
  } catch (error) {
    throw fromAwsError(error, {operation: 'ListKeys'})
  }

  const awsManaged = new Set((await aliasRead).aliases.filter((a) => a.AliasName?.startsWith('alias/aws/')).map((a) => a.TargetKeyId))
  const describe = async (KeyId: string): Promise<KeyMetadata | KmsctlError> => {
    try {
      return (await pacer.run('DescribeKey', () => kms.send(new DescribeKeyCommand({KeyId})))).KeyMetadata ?? {KeyId}
    } catch (error) {
      return fromAwsError(error, {key: KeyId, operation: 'DescribeKey'})
    }
  }

  const isError = (v: KeyMetadata | KmsctlError): v is KmsctlError => v instanceof Error
  return Promise.all(
    ids.map(async ({KeyId}): Promise<SelectedKey | undefined> => {
      if (awsManaged.has(KeyId)) return undefined
      let keyTags: Record<string, string>
      try {
        keyTags = await listTags(kms, KeyId, pacer)
      } catch (error) {
        const e = fromAwsError(error, {key: KeyId, operation: 'ListResourceTags'})
        if (isRunWide(e)) throw e
        if (e.code === 'NOT_FOUND') return undefined
        const m = await describe(KeyId)
        if (!isError(m) && m.KeyManager !== 'CUSTOMER') return undefined
        unresolved.push({error: e, ref: KeyId})
        return undefined
      }

      for (const [k, v] of Object.entries(tags)) if (keyTags[k] !== v) return undefined
      const m = await describe(KeyId)
      if (isError(m)) {
        if (isRunWide(m)) throw m
        if (m.code !== 'NOT_FOUND') unresolved.push({error: m, ref: KeyId})
        return undefined
      }

      if (m.KeyManager !== 'CUSTOMER') return undefined
      return selected(KeyId, m)
    }),
  )
}
