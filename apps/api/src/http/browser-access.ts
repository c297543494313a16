import type { CorsOptions } from '@nestjs/common/interfaces/external/cors-options.interface';
import type { NextFunction, Request, Response } from 'express';
import helmet, { HelmetOptions } from 'helmet';

/** Where Swagger UI and the OpenAPI document are served (the one place a page is rendered). */
export const DOCS_PATH = '/docs';

export const isDocsPath = (path: string): boolean => path === DOCS_PATH || path.startsWith(`${DOCS_PATH}/`);

/** helmet's headers, the same on every response, with the given Content-Security-Policy. */
const withCsp = (contentSecurityPolicy: HelmetOptions['contentSecurityPolicy']): HelmetOptions => ({
  contentSecurityPolicy,
  // a self-hosted API must not pin HSTS on its sibling subdomains; browsers ignore it over plain http
  strictTransportSecurity: { maxAge: 31_536_000, includeSubDomains: false },
  xFrameOptions: { action: 'deny' },
  referrerPolicy: { policy: 'no-referrer' },
});

/** API answers (JSON, subtitles, text) are never pages: nothing may load, run or frame in them. */
const API_CSP: HelmetOptions['contentSecurityPolicy'] = {
  useDefaults: false,
  directives: { defaultSrc: ["'none'"], baseUri: ["'none'"], formAction: ["'none'"], frameAncestors: ["'none'"] },
};

/**
 * Swagger UI: its scripts and stylesheet come from this origin (swagger-ui-dist, no CDN), its page
 * has an inline <style> and data: icons, and "Try it out" calls this API. No inline script, no eval.
 * No upgrade-insecure-requests (helmet's default): it breaks the UI on a plain-http deployment.
 */
const DOCS_CSP: HelmetOptions['contentSecurityPolicy'] = {
  useDefaults: false,
  directives: {
    defaultSrc: ["'self'"],
    scriptSrc: ["'self'"],
    styleSrc: ["'self'", "'unsafe-inline'"],
    imgSrc: ["'self'", 'data:'],
    fontSrc: ["'self'", 'data:'],
    connectSrc: ["'self'"],
    objectSrc: ["'none'"],
    baseUri: ["'self'"],
    formAction: ["'self'"],
    frameAncestors: ["'none'"],
  },
};

/** helmet on every response; the relaxed CSP only under /docs. */
export function helmetHeaders(): (request: Request, response: Response, next: NextFunction) => void {
  const api = helmet(withCsp(API_CSP));
  const docs = helmet(withCsp(DOCS_CSP));
  return (request, response, next) => (isDocsPath(request.path) ? docs : api)(request, response, next);
}

/** Request headers a browser client may send: auth, the multipart body, and what the openai SDK adds. */
const ALLOWED_HEADERS = ['Authorization', 'Content-Type', 'X-API-Key', 'Accept', 'OpenAI-Organization', 'OpenAI-Project', 'OpenAI-Beta'];
/** Response headers a page's script may read: the download name of a transcript, when to retry, the job behind a /v1 answer. */
const EXPOSED_HEADERS = ['Content-Disposition', 'Retry-After', 'X-Job-Id', 'X-Request-Id', 'X-RateLimit-Limit', 'X-RateLimit-Remaining', 'X-RateLimit-Reset'];

/**
 * CORS for CORS_ORIGINS (exact origins, or ['*']); undefined when none: no CORS headers at all, so
 * browsers keep pages of other origins out. An origin not listed gets no CORS header either (its
 * preflight falls through to the router, which has no OPTIONS route). No credentials: keys travel
 * in Authorization, never in cookies. The preflight is answered (204) before the access guard: it
 * carries no key.
 */
export function corsOptions(origins: readonly string[]): CorsOptions | undefined {
  if (origins.length === 0) return undefined;
  const anyOrigin = origins.includes('*');
  const allowed = new Set(origins);
  return {
    origin: (requestOrigin, callback) => callback(null, anyOrigin ? '*' : requestOrigin !== undefined && allowed.has(requestOrigin)),
    methods: ['GET', 'HEAD', 'POST', 'DELETE'],
    // '*' covers the SDKs' other headers (x-stainless-*) for credential-less requests; Authorization must be named
    allowedHeaders: [...ALLOWED_HEADERS, '*'],
    exposedHeaders: EXPOSED_HEADERS,
    credentials: false,
    maxAge: 600,
    preflightContinue: false,
    optionsSuccessStatus: 204,
  };
}
