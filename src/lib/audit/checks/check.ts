// The shape of a check: it looks at what was read about one key and returns its findings, or a
// sentence saying why it could not tell (a read failed or was not possible in the key's state).
import type {AuditOptions, KeyFacts, RawFinding} from '../types.js'

export type CheckFn = (key: KeyFacts, options: AuditOptions) => RawFinding[] | string

/** Why a read a check needs is missing, or undefined when it is there. */
export function missing(key: KeyFacts, operation: string, value: unknown): string | undefined {
  if (value !== undefined) return undefined
  return `${operation}: ${key.unavailable[operation] ?? 'not read'}`
}

/** Unique IDs (AIDA... users, AROA... roles) stand in for a principal once it is deleted. */
export const UNIQUE_ID = /^A(IDA|ROA|GPA)[A-Z0-9]{12,}$/

/** The account of a principal ARN or account ID (undefined for services and "*"). */
export function principalAccount(value: string): string | undefined {
  if (/^\d{12}$/.test(value)) return value
  const m = /^arn:aws[a-z-]*:(iam|sts)::(\d{12}):/.exec(value)
  return m?.[2]
}
