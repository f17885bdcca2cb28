#!/usr/bin/env node
// `kmsctl --version` is answered here, in the format oclif uses (bin/version platform-arch node-version),
// without loading the CLI runtime: scripts call it often. Everything else goes to oclif.
const argv = process.argv.slice(2)
if (argv.length === 1 && (argv[0] === '--version' || argv[0] === '-v')) {
  const {readFileSync} = await import('node:fs')
  const pjson = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'))
  process.stdout.write(`${pjson.oclif.bin}/${pjson.version} ${process.platform}-${process.arch} node-${process.version}\n`)
} else {
  // Node.js 22.1 and later keep the compiled code of the modules a run loads (oclif, the AWS SDK)
  // and reuse it at the next start. The cache lives with kmsctl's own files (KMSCTL_HOME, else
  // ~/.kmsctl), not in a directory other users can write to; NODE_COMPILE_CACHE chooses another one,
  // NODE_DISABLE_COMPILE_CACHE=1 turns it off. Node.js 20 has no such cache and starts as before.
  const {enableCompileCache} = await import('node:module')
  if (enableCompileCache && !process.env.NODE_DISABLE_COMPILE_CACHE) {
    const {homedir} = await import('node:os')
    const home = process.env.KMSCTL_HOME || `${homedir()}/.kmsctl`
    try {
      enableCompileCache(process.env.NODE_COMPILE_CACHE || `${home}/compile-cache`)
    } catch {
      // No cache (an unwritable directory): start without it.
    }
  }

  const {execute} = await import('../dist/kmsctl.js')
  await execute({dir: import.meta.url})
}
