// The layer rules, read from import statements: commands are thin and stand alone, src/lib holds
// no command-line code, and the sandbox borrows from src/lib only pure modules (the policy engine,
// errors and value helpers), never the AWS call path, pacing or anything that loads the SDK.
import {expect} from 'chai'
import {readFileSync, readdirSync, statSync} from 'node:fs'
import {dirname, join, relative, resolve} from 'node:path'

import {projectRoot} from './helpers/cli.js'

const SRC = join(projectRoot, 'src')

/** What the sandbox may import from src/lib, directly or through those modules. */
const SANDBOX_MAY_USE_FROM_LIB = [
  'lib/aws/sigv4.ts',
  'lib/buffer-pool.ts',
  'lib/cidr.ts',
  'lib/data/digest-sign.ts',
  'lib/errors.ts',
  'lib/glob.ts',
  'lib/grants/validate.ts',
  'lib/parse.ts',
  'lib/policy/',
  'lib/quotas.ts',
  'lib/time.ts',
]

/** Packages those modules may load at run time (type-only imports load nothing). */
const SANDBOX_LIB_PACKAGES = ['ipaddr.js', 'picomatch']

interface Import {
  /** The specifier as written. */
  from: string
  /** The file it names, relative to src/, for relative specifiers. */
  target?: string
  typeOnly: boolean
}

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n)
    return statSync(p).isDirectory() ? walk(p) : p.endsWith('.ts') ? [p] : []
  })
}

/** The import and re-export statements of a source file, dynamic imports included. */
function importsOf(file: string): Import[] {
  const text = readFileSync(file, 'utf8')
  const found: Import[] = []
  const add = (from: string, typeOnly: boolean) => {
    const target = from.startsWith('.') ? relative(SRC, resolve(dirname(file), from)).replace(/\.js$/, '.ts') : undefined
    found.push({from, target, typeOnly})
  }

  for (const m of text.matchAll(/^\s*(import|export)(\s+type)?\s[^;'"]*?\sfrom\s+['"]([^'"]+)['"]/gm)) add(m[3], Boolean(m[2]))
  for (const m of text.matchAll(/^\s*import\s+['"]([^'"]+)['"]/gm)) add(m[1], false)
  for (const m of text.matchAll(/\bimport\(\s*['"]([^'"]+)['"]\s*\)/g)) add(m[1], false)
  return found
}

const files = walk(SRC).map((f) => relative(SRC, f))
const imports = new Map(files.map((f) => [f, importsOf(join(SRC, f))]))

function offenders(from: (file: string) => boolean, bad: (i: Import, file: string) => boolean): string[] {
  return files.filter((f) => from(f)).flatMap((f) => imports.get(f)!.filter((i) => bad(i, f)).map((i) => `${f} -> ${i.from}`))
}

describe('architecture: layer rules', () => {
  it('reads the imports of every source file (multi-line, re-exports and dynamic ones too)', () => {
    expect(files).to.include('sandbox/limits/quotas.ts')
    expect(imports.get('sandbox/limits/quotas.ts')!.map((i) => i.target)).to.include('lib/quotas.ts')
    expect(imports.get('lib/pacing.ts')!.map((i) => i.target)).to.include.members(['lib/quotas.ts', 'lib/errors.ts'])
    expect(imports.get('lib/pacing.ts')!.map((i) => i.from)).to.include.members(['p-limit'])
  })

  it('no command imports another command', () => {
    expect(offenders((f) => f.startsWith('commands/'), (i) => Boolean(i.target?.startsWith('commands/')))).to.deep.equal([])
  })

  it('src/lib imports no oclif and nothing from src/cli or src/commands', () => {
    expect(
      offenders(
        (f) => f.startsWith('lib/'),
        (i) => i.from.startsWith('@oclif/') || Boolean(i.target?.startsWith('cli/') || i.target?.startsWith('commands/')),
      ),
    ).to.deep.equal([])
  })

  it('src/cli imports no command', () => {
    expect(offenders((f) => f.startsWith('cli/'), (i) => Boolean(i.target?.startsWith('commands/')))).to.deep.equal([])
  })

  it('src/sandbox imports no oclif, nothing from src/cli or src/commands', () => {
    expect(
      offenders(
        (f) => f.startsWith('sandbox/'),
        (i) => i.from.startsWith('@oclif/') || Boolean(i.target?.startsWith('cli/') || i.target?.startsWith('commands/')),
      ),
    ).to.deep.equal([])
  })

  it('src/sandbox reaches into src/lib only the allowed pure modules, directly or through them', () => {
    const allowed = (target: string) => SANDBOX_MAY_USE_FROM_LIB.some((a) => (a.endsWith('/') ? target.startsWith(a) : target === a))
    const seen = new Set<string>()
    const queue = files.filter((f) => f.startsWith('sandbox/'))
    const bad: string[] = []
    while (queue.length > 0) {
      const f = queue.pop()!
      for (const i of imports.get(f) ?? []) {
        if (i.target?.startsWith('lib/')) {
          if (!allowed(i.target)) bad.push(`${f} -> ${i.target}`)
          else if (!seen.has(i.target)) {
            seen.add(i.target)
            queue.push(i.target)
          }
        } else if (f.startsWith('lib/') && !i.target && !i.typeOnly && !i.from.startsWith('node:') && !SANDBOX_LIB_PACKAGES.includes(i.from)) {
          bad.push(`${f} -> ${i.from}`)
        }
      }
    }

    expect(bad).to.deep.equal([])
    expect([...seen]).to.include.members(['lib/policy/lockout.ts', 'lib/glob.ts', 'lib/quotas.ts'])
  })
})
