import {KmsctlCommand} from '../../cli/base-command.js'
import {CHECKS, type CheckDefinition} from '../../lib/audit/registry.js'
import {severityText} from '../../lib/audit/render.js'
import {renderTable} from '../../lib/output.js'

export type AuditChecksResult = Array<Pick<CheckDefinition, 'command' | 'group' | 'id' | 'reason' | 'remedy' | 'severity' | 'title'>>

export default class AuditChecks extends KmsctlCommand<typeof AuditChecks> {
  static override summary = 'List the audit checks: ID, severity, what each finds and the command that fixes it.'

  static override description = 'The IDs are stable: use them with kmsctl audit --only/--skip and in baseline files; SARIF rule IDs and JUnit test names are the same.'

  static override examples = [
    {command: '<%= config.bin %> <%= command.id %>', description: 'Every check'},
    {command: '<%= config.bin %> <%= command.id %> --json | jq -r ".[] | select(.severity == \\"high\\") | .id"', description: 'The IDs of the high-severity checks'},
  ]

  async run(): Promise<AuditChecksResult> {
    const result = CHECKS.map(({command, group, id, reason, remedy, severity, title}) => ({command, group, id, reason, remedy, severity, title}))
    if (!this.jsonEnabled()) {
      this.log(
        renderTable(
          result,
          [
            {get: (c) => c.id, header: 'ID', kind: 'name'},
            {get: (c) => severityText(c.severity), header: 'Severity', kind: 'fixed'},
            {get: (c) => c.group, header: 'Group', kind: 'fixed', priority: 3},
            {get: (c) => `${c.title}: ${c.reason}`, header: 'What it finds', kind: 'text', minWidth: 30},
            {get: (c) => c.command ?? c.remedy, header: 'Fix', kind: 'text', minWidth: 20, priority: 2},
          ],
          {multiline: true},
        ),
      )
      this.note(`${result.length} checks`)
    }

    return result
  }
}
