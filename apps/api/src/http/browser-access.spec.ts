import type { CorsOptions, CustomOrigin } from '@nestjs/common/interfaces/external/cors-options.interface';
import { corsOptions, isDocsPath } from './browser-access';

/** What the CORS origin callback answers for a request's Origin. */
function originFor(options: CorsOptions, requestOrigin: string | undefined): unknown {
  let answer: unknown;
  (options.origin as CustomOrigin)(requestOrigin, (_error, origin) => (answer = origin));
  return answer;
}

describe('corsOptions', () => {
  it('no origins: no CORS at all', () => {
    expect(corsOptions([])).toBeUndefined();
  });

  it('a list: exactly those origins, no credentials, a 204 preflight', () => {
    const options = corsOptions(['https://app.example.com', 'http://localhost:5173'])!;
    expect(originFor(options, 'https://app.example.com')).toBe(true);
    expect(originFor(options, 'http://localhost:5173')).toBe(true);
    expect(originFor(options, 'https://evil.example.net')).toBe(false);
    expect(originFor(options, 'http://app.example.com')).toBe(false);
    expect(originFor(options, undefined)).toBe(false);
    expect(options).toMatchObject({ credentials: false, optionsSuccessStatus: 204, preflightContinue: false });
    expect(options.allowedHeaders).toEqual(expect.arrayContaining(['Authorization', 'Content-Type']));
    expect(options.exposedHeaders).toEqual(expect.arrayContaining(['Content-Disposition', 'Retry-After', 'X-Job-Id', 'X-Request-Id', 'X-RateLimit-Remaining']));
  });

  it('"*": any origin, answered as *', () => {
    const options = corsOptions(['*'])!;
    expect(originFor(options, 'https://anything.example')).toBe('*');
  });
});

describe('isDocsPath', () => {
  it('is /docs and what is under it only', () => {
    expect(['/docs', '/docs/', '/docs/openapi.json', '/docs/swagger-ui-bundle.js'].map(isDocsPath)).toEqual([true, true, true, true]);
    expect(['/docsx', '/', '/transcribe', '/v1/docs'].map(isDocsPath)).toEqual([false, false, false, false]);
  });
});
