// The README's command reference is generated from the manifest; it must list every command.
import {expect} from 'chai'
import {readFileSync} from 'node:fs'
import {join} from 'node:path'

import {projectRoot} from './helpers/cli.js'

describe('README', () => {
  it('documents every command with an example (run `npm run readme` after adding one)', async () => {
    const {updatedReadme} = await import(join(projectRoot, 'scripts', 'readme.js'))
    const current = readFileSync(join(projectRoot, 'README.md'), 'utf8')
    expect(current, 'README.md is out of date: run npm run readme').to.equal(updatedReadme())
    const manifest = JSON.parse(readFileSync(join(projectRoot, 'oclif.manifest.json'), 'utf8'))
    for (const [id, c] of Object.entries<any>(manifest.commands)) {
      if (c.hidden || c.pluginType !== 'core') continue
      expect(current).to.contain(`#### \`kmsctl ${id.replaceAll(':', ' ')}\``)
      expect(c.examples ?? [], `${id} has no examples`).to.not.be.empty
    }
  })
})
