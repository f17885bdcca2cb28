// Aliases: CreateAlias, UpdateAlias, DeleteAlias and ListAliases (50 aliases per key at most; the
// alias/aws/ prefix is reserved for AWS-managed keys).
import {err, validationError} from '../errors.js'
import type {KeyRecord, SandboxState} from '../store/state.js'
import {type OpContext, authorize} from './context.js'
import {page, str} from './input.js'
import {aliasArn, findKey, requireCustomerManaged, requireNotPendingDeletion, seconds} from './key-record.js'
import {type Operation, type OperationSpec, spec} from './operation.js'

const ALIAS_NAME = /^alias\/[a-zA-Z0-9/_-]+$/
const MAX_ALIASES_PER_KEY = 50

function aliasNameFrom(input: Record<string, any>, forWrite: boolean): string {
  const name = str(input, 'AliasName', {max: 256, pattern: /^[a-zA-Z0-9:/_-]+$/, required: true})!
  if (!name.startsWith('alias/')) throw err('ValidationException', `Alias must start with the prefix "alias/". Please see https://docs.aws.amazon.com/kms/latest/developerguide/kms-alias.html`)
  if (!ALIAS_NAME.test(name)) throw validationError('aliasName', name, `Member must satisfy regular expression pattern: ${ALIAS_NAME.source}`)
  if (forWrite && name.startsWith('alias/aws/')) {
    throw err('NotAuthorizedException', `Cannot create, update or delete the alias ${name}: the alias/aws/ prefix is reserved for AWS managed keys.`)
  }

  return name
}

function targetKey(ctx: OpContext, input: Record<string, any>): KeyRecord {
  const ref = str(input, 'TargetKeyId', {max: 2048, required: true})!
  if (ref.startsWith('alias/') || /:alias\//.test(ref)) throw err('ValidationException', `TargetKeyId must be a key ID or key ARN, not an alias: ${ref}`)
  const key = findKey(ctx, ref)
  authorize(ctx, key, input)
  return key
}

function aliasesOf(state: SandboxState, key: KeyRecord) {
  return Object.values(state.aliases).filter((a) => a.targetKeyArn === key.arn)
}

const CreateAlias: Operation = (input, ctx) => {
  const name = aliasNameFrom(input, true)
  const key = targetKey(ctx, input)
  requireCustomerManaged(ctx, key)
  requireNotPendingDeletion(key)
  const arn = aliasArn(ctx.region, name)
  if (ctx.state.aliases[arn]) throw err('AlreadyExistsException', `An alias with the name ${arn} already exists`)
  if (aliasesOf(ctx.state, key).length >= MAX_ALIASES_PER_KEY) {
    throw err('LimitExceededException', `The KMS key ${key.arn} already has ${MAX_ALIASES_PER_KEY} aliases, the most allowed.`)
  }

  const now = ctx.clock.nowMs()
  ctx.state.aliases[arn] = {arn, createdAt: now, name, region: ctx.region, targetKeyArn: key.arn, updatedAt: now}
  return {}
}

const UpdateAlias: Operation = (input, ctx) => {
  const name = aliasNameFrom(input, true)
  const arn = aliasArn(ctx.region, name)
  const alias = ctx.state.aliases[arn]
  if (!alias) throw err('NotFoundException', `Alias ${arn} is not found.`)
  const key = targetKey(ctx, input)
  requireCustomerManaged(ctx, key)
  requireNotPendingDeletion(key)
  const current = ctx.state.keys[alias.targetKeyArn]
  if (current && (current.keySpec !== key.keySpec || current.keyUsage !== key.keyUsage)) {
    throw err(
      'ValidationException',
      `Alias ${name} must point to a KMS key with the same key spec and key usage (${current.keySpec}, ${current.keyUsage}); ${key.arn} is ${key.keySpec}, ${key.keyUsage}.`,
    )
  }

  if (aliasesOf(ctx.state, key).length >= MAX_ALIASES_PER_KEY) {
    throw err('LimitExceededException', `The KMS key ${key.arn} already has ${MAX_ALIASES_PER_KEY} aliases, the most allowed.`)
  }

  alias.targetKeyArn = key.arn
  alias.updatedAt = ctx.clock.nowMs()
  return {}
}

const DeleteAlias: Operation = (input, ctx) => {
  const name = aliasNameFrom(input, true)
  const arn = aliasArn(ctx.region, name)
  const alias = ctx.state.aliases[arn]
  if (!alias) throw err('NotFoundException', `Alias ${arn} is not found.`)
  if (ctx.state.keys[alias.targetKeyArn]) ctx.resources.push(alias.targetKeyArn)
  delete ctx.state.aliases[arn]
  return {}
}

const ListAliases: Operation = (input, ctx) => {
  const ref = str(input, 'KeyId', {max: 2048})
  let aliases = Object.values(ctx.state.aliases).filter((a) => a.region === ctx.region)
  if (ref !== undefined) {
    if (ref.startsWith('alias/') || /:alias\//.test(ref)) throw err('InvalidArnException', `Invalid keyId ${ref}: ListAliases takes a key ID or key ARN.`)
    const key = findKey(ctx, ref)
    aliases = aliases.filter((a) => a.targetKeyArn === key.arn)
  }

  aliases.sort((a, b) => a.name.localeCompare(b.name))
  const p = page(aliases, input, 100, 50)
  return {
    Aliases: p.items.map((a) => ({
      AliasArn: a.arn,
      AliasName: a.name,
      CreationDate: seconds(a.createdAt),
      LastUpdatedDate: seconds(a.updatedAt),
      TargetKeyId: ctx.state.keys[a.targetKeyArn]?.keyId,
    })),
    ...(p.NextMarker ? {NextMarker: p.NextMarker} : {}),
    Truncated: p.Truncated,
  }
}

/** The alias operations, by name. */
export const ALIAS_OPERATIONS: Record<string, OperationSpec> = {
  CreateAlias: spec(CreateAlias, true),
  DeleteAlias: spec(DeleteAlias, true),
  ListAliases: spec(ListAliases, false),
  UpdateAlias: spec(UpdateAlias, true),
}
