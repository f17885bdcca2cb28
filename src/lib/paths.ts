// Files of the installed package, found the same way whether the code runs bundled
// (dist/kmsctl.js), from dist/ per file, or from src/ under tsx in tests.
import {existsSync} from 'node:fs'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'

let root: string | undefined

/** The package root: the nearest directory above this module that holds kmsctl's package.json. */
export function packageRoot(): string {
  if (root) return root
  let dir = dirname(fileURLToPath(import.meta.url))
  while (!existsSync(join(dir, 'package.json')) || !existsSync(join(dir, 'bin', 'run.js'))) {
    const up = dirname(dir)
    if (up === dir) throw new Error('kmsctl: cannot find the package root')
    dir = up
  }

  root = dir
  return dir
}

/**
 * A worker-thread script by its path under src/ without extension ("lib/trail/files-worker"):
 * the built dist/ file (bundled on its own by the build).
 */
export function workerScript(pathUnderSrc: string): string {
  return join(packageRoot(), 'dist', `${pathUnderSrc}.js`)
}
