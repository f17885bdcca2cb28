#!/usr/bin/env node
// `kmsctl --version` is answered here, in the format oclif uses (bin/version platform-arch node-version),
// without loading the CLI runtime: scripts call it often. Everything else goes to oclif.
const argv = process.argv.slice(2)
if (argv.length === 1 && (argv[0] === '--version' || argv[0] === '-v')) {
  const {readFileSync} = await import('node:fs')
  const pjson = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'))
  process.stdout.write(`${pjson.oclif.bin}/${pjson.version} ${process.platform}-${process.arch} node-${process.version}\n`)
} else {
  const {execute} = await import('../dist/kmsctl.js')
  await execute({dir: import.meta.url})
}
