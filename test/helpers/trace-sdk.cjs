// Preloaded by a test: prints to stderr any AWS SDK module that gets loaded.
const Module = require('node:module')
const seen = new Set()
function note(url) {
  if (/node_modules\/@aws-sdk\//.test(url) && !seen.has('x')) {
    seen.add('x')
    process.stderr.write(`AWS SDK loaded: ${url}\n`)
  }
}

const load = Module._load
Module._load = function (request, parent, isMain) {
  try {
    note(Module._resolveFilename(request, parent))
  } catch {}
  return load.apply(this, arguments)
}

if (typeof Module.register === 'function') {
  Module.register('data:text/javascript,' + encodeURIComponent(`
    export async function resolve(s, c, next) {
      const r = await next(s, c)
      if (/node_modules\\/@aws-sdk\\//.test(r.url)) process.stderr.write('AWS SDK loaded: ' + r.url + '\\n')
      return r
    }`))
}
