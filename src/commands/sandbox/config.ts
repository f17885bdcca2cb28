import {Flags} from '@oclif/core'

import {KmsctlCommand} from '../../cli/base-command.js'
import {mutationFlags} from '../../cli/flags.js'
import {defaultSandboxDir} from '../../lib/home.js'
import {renderFields} from '../../lib/output.js'
import {realismFlags, settingsFromFlags} from '../../cli/sandbox-flags.js'
import {type ConfigFile, DEFAULT_SETTINGS, configToFile, readConfigFile, settingsFromConfig, writeConfigFile} from '../../sandbox/limits/settings.js'

export interface SandboxConfigResult {
  /** The settings in the sandbox directory's config.json after this command. */
  config: Required<Omit<ConfigFile, 'latency'>> & {latency?: string}
  changed: boolean
  dryRun: boolean
}

export default class SandboxConfig extends KmsctlCommand<typeof SandboxConfig> {
  static override description = `Show or change the sandbox's quotas and injected faults (kept in the sandbox directory).

The in-process sandbox (--sandbox) applies them to every command on this directory; \`sandbox serve\`
applies them too, and its own flags win. Off by default. Each kmsctl process keeps its own quota
counters.`

  static override examples = [
    '<%= config.bin %> sandbox config',
    '<%= config.bin %> sandbox config --quotas aws --quotas-scale 0.5',
    '<%= config.bin %> sandbox config --latency 10ms-50ms --fail-rate 0.05',
    '<%= config.bin %> sandbox config --reset',
  ]

  static override flags = {
    ...mutationFlags,
    ...realismFlags,
    reset: Flags.boolean({description: 'Turn quotas and faults off again.'}),
  }

  async run(): Promise<SandboxConfigResult> {
    const {flags} = this
    const dir = flags['sandbox-dir'] ?? defaultSandboxDir()
    const given = settingsFromFlags(flags)
    const current = settingsFromConfig(readConfigFile(dir))
    const next = flags.reset ? {...DEFAULT_SETTINGS, ...given} : {...current, ...given}
    if ('latency' in given && given.latency === undefined) delete next.latency
    const changed = JSON.stringify(configToFile(next)) !== JSON.stringify(configToFile(current))
    const dryRun = Boolean(flags['dry-run'])
    if (changed && !dryRun) writeConfigFile(dir, next)
    const config = configToFile(next) as SandboxConfigResult['config']
    if (!this.jsonEnabled()) {
      process.stdout.write(
        renderFields([
          ['Quotas', config.quotas === 'aws' ? `aws${config.quotasScale === 1 ? '' : ` x${config.quotasScale}`}` : 'off'],
          ['Latency', config.latency ?? 'none'],
          ['Fail rate', String(config.failRate)],
          ['Drop rate', String(config.dropRate)],
        ]) + '\n',
      )
      if (dryRun && changed) this.note('Dry run: nothing was written.')
    }

    return {changed, config, dryRun}
  }
}
