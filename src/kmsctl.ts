// The CLI's entry module: oclif's runtime and every command, bundled into dist/kmsctl.js.
export {execute} from '@oclif/core'
export {COMMANDS} from './commands.generated.js'
