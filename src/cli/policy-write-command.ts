// The part `policy put` and `policy restore` share: running writeKeyPolicy() with the terminal as its
// UI (diff and findings on stderr before the prompt, typed confirmation) and rendering the result.
import {Flags} from '@oclif/core'

import {KmsctlCommand} from './base-command.js'
import {confirmAction} from '../lib/confirm.js'
import {confirmFlags, mutationFlags} from './flags.js'
import {backupsDir} from '../lib/home.js'
import {Journal} from '../lib/journal.js'
import {listAllAliases} from '../lib/aws/paging.js'
import {resolveKey} from '../lib/key-ref.js'
import {chalk} from '../lib/output.js'
import {renderAccessSummary, renderDiffTable, renderFindings} from '../lib/policy/render.js'
import {type PolicyWriteResult, precheckPolicy, writeKeyPolicy} from '../lib/policy/put.js'
import {parseConditionPairs} from '../lib/policy/source.js'

export const policyWriteFlags = {
  ...mutationFlags,
  ...confirmFlags,
  condition: Flags.string({
    description: 'A condition key your own requests carry, KEY=VALUE (e.g. aws:SourceIp=203.0.113.5), for the lockout check of a policy with conditions on you; repeatable.',
    multiple: true,
  }),
  'bypass-lockout-check': Flags.boolean({
    description: "Send KMS's BypassPolicyLockoutSafetyCheck even if the new policy would lock you out (asks for the key ID to be typed; --yes is not enough).",
  }),
}

export abstract class PolicyWriteCommand extends KmsctlCommand<typeof PolicyWriteCommand> {
  protected async writePolicy(mode: 'put' | 'restore', keyRef: string, text: string, source: string): Promise<PolicyWriteResult> {
    const flags = this.flags as unknown as {'bypass-lockout-check'?: boolean; condition?: string[]; confirm?: string; 'dry-run'?: boolean; yes?: boolean}
    const context = parseConditionPairs(flags.condition)
    const json = this.jsonEnabled()
    const dryRun = Boolean(flags['dry-run'])
    // Before the prompt the diff goes to stderr; with --dry-run it is the result, on stdout.
    const out = (s: string) => {
      if (json) return
      if (dryRun) this.log(s)
      else process.stderr.write(s + '\n')
    }

    // Bad input is refused before any AWS call.
    precheckPolicy(text, source, (f) => {
      if (!json) process.stderr.write(renderFindings(f) + '\n')
    })
    const kms = await this.aws.kms()
    const key = await resolveKey(kms, keyRef)
    let aliases: string[] = []
    try {
      aliases = (await listAllAliases(kms, key.keyId)).map((a) => a.AliasName ?? '').filter(Boolean).sort()
    } catch {
      // Without aliases the key ID is still accepted at the prompt.
    }

    const result = await writeKeyPolicy(
      {
        backupsDir: backupsDir(),
        callerIdentity: () => this.aws.callerIdentity(),
        command: [...(this.id ? this.id.split(':') : []), ...this.argv],
        journal: new Journal(),
        kms,
        region: await this.aws.region(),
        ui: {
          confirm: async (o) => {
            await confirmAction({
              accepted: o.accepted,
              action: o.action,
              allowYes: o.allowYes,
              confirm: flags.confirm,
              json,
              summary: o.summary && chalk.red(o.summary),
              yes: flags.yes,
            })
          },
          diff: (d) => {
            out(renderDiffTable(d))
            out(renderAccessSummary(d))
          },
          findings: (f) => {
            if (!json) process.stderr.write(renderFindings(f) + '\n')
          },
          note: (line) => this.note(line),
        },
      },
      {aliases, bypassLockout: Boolean(flags['bypass-lockout-check']), context, dryRun, key, mode, source, text},
    )

    if (!json) {
      if (result.outcome === 'dry-run' && result.request) {
        const r = result.request
        this.log(`\nDry run: would send PutKeyPolicy KeyId=${r.KeyId} PolicyName=${r.PolicyName} BypassPolicyLockoutSafetyCheck=${r.BypassPolicyLockoutSafetyCheck} with Policy (${Buffer.byteLength(r.Policy)} bytes):`)
        this.log(r.Policy.endsWith('\n') ? r.Policy.slice(0, -1) : r.Policy)
        this.note('Nothing was sent.')
      } else if (result.outcome === 'written') {
        this.log(`${mode === 'restore' ? 'Restored' : 'Put'} the key policy of ${result.key.keyId}${result.verified === 'identical' ? ' (read back: identical)' : ' (read back: the same statements, formatted by KMS)'}.`)
        this.log(`Previous policy saved to ${result.backup}; undo with: kmsctl policy restore ${result.key.keyId} --from ${result.backup}`)
      }
    }

    return result
  }
}
