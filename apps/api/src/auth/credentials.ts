import { createHash, timingSafeEqual } from 'node:crypto';
import type { Request } from 'express';

/** Who is calling: an API key (by digest), the admin token, or anyone when the API has no keys. */
export type Principal = { kind: 'admin' } | { kind: 'key'; owner: string } | { kind: 'anonymous'; owner: typeof ANONYMOUS_OWNER };

/** Owner of jobs submitted while API_KEYS is unset. */
export const ANONYMOUS_OWNER = 'anonymous';

export type RequestWithPrincipal = Request & { principal?: Principal };

/** The token from `Authorization: Bearer <token>` (scheme case-insensitive, RFC 7235) or `X-API-Key`. */
export function presentedToken(request: Request): string | undefined {
  const match = /^bearer\s+(\S+)\s*$/i.exec(request.headers.authorization ?? '');
  if (match) return match[1];
  const apiKey = request.headers['x-api-key'];
  return typeof apiKey === 'string' && apiKey.trim() !== '' ? apiKey.trim() : undefined;
}

export function sha256(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}

/**
 * Matches presented tokens against the configured ones. Both sides are compared as SHA-256
 * digests (fixed length) and every configured key is compared, so timing reveals neither a key's
 * length nor which key came close.
 */
export class Credentials {
  private readonly keyDigests: Buffer[];
  private readonly adminDigest?: Buffer;

  constructor(apiKeys: readonly string[], adminToken: string | undefined) {
    this.keyDigests = apiKeys.map(sha256);
    this.adminDigest = adminToken ? sha256(adminToken) : undefined;
  }

  get keysConfigured(): boolean {
    return this.keyDigests.length > 0;
  }

  get adminConfigured(): boolean {
    return this.adminDigest !== undefined;
  }

  /** The principal a token proves, or undefined when it matches nothing configured. */
  identify(token: string): Principal | undefined {
    const digest = sha256(token);
    let keyMatch = false;
    for (const expected of this.keyDigests) keyMatch = timingSafeEqual(digest, expected) || keyMatch;
    const adminMatch = this.adminDigest ? timingSafeEqual(digest, this.adminDigest) : false;
    if (adminMatch) return { kind: 'admin' };
    if (keyMatch) return { kind: 'key', owner: digest.toString('hex') };
    return undefined;
  }
}
