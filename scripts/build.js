// Build: type-check src/, bundle the CLI with esbuild, then write the oclif manifest.
//
// Start-up time is most of what a CLI costs its users, so @oclif/core and the project's code are
// bundled with esbuild: one entry for the runtime (dist/kmsctl.js, loaded by bin/run.js), one per
// command (dist/commands/**, found by oclif), one per worker-thread script (src/**/*-worker.ts, see
// src/lib/paths.ts), with shared code split into dist/chunks/. `--version` and `--help` load the
// runtime chunk only; a command loads its own code. The AWS SDK and the prompt library stay outside
// the bundle and are imported only by the code that needs them.
import {execFileSync} from 'node:child_process'
import {existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync} from 'node:fs'
import {dirname, join, relative, sep} from 'node:path'
import {fileURLToPath} from 'node:url'

import * as esbuild from 'esbuild'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const src = join(root, 'src')
const run = (cmd, args) => execFileSync(cmd, args, {cwd: root, env: {...process.env, OCLIF_SKIP_NEW_VERSION_CHECK: 'true'}, stdio: 'inherit'})

function walk(dir) {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name)
    return statSync(p).isDirectory() ? walk(p) : [p]
  })
}

// 1. Entry points: the CLI runtime, each command, each worker script.
const commandFiles = walk(join(src, 'commands')).filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts')).sort()
const workers = walk(src).filter((f) => /-worker\.ts$/.test(f))

// 2. Type-check everything. Type errors fail the build, after the bundle is written, so that one
//    broken file does not stop everyone else from running their tests.
let typeErrors = false
try {
  run(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json', '--noEmit'])
} catch {
  typeErrors = true
}

// 3. Bundle into a new directory, then swap it in, so that a build never leaves a half-written
//    dist/ under a command that is running.
const next = join(root, '.tmp', `dist-${process.pid}`)
rmSync(next, {force: true, recursive: true})
mkdirSync(next, {recursive: true})
// Two small start-up savings in oclif, applied to the bundle (each checked, so that an oclif
// upgrade that changes the code fails the build instead of silently dropping the patch):
// - it matches every dependency name against every plugin pattern with minimatch at each start
//   (some 60 pattern compilations); plugin names are exact, so compare them first;
// - help renders every text through ejs, compiling a template each time; text without a tag
//   renders as itself.
const OCLIF_PATCHES = [
  {
    file: /@oclif[\\/]core[\\/]lib[\\/]config[\\/]plugin-loader\.js$/,
    from: 'patterns.some((w) => (0, minimatch_1.minimatch)(p, w))',
    to: 'patterns.some((w) => p === w || (/[*?[{]/.test(w) && (0, minimatch_1.minimatch)(p, w)))',
  },
  {
    file: /@oclif[\\/]core[\\/]lib[\\/]help[\\/]util\.js$/,
    from: 'return ejs.render(t, context);',
    to: "return typeof t === 'string' && !t.includes('<%') ? t : ejs.render(t, context);",
  },
]
// oclif requires some modules at load that only some paths use (globbing commands without a
// manifest, the spinner on a terminal, rc-file search, hooks, plugin patterns with wildcards); the
// bundle defers each of those requires to the first use of the module. The rewrite is checked: the
// require must be found, and every use of its binding must be a property access (`name.prop`), each
// of which becomes a getter that loads the module.
const LAZY_REQUIRES = [
  {file: /@oclif[\\/]core[\\/]lib[\\/]config[\\/]plugin\.js$/, ids: ['tinyglobby', '../module-loader']},
  {file: /@oclif[\\/]core[\\/]lib[\\/]config[\\/]plugin-loader\.js$/, ids: ['minimatch']},
  {file: /@oclif[\\/]core[\\/]lib[\\/]config[\\/]config\.js$/, ids: ['../module-loader']},
  {file: /@oclif[\\/]core[\\/]lib[\\/]help[\\/]index\.js$/, ids: ['../module-loader']},
  {file: /@oclif[\\/]core[\\/]lib[\\/]util[\\/]read-pjson\.js$/, ids: ['lilconfig']},
  {file: /@oclif[\\/]core[\\/]lib[\\/]ux[\\/]index\.js$/, ids: ['./action/spinner']},
]
const LAZY_HELPER =
  'function __kmsctlLazy(load, keys) { let m; const o = {}; for (const k of keys) Object.defineProperty(o, k, {get: () => (m ??= load())[k]}); return o }\n'

function deferRequire(text, id, path) {
  const quoted = JSON.stringify(id)
  const decl = new RegExp(`const (\\w+) = (__importDefault\\(|__importStar\\()?require\\(${quoted.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}\\)\\)?;`)
  const m = decl.exec(text)
  if (!m) throw new Error(`build: ${path} no longer requires ${id}; update LAZY_REQUIRES in scripts/build.js`)
  const [stmt, name, wrap] = m
  const rest = text.slice(0, m.index) + text.slice(m.index + stmt.length)
  const keys = new Set()
  for (const use of rest.matchAll(new RegExp(`\\b${name}\\b(\\.(\\w+))?`, 'g'))) {
    if (!use[2]) throw new Error(`build: ${path} uses ${name} other than as name.prop; update LAZY_REQUIRES in scripts/build.js`)
    keys.add(use[2])
  }
  const load = wrap ? `${wrap}require(${quoted}))` : `require(${quoted})`
  return text.replace(stmt, `const ${name} = __kmsctlLazy(() => ${load}, ${JSON.stringify([...keys])});`)
}

const oclifStartup = {
  name: 'oclif-startup',
  setup(build) {
    build.onLoad({filter: /@oclif[\\/]core[\\/]lib[\\/].*\.js$/}, async (args) => {
      const patches = OCLIF_PATCHES.filter((p) => p.file.test(args.path))
      const lazy = LAZY_REQUIRES.filter((p) => p.file.test(args.path)).flatMap((p) => p.ids)
      if (patches.length === 0 && lazy.length === 0) return
      const {readFile} = await import('node:fs/promises')
      let text = await readFile(args.path, 'utf8')
      for (const patch of patches) {
        if (!text.includes(patch.from)) throw new Error(`build: ${args.path} changed; update OCLIF_PATCHES in scripts/build.js`)
        text = text.replace(patch.from, patch.to)
      }
      for (const id of lazy) text = deferRequire(text, id, args.path)
      if (lazy.length > 0) text = LAZY_HELPER + text
      return {contents: text, loader: 'js'}
    })
  },
}

const common = {
  banner: {js: "import {createRequire as __kmsctlCreateRequire} from 'node:module'; const require = __kmsctlCreateRequire(import.meta.url);"},
  bundle: true,
  external: ['@aws-sdk/*', '@smithy/*', '@inquirer/*', 'node-pty', 'typescript', 'ts-node', 'tsx'],
  format: 'esm',
  keepNames: true,
  legalComments: 'none',
  logLevel: 'warning',
  minify: process.env.KMSCTL_BUILD_MINIFY !== '0',
  platform: 'node',
  plugins: [oclifStartup],
  target: 'node20',
}
await esbuild.build({
  ...common,
  chunkNames: 'chunks/[name]-[hash]',
  entryPoints: [join(src, 'kmsctl.ts'), ...commandFiles, ...workers],
  outbase: src,
  outdir: next,
  splitting: true,
})
const old = join(root, '.tmp', `dist-old-${process.pid}`)
if (existsSync(join(root, 'dist'))) renameSync(join(root, 'dist'), old)
renameSync(next, join(root, 'dist'))
rmSync(old, {force: true, recursive: true})

// 4. The manifest, so that --help and --version never load command modules.
run(process.execPath, [join(root, 'node_modules/oclif/bin/run.js'), 'manifest'])
if (typeErrors) {
  console.error('build: type errors (above); dist/ was written anyway')
  process.exit(1)
}
