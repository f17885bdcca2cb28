import {Args} from '@oclif/core'

import {KmsctlCommand} from '../../cli/base-command.js'
import {roleFlags, roleFrom} from '../../cli/org-flags.js'
import {clientsForKeyRefs} from '../../lib/org/credentials.js'
import {type KeyDetails, describeKey, rotationText} from '../../lib/inventory.js'
import {formatDate, formatPairs, renderFields} from '../../lib/output.js'

export type KeyDescribeResult = KeyDetails

export default class KeyDescribe extends KmsctlCommand<typeof KeyDescribe> {
  static override args = {
    key: Args.string({description: 'Key ID, key ARN, alias name (alias/x) or alias ARN.', required: true}),
  }

  static override description = `Describe one key in full: metadata, every alias, tags, rotation status and next rotation, policy names, number of grants, deletion date (or pending window), and the replicas of a multi-Region key.`

  static override examples = [
    '<%= config.bin %> <%= command.id %> alias/payments',
    '<%= config.bin %> <%= command.id %> 1234abcd-12ab-34cd-56ef-1234567890ab --json',
    {command: '<%= config.bin %> <%= command.id %> arn:aws:kms:eu-west-1:444455556666:alias/payments --role-name OrganizationAccountAccessRole', description: 'A key of another account (its key ARN or alias ARN), through the role assumed there'},
  ]

  static override flags = {
    ...roleFlags,
  }

  async run(): Promise<KeyDescribeResult> {
    // A key ARN of another account is described through the role configured for it.
    const place = await clientsForKeyRefs(this.aws, [this.args.key], roleFrom(this.flags))
    if (place.role) process.stderr.write(`Through role ${place.role}.\n`)
    const kms = await place.clients.kms()
    const d = await describeKey(kms, this.args.key)
    if (!this.jsonEnabled()) {
      const m = d.metadata
      const rotation =
        d.rotation.status === 'on'
          ? `${rotationText(d.rotation)}${d.rotation.nextRotationDate ? `, next ${formatDate(d.rotation.nextRotationDate)}` : ''}`
          : `${d.rotation.status}${d.rotation.reason ? ` (${d.rotation.reason})` : ''}`
      this.log(
        renderFields([
          ['Key ID', d.keyId],
          ['ARN', d.arn],
          ['Aliases', d.aliases.join(', ') || '(none)'],
          ['State', d.state],
          ['Deletion', d.deletionDate ? `${formatDate(d.deletionDate)} (${d.daysLeft} days left)` : d.pendingWindowInDays ? `pending window ${d.pendingWindowInDays} days, starts when the last replica is deleted` : undefined],
          ['Description', d.description || '(none)'],
          ['Manager', d.manager],
          ['Spec', d.keySpec],
          ['Usage', d.keyUsage],
          ['Origin', m.Origin],
          ['Created', formatDate(d.creationDate)],
          ['Rotation', rotation],
          ['Multi-Region', d.multiRegion ? `yes (${m.MultiRegionConfiguration?.MultiRegionKeyType?.toLowerCase() ?? ''})` : 'no'],
          ['Primary', d.primary && d.primary.arn !== d.arn ? `${d.primary.arn}` : undefined],
          ['Replicas', d.replicas.length > 0 ? d.replicas.map((r) => `${r.region}  ${r.arn}`).join('\n') : undefined],
          ['Tags', Object.keys(d.tags).length > 0 ? formatPairs(d.tags) : '(none)'],
          ['Policies', d.policyNames.join(', ') || undefined],
          ['Grants', d.grantCount === undefined ? undefined : String(d.grantCount)],
          ['Unavailable', Object.keys(d.unavailable).length > 0 ? Object.values(d.unavailable).join('\n') : undefined],
        ]),
      )
    }

    return d
  }
}
