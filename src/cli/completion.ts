// Shell completion: commands, flags, flag values and alias names, computed by `kmsctl autocomplete
// --complete` from the words typed so far. Alias names come from a cache that `key list` and
// `alias list` refresh, under KMSCTL_HOME (nothing is asked of AWS while completing).
import {mkdirSync, readdirSync, readFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'

import {KNOWN_REGIONS} from '../lib/aws/regions.js'
import {kmsctlHome} from '../lib/home.js'

export function completionDir(env: NodeJS.ProcessEnv = process.env): string {
  return join(kmsctlHome(env), 'completion')
}

/** Remembers the alias names of a region for completion (best effort: a failure is ignored). */
export function cacheAliases(region: string, aliases: Iterable<string>, env: NodeJS.ProcessEnv = process.env): void {
  try {
    const dir = completionDir(env)
    mkdirSync(dir, {recursive: true})
    const names = [...new Set(aliases)].filter((a) => a && !a.startsWith('alias/aws/')).sort()
    writeFileSync(join(dir, `aliases-${region.replaceAll(/[^a-z0-9-]/g, '')}.txt`), names.join('\n') + '\n')
  } catch {
    // Completion is a convenience: never fail a command for it.
  }
}

/** Every cached alias name (of every region seen). */
export function cachedAliases(env: NodeJS.ProcessEnv = process.env): string[] {
  try {
    const dir = completionDir(env)
    return [...new Set(readdirSync(dir).filter((f) => /^aliases-.*\.txt$/.test(f)).flatMap((f) => readFileSync(join(dir, f), 'utf8').split('\n').filter(Boolean)))].sort()
  } catch {
    return []
  }
}

export interface CompletionFlag {
  name: string
  char?: string
  type: 'boolean' | 'option'
  options?: readonly string[]
}

export interface CompletionCommand {
  id: string
  hidden?: boolean
  flags: Record<string, CompletionFlag>
  args: Record<string, unknown>
}

const KEY_STATES = ['Enabled', 'Disabled', 'PendingDeletion', 'PendingImport', 'PendingReplicaDeletion', 'Unavailable', 'Creating', 'Updating']

/** Values for flags whose accepted values are known but not declared as options. */
function flagValues(flag: string, aliases: () => string[]): string[] | undefined {
  switch (flag) {
    case 'state': {
      return KEY_STATES
    }

    case 'region':
    case 'regions': {
      return [...KNOWN_REGIONS]
    }

    case 'key':
    case 'from-key':
    case 'alias': {
      return aliases()
    }

    case 'manager': {
      return ['AWS', 'CUSTOMER']
    }

    default: {
      return undefined
    }
  }
}

/**
 * The candidates for the last word of `words` (the words after the program name, the last one
 * being typed): subcommands, flags, a flag's values, or key aliases for commands taking a key.
 */
export function complete(commands: readonly CompletionCommand[], words: readonly string[], env: NodeJS.ProcessEnv = process.env): string[] {
  const visible = commands.filter((c) => !c.hidden)
  const current = words.at(-1) ?? ''
  const before = words.slice(0, -1)
  const aliases = () => cachedAliases(env)
  // The command: the longest run of leading words that names one.
  let command: CompletionCommand | undefined
  let depth = 0
  for (let n = before.length; n >= 1 && !command; n--) {
    const id = before.slice(0, n).join(':')
    command = visible.find((c) => c.id === id)
    if (command) depth = n
  }

  const match = (values: Iterable<string>) => [...values].filter((v) => v.startsWith(current)).sort()
  if (!command) {
    const prefix = before.join(':')
    const next = new Set<string>()
    for (const c of visible) {
      if (prefix && !c.id.startsWith(prefix + ':')) continue
      const rest = (prefix ? c.id.slice(prefix.length + 1) : c.id).split(':')[0]
      if (rest) next.add(rest)
    }

    return match(next)
  }

  // A value for the flag just before?
  const previous = before.at(-1) ?? ''
  if (before.length > depth && previous.startsWith('-') && !previous.includes('=')) {
    const name = previous.replace(/^-+/, '')
    const flag = command.flags[name] ?? Object.values(command.flags).find((f) => f.char === name)
    if (flag?.type === 'option') {
      const values = flag.options ?? flagValues(flag.name, aliases)
      return values ? match(values) : []
    }
  }

  if (current.startsWith('--') && current.includes('=')) {
    const [name, partial] = [current.slice(2, current.indexOf('=')), current.slice(current.indexOf('=') + 1)]
    const flag = command.flags[name]
    const values = flag?.options ?? flagValues(name, aliases) ?? []
    return values.filter((v) => v.startsWith(partial)).map((v) => `--${name}=${v}`).sort()
  }

  if (current.startsWith('-')) return match(Object.values(command.flags).map((f) => `--${f.name}`))
  // A positional argument: a key, for the commands that take one.
  const argNames = Object.keys(command.args)
  if (argNames.some((a) => a === 'key' || a === 'keys')) return match(aliases())
  return []
}

/** The bash script: eval "$(kmsctl autocomplete bash)". */
export function bashScript(bin: string): string {
  const fn = `_${bin.replaceAll(/[^A-Za-z0-9_]/g, '_')}_complete`
  return `# ${bin} completion for bash: eval "$(${bin} autocomplete bash)" in ~/.bashrc
${fn}() {
  local IFS=$'\\n'
  COMPREPLY=($(${bin} autocomplete --complete -- "\${COMP_WORDS[@]:1:COMP_CWORD}" 2>/dev/null))
}
complete -o default -F ${fn} ${bin}
`
}

/** The zsh script: eval "$(kmsctl autocomplete zsh)". */
export function zshScript(bin: string): string {
  const fn = `_${bin.replaceAll(/[^A-Za-z0-9_]/g, '_')}_complete`
  return `# ${bin} completion for zsh: eval "$(${bin} autocomplete zsh)" in ~/.zshrc
${fn}() {
  local -a candidates
  candidates=("\${(@f)$(${bin} autocomplete --complete -- "\${(@)words[2,CURRENT]}" 2>/dev/null)}")
  compadd -Q -- "\${candidates[@]}"
}
compdef ${fn} ${bin}
`
}
