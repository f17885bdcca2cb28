// Every command's and topic's help at 80 columns: no line longer than 80, and no word split
// across lines (every word at 80 columns is a word of the same help rendered unwrapped).
import {expect} from 'chai'
import {readFileSync} from 'node:fs'
import {join} from 'node:path'

import {projectRoot, runCli} from './helpers/cli.js'

const manifest = JSON.parse(readFileSync(join(projectRoot, 'oclif.manifest.json'), 'utf8')) as {commands: Record<string, {hidden?: boolean}>}
const pjson = JSON.parse(readFileSync(join(projectRoot, 'package.json'), 'utf8')) as {oclif: {topics: Record<string, unknown>}}
const ids = Object.entries(manifest.commands)
  .filter(([, c]) => !c.hidden)
  .map(([id]) => id)
const targets = [[], ...Object.keys(pjson.oclif.topics).map((t) => t.split(':')), ...ids.map((id) => id.split(':'))]

const help = async (words: string[], columns: number) => {
  const r = await runCli([...words, '--help'], {env: {NO_COLOR: '1', OCLIF_COLUMNS: String(columns)}})
  expect(r.code, `${words.join(' ')} --help: ${r.stderr}`).to.equal(0)
  return r.stdout
}

describe('help at 80 columns', function () {
  this.timeout(120_000)

  it(`is no wider than 80 and splits no word, for the root, ${Object.keys(pjson.oclif.topics).length} topics and ${ids.length} commands`, async () => {
    const problems: string[] = []
    for (const words of targets) {
      // eslint-disable-next-line no-await-in-loop
      const [narrow, wide] = await Promise.all([help(words, 80), help(words, 2000)])
      const known = new Set(wide.split(/\s+/))
      for (const line of narrow.split('\n')) {
        if (line.length > 80) problems.push(`${words.join(' ')}: ${line.length} columns: ${line}`)
      }

      for (const word of narrow.split(/\s+/)) {
        // A trailing backslash is how oclif continues a long example on the next line.
        if (word && word !== '\\' && !known.has(word)) problems.push(`${words.join(' ')}: "${word}" is not a word of the unwrapped help (split?)`)
      }
    }

    expect(problems).to.deep.equal([])
  })
})
