// Writing a key policy safely, for `policy put` and `policy restore`:
//   1. validate and lint locally: errors stop here, nothing is sent;
//   2. read the current policy and show the semantic diff; nothing to change ends here;
//   3. the lockout check (the caller must keep kms:PutKeyPolicy); --dry-run stops after it;
//   4. confirm (widened access shown above the prompt); declining writes nothing;
//   5. save the current policy: a backup file and a journal entry, before anything changes;
//   6. re-read the policy and abort if it changed since the diff was shown;
//   7. put, then read back and verify it is what was sent.
import type {KMSClient} from '@aws-sdk/client-kms'

import {closeSync, fsyncSync, mkdirSync, openSync, writeSync} from 'node:fs'
import {join} from 'node:path'

import type {CallerIdentity} from '../aws/clients.js'
import {kmsSdk} from '../aws/sdk.js'
import {KmsctlError, fromAwsError, refusal} from '../errors.js'
import type {Journal} from '../journal.js'
import type {ResolvedKey} from '../key-ref.js'
import type {RequestContext} from './conditions.js'
import {type PolicyDiff, type PolicyDiffJson, canonicalStatement, diffPolicies, diffToJson} from './diff.js'
import {type Finding, lintPolicy, lintPolicyText} from './lint.js'
import {type LockoutCheck, checkLockout} from './lockout.js'
import {type Policy, arnAccount, parsePolicy} from './model.js'
import {POLICY_NAME, fetchKeyPolicy, requirePolicy} from './source.js'

export interface PolicyWriteUi {
  /** Lint findings (warnings; errors stop the write). */
  findings(findings: readonly Finding[]): void
  /** Step 2: the diff, when there is one. */
  diff(diff: PolicyDiff): void
  /** Notes on stderr. */
  note(line: string): void
  /** Asks for confirmation; throws when declined or impossible. */
  confirm(options: {action: string; accepted: string[]; allowYes: boolean; summary?: string}): Promise<void>
}

export interface PolicyWriteDeps {
  kms: KMSClient
  callerIdentity: () => Promise<CallerIdentity>
  journal: Journal
  /** For the journal entry. */
  region: string
  command?: string[]
  backupsDir: string
  ui: PolicyWriteUi
  now?: () => Date
}

export interface PolicyWriteRequest {
  mode: 'put' | 'restore'
  key: ResolvedKey
  aliases: string[]
  /** The policy to send, exactly as it will be sent. */
  text: string
  /** Where it came from, for messages ("new.json"). */
  source: string
  dryRun: boolean
  bypassLockout: boolean
  /** Condition keys of the caller's own requests, for the lockout check (--condition). */
  context?: RequestContext
}

export interface PutKeyPolicyRequest {
  KeyId: string
  PolicyName: string
  Policy: string
  BypassPolicyLockoutSafetyCheck: boolean
}

export interface PolicyWriteResult {
  key: {keyId: string; arn: string; ref: string; aliases: string[]}
  source: string
  /** unchanged: nothing to do; dry-run: stopped after the checks; written: put and verified. */
  outcome: 'dry-run' | 'unchanged' | 'written'
  findings: Finding[]
  diff: PolicyDiffJson
  lockout?: {ok: boolean; message: string; note?: string; bypassed: boolean; decision: string}
  /** What was (or, with --dry-run, would be) sent. */
  request?: PutKeyPolicyRequest
  /** The backup of the policy that was overwritten. */
  backup?: string
  journalId?: string
  /** identical: KMS returns exactly what was sent; equivalent: the same statements, formatted differently. */
  verified?: 'equivalent' | 'identical'
}

export async function writeKeyPolicy(deps: PolicyWriteDeps, req: PolicyWriteRequest): Promise<PolicyWriteResult> {
  const {ui} = deps
  const {key} = req
  const keyAccount = arnAccount(key.arn)

  // 1. Validate and lint locally (again, now that the key's account is known).
  const next = requirePolicy(req.text, req.source)
  const findings = [...parsePolicy(req.text).problems, ...lintPolicy(next, keyAccount)]
  if (findings.length > 0) ui.findings(findings)
  throwOnLintErrors(findings, req.source)

  // 2. The current policy and the diff.
  const currentText = await fetchKeyPolicy(deps.kms, key.keyId)
  const current = parsePolicy(currentText).policy ?? {statements: []}
  const diff = diffPolicies(current, next)
  const base = {
    diff: diffToJson(diff),
    findings,
    key: {aliases: req.aliases, arn: key.arn, keyId: key.keyId, ref: key.ref},
    source: req.source,
  }
  const same = req.mode === 'restore' ? currentText === req.text : diff.changes.length === 0
  if (same) {
    ui.note(req.mode === 'restore' ? `The key policy of ${key.keyId} is already exactly ${req.source}: nothing to restore.` : `No change: ${req.source} is equivalent to the key policy of ${key.keyId}.`)
    return {...base, outcome: 'unchanged'}
  }

  ui.diff(diff)

  // 3. The lockout check.
  const caller = await deps.callerIdentity()
  const check: LockoutCheck = checkLockout(next, {callerArn: caller.arn, context: req.context, current, keyArn: key.arn})
  const lockout = {bypassed: false, decision: check.evaluation.decision, message: check.message, note: check.note, ok: check.ok}
  if (!check.ok && !req.bypassLockout) {
    const remedy =
      check.missingKeys.length > 0
        ? `Try this: if your own requests carry ${check.missingKeys.join(', ')}, give the values so the check can use them: --condition ${check.missingKeys[0]}=VALUE`
        : `Try this: keep a statement that allows you kms:PutKeyPolicy (kmsctl policy simulate --file ${req.source} --principal ${caller.arn} --action kms:PutKeyPolicy --trace), or --bypass-lockout-check if you really mean to give up control.`
    throw refusal(check.message + ' Nothing was sent.', remedy, {lockout})
  }

  if (check.ok) {
    ui.note(check.message)
    if (check.note) ui.note(`Note: ${check.note}`)
  } else {
    ui.note(`Warning: ${check.message}`)
  }

  const request: PutKeyPolicyRequest = {
    BypassPolicyLockoutSafetyCheck: req.bypassLockout,
    KeyId: key.keyId,
    Policy: req.text,
    PolicyName: POLICY_NAME,
  }
  if (req.dryRun) return {...base, lockout, outcome: 'dry-run', request}

  const accepted = [key.keyId, ...req.aliases, key.arn, key.ref]
  const name = `${key.keyId}${req.aliases[0] ? ` (${req.aliases[0]})` : ''}`
  if (req.bypassLockout) {
    await ui.confirm({
      accepted,
      action: `put the policy of ${name} with the lockout safety check bypassed`,
      allowYes: false,
      summary: `Bypassing the lockout safety check: if the new policy locks you out, only the account root through IAM can change it.`,
    })
    lockout.bypassed = true
  }

  // 4. Confirm. A declined change writes nothing: no backup, no journal entry.
  await ui.confirm({
    accepted,
    action: `${req.mode === 'restore' ? 'restore' : 'replace'} the key policy of ${name}`,
    allowYes: true,
    summary: diff.access === 'widened' || diff.access === 'both' ? 'This change WIDENS access (see above).' : undefined,
  })

  // 5. Save what is about to be overwritten, before anything changes.
  const now = deps.now?.() ?? new Date()
  const backup = writeBackup(deps.backupsDir, key.keyId, currentText, now)
  const entry = deps.journal.begin({
    account: keyAccount,
    action: req.mode === 'restore' ? 'policy.restore' : 'policy.put',
    before: {backup, policy: currentText, policyName: POLICY_NAME},
    caller: caller.arn,
    command: deps.command,
    key: {aliases: req.aliases, arn: key.arn, keyId: key.keyId, ref: key.ref},
    region: deps.region,
    request: {BypassPolicyLockoutSafetyCheck: request.BypassPolicyLockoutSafetyCheck, KeyId: request.KeyId, Policy: request.Policy, PolicyName: request.PolicyName, source: req.source},
  })
  ui.note(`Saved the current policy to ${backup} (journal entry ${entry.id}).`)

  // 6. Someone else may have changed the policy since the diff was shown.
  const again = await fetchKeyPolicy(deps.kms, key.keyId)
  if (again !== currentText) {
    const error = new KmsctlError('FAILED', `The key policy of ${key.keyId} changed since the diff was shown (someone else edited it); nothing was sent.`, {
      details: {reason: 'concurrent-change'},
      remedy: 'Run the command again to review the diff against the new policy.',
    })
    deps.journal.finish(entry.id, {error: errorSummary(error), status: 'skipped'})
    throw error
  }

  // 7. Put, read back, verify.
  const {PutKeyPolicyCommand} = await kmsSdk()
  try {
    await deps.kms.send(new PutKeyPolicyCommand(request))
  } catch (error) {
    const e = fromAwsError(error, {key: key.keyId, operation: 'PutKeyPolicy'})
    deps.journal.finish(entry.id, {error: errorSummary(e), status: 'failed'})
    throw e
  }

  let readBack: string
  try {
    readBack = await fetchKeyPolicy(deps.kms, key.keyId)
  } catch (error) {
    deps.journal.finish(entry.id, {status: 'ok'})
    throw new KmsctlError('FAILED', `The policy was put, but reading it back failed: ${(error as Error).message}`, {cause: error, remedy: `Check it with kmsctl policy get ${key.keyId}.`})
  }

  const verified = readBack === req.text ? 'identical' : sameStatements(parsePolicy(readBack).policy, next) ? 'equivalent' : undefined
  deps.journal.finish(entry.id, {after: {policy: readBack}, status: verified ? 'ok' : 'partial'})
  if (!verified) {
    throw new KmsctlError('FAILED', `The policy read back from ${key.keyId} is not what was sent (another change may have landed just after).`, {
      details: {backup, journalId: entry.id},
      remedy: `Compare with kmsctl policy diff ${key.keyId} --file ${req.source}.`,
    })
  }

  return {...base, backup, journalId: entry.id, lockout, outcome: 'written', request, verified}
}

/**
 * Step 1 on its own, before any AWS call: a policy KMS could not accept, or with lint errors, is
 * refused (exit 2) with nothing sent. Returns the parsed policy.
 */
export function precheckPolicy(text: string, source: string, showFindings?: (findings: readonly Finding[]) => void): Policy {
  const policy = requirePolicy(text, source)
  const {findings} = lintPolicyText(text)
  const errors = blocking(findings)
  if (errors.length > 0) {
    showFindings?.(errors)
    throwOnLintErrors(errors, source)
  }

  return policy
}

/** Lint errors that stop a write. no-admin is left to the lockout check (step 3), which names the statement and can be bypassed. */
function blocking(findings: readonly Finding[]): Finding[] {
  return findings.filter((f) => f.severity === 'error' && f.code !== 'no-admin')
}

function throwOnLintErrors(findings: readonly Finding[], source: string): void {
  const errors = blocking(findings)
  if (errors.length === 0) return
  throw refusal(
    `${source} has ${errors.length} lint error${errors.length === 1 ? '' : 's'} (first: ${errors[0].message}); nothing was sent.`,
    `Try this: kmsctl policy lint ${source} and fix the errors.`,
    {findings: errors},
  )
}

function sameStatements(a: Policy | undefined, b: Policy): boolean {
  if (!a) return false
  const key = (p: Policy) => p.statements.map((s) => canonicalStatement(s)).sort().join('\n')
  return key(a) === key(b)
}

function errorSummary(error: unknown): {code: string; message: string} {
  return {code: error instanceof KmsctlError ? error.code : 'FAILED', message: (error as Error)?.message ?? String(error)}
}

/** Writes the policy about to be overwritten to DIR/<keyId>-<UTC time>.json (never replacing a file), durably. */
export function writeBackup(dir: string, keyId: string, text: string, now: Date): string {
  mkdirSync(dir, {mode: 0o700, recursive: true})
  const stamp = now.toISOString().replaceAll(/[-:]/g, '').replace(/\.\d{3}Z$/, 'Z')
  for (let n = 1; ; n++) {
    const path = join(dir, `${keyId}-${stamp}${n === 1 ? '' : `-${n}`}.json`)
    let fd: number
    try {
      fd = openSync(path, 'wx', 0o600)
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST' && n < 100) continue
      throw new KmsctlError('FAILED', `Could not save the current policy to ${path}: ${(error as Error).message}; nothing was sent.`, {cause: error, remedy: 'Check that KMSCTL_HOME is writable.'})
    }

    try {
      writeSync(fd, text)
      fsyncSync(fd)
    } finally {
      closeSync(fd)
    }

    return path
  }
}
