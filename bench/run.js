// `npm run bench`: every benchmark under bench/, in one run, each reporting ratios against the
// baseline it measures in the same run. Results also go to bench/results.json.
import {existsSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'

import {root} from './lib.js'

const only = process.argv.slice(2)
const suites = ['startup', 'sandbox', 'key-list', 'bulk-disable', 'grants-list', 'trail-files', 'trail-api', 'trail-s3', 'audit', 'data']
const all = {}
for (const name of suites) {
  if (only.length > 0 && !only.includes(name)) continue
  const file = join(root, 'bench', `${name}.js`)
  if (!existsSync(file)) continue
  console.log(`\n== ${name}`)
  try {
    const mod = await import(file)
    const r = await mod.run()
    all[name] = r
    console.log((r.lines ?? [JSON.stringify(r)]).join('\n'))
  } catch (error) {
    all[name] = {error: String(error?.message ?? error)}
    console.log(`failed: ${error?.message ?? error}`)
    process.exitCode = 1
  }
}

writeFileSync(join(root, 'bench', 'results.json'), JSON.stringify(all, null, 2) + '\n')
