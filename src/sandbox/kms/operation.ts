// The shape of a KMS operation of the sandbox: it takes the request's JSON input and an OpContext and
// returns the JSON output. Each resource file (keys, policy, aliases, grants, rotation, tags, crypto)
// lists its operations; registry.ts gathers them by name.
import type {KeyRecord} from '../store/state.js'
import type {OpContext} from './context.js'

export type Operation = (input: Record<string, any>, ctx: OpContext) => Record<string, unknown>

export interface OperationSpec {
  /** Changes state: always runs inside a store mutation. */
  mutates: boolean
  readOnly: boolean
  run: Operation
}

/** An operation's entry in the registry: `mutates` runs it inside a store mutation; `readOnly` is CloudTrail's readOnly. */
export const spec = (run: Operation, mutates: boolean, readOnly = !mutates): OperationSpec => ({mutates, readOnly, run})

export const b64 = (b: Buffer): string => b.toString('base64')

export function keyResponse(ctx: OpContext, key: KeyRecord, extra: Record<string, unknown> = {}): Record<string, unknown> {
  ctx.responseElements = {keyId: key.arn, ...extra}
  return {}
}
