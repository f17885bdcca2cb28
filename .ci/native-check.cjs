// Loads every native module under node_modules that is built for this machine (build/Release, or a
// prebuild for this platform and architecture) with the running Node.js, and prints the ones that do
// not load (a different ABI). Exit 0 when all load, 1 otherwise. Used by .ci/run for each Node version.
'use strict'
const {readdirSync, statSync} = require('node:fs')
const {join, sep} = require('node:path')

const root = join(__dirname, '..', 'node_modules')
const platformDir = `${process.platform}-${process.arch}`

function* walk(dir) {
  let names
  try {
    names = readdirSync(dir)
  } catch {
    return
  }

  for (const name of names) {
    const p = join(dir, name)
    let st
    try {
      st = statSync(p)
    } catch {
      continue
    }

    if (st.isDirectory()) yield* walk(p)
    else if (name.endsWith('.node')) yield p
  }
}

/** Only binaries meant for this machine: prebuilds for other platforms are not loadable anyway. */
function forThisMachine(path) {
  const parts = path.split(sep)
  const i = parts.lastIndexOf('prebuilds')
  if (i !== -1) return parts[i + 1] === platformDir
  if (parts.includes('obj.target')) return false
  return true
}

const failed = []
let loaded = 0
for (const file of walk(root)) {
  if (!forThisMachine(file)) continue
  try {
    process.dlopen({exports: {}}, file)
    loaded++
  } catch (error) {
    failed.push(`${file.slice(root.length + 1)}: ${String(error.message).split('\n')[0]}`)
  }
}

console.log(`Node.js ${process.version} (ABI ${process.versions.modules}): ${loaded} native module(s) load${failed.length > 0 ? `, ${failed.length} do not` : ''}`)
for (const f of failed) console.log(`  ${f}`)
process.exitCode = failed.length > 0 ? 1 : 0
