// Where policies come from: a file (or stdin), a key's current policy, or a backup; and the check
// that a policy given to a command is one KMS could accept at all (usage error, exit 2, otherwise).
import type {KMSClient} from '@aws-sdk/client-kms'

import {kmsSdk} from '../aws/sdk.js'
import {fromAwsError, usageError} from '../errors.js'
import {readLocalText} from '../local-file.js'
import type {RequestContext} from './conditions.js'
import {type Policy, parsePolicy} from './model.js'

export const POLICY_NAME = 'default'

/** Reads a policy file exactly as it is (no trimming); "-" reads stdin. A missing file is a usage error. */
export async function readPolicyFile(path: string, flag = 'file', stdin: NodeJS.ReadableStream = process.stdin): Promise<string> {
  if (path === '-') {
    let text = ''
    for await (const chunk of stdin) text += typeof chunk === 'string' ? chunk : (chunk as Buffer).toString('utf8')
    return text
  }

  // Missing, unreadable, not a regular file (a directory, /dev/zero) or far too large: exit 2.
  return readLocalText(path, {
    flag: `--${flag}`,
    maxBytes: MAX_POLICY_FILE_BYTES,
    what: `the path of a readable JSON policy document (kmsctl policy get KEY --out ${path} writes the current one)`,
  })
}

/** Far above KMS's 32 KB policy limit (the size check names that limit); anything larger is not a policy. */
const MAX_POLICY_FILE_BYTES = 1024 * 1024

/**
 * Parses a policy that a command is about to use: invalid JSON, a policy KMS would refuse for its
 * size or characters, or a statement that is not valid is a one-line usage error naming the source.
 */
export function requirePolicy(text: string, source: string, options: {lenient?: boolean} = {}): Policy {
  const {policy, problems} = parsePolicy(text)
  const fatal = problems.find((p) => p.severity === 'error' && ['invalid-json', 'too-large', 'invalid-characters'].includes(p.code))
  if (fatal) throw usageError(`${source}: ${oneLine(fatal.message)}`, remedyFor(fatal.code), {code: fatal.code})
  const structural = problems.find((p) => p.severity === 'error')
  // A policy read from KMS was accepted by KMS: a statement this parser cannot read is skipped
  // (lenient); a policy given by the user must be whole.
  if (!policy || (structural && (!options.lenient || policy.statements.length === 0))) {
    throw usageError(`${source}: ${oneLine(structural?.message ?? 'not a key policy.')}`, 'Try this: kmsctl policy lint FILE for every problem.', {code: structural?.code ?? 'invalid-structure'})
  }

  return policy
}

function remedyFor(code: string): string {
  switch (code) {
    case 'invalid-json': {
      return 'Try this: fix the JSON (kmsctl policy lint FILE points at the problem).'
    }

    case 'too-large': {
      return 'Try this: shorten the policy (merge statements, drop long Sids), or move access to grants.'
    }

    default: {
      return 'Try this: keep to printable ASCII and Latin-1 characters.'
    }
  }
}

function oneLine(s: string): string {
  return s.replaceAll(/\s*\n\s*/g, ' ').trim()
}

/** The key's policy text exactly as KMS returns it. */
export async function fetchKeyPolicy(kms: KMSClient, keyId: string): Promise<string> {
  const {GetKeyPolicyCommand} = await kmsSdk()
  try {
    const out = await kms.send(new GetKeyPolicyCommand({KeyId: keyId, PolicyName: POLICY_NAME}))
    return out.Policy ?? ''
  } catch (error) {
    throw fromAwsError(error, {key: keyId, operation: 'GetKeyPolicy'})
  }
}

/** --condition KEY=VALUE values as request condition keys; a repeated key becomes a multi-valued key. */
export function parseConditionPairs(values: readonly string[] | undefined, into: RequestContext = {}): RequestContext {
  for (const raw of values ?? []) {
    const i = raw.indexOf('=')
    if (i <= 0) throw usageError(`--condition "${raw}" is not of the form key=value.`, 'Try this: --condition aws:SourceIp=192.0.2.10')
    const k = raw.slice(0, i)
    const v = raw.slice(i + 1)
    const existing = into[k]
    into[k] = existing === undefined ? v : [...(Array.isArray(existing) ? existing : [String(existing)]), v]
  }

  return into
}
