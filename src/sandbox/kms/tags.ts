// Tags: TagResource, UntagResource and ListResourceTags (50 tags per key; no aws: prefix).
import {err, validationError} from '../errors.js'
import type {Tag} from '../store/state.js'
import {page} from './input.js'
import {keyFrom, requireCustomerManaged, requireNotPendingDeletion} from './key-record.js'
import {type Operation, type OperationSpec, keyResponse, spec} from './operation.js'

export const MAX_TAGS_PER_KEY = 50

export function validateTags(tags: unknown): Tag[] {
  if (tags === undefined || tags === null) return []
  if (!Array.isArray(tags)) throw err('SerializationException', "Expected a list at 'Tags'.")
  const seen = new Set<string>()
  for (const t of tags as Tag[]) {
    if (!t || typeof t.TagKey !== 'string') throw validationError('tags.member.tagKey', null, 'Member must not be null')
    if (typeof t.TagValue !== 'string') throw validationError('tags.member.tagValue', null, 'Member must not be null')
    if (t.TagKey.length === 0 || t.TagKey.length > 128) throw validationError('tags.member.tagKey', t.TagKey, 'Member must have length less than or equal to 128')
    if (t.TagValue.length > 256) throw validationError('tags.member.tagValue', t.TagValue, 'Member must have length less than or equal to 256')
    if (t.TagKey.toLowerCase().startsWith('aws:')) throw err('TagException', `Tag keys cannot begin with the reserved prefix "aws:": ${t.TagKey}`)
    if (seen.has(t.TagKey)) throw err('TagException', `Duplicate tag key: ${t.TagKey}`)
    seen.add(t.TagKey)
  }

  return (tags as Tag[]).map((t) => ({TagKey: t.TagKey, TagValue: t.TagValue}))
}

const TagResource: Operation = (input, ctx) => {
  const key = keyFrom(ctx, input)
  if (input.Tags === undefined || input.Tags === null) throw validationError('tags', null, 'Member must not be null')
  const tags = validateTags(input.Tags)
  requireCustomerManaged(ctx, key)
  requireNotPendingDeletion(key)
  const merged = [...key.tags]
  for (const t of tags) {
    const existing = merged.find((m) => m.TagKey === t.TagKey)
    if (existing) existing.TagValue = t.TagValue
    else merged.push(t)
  }

  if (merged.length > MAX_TAGS_PER_KEY) throw err('LimitExceededException', `A KMS key can have at most ${MAX_TAGS_PER_KEY} tags.`)
  key.tags = merged
  return keyResponse(ctx, key)
}

const UntagResource: Operation = (input, ctx) => {
  const key = keyFrom(ctx, input)
  const keys = input.TagKeys
  if (!Array.isArray(keys)) throw validationError('tagKeys', null, 'Member must not be null')
  requireCustomerManaged(ctx, key)
  requireNotPendingDeletion(key)
  key.tags = key.tags.filter((t) => !keys.includes(t.TagKey))
  return keyResponse(ctx, key)
}

const ListResourceTags: Operation = (input, ctx) => {
  const key = keyFrom(ctx, input)
  const p = page(key.tags, input, 50, 50)
  return {...(p.NextMarker ? {NextMarker: p.NextMarker} : {}), Tags: p.items, Truncated: p.Truncated}
}

/** The tag operations, by name. */
export const TAG_OPERATIONS: Record<string, OperationSpec> = {
  ListResourceTags: spec(ListResourceTags, false),
  TagResource: spec(TagResource, true),
  UntagResource: spec(UntagResource, true),
}
