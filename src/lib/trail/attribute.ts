// LookupEvents takes exactly one lookup attribute per call, matched exactly and case-sensitively.
// Pick the most selective one the filters allow; every filter is still applied locally afterwards,
// so the choice only decides how many pages are read, never what is shown.
import {isGlob} from '../glob.js'
import {type FilterSpec, KMS_SOURCE} from './filters.js'

export type LookupAttributeKey =
  | 'AccessKeyId'
  | 'EventId'
  | 'EventName'
  | 'EventSource'
  | 'ReadOnly'
  | 'ResourceName'
  | 'ResourceType'
  | 'Username'

export interface LookupAttributeChoice {
  attribute?: {AttributeKey: LookupAttributeKey; AttributeValue: string}
  /** Why this one, for --debug and the dry-run plan. */
  reason: string
}

/**
 * The order, most selective first: one access key ID (one credential); one key ARN as
 * ResourceName (KMS writes the key ARN in resources[] whatever form the caller sent); one exact
 * event name; the KMS event source; read-only or write. Principal filters are substrings or
 * globs, which the exact Username attribute cannot express, so they are always applied locally.
 */
export function chooseLookupAttribute(spec: FilterSpec): LookupAttributeChoice {
  if (spec.accessKeys?.length === 1) {
    return {attribute: {AttributeKey: 'AccessKeyId', AttributeValue: spec.accessKeys[0]}, reason: 'one access key ID'}
  }

  if (spec.keys?.length === 1 && spec.keys[0].arn) {
    return {attribute: {AttributeKey: 'ResourceName', AttributeValue: spec.keys[0].arn}, reason: 'one key (its ARN)'}
  }

  if (spec.events?.length === 1 && !isGlob(spec.events[0])) {
    return {attribute: {AttributeKey: 'EventName', AttributeValue: spec.events[0]}, reason: 'one event name'}
  }

  if (!spec.allServices) {
    return {attribute: {AttributeKey: 'EventSource', AttributeValue: KMS_SOURCE}, reason: 'KMS events only'}
  }

  if (spec.readOnly || spec.write) {
    return {attribute: {AttributeKey: 'ReadOnly', AttributeValue: spec.readOnly ? 'true' : 'false'}, reason: spec.readOnly ? 'read-only calls' : 'write calls'}
  }

  return {reason: 'no filter LookupEvents can apply'}
}
