import { lookup as dnsLookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { blockedAddressReason, ipv4ToNumber, ipv6ToBigInt } from './address-policy';

/** The longest URL an outbound request accepts (webhook callbacks, audio URLs). */
export const MAX_OUTBOUND_URL_LENGTH = 2048;

/** Why an outbound URL was refused; `message` is written for the client who gave the URL. */
export class OutboundRefusedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'OutboundRefusedError';
  }
}

/** A URL whose host was resolved and checked: requests go to `address`, never to a new lookup. */
export interface CheckedTarget {
  url: URL;
  /** the host as the URL names it (no IPv6 brackets, lower case) */
  host: string;
  address: string;
  family: 4 | 6;
  /** the host is on OUTBOUND_ALLOWED_HOSTS: its addresses were not checked */
  allowListed: boolean;
}

export type LookupAll = (host: string) => Promise<{ address: string; family: number }[]>;

const systemLookup: LookupAll = (host) => dnsLookup(host, { all: true, verbatim: true });

/** "[::1]" → "::1"; "Example.COM." → "example.com". */
export function normalizeHost(host: string): string {
  const bare = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  return bare.toLowerCase().replace(/\.$/, '');
}

/** One spelling per IP address ("::FFFF:7f00:1" and "::ffff:127.0.0.1" are the same), names as they are. */
function canonicalHost(host: string): string {
  const n4 = ipv4ToNumber(host);
  if (n4 !== undefined) return `v4:${n4}`;
  const n6 = ipv6ToBigInt(host);
  if (n6 !== undefined) return `v6:${n6.toString(16)}`;
  return host;
}

/**
 * The SSRF rules for every outbound request: http(s) only, no credentials in the URL, and every
 * address the host resolves to must be public, unless the host (as the URL writes it: a name or
 * an IP literal) is on the allow list. The allow list is matched against the URL's host, never
 * against resolved addresses: otherwise any DNS name pointing at an allowed internal IP would pass.
 */
export class OutboundPolicy {
  private readonly allowed: Set<string>;

  constructor(allowedHosts: readonly string[], private readonly lookup: LookupAll = systemLookup) {
    this.allowed = new Set(allowedHosts.map((host) => canonicalHost(normalizeHost(host))));
  }

  isAllowListed(host: string): boolean {
    return this.allowed.has(canonicalHost(normalizeHost(host)));
  }

  /** The URL's form alone (no DNS): scheme, length, credentials. */
  parse(raw: string): URL {
    if (raw.length > MAX_OUTBOUND_URL_LENGTH) throw new OutboundRefusedError(`the URL is longer than ${MAX_OUTBOUND_URL_LENGTH} characters`);
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      throw new OutboundRefusedError('not an absolute http(s) URL');
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new OutboundRefusedError(`only http and https URLs are allowed, got ${url.protocol.replace(/:$/, '')}`);
    if (url.username || url.password) throw new OutboundRefusedError('credentials in the URL are not allowed');
    if (!url.hostname) throw new OutboundRefusedError('the URL has no host');
    return url;
  }

  /**
   * Parses the URL, resolves its host and checks every address (all must be public: a name with
   * one private answer among public ones is refused). The first address is the one to connect to.
   */
  async check(raw: string): Promise<CheckedTarget> {
    const url = this.parse(raw);
    const host = normalizeHost(url.hostname);
    const allowListed = this.isAllowListed(host);
    let answers: { address: string; family: number }[];
    if (isIP(host)) {
      answers = [{ address: host, family: isIP(host) }];
    } else {
      try {
        answers = await this.lookup(host);
      } catch (error) {
        throw new OutboundRefusedError(`the host ${host} does not resolve (${(error as NodeJS.ErrnoException).code ?? 'lookup failed'})`);
      }
      if (answers.length === 0) throw new OutboundRefusedError(`the host ${host} does not resolve`);
    }
    if (!allowListed) {
      for (const { address } of answers) {
        const reason = blockedAddressReason(address);
        if (reason) {
          const via = address === host ? '' : ` (${host} resolves to ${address})`;
          throw new OutboundRefusedError(`the URL points to a ${reason} address${via}; only public addresses are allowed unless the host is in OUTBOUND_ALLOWED_HOSTS`);
        }
      }
    }
    const first = answers[0];
    return { url, host, address: first.address, family: first.family === 6 ? 6 : 4, allowListed };
  }
}
