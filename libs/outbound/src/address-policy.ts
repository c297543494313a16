import { isIPv4, isIPv6 } from 'node:net';

/**
 * Which IP addresses an outbound request may reach. Everything that is not a public unicast
 * address is refused: loopback, private, link-local (cloud metadata lives there), unique-local,
 * CGNAT, multicast, reserved and documentation ranges, and IPv6 forms that embed one of those
 * IPv4 addresses (IPv4-mapped, NAT64, 6to4).
 */

interface Range4 {
  base: number;
  bits: number;
  name: string;
}

const v4 = (cidr: string, name: string): Range4 => {
  const [address, bits] = cidr.split('/');
  return { base: ipv4ToNumber(address)!, bits: Number(bits), name };
};

// most specific first: the metadata address is named before the link-local range that holds it
const BLOCKED_V4: readonly Range4[] = [
  v4('169.254.169.254/32', 'cloud metadata'),
  v4('100.100.100.200/32', 'cloud metadata'),
  v4('0.0.0.0/8', 'unspecified'),
  v4('10.0.0.0/8', 'private'),
  v4('100.64.0.0/10', 'carrier-grade NAT'),
  v4('127.0.0.0/8', 'loopback'),
  v4('169.254.0.0/16', 'link-local'),
  v4('172.16.0.0/12', 'private'),
  v4('192.0.0.0/24', 'reserved'),
  v4('192.0.2.0/24', 'documentation'),
  v4('192.88.99.0/24', 'reserved'),
  v4('192.168.0.0/16', 'private'),
  v4('198.18.0.0/15', 'benchmarking'),
  v4('198.51.100.0/24', 'documentation'),
  v4('203.0.113.0/24', 'documentation'),
  v4('224.0.0.0/4', 'multicast'),
  v4('240.0.0.0/4', 'reserved'),
];

/** Dotted-quad IPv4 → unsigned 32-bit number (undefined when it is not one). */
export function ipv4ToNumber(address: string): number | undefined {
  if (!isIPv4(address)) return undefined;
  return address.split('.').reduce((acc, part) => acc * 256 + Number(part), 0);
}

function blockedV4(address: number): string | undefined {
  for (const range of BLOCKED_V4) {
    const span = 2 ** (32 - range.bits);
    if (Math.floor(address / span) === Math.floor(range.base / span)) return range.name;
  }
  return undefined;
}

/** IPv6 text (any form, a %zone allowed) → 128-bit number, or undefined when it is not IPv6. */
export function ipv6ToBigInt(text: string): bigint | undefined {
  let address = text.replace(/%.*$/, '');
  if (!isIPv6(address)) return undefined;
  // a trailing dotted IPv4 ("::ffff:10.0.0.1") is the last two groups
  address = address.replace(/(\d+\.\d+\.\d+\.\d+)$/, (dotted) => {
    const n = ipv4ToNumber(dotted)!;
    return `${Math.floor(n / 65536).toString(16)}:${(n % 65536).toString(16)}`;
  });
  const [left, right] = address.split('::');
  const leftGroups = left ? left.split(':') : [];
  const rightGroups = right ? right.split(':') : [];
  const groups = right === undefined ? leftGroups : [...leftGroups, ...Array<string>(8 - leftGroups.length - rightGroups.length).fill('0'), ...rightGroups];
  if (groups.length !== 8) return undefined;
  return groups.reduce((acc, group) => (acc << 16n) | BigInt(parseInt(group, 16)), 0n);
}

interface Range6 {
  base: bigint;
  bits: number;
  name: string;
  /** where an embedded IPv4 address sits (bit offset from the right): it is judged by the IPv4 rules */
  embeddedV4Shift?: bigint;
}

const v6 = (cidr: string, name: string, embeddedV4Shift?: bigint): Range6 => {
  const [address, bits] = cidr.split('/');
  return { base: ipv6ToBigInt(address)!, bits: Number(bits), name, embeddedV4Shift };
};

const BLOCKED_V6: readonly Range6[] = [
  v6('::/128', 'unspecified'),
  v6('::1/128', 'loopback'),
  v6('::ffff:0:0/96', 'IPv4-mapped', 0n),
  v6('64:ff9b::/96', 'NAT64', 0n),
  v6('2002::/16', '6to4', 80n),
  v6('::/96', 'IPv4-compatible (deprecated)'),
  v6('64:ff9b:1::/48', 'NAT64 (local use)'),
  v6('100::/64', 'discard-only'),
  v6('2001::/32', 'Teredo'),
  v6('2001:db8::/32', 'documentation'),
  v6('fd00:ec2::254/128', 'cloud metadata'),
  v6('fc00::/7', 'unique-local'),
  v6('fe80::/10', 'link-local'),
  v6('fec0::/10', 'site-local (deprecated)'),
  v6('ff00::/8', 'multicast'),
];

function inRange6(address: bigint, range: Range6): boolean {
  const shift = BigInt(128 - range.bits);
  return address >> shift === range.base >> shift;
}

/**
 * Why an outbound request must not reach this IP address ("loopback", "private", "cloud metadata",
 * "IPv4-mapped loopback", …), or undefined for a public unicast address. Text that is not an IP
 * address is refused as "not an IP address": callers pass resolved addresses only.
 */
export function blockedAddressReason(address: string): string | undefined {
  const n4 = ipv4ToNumber(address);
  if (n4 !== undefined) return blockedV4(n4);
  const n6 = ipv6ToBigInt(address);
  if (n6 === undefined) return 'not an IP address';
  for (const range of BLOCKED_V6) {
    if (!inRange6(n6, range)) continue;
    // a translation prefix: what counts is the IPv4 address inside (a public one may be reached)
    if (range.embeddedV4Shift !== undefined) {
      const inner = blockedV4(Number((n6 >> range.embeddedV4Shift) & 0xffffffffn));
      return inner === undefined ? undefined : `${range.name} ${inner}`;
    }
    return range.name;
  }
  return undefined;
}
