// The SARIF 2.1.0 JSON schema (draft-04) as published with the standard, read from the
// @microsoft/jest-sarif dev dependency that ships it (lib/schemas/sarif-2.1.0-rtm.5.json).
import {readFileSync} from 'node:fs'
import {createRequire} from 'node:module'
import {dirname, join} from 'node:path'

const require = createRequire(import.meta.url)

export function sarifSchema(): Record<string, unknown> {
  const pkg = dirname(require.resolve('@microsoft/jest-sarif/package.json'))
  return JSON.parse(readFileSync(join(pkg, 'lib', 'schemas', 'sarif-2.1.0-rtm.5.json'), 'utf8'))
}
