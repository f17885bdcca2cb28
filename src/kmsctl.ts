// The CLI's runtime entry (dist/kmsctl.js): oclif's execute, shared with every command bundle.
export {execute} from '@oclif/core'
