import type { Request } from 'express';
import { Credentials, presentedToken, sha256 } from './credentials';

const request = (headers: Record<string, string>) => ({ headers }) as unknown as Request;

describe('presentedToken', () => {
  it.each([
    ['Bearer abc', 'abc'],
    ['bearer abc', 'abc'],
    ['BEARER   abc  ', 'abc'],
  ])('reads "%s" (the scheme is case-insensitive, RFC 7235)', (authorization, token) => {
    expect(presentedToken(request({ authorization }))).toBe(token);
  });

  it('falls back to X-API-Key and ignores other schemes', () => {
    expect(presentedToken(request({ 'x-api-key': 'k1' }))).toBe('k1');
    expect(presentedToken(request({ authorization: 'Basic dXNlcjpwdw==' }))).toBeUndefined();
    expect(presentedToken(request({}))).toBeUndefined();
  });
});

describe('Credentials', () => {
  const credentials = new Credentials(['short', 'a-much-longer-api-key'], 'admin-token');

  it('tells keys, the admin token and strangers apart', () => {
    expect(credentials.identify('short')).toEqual({ kind: 'key', owner: sha256('short').toString('hex') });
    expect(credentials.identify('a-much-longer-api-key')).toEqual({ kind: 'key', owner: sha256('a-much-longer-api-key').toString('hex') });
    expect(credentials.identify('admin-token')).toEqual({ kind: 'admin' });
    for (const wrong of ['', 'shor', 'shortx', 'SHORT', 'a-much-longer-api-ke', 'admin-token ']) expect(credentials.identify(wrong)).toBeUndefined();
  });

  it('gives each key its own owner id, which is not the key itself', () => {
    const a = credentials.identify('short');
    const b = credentials.identify('a-much-longer-api-key');
    expect(a).not.toEqual(b);
    expect(JSON.stringify(a)).not.toContain('short"');
  });

  it('compares fixed-length digests, so a length mismatch takes the same path as any other', () => {
    // timingSafeEqual throws on different lengths: comparing raw keys of other lengths would throw
    expect(() => credentials.identify('x'.repeat(10_000))).not.toThrow();
  });
});
