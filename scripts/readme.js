// Writes the README's command reference (between <!-- commands --> and <!-- commandsstop -->)
// from the oclif manifest: every command with its summary and examples. `npm run readme` after a
// build; test/readme.test.ts fails when the README is out of date.
import {readFileSync, writeFileSync} from 'node:fs'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')

export function commandReference(manifest, topics) {
  const commands = Object.values(manifest.commands).filter((c) => !c.hidden && c.pluginType === 'core').sort((a, b) => a.id.localeCompare(b.id))
  const byTopic = new Map()
  for (const c of commands) {
    const topic = c.id.includes(':') ? c.id.split(':')[0] : c.id
    if (!byTopic.has(topic)) byTopic.set(topic, [])
    byTopic.get(topic).push(c)
  }

  const out = ['## Commands', '', 'Every command takes the global flags above and `--help` (full flags and more examples).', '']
  for (const [topic, list] of byTopic) {
    out.push(`### ${topic}`, '')
    if (topics[topic]?.description) out.push(topics[topic].description + '.', '')
    for (const c of list) {
      const name = c.id.replaceAll(':', ' ')
      const summary = (c.summary ?? c.description ?? '').split('\n')[0]
      out.push(`#### \`kmsctl ${name}\``, '', summary, '')
      const examples = (c.examples ?? []).slice(0, 3).map((e) => (typeof e === 'string' ? {command: e} : e))
      if (examples.length > 0) {
        out.push('```sh')
        for (const e of examples) {
          const cmd = e.command.replaceAll('<%= config.bin %>', 'kmsctl').replaceAll('<%= command.id %>', name)
          if (e.description) out.push(`# ${e.description}`)
          out.push(cmd.startsWith('kmsctl') ? cmd : `kmsctl ${name} ${cmd}`)
        }

        out.push('```', '')
      }
    }
  }

  return out.join('\n')
}

export function updatedReadme() {
  const manifest = JSON.parse(readFileSync(join(root, 'oclif.manifest.json'), 'utf8'))
  const pjson = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'))
  const readme = readFileSync(join(root, 'README.md'), 'utf8')
  const start = readme.indexOf('<!-- commands -->')
  const end = readme.indexOf('<!-- commandsstop -->')
  if (start === -1 || end === -1) throw new Error('README.md lacks the <!-- commands --> / <!-- commandsstop --> markers')
  return readme.slice(0, start + '<!-- commands -->'.length) + '\n' + commandReference(manifest, pjson.oclif.topics ?? {}) + '\n' + readme.slice(end)
}

if (import.meta.url === `file://${process.argv[1]}`) {
  writeFileSync(join(root, 'README.md'), updatedReadme())
  console.log('README.md: command reference updated')
}
