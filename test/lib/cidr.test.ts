import {expect} from 'chai'

import {ipInRange, isIpOrRange} from '../../src/lib/cidr.js'

describe('cidr', () => {
  it('IP ranges: CIDR, single address, IPv6, IPv4-mapped, and a malformed value never matches', () => {
    expect(ipInRange('10.1.2.3', '10.0.0.0/8')).to.equal(true)
    expect(ipInRange('11.1.2.3', '10.0.0.0/8')).to.equal(false)
    expect(ipInRange('10.1.2.3', '10.1.2.3')).to.equal(true)
    expect(ipInRange('2001:db8::5', '2001:db8::/32')).to.equal(true)
    expect(ipInRange('::ffff:10.1.2.3', '10.0.0.0/8')).to.equal(true)
    expect(ipInRange('10.1.2.3', '::ffff:10.0.0.0/104')).to.equal(true)
    expect(ipInRange('s3.amazonaws.com', '10.0.0.0/8')).to.equal(false)
    expect(ipInRange('AWS Internal', '0.0.0.0/0')).to.equal(false)
    expect(ipInRange('10.1.2.3', 'not-a-range')).to.equal(false)
  })

  it('checks a value given on the command line', () => {
    for (const ok of ['203.0.113.7', '10.0.0.0/8', '2001:db8::/32', '::1']) expect(isIpOrRange(ok), ok).to.equal(true)
    for (const bad of ['10.0.0.0/33', '300.1.1.1', 'example.com', '10.0.0/8', '']) expect(isIpOrRange(bad), bad).to.equal(false)
  })
})
