// The CLI's runtime entry (dist/kmsctl.js): oclif's execute, shared with every command bundle.
// Imported from @oclif/core/execute rather than the package index, so that start-up (--version,
// --help) evaluates only the part of oclif that runs a command, not every export of the package.
export {execute} from '@oclif/core/execute'
