// Aliases: friendly names that point at keys. Names are checked before anything is sent
// (`alias/` prefix, allowed characters, never under the reserved `alias/aws/`), the previous
// target is looked up so that the journal can put it back, and an update only moves an alias
// between keys of the same type and usage, as KMS requires.
import type {AliasListEntry, KMSClient, KeyMetadata} from '@aws-sdk/client-kms'

import {kmsSdk} from './aws/sdk.js'
import {KmsctlError, fromAwsError, refusal, usageError} from './errors.js'
import {type ChangeContext, type JournalEntryInput, type JournalRecord, journaled} from './journal.js'
import {listAllAliases} from './aws/paging.js'
import {type ResolvedKey, resolveKey} from './key-ref.js'
import type {PlannedRequest} from './output.js'
import {type PlanInput, type Reverser, asObject, currentKey} from './undo/reverser.js'

/** Longest alias name KMS accepts, `alias/` included. */
export const ALIAS_MAX_LENGTH = 256
const ALIAS_CHARS = /^alias\/[a-zA-Z0-9/_-]+$/
const ALIAS_ARN = /^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:(alias\/.+)$/

/**
 * Checks an alias name the user typed for create, update or delete. Returns it unchanged when it is
 * valid; otherwise a usage error (exit 2) with the fix, or a refusal for the reserved `alias/aws/`.
 */
export function validateAliasName(raw: string, flag = 'NAME'): string {
  const name = raw.trim()
  const arn = ALIAS_ARN.exec(name)
  if (arn) throw usageError(`${flag} "${raw}" is an alias ARN; give the alias name.`, `Try this: ${arn[1]}`)
  if (!name.startsWith('alias/')) {
    const suggestion = /^[a-zA-Z0-9/_-]+$/.test(name) ? `alias/${name}` : 'alias/my-app-key'
    throw usageError(`${flag} "${raw}" is not an alias name: alias names start with "alias/".`, `Try this: ${suggestion}`)
  }

  if (name === 'alias/aws' || name.startsWith('alias/aws/')) {
    throw refusal(`${name} is under alias/aws/, which is reserved for AWS managed keys.`, 'Try this: choose a name outside alias/aws/, e.g. alias/my-app-key')
  }

  if (name.length > ALIAS_MAX_LENGTH) {
    throw usageError(`${flag} is ${name.length} characters long; KMS allows at most ${ALIAS_MAX_LENGTH}.`, 'Try this: a shorter alias name')
  }

  if (name === 'alias/' || !ALIAS_CHARS.test(name)) {
    throw usageError(`${flag} "${raw}" has characters KMS does not allow in alias names.`, 'Try this: letters, digits, "/", "_" and "-" after "alias/", e.g. alias/payments/prod')
  }

  return name
}

export interface AliasRow {
  aliasName: string
  aliasArn: string
  /** Undefined for AWS's predefined aliases of services not used yet in this region. */
  targetKeyId?: string
  creationDate?: string
  lastUpdatedDate?: string
  /** Under alias/aws/: points at an AWS managed key. */
  awsManaged: boolean
}

function toAliasRow(a: AliasListEntry): AliasRow {
  const aliasName = a.AliasName ?? ''
  return {
    aliasArn: a.AliasArn ?? '',
    aliasName,
    awsManaged: aliasName.startsWith('alias/aws/'),
    creationDate: a.CreationDate?.toISOString(),
    lastUpdatedDate: a.LastUpdatedDate?.toISOString(),
    targetKeyId: a.TargetKeyId,
  }
}

export interface AliasListOptions {
  /** Only the aliases of this key (any key reference). */
  key?: string
  /** Leave out the AWS managed aliases (alias/aws/*). */
  customerOnly?: boolean
}

export interface AliasListing {
  /** The key the listing was limited to, when --key was given. */
  key?: {keyId: string; arn: string}
  aliases: AliasRow[]
}

/** Every alias of the region (all pages), or of one key, sorted by name. */
export async function listAliases(kms: KMSClient, options: AliasListOptions = {}): Promise<AliasListing> {
  let key: ResolvedKey | undefined
  if (options.key) key = await resolveKey(kms, options.key)
  let entries: AliasListEntry[]
  try {
    entries = await listAllAliases(kms, key?.keyId)
  } catch (error) {
    throw fromAwsError(error, {key: options.key, operation: 'ListAliases'})
  }

  const aliases = entries
    .map((a) => toAliasRow(a))
    .filter((a) => !(options.customerOnly && a.awsManaged))
    .sort((a, b) => a.aliasName.localeCompare(b.aliasName))
  return {aliases, key: key ? {arn: key.arn, keyId: key.keyId} : undefined}
}

/** What an alias command is about to do: the requests, and what they overwrite. */
export interface AliasPlan {
  action: 'alias.create' | 'alias.delete' | 'alias.update'
  aliasName: string
  /** The key the alias points at now (update, delete). */
  previousTarget?: {keyId: string; arn: string}
  /** The key it will point at (create, update). */
  target?: {keyId: string; arn: string; ref: string}
  requests: PlannedRequest[]
  /** True when the alias already points at the requested key: nothing to send. */
  unchanged: boolean
}

/**
 * The key an existing alias points at, or undefined when the alias does not exist. KMS authorises
 * DescribeKey on an alias against the key it points at, so a denied lookup means the alias exists:
 * that is an ALREADY_EXISTS error (exit 2), its message ending with `denied.note` and naming `denied.remedy`.
 */
export async function findAlias(kms: KMSClient, aliasName: string, denied: {note?: string; remedy: string} = {remedy: 'Try this: choose another name'}): Promise<ResolvedKey | undefined> {
  try {
    return await resolveKey(kms, aliasName, {suggest: false})
  } catch (error) {
    if (error instanceof KmsctlError && error.code === 'NOT_FOUND') return undefined
    if (error instanceof KmsctlError && error.code === 'ACCESS_DENIED') {
      throw new KmsctlError('ALREADY_EXISTS', `${aliasName} already exists (it points at a key you may not describe)${denied.note ?? ''}.`, {
        details: {aliasName},
        exitCode: 2,
        remedy: denied.remedy,
      })
    }

    throw error
  }
}

function assertCustomerTarget(key: ResolvedKey): void {
  if (key.metadata.KeyManager === 'AWS') {
    throw refusal(`${key.ref} is an AWS managed key: aliases can only point at customer managed keys.`, 'Try this: kmsctl key list --manager CUSTOMER')
  }
}

/** Plans `alias create NAME KEY`: the name is free, the key exists and is customer managed. */
export async function planAliasCreate(kms: KMSClient, rawName: string, keyRef: string): Promise<AliasPlan> {
  const aliasName = validateAliasName(rawName)
  const target = await resolveKey(kms, keyRef)
  assertCustomerTarget(target)
  const existing = await findAlias(kms, aliasName)
  if (existing) {
    if (existing.keyId === target.keyId) {
      return {action: 'alias.create', aliasName, requests: [], target: {arn: target.arn, keyId: target.keyId, ref: keyRef}, unchanged: true}
    }

    throw new KmsctlError('ALREADY_EXISTS', `${aliasName} already exists and points at ${existing.keyId}.`, {
      details: {aliasName, targetKeyId: existing.keyId},
      exitCode: 2,
      remedy: `Try this: kmsctl alias update ${aliasName} ${keyRef} (to point it at the new key)`,
    })
  }

  return {
    action: 'alias.create',
    aliasName,
    requests: [{input: {AliasName: aliasName, TargetKeyId: target.keyId}, operation: 'CreateAlias'}],
    target: {arn: target.arn, keyId: target.keyId, ref: keyRef},
    unchanged: false,
  }
}

/** "symmetric encryption", "asymmetric (RSA_2048, SIGN_VERIFY)", "HMAC": KMS's notion of key type for UpdateAlias. */
export function keyTypeOf(m: KeyMetadata): string {
  const spec = m.KeySpec ?? m.CustomerMasterKeySpec ?? 'SYMMETRIC_DEFAULT'
  if (spec === 'SYMMETRIC_DEFAULT') return 'symmetric'
  if (spec.startsWith('HMAC_')) return 'HMAC'
  return 'asymmetric'
}

/** Plans `alias update NAME KEY`: the alias exists, the new key has the same type and usage as the old one. */
export async function planAliasUpdate(kms: KMSClient, rawName: string, keyRef: string): Promise<AliasPlan> {
  const aliasName = validateAliasName(rawName)
  const previous = await resolveKey(kms, aliasName)
  const target = await resolveKey(kms, keyRef)
  assertCustomerTarget(target)
  const base = {
    action: 'alias.update' as const,
    aliasName,
    previousTarget: {arn: previous.arn, keyId: previous.keyId},
    target: {arn: target.arn, keyId: target.keyId, ref: keyRef},
  }
  if (previous.keyId === target.keyId) return {...base, requests: [], unchanged: true}
  const [was, will] = [previous.metadata, target.metadata]
  if (keyTypeOf(was) !== keyTypeOf(will) || was.KeyUsage !== will.KeyUsage) {
    throw refusal(
      `${aliasName} points at a ${keyTypeOf(was)} ${was.KeyUsage} key; ${keyRef} is a ${keyTypeOf(will)} ${will.KeyUsage} key. KMS only moves an alias between keys of the same type and usage.`,
      `Try this: pick a ${keyTypeOf(was)} ${was.KeyUsage} key, or create a new alias (kmsctl alias create alias/NEW ${keyRef})`,
    )
  }

  return {...base, requests: [{input: {AliasName: aliasName, TargetKeyId: target.keyId}, operation: 'UpdateAlias'}], unchanged: false}
}

/** Plans `alias delete NAME`: the alias exists; records the key it points at. */
export async function planAliasDelete(kms: KMSClient, rawName: string): Promise<AliasPlan> {
  const aliasName = validateAliasName(rawName)
  const previous = await resolveKey(kms, aliasName)
  return {
    action: 'alias.delete',
    aliasName,
    previousTarget: {arn: previous.arn, keyId: previous.keyId},
    requests: [{input: {AliasName: aliasName}, operation: 'DeleteAlias'}],
    unchanged: false,
  }
}

/** Sends the planned request (one of CreateAlias, UpdateAlias, DeleteAlias). */
export async function applyAliasPlan(kms: KMSClient, plan: AliasPlan): Promise<void> {
  const sdk = await kmsSdk()
  for (const r of plan.requests) {
    const input = r.input as {AliasName: string; TargetKeyId?: string}
    try {
      // eslint-disable-next-line no-await-in-loop
      if (r.operation === 'CreateAlias') await kms.send(new sdk.CreateAliasCommand({AliasName: input.AliasName, TargetKeyId: input.TargetKeyId}))
      // eslint-disable-next-line no-await-in-loop
      else if (r.operation === 'UpdateAlias') await kms.send(new sdk.UpdateAliasCommand({AliasName: input.AliasName, TargetKeyId: input.TargetKeyId}))
      // eslint-disable-next-line no-await-in-loop
      else await kms.send(new sdk.DeleteAliasCommand({AliasName: input.AliasName}))
    } catch (error) {
      if ((error as Error)?.name === 'AlreadyExistsException') {
        throw new KmsctlError('ALREADY_EXISTS', `${plan.aliasName} already exists.`, {
          awsCode: 'AlreadyExistsException',
          awsMessage: (error as Error).message,
          cause: error,
          remedy: `Try this: kmsctl alias update ${plan.aliasName} KEY, or choose another name`,
        })
      }

      throw fromAwsError(error, {
        key: input.TargetKeyId ?? plan.aliasName,
        lookedUp: `alias ${plan.aliasName}`,
        operation: r.operation,
      })
    }
  }
}

/**
 * Records the plan in the journal with what it overwrites (the key the alias pointed at, or that
 * there was no alias), sends it, and records the outcome. Returns the journal entry's ID.
 */
export async function applyAliasPlanJournaled(kms: KMSClient, plan: AliasPlan, ctx: ChangeContext): Promise<string> {
  const {journal, ...origin} = ctx
  const {aliasName, previousTarget: previous, target} = plan
  const entry: Pick<JournalEntryInput, 'before' | 'key'> = target
    ? {
        before: previous ? {aliasName, targetArn: previous.arn, targetKeyId: previous.keyId} : {aliasName, exists: false},
        key: {arn: target.arn, keyId: target.keyId, ref: target.ref},
      }
    : {
        before: {aliasName, targetArn: previous!.arn, targetKeyId: previous!.keyId},
        key: {aliases: [aliasName], arn: previous!.arn, keyId: previous!.keyId, ref: aliasName},
      }
  const done = await journaled(
    journal,
    {...origin, action: plan.action, ...entry, request: plan.requests},
    () => applyAliasPlan(kms, plan),
    () => (target ? {aliasName, targetKeyId: target.keyId} : {aliasName, deleted: true}),
  )
  return done.entry.id
}

// ---------------------------------------------------------------------------------------------
// Undo: create -> delete, update -> point back, delete -> create again
// ---------------------------------------------------------------------------------------------

/** Alias name and targets of an alias entry, whichever shape it was recorded in. */
function aliasFields(r: JournalRecord): {aliasName?: string; targetKeyId?: string; previousKeyId?: string} {
  const before = asObject(r.before)
  const after = asObject(r.outcome?.after)
  const req = Array.isArray(r.request) ? asObject(asObject(r.request[0]).input) : asObject(r.request)
  return {
    aliasName: (before.aliasName ?? after.aliasName ?? req.aliasName ?? req.AliasName) as string | undefined,
    previousKeyId: before.targetKeyId as string | undefined,
    targetKeyId: (req.targetKeyId ?? req.TargetKeyId ?? after.targetKeyId ?? r.key?.keyId) as string | undefined,
  }
}

async function currentAlias(input: PlanInput, aliasName: string): Promise<AliasListEntry | undefined> {
  const aliases = await listAllAliases(input.kms, undefined, input.pacer).catch((error) => {
    throw fromAwsError(error, {operation: 'ListAliases'})
  })
  return aliases.find((a) => a.AliasName === aliasName)
}

/** Alias undos record their request in the shape alias commands use, so they can be undone in turn. */
const aliasUndoShape: Pick<Reverser, 'after' | 'request'> = {
  after(plan) {
    const input = plan.calls[0].input
    return plan.action === 'alias.delete' ? {aliasName: input.AliasName, deleted: true} : {aliasName: input.AliasName, targetKeyId: input.TargetKeyId}
  },
  request: (plan) => ({aliasName: plan.calls[0].input.AliasName, targetKeyId: plan.calls[0].input.TargetKeyId}),
}

export const aliasUndo: Record<'alias.create' | 'alias.delete' | 'alias.update', Reverser> = {
  'alias.create': {
    ...aliasUndoShape,
    async plan(input) {
      const {base, no, record} = input
      const {aliasName, targetKeyId} = aliasFields(record)
      if (!aliasName) return no('The entry does not name the alias.')
      const current = await currentAlias(input, aliasName)
      if (!current) return {...no(`${aliasName} no longer exists: nothing to undo.`), alreadyReversed: true}
      return {
        ...base,
        action: 'alias.delete',
        before: {aliasName, targetKeyId: current.TargetKeyId},
        calls: [{input: {AliasName: aliasName}, operation: 'DeleteAlias'}],
        description: `Delete ${aliasName} (created by ${record.id}; it points at ${current.TargetKeyId}).`,
        drift: targetKeyId && current.TargetKeyId !== targetKeyId ? `${aliasName} points at ${current.TargetKeyId} now, not ${targetKeyId} as ${record.id} left it` : undefined,
        possible: true,
      }
    },
    text: 'delete the alias',
  },
  'alias.delete': {
    ...aliasUndoShape,
    async plan(input) {
      const {base, no, record} = input
      const {aliasName, previousKeyId} = aliasFields(record)
      if (!aliasName) return no('The entry does not name the alias.')
      const current = await currentAlias(input, aliasName)
      if (current) return {...no(`${aliasName} exists again (it points at ${current.TargetKeyId}): nothing to undo.`), alreadyReversed: true}
      if (!previousKeyId) return no('The entry does not record the key the alias pointed at.')
      const now = await currentKey(input.kms, previousKeyId, input.pacer)
      if (now.gone) return no(`The key ${previousKeyId} that ${aliasName} pointed at no longer exists: the alias cannot be created again.`)
      return {
        ...base,
        action: 'alias.create',
        before: {aliasName, exists: false},
        calls: [{input: {AliasName: aliasName, TargetKeyId: previousKeyId}, operation: 'CreateAlias'}],
        description: `Create ${aliasName} again, pointing at ${previousKeyId}.`,
        possible: true,
      }
    },
    text: 'create the alias again',
  },
  'alias.update': {
    ...aliasUndoShape,
    async plan(input) {
      const {base, no, record} = input
      const {aliasName, previousKeyId, targetKeyId} = aliasFields(record)
      if (!aliasName) return no('The entry does not name the alias.')
      if (!previousKeyId) return no('The entry does not record the key the alias pointed at before.')
      const current = await currentAlias(input, aliasName)
      if (!current) return no(`${aliasName} no longer exists: create it with kmsctl alias create ${aliasName} ${previousKeyId}.`)
      if (current.TargetKeyId === previousKeyId) return {...no(`${aliasName} already points at ${previousKeyId}: nothing to undo.`), alreadyReversed: true}
      return {
        ...base,
        action: 'alias.update',
        before: {aliasName, targetKeyId: current.TargetKeyId},
        calls: [{input: {AliasName: aliasName, TargetKeyId: previousKeyId}, operation: 'UpdateAlias'}],
        description: `Point ${aliasName} back at ${previousKeyId} (it points at ${current.TargetKeyId}).`,
        drift: targetKeyId && current.TargetKeyId !== targetKeyId ? `${aliasName} points at ${current.TargetKeyId} now, not ${targetKeyId} as ${record.id} left it` : undefined,
        possible: true,
      }
    },
    text: 'point the alias back at its previous key',
  },
}
