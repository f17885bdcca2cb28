// Build: type-check and compile src/ to dist/, then write the oclif manifest so that
// `--help` and `--version` never load command modules.
import {execFileSync} from 'node:child_process'
import {rmSync} from 'node:fs'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const run = (cmd, args) => execFileSync(cmd, args, {cwd: root, stdio: 'inherit'})

rmSync(join(root, 'dist'), {force: true, recursive: true})
rmSync(join(root, '.tmp', 'tsbuildinfo'), {force: true})
rmSync(join(root, 'oclif.manifest.json'), {force: true})
run(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json'])
run(process.execPath, [join(root, 'node_modules/oclif/bin/run.js'), 'manifest'])
