import {expect} from 'chai'

import {exitCodeOf, outcomeOf} from '../../src/cli/exit-code.js'

describe('exit codes from a result', () => {
  it('maps outcomes to the documented codes', () => {
    expect(['ok', 'failed', 'usage', 'partial', 'interrupted'].map((o) => exitCodeOf(o as never))).to.deep.equal([0, 1, 2, 3, 130])
  })

  it('decides from counts: interrupted wins, nothing failed is ok, all failed is failed, else partial', () => {
    expect(outcomeOf({failed: 2, interrupted: true, succeeded: 1})).to.equal('interrupted')
    expect(outcomeOf({failed: 0, succeeded: 0})).to.equal('ok')
    expect(outcomeOf({failed: 3, succeeded: 0})).to.equal('failed')
    expect(outcomeOf({failed: 3})).to.equal('failed')
    expect(outcomeOf({failed: 1, succeeded: 4})).to.equal('partial')
    expect(outcomeOf({failed: 1, succeeded: 4, whenSome: 'failed'})).to.equal('failed')
    expect(exitCodeOf({failed: 1, succeeded: 4})).to.equal(3)
  })
})
