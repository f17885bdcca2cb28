// An unknown command: say so, suggest the closest command with the arguments as typed, and exit
// 127. Never a prompt that would run the suggestion: a typo must not start a change.
import {type Hook, toConfiguredId} from '@oclif/core'

import {closest} from '../lib/suggest.js'

const hook: Hook<'command_not_found'> = async function (opts) {
  const {config} = opts
  const visible = config.commands.filter((c) => !c.hidden)
  const ids = [...visible.map((c) => c.id), ...visible.flatMap((c) => c.aliases)]
  // With a space as topic separator, oclif folds the words after the topic into the id
  // ("key:lst:alias/x"): try the longest run of words first, the rest being arguments.
  const words = opts.id.split(':')
  let typed = words.join(' ')
  let suggestion: string | undefined
  let rest: string[] = []
  for (let n = words.length; n >= 1 && !suggestion; n--) {
    const head = words.slice(0, n).join(':')
    const sameDepth = ids.filter((id) => id.split(':').length === n)
    const match = closest(head, sameDepth)
    if (match) {
      suggestion = match
      typed = words.slice(0, n).join(' ')
      rest = words.slice(n)
    }
  }

  const args = [...rest, ...(opts.argv ?? [])]
  const topic = config.findTopic(words[0]) ? ` ${words[0]}` : ''
  const message = `${typed} is not a ${config.bin} command.${suggestion ? ` Did you mean ${toConfiguredId(suggestion, config)}?` : ''}`
  const remedy = suggestion
    ? `Try this: ${config.bin} ${[toConfiguredId(suggestion, config), ...args].join(' ')}`
    : `Try this: ${config.bin} help${topic} (the list of commands)`
  if (args.includes('--json')) {
    process.stdout.write(JSON.stringify({error: {code: 'USAGE', exitCode: 127, message, remedy}}, null, 2) + '\n')
  } else {
    process.stderr.write(`Error: ${message}\n${remedy}\n`)
  }

  process.exit(127)
}

export default hook
