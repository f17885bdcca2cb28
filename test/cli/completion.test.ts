import {expect} from 'chai'
import {mkdtempSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {type CompletionCommand, cacheAliases, complete, completionDir} from '../../src/cli/completion.js'

const commands: CompletionCommand[] = [
  {args: {keys: {}}, flags: {state: {name: 'state', type: 'option'}, tag: {name: 'tag', type: 'option'}, yes: {char: 'y', name: 'yes', type: 'boolean'}}, id: 'key:disable'},
  {args: {}, flags: {manager: {name: 'manager', options: ['AWS', 'CUSTOMER'], type: 'option'}, state: {name: 'state', type: 'option'}}, id: 'key:list'},
  {args: {}, flags: {source: {name: 'source', options: ['api', 'files', 'lake'], type: 'option'}}, id: 'trail:query'},
  {args: {}, flags: {}, hidden: true, id: 'secret'},
]

describe('shell completion', () => {
  const env = {KMSCTL_HOME: mkdtempSync(join(tmpdir(), 'kmsctl-completion-'))}
  before(() => cacheAliases('us-east-1', ['alias/prod-billing', 'alias/prod-payments', 'alias/aws/s3'], env))

  it('keeps the alias cache under KMSCTL_HOME, without AWS-managed aliases', () => {
    expect(completionDir(env)).to.equal(join(env.KMSCTL_HOME, 'completion'))
    expect(complete(commands, ['key', 'disable', 'alias/'], env)).to.deep.equal(['alias/prod-billing', 'alias/prod-payments'])
  })

  it('completes topics, commands and flags, never hidden commands', () => {
    expect(complete(commands, [''], env)).to.deep.equal(['key', 'trail'])
    expect(complete(commands, ['key', 'l'], env)).to.deep.equal(['list'])
    expect(complete(commands, ['key', 'disable', '--t'], env)).to.deep.equal(['--tag'])
  })

  it('completes flag values: declared options, key states, and --flag=value', () => {
    expect(complete(commands, ['trail', 'query', '--source', ''], env)).to.deep.equal(['api', 'files', 'lake'])
    expect(complete(commands, ['key', 'list', '--manager', 'C'], env)).to.deep.equal(['CUSTOMER'])
    expect(complete(commands, ['key', 'list', '--state', 'Dis'], env)).to.deep.equal(['Disabled'])
    expect(complete(commands, ['key', 'list', '--state=En'], env)).to.deep.equal(['--state=Enabled'])
  })
})
