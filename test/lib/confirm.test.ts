import {expect} from 'chai'

import {confirmAction} from '../../src/lib/confirm.js'

describe('confirmAction', () => {
  const lines: string[] = []
  const write = (l: string) => lines.push(l)
  beforeEach(() => (lines.length = 0))

  it('accepts --confirm with the exact key ID or alias', async () => {
    expect(await confirmAction({accepted: ['k1', 'alias/a'], action: 'disable k1', confirm: 'alias/a', write})).to.equal('confirm-flag')
  })

  it('refuses a mismatching --confirm with exit 2, naming what was expected', async () => {
    const err = await confirmAction({accepted: ['k1', 'alias/a'], action: 'disable k1', confirm: 'k2', write}).catch((error: Error) => error)
    expect(err).to.have.property('exitCode', 2)
    expect((err as Error).message).to.equal('--confirm "k2" does not match; expected "k1" or "alias/a".')
  })

  it('--yes skips the prompt and says so on stderr, unless the action forbids it', async () => {
    expect(await confirmAction({accepted: ['k1'], action: 'disable k1', write, yes: true})).to.equal('yes')
    expect(lines).to.deep.equal(['Confirmed with --yes: disable k1.'])
    const err = await confirmAction({accepted: ['k1'], action: 'schedule deletion of k1', allowYes: false, write, yes: true}).catch((error: Error) => error)
    expect((err as Error).message).to.equal('--yes is not enough to schedule deletion of k1.')
  })

  it('never prompts without a terminal or under --json', async () => {
    let asked = false
    const ask = async () => {
      asked = true
      return 'k1'
    }

    const err = await confirmAction({accepted: ['k1'], action: 'disable k1', ask, interactive: false, write}).catch((error: Error) => error)
    expect(err).to.have.property('code', 'CONFIRMATION_REQUIRED')
    expect(err).to.have.property('remedy', 'Try this: --confirm k1 or --yes')
    const err2 = await confirmAction({accepted: ['k1'], action: 'disable k1', ask, interactive: true, json: true, write}).catch((error: Error) => error)
    expect(err2).to.have.property('code', 'CONFIRMATION_REQUIRED')
    expect(asked).to.equal(false)
  })

  it('prompts for the key ID; the right text confirms, anything else declines with exit 4', async () => {
    const prompts: string[] = []
    const ok = await confirmAction({accepted: ['k1', 'alias/a'], action: 'disable k1', ask: async (m) => (prompts.push(m), 'alias/a'), interactive: true, summary: 'Will disable 1 key', write})
    expect(ok).to.equal('prompt')
    expect(lines).to.deep.equal(['Will disable 1 key'])
    expect(prompts[0]).to.equal('To disable k1, type k1 (or its alias):')
    const err = await confirmAction({accepted: ['k1'], action: 'disable k1', ask: async () => 'y', interactive: true, write}).catch((error: Error) => error)
    expect(err).to.have.property('exitCode', 4)
    expect((err as Error).message).to.equal('"y" does not match; nothing was changed.')
  })
})
