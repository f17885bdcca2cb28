// IP addresses and CIDR ranges, IPv4 and IPv6: checking a value given on the command line, and
// whether an address lies in a range (the IpAddress policy condition, the trail --ip filter). An
// IPv4-mapped IPv6 address or range (::ffff:10.0.0.0/104) counts as the IPv4 one.
import ipaddr from 'ipaddr.js'

type Address = ipaddr.IPv4 | ipaddr.IPv6

/** A parsed range: network address and prefix length. */
export type IpRange = readonly [Address, number]

const addressCache = new Map<string, Address | null>()
const rangeCache = new Map<string, IpRange | null>()

function cached<T>(cache: Map<string, T | null>, key: string, make: () => T): T | null {
  let v = cache.get(key)
  if (v === undefined) {
    try {
      v = make()
    } catch {
      v = null
    }

    if (cache.size > 2000) cache.clear()
    cache.set(key, v)
  }

  return v
}

/** A dotted-quad IPv4 or an IPv6 address (not the legacy short or octal IPv4 forms). */
function isAddress(text: string): boolean {
  return ipaddr.IPv4.isValidFourPartDecimal(text) || ipaddr.IPv6.isValid(text)
}

/** An address, IPv4-mapped IPv6 as IPv4. Throws when it is not an IP address. */
function parseAddress(text: string): Address {
  const t = text.trim()
  if (!isAddress(t)) throw new Error(`not an IP address: ${text}`)
  return ipaddr.process(t)
}

/** A CIDR range or a single address (a /32 or /128). Throws when it is neither. */
export function parseIpRange(text: string): IpRange {
  const t = text.trim()
  if (t.includes('/')) {
    if (!isAddress(t.split('/')[0])) throw new Error(`not a CIDR range: ${text}`)
    const [net, bits] = ipaddr.parseCIDR(t)
    if (net.kind() === 'ipv6' && (net as ipaddr.IPv6).isIPv4MappedAddress()) return [(net as ipaddr.IPv6).toIPv4Address(), Math.max(0, bits - 96)]
    return [net, bits]
  }

  const a = parseAddress(t)
  return [a, a.kind() === 'ipv4' ? 32 : 128]
}

/** True when text is an IP address or a CIDR range. */
export function isIpOrRange(text: string): boolean {
  return cached(rangeCache, text, () => parseIpRange(text)) !== null
}

/** True when ip is inside range (a CIDR block or a single address); anything not an IP is outside. */
export function ipInRange(ip: string, range: string): boolean {
  const addr = cached(addressCache, ip, () => parseAddress(ip))
  const net = cached(rangeCache, range, () => parseIpRange(range))
  if (!addr || !net || addr.kind() !== net[0].kind()) return false
  return addr.match(net[0], net[1])
}
