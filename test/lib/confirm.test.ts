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

describe('confirmAction: wrong answers', () => {
  it('says a wrong answer is wrong and asks again, up to three times', async () => {
    const lines: string[] = []
    const answers = ['yes', 'disable 4 key', 'disable 4 keys']
    const asked: string[] = []
    const ok = await confirmAction({accepted: ['disable 4 keys'], action: 'disable 4 keys', ask: async (m) => (asked.push(m), answers.shift()!), interactive: true, write: (l) => lines.push(l)})
    expect(ok).to.equal('prompt')
    expect(asked).to.have.length(3)
    expect(lines).to.deep.equal([
      '✖ "yes" does not match. Type disable 4 keys exactly (2 more tries), or press Enter to stop.',
      '✖ "disable 4 key" does not match. Type disable 4 keys exactly (1 more try), or press Enter to stop.',
    ])
  })

  it('gives up after the third wrong answer (exit 4), and at once on an empty answer', async () => {
    let asked = 0
    const err = await confirmAction({accepted: ['k1'], action: 'disable k1', ask: async () => (asked++, 'k2'), interactive: true, write: () => {}}).catch((error: Error) => error)
    expect(asked).to.equal(3)
    expect(err).to.have.property('exitCode', 4)
    asked = 0
    const empty = await confirmAction({accepted: ['k1'], action: 'disable k1', ask: async () => (asked++, ''), interactive: true, write: () => {}}).catch((error: Error) => error)
    expect(asked).to.equal(1)
    expect((empty as Error).message).to.equal('Not confirmed; nothing was changed.')
  })

  it('quotes a confirmation text with spaces in the remedy', async () => {
    const err = await confirmAction({accepted: ['disable 4 keys'], action: 'disable 4 keys', interactive: false, write: () => {}}).catch((error: Error) => error)
    expect(err).to.have.property('remedy', 'Try this: --confirm "disable 4 keys" or --yes')
  })
})
