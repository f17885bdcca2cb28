// The input rules every KMS operation shares, with AWS's model constraints and wording (strings,
// integers, booleans, enums, blobs, encryption contexts, grant tokens, DryRun), and the paging of
// every List* operation (Limit / Marker / NextMarker / Truncated).
import {err, validationError} from '../errors.js'

export const lower = (name: string): string => name.charAt(0).toLowerCase() + name.slice(1)

export function str(input: Record<string, any>, name: string, opts: {max?: number; min?: number; pattern?: RegExp; required?: boolean} = {}): string | undefined {
  const v = input[name]
  if (v === undefined || v === null) {
    if (opts.required) throw validationError(lower(name), null, 'Member must not be null')
    return undefined
  }

  if (typeof v !== 'string') throw err('SerializationException', `Start of structure or map found where not expected at '${name}'.`)
  const min = opts.min ?? (opts.required ? 1 : 0)
  if (v.length < min) throw validationError(lower(name), v, `Member must have length greater than or equal to ${min}`)
  if (opts.max !== undefined && v.length > opts.max) throw validationError(lower(name), v, `Member must have length less than or equal to ${opts.max}`)
  if (opts.pattern && !opts.pattern.test(v)) throw validationError(lower(name), v, `Member must satisfy regular expression pattern: ${opts.pattern.source}`)
  return v
}

export function int(input: Record<string, any>, name: string, min: number, max: number): number | undefined {
  const v = input[name]
  if (v === undefined || v === null) return undefined
  if (typeof v !== 'number' || !Number.isInteger(v)) throw err('SerializationException', `NUMBER_VALUE can not be converted to an Integer at '${name}'.`)
  if (v < min) throw validationError(lower(name), v, `Member must have value greater than or equal to ${min}`)
  if (v > max) throw validationError(lower(name), v, `Member must have value less than or equal to ${max}`)
  return v
}

export function bool(input: Record<string, any>, name: string): boolean | undefined {
  const v = input[name]
  if (v === undefined || v === null) return undefined
  if (typeof v !== 'boolean') throw err('SerializationException', `Expected a boolean at '${name}'.`)
  return v
}

export function oneOf(input: Record<string, any>, name: string, values: readonly string[], required = false): string | undefined {
  const v = str(input, name, {required})
  if (v !== undefined && !values.includes(v)) throw validationError(lower(name), v, `Member must satisfy enum value set: [${values.join(', ')}]`)
  return v
}

export function blob(input: Record<string, any>, name: string, opts: {max: number; min?: number; required?: boolean}): Buffer | undefined {
  const v = input[name]
  if (v === undefined || v === null) {
    if (opts.required) throw validationError(lower(name), null, 'Member must not be null')
    return undefined
  }

  if (typeof v !== 'string') throw err('SerializationException', `Expected a base64 string at '${name}'.`)
  const buf = Buffer.from(v, 'base64')
  const min = opts.min ?? 1
  // AWS shows the blob as java.nio.HeapByteBuffer in these messages; the sandbox names the member only.
  if (buf.length < min) throw validationError(lower(name), 'java.nio.HeapByteBuffer[pos=0 lim=0 cap=0]', `Member must have length greater than or equal to ${min}`)
  if (buf.length > opts.max) throw validationError(lower(name), `java.nio.HeapByteBuffer[pos=0 lim=${buf.length} cap=${buf.length}]`, `Member must have length less than or equal to ${opts.max}`)
  return buf
}

export function context(input: Record<string, any>, name: string): Record<string, string> | undefined {
  const v = input[name]
  if (v === undefined || v === null) return undefined
  if (typeof v !== 'object' || Array.isArray(v)) throw err('SerializationException', `Expected a map at '${name}'.`)
  for (const [k, val] of Object.entries(v)) {
    if (typeof val !== 'string') throw err('SerializationException', `Expected a string value for '${k}' in '${name}'.`)
  }

  return v as Record<string, string>
}

export function grantTokens(input: Record<string, any>): void {
  const v = input.GrantTokens
  if (v === undefined || v === null) return
  if (!Array.isArray(v)) throw err('SerializationException', "Expected a list at 'GrantTokens'.")
  if (v.length > 10) throw validationError('grantTokens', v, 'Member must have length less than or equal to 10')
  for (const t of v) {
    if (typeof t !== 'string' || t.length === 0 || t.length > 8192) throw err('InvalidGrantTokenException', 'Grant token is not valid.')
  }
}

export function dryRun(input: Record<string, any>): void {
  if (bool(input, 'DryRun')) throw err('DryRunOperationException', 'The request would have succeeded, but the DryRun option is set.')
}

export function page<T>(items: T[], input: Record<string, any>, max: number, def: number): {items: T[]; NextMarker?: string; Truncated: boolean} {
  const limit = int(input, 'Limit', 1, max) ?? def
  const marker = str(input, 'Marker', {max: 1024, min: 1})
  let start = 0
  if (marker !== undefined) {
    const m = /^kmsctl-sandbox:(\d+)$/.exec(Buffer.from(marker, 'base64').toString('utf8'))
    if (!m) throw err('InvalidMarkerException', 'The request was rejected because the marker that specifies where pagination should next begin is not valid.')
    start = Number(m[1])
  }

  const slice = items.slice(start, start + limit)
  const end = start + slice.length
  if (end < items.length) return {items: slice, NextMarker: Buffer.from(`kmsctl-sandbox:${end}`).toString('base64'), Truncated: true}
  return {items: slice, Truncated: false}
}
