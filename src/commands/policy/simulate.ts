import {Args, Flags} from '@oclif/core'

import {KmsctlCommand} from '../../cli/base-command.js'
import {usageError} from '../../lib/errors.js'
import {parsePairs, splitList} from '../../lib/parse.js'
import {resolveKey} from '../../lib/key-ref.js'
import type {RequestContext} from '../../lib/policy/conditions.js'
import {unknownActionWarning} from '../../lib/action-names.js'
import {type Decision, type StatementTrace, evaluate, normaliseAction} from '../../lib/policy/evaluate.js'
import {arnAccount, statementLabel} from '../../lib/policy/model.js'
import {describeCaller} from '../../lib/policy/principal.js'
import {renderSimulation, renderTrace} from '../../lib/policy/render.js'
import {fetchKeyPolicy, parseConditionPairs, readPolicyFile, requirePolicy} from '../../lib/policy/source.js'

export interface SimulatedAction {
  action: string
  decision: Decision
  reason: string
  crossAccount: boolean
  /** The statements that decided. */
  statements: Array<{index: number; sid?: string; effect: string}>
  /** Every statement's evaluation (--trace). */
  trace?: StatementTrace[]
}

export interface PolicySimulateResult {
  /** The policy evaluated: a file, or a key's ARN. */
  source: string
  principal: string
  keyAccount?: string
  /** The request's condition keys, including the ones derived from the principal. */
  context: RequestContext
  results: SimulatedAction[]
}

export default class PolicySimulate extends KmsctlCommand<typeof PolicySimulate> {
  static override args = {
    key: Args.string({description: 'Key ID, key ARN or alias whose policy to evaluate (or give --file).'}),
  }

  static override summary = 'Evaluate a key policy for a principal and action: the decision and the deciding statements.'

  static override description = `Evaluate a key policy for one principal and action, as KMS does: default deny, an Allow allows, an explicit Deny always wins. Shows the decision and the statements that decided it.

A statement for the account root principal means "IAM policies decide": it is reported as DELEGATED TO IAM, not as allowed. An assumed-role session is matched as its role. Only the key policy is evaluated: grants and IAM policies are not.`

  static override examples = [
    '<%= config.bin %> <%= command.id %> alias/payments --principal arn:aws:iam::111122223333:role/App --action kms:Decrypt --context app=web',
    '<%= config.bin %> <%= command.id %> --file new-policy.json --principal arn:aws:sts::111122223333:assumed-role/Admin/alice --action kms:PutKeyPolicy',
    '<%= config.bin %> <%= command.id %> alias/payments --principal arn:aws:iam::111122223333:user/bob --action kms:Encrypt,kms:Decrypt --via-service s3.us-east-1.amazonaws.com',
    '<%= config.bin %> <%= command.id %> alias/payments --principal arn:aws:iam::111122223333:user/bob --action kms:Decrypt --condition aws:SourceIp=192.0.2.10 --trace',
  ]

  static override flags = {
    account: Flags.string({description: "The key's account, with --file (default: the account root the policy names)."}),
    action: Flags.string({char: 'a', description: 'The KMS action(s), e.g. kms:Decrypt; comma-separated or repeated.', multiple: true, required: true}),
    condition: Flags.string({description: 'Any other condition key of the request, key=value (repeat a key for a multi-valued key), e.g. aws:SourceIp=192.0.2.10.', multiple: true}),
    context: Flags.string({char: 'c', description: 'Encryption context pair k=v of the request (repeatable).', multiple: true}),
    file: Flags.string({char: 'f', description: 'Evaluate this policy file instead of a key\'s policy (- reads stdin).'}),
    principal: Flags.string({char: 'p', description: 'The caller: IAM user, role or assumed-role session ARN, account root ARN, or service principal.', required: true}),
    trace: Flags.boolean({description: "Show every statement's evaluation."}),
    'via-service': Flags.string({description: 'kms:ViaService of the request, e.g. s3.us-east-1.amazonaws.com.'}),
  }

  async run(): Promise<PolicySimulateResult> {
    const {flags} = this
    if (Boolean(this.args.key) === Boolean(flags.file)) {
      throw usageError('Give either a KEY or --file, not both and not neither.', 'Try this: kmsctl policy simulate alias/NAME --principal ARN --action kms:Decrypt')
    }

    const caller = describeCaller(flags.principal)
    if (caller.kind === 'other') {
      throw usageError(`--principal "${flags.principal}" is not an IAM user, role, assumed-role session or root ARN, an account ID or a service principal.`, 'Try this: --principal arn:aws:iam::111122223333:role/App')
    }

    if (flags.account !== undefined && !/^\d{12}$/.test(flags.account)) throw usageError(`--account "${flags.account}" is not a 12-digit account ID.`, 'Try this: --account 111122223333')
    const actions = splitList(flags.action).map((a) => normaliseAction(a))
    for (const a of actions) {
      if (!/^[a-z0-9-]+:[A-Za-z*?]+$/i.test(a)) throw usageError(`--action "${a}" is not an action name.`, 'Try this: --action kms:Decrypt')
      const unknown = unknownActionWarning(a)
      if (unknown) this.warnLine(unknown)
    }

    const context: RequestContext = {}
    for (const [k, v] of Object.entries(parsePairs(flags.context, 'context'))) context[`kms:EncryptionContext:${k}`] = v
    if (flags['via-service']) context['kms:ViaService'] = flags['via-service']
    parseConditionPairs(flags.condition, context)

    let text: string
    let source: string
    let keyArn: string | undefined
    if (flags.file) {
      text = await readPolicyFile(flags.file)
      source = flags.file
    } else {
      const kms = await this.aws.kms()
      const key = await resolveKey(kms, this.args.key!)
      text = await fetchKeyPolicy(kms, key.keyId)
      source = key.arn
      keyArn = key.arn
    }

    const policy = requirePolicy(text, source, {lenient: !flags.file})
    const keyAccount = flags.account ?? (keyArn ? arnAccount(keyArn) : undefined)
    const evaluations = actions.map((action) => evaluate(policy, {action, context, keyAccount, keyArn, principal: flags.principal}))
    const result: PolicySimulateResult = {
      context: evaluations[0]?.context ?? context,
      keyAccount,
      principal: flags.principal,
      results: evaluations.map((e) => ({
        action: e.action,
        crossAccount: e.crossAccount,
        decision: e.decision,
        reason: e.reason,
        statements: e.statements.map((s) => ({effect: s.effect, index: s.index, sid: s.sid})),
        ...(flags.trace ? {trace: e.trace} : {}),
      })),
      source,
    }

    if (!this.jsonEnabled()) {
      this.log(renderSimulation(evaluations))
      if (flags.trace) {
        for (const e of evaluations) {
          this.log(`\n${e.action}:`)
          this.log(renderTrace(e))
        }
      }

      const delegated = evaluations.filter((e) => e.decision === 'delegated-to-iam')
      if (delegated.length > 0) this.note(`Delegated to IAM (${delegated.map((e) => statementLabel(e.statements[0])).join(', ')}): the caller's IAM policies decide; kmsctl does not evaluate them.`)
    }

    return result
  }
}
