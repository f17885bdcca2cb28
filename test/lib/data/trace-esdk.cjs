// Preloaded by a test: prints to stderr the first AWS Encryption SDK module that gets loaded.
const Module = require('node:module')
let seen = false
const load = Module._load
Module._load = function (request, parent, isMain) {
  if (!seen) {
    try {
      const file = Module._resolveFilename(request, parent)
      if (/node_modules\/@aws-crypto\//.test(file)) {
        seen = true
        process.stderr.write(`Encryption SDK loaded: ${file}\n`)
      }
    } catch {}
  }

  return load.apply(this, arguments)
}
