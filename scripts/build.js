// Build: type-check src/, bundle the CLI with esbuild, then write the oclif manifest.
//
// Start-up time is most of what a CLI costs its users, so @oclif/core and the project's code are
// bundled with esbuild: one entry for the runtime (dist/kmsctl.js, loaded by bin/run.js), one per
// command (dist/commands/**, found by oclif), one per worker-thread script (src/**/*-worker.ts, see
// src/lib/paths.ts), with shared code split into dist/chunks/. `--version` and `--help` load the
// runtime chunk only; a command loads its own code. The AWS SDK stays outside
// the bundle and is imported only by the code that needs it (so are cli-table3, at the first table, and
// @inquirer/prompts, at the first prompt), as are the few packages oclif uses
// off the start-up path (see LAZY_REQUIRES).
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
// oclif hooks (package.json "hooks"), e.g. the unknown-command suggestion.
const hookFiles = existsSync(join(src, 'hooks')) ? walk(join(src, 'hooks')).filter((f) => f.endsWith('.ts')) : []

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
// Start-up savings in oclif, applied to the bundle (each checked, so that an oclif upgrade that
// changes the code fails the build instead of silently dropping the patch):
// - it matches every dependency name against every plugin pattern with minimatch at each start
//   (some 60 pattern compilations); plugin names are exact, so compare them first;
// - its logger creates a `debug` instance per namespace, which loads the debug package (and with
//   it tty, net and supports-color) at every start. debug prints only for namespaces enabled
//   through DEBUG, and enable() writes DEBUG too, so while DEBUG is empty every call is silent:
//   the package is loaded at the first call made with DEBUG set;
// - it finds each plugin's directory by resolving the package's entry with require.resolve and
//   walking up from it to a directory named like the plugin (some 4 ms for three plugins). When
//   <root>/node_modules/<name> holds a package.json whose `exports` (a string) or `main` names an
//   existing .js file, that file is what require.resolve returns (the first directory it searches
//   is <root>/node_modules), so the walk starts from it directly;
// - help renders every text through ejs, compiling a template each time; text without a tag
//   renders as itself, and text whose tags only print a property (<%= config.bin %>) is filled
//   in directly;
// - help measures the width of every word it wraps with string-width, which runs a large emoji
//   regular expression over it; printable ASCII is one column a character, so such text is
//   measured by its length;
// - help checks color support, and supports-color loads tty (and with it net) only to ask whether
//   fds 1 and 2 are terminals; process.stdout and process.stderr are terminal streams exactly when
//   they are, so their isTTY answers the same without loading tty for redirected output;
// - it reads each package.json and manifest (about a dozen, one after another, some missing)
//   with fs/promises, four thread-pool round trips a file; the same read done synchronously gives
//   the same text or the same error at a fraction of the cost;
// - it sorts each plugin's commands with localeCompare, whose first call builds ICU's collator
//   (some 10 ms). In the default collation (root, as for English and C/POSIX locales) ids made
//   of a-z, 0-9, '-' and ':' order position by position as '-' < ':' < digits < letters, then
//   shorter first; such ids are compared that way, anything else still with localeCompare.
const OCLIF_PATCHES = [
  {
    file: /@oclif[\\/]core[\\/]lib[\\/]config[\\/]plugin-loader\.js$/,
    from: 'patterns.some((w) => (0, minimatch_1.minimatch)(p, w))',
    to: 'patterns.some((w) => p === w || (/[*?[{]/.test(w) && (0, minimatch_1.minimatch)(p, w)))',
  },
  {
    file: /@oclif[\\/]core[\\/]lib[\\/]logger\.js$/,
    from: 'const debug_1 = __importDefault(require("debug"));',
    to:
      'const debug_1 = {default: (namespace) => { let d; return (...args) => {' +
      ' if (!d && !process.env.DEBUG) return; d ??= __importDefault(require("debug")).default(namespace); return d(...args) } }};',
  },
  {
    file: /node_modules[\\/]string-width[\\/]index\.js$/,
    from: '\tstring = stripAnsi(string);\n',
    to: '\tif (/^[\\x20-\\x7e]*$/.test(string)) {\n\t\treturn string.length;\n\t}\n\n\tstring = stripAnsi(string);\n',
  },
  {
    file: /node_modules[\\/]supports-color[\\/]index\.js$/,
    from: "const tty = require('tty');\n",
    to: '',
  },
  {
    file: /node_modules[\\/]supports-color[\\/]index\.js$/,
    from: '\tstdout: getSupportLevel({isTTY: tty.isatty(1)}),\n\tstderr: getSupportLevel({isTTY: tty.isatty(2)})\n',
    to: '\tstdout: getSupportLevel({isTTY: process.stdout.isTTY === true}),\n\tstderr: getSupportLevel({isTTY: process.stderr.isTTY === true})\n',
  },
  {
    file: /@oclif[\\/]core[\\/]lib[\\/]util[\\/]fs\.js$/,
    from: "const contents = await (0, promises_1.readFile)(path, 'utf8');",
    to: "const contents = (0, node_fs_1.readFileSync)(path, 'utf8');",
  },
  {
    file: /@oclif[\\/]core[\\/]lib[\\/]config[\\/]plugin\.js$/,
    from: '.sort((a, b) => a.id.localeCompare(b.id));',
    to: '.sort((a, b) => __kmsctlCompareIds(a.id, b.id));',
    helper: `const __kmsctlRootCollation = /^(|C|POSIX|en)([._@-]|$)/.test(process.env.LC_ALL || process.env.LC_MESSAGES || process.env.LANG || '');
function __kmsctlIdRank(c) { return c === 45 ? 1 : c === 58 ? 2 : c <= 57 ? c - 45 : c - 84 }
function __kmsctlCompareIds(a, b) {
  if (!__kmsctlRootCollation || !/^[a-z0-9:-]*$/.test(a) || !/^[a-z0-9:-]*$/.test(b)) return a.localeCompare(b);
  for (let i = 0; i < a.length && i < b.length; i++) { const d = __kmsctlIdRank(a.charCodeAt(i)) - __kmsctlIdRank(b.charCodeAt(i)); if (d !== 0) return d; }
  return a.length - b.length;
}
`,
  },
  {
    file: /@oclif[\\/]core[\\/]lib[\\/]util[\\/]find-root\.js$/,
    from: 'async function findRoot(name, root) {\n    if (name) {\n',
    to: `async function findRoot(name, root) {
    if (name) {
        const dir = (0, node_path_1.join)(root, 'node_modules', name);
        const pjson = await (0, fs_1.safeReadJson)((0, node_path_1.join)(dir, 'package.json'));
        const entry = typeof pjson?.exports === 'string' ? pjson.exports : pjson && pjson.exports === undefined ? pjson.main : undefined;
        if (typeof entry === 'string' && /\\.[cm]?js$/.test(entry)) {
            let file;
            try { file = require("node:fs").realpathSync((0, node_path_1.join)(dir, entry)); } catch { }
            for (let at = file && (0, node_path_1.dirname)(file); at && (0, node_path_1.dirname)(at) !== at; at = (0, node_path_1.dirname)(at)) {
                if (at.endsWith((0, node_path_1.basename)(name))) return at;
            }
        }
`,
  },
  {
    file: /@oclif[\\/]core[\\/]lib[\\/]help[\\/]util\.js$/,
    from: 'return ejs.render(t, context);',
    to: 'const simple = typeof t === \'string\' ? __kmsctlRenderSimple(t, context) : undefined; return simple ?? ejs.render(t, context);',
    helper: `// Text whose only tags are <%= name.prop %>, with name a property of the context, renders
// as the template engine renders it: each tag replaced by the value, XML-escaped as its escapeXML
// does. Anything else is rendered by the engine, as is text for a context that carries one of
// the options the engine reads from the data it is given.
const __kmsctlEjsDataOptions = ['delimiter', 'scope', 'context', 'debug', 'compileDebug', 'client', '_with', 'rmWhitespace', 'strict', 'filename', 'async'];
const __kmsctlXmlEntities = {'&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&#34;', "'": '&#39;'};
function __kmsctlRenderSimple(t, context) {
    if (!t.includes('<%')) return t;
    if (context == null || __kmsctlEjsDataOptions.some((k) => context[k] !== undefined)) return undefined;
    const parts = t.split(/<%= ([A-Za-z_$][\\w$]*)\\.([A-Za-z_$][\\w$]*) %>/);
    let out = '';
    for (let i = 0; i < parts.length; i += 3) {
        if (parts[i].includes('<%') || parts[i].includes('%>')) return undefined;
        out += parts[i];
        if (i + 1 < parts.length) {
            if (!(parts[i + 1] in context) || context[parts[i + 1]] == null) return undefined;
            const value = context[parts[i + 1]][parts[i + 2]];
            out += value == undefined ? '' : String(value).replace(/[&<>'"]/g, (c) => __kmsctlXmlEntities[c] || c);
        }
    }
    return out;
}
`,
  },
]
// oclif requires some modules at load that only some paths use (globbing commands without a
// manifest, the spinner on a terminal, rc-file search, hooks, plugin patterns with wildcards,
// performance marks when enabled, templates with more than property tags); the bundle defers each
// of those requires to the first use of the module. The rewrite is checked: the require must be
// found, and every use of its binding must be a property access (`name.prop`), each of which
// becomes a getter that loads the module.
const LAZY_REQUIRES = [
  {file: /@oclif[\\/]core[\\/]lib[\\/]config[\\/]plugin\.js$/, ids: ['tinyglobby', '../module-loader']},
  {file: /@oclif[\\/]core[\\/]lib[\\/]config[\\/]plugin-loader\.js$/, ids: ['minimatch']},
  {file: /@oclif[\\/]core[\\/]lib[\\/]config[\\/]config\.js$/, ids: ['../module-loader', 'ejs']},
  {file: /@oclif[\\/]core[\\/]lib[\\/]help[\\/]index\.js$/, ids: ['../module-loader']},
  {file: /@oclif[\\/]core[\\/]lib[\\/]help[\\/]util\.js$/, ids: ['ejs']},
  {file: /@oclif[\\/]core[\\/]lib[\\/]performance\.js$/, ids: ['node:perf_hooks']},
  // readline (and its keypress and promise modules) only for a flag read from stdin
  {file: /@oclif[\\/]core[\\/]lib[\\/]parser[\\/]parse\.js$/, ids: ['node:readline']},
  {file: /@oclif[\\/]core[\\/]lib[\\/]util[\\/]read-pjson\.js$/, ids: ['lilconfig']},
  {file: /@oclif[\\/]core[\\/]lib[\\/]ux[\\/]index\.js$/, ids: ['./action/spinner']},
  {file: /@oclif[\\/]core[\\/]lib[\\/]ux[\\/]action[\\/]spinner\.js$/, ids: ['cli-spinners']},
]
const LAZY_HELPER =
  'function __kmsctlLazy(load, keys) { let m; const o = {}; for (const k of keys) Object.defineProperty(o, k, {get: () => (m ??= load())[k]}); return o }\n' +
  'function __kmsctlCoreRequire(id) { return require("node:module").createRequire(require.resolve("@oclif/core"))(id) }\n'

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
  // A package (not one of oclif's own files) is not bundled: it is loaded from where oclif's own
  // require would find it, so that start-up does not parse code it rarely runs.
  const req = /^[.]|^node:/.test(id) ? `require(${quoted})` : `__kmsctlCoreRequire(${quoted})`
  const load = wrap ? `${wrap}${req})` : req
  return text.replace(stmt, `const ${name} = __kmsctlLazy(() => ${load}, ${JSON.stringify([...keys])});`)
}

const oclifStartup = {
  name: 'oclif-startup',
  setup(build) {
    const filter = new RegExp([...OCLIF_PATCHES, ...LAZY_REQUIRES].map((p) => p.file.source).join('|'))
    build.onLoad({filter}, async (args) => {
      const patches = OCLIF_PATCHES.filter((p) => p.file.test(args.path))
      const lazy = LAZY_REQUIRES.filter((p) => p.file.test(args.path)).flatMap((p) => p.ids)
      if (patches.length === 0 && lazy.length === 0) return
      const {readFile} = await import('node:fs/promises')
      let text = await readFile(args.path, 'utf8')
      for (const patch of patches) {
        if (!text.includes(patch.from)) throw new Error(`build: ${args.path} changed; update OCLIF_PATCHES in scripts/build.js`)
        text = text.replace(patch.from, patch.to)
        if (patch.helper) text = patch.helper + text
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
  external: ['@aws-sdk/*', '@duckdb/*', '@inquirer/*', '@smithy/*', 'cli-table3', 'node-pty', 'typescript', 'ts-node', 'tsx'],
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
  entryPoints: [join(src, 'kmsctl.ts'), join(src, 'help.ts'), ...commandFiles, ...workers, ...hookFiles],
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
