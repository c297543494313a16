/**
 * Browser clients (issue 12, item 5) against running APIs: CORS from CORS_ORIGINS (a list, `*`, or
 * unset = no CORS headers at all), preflights answered 204 without an API key, the headers a page
 * needs exposed, no credentials; helmet's security headers on every response (JSON, errors,
 * middleware refusals, 404s) with a CSP that forbids everything on API answers and lets Swagger UI
 * run under /docs only. A real transcription from an allowed origin reads its download name.
 */
import { readFileSync } from 'node:fs';
import { JFK_WAV } from '../support/samples';
import { freePort, prepareRedis, RunningProcess, startApi, startWorker, waitFor } from '../support/service-harness';

const KEY = 'browser-key-1';
const ALLOWED = 'https://app.example.com';
const ALSO_ALLOWED = 'http://localhost:5173';
const OTHER = 'https://evil.example.net';

/** Header names as a lower-cased list ("A, b" → ["a", "b"]). */
const list = (value: string | null): string[] => (value ?? '').split(',').map((item) => item.trim().toLowerCase()).filter(Boolean);
const corsHeaders = (response: Response): string[] => [...response.headers.keys()].filter((name) => name.startsWith('access-control-'));

function preflight(base: string, path: string, origin: string, method = 'POST', headers = 'authorization, content-type') {
  return fetch(`${base}${path}`, {
    method: 'OPTIONS',
    headers: { origin, 'access-control-request-method': method, 'access-control-request-headers': headers },
  });
}

async function startOnlyApi(env: Record<string, string>): Promise<{ api: RunningProcess; base: string }> {
  const port = await freePort();
  const api = startApi(port, { WHISPER_MODEL: 'synthetic-micro', API_KEYS: KEY, ...env });
  const base = `http://127.0.0.1:${port}`;
  try {
    await waitFor('the API', async () => ((await fetch(`${base}/health/live`)).ok ? true : undefined), 60_000);
  } catch (error) {
    throw new Error(`${(error as Error).message}\n${api.output().slice(-3000)}`);
  }
  return { api, base };
}

/** helmet's headers and ours, with the CSP for API answers. */
function expectApiSecurityHeaders(response: Response): void {
  const headers = response.headers;
  const csp = headers.get('content-security-policy') ?? '';
  expect(csp).toContain("default-src 'none'");
  expect(csp).toContain("frame-ancestors 'none'");
  expect(headers.get('x-frame-options')).toBe('DENY');
  expect(headers.get('strict-transport-security')).toMatch(/^max-age=\d+$/);
  expect(headers.get('referrer-policy')).toBe('no-referrer');
  expect(headers.get('cross-origin-opener-policy')).toBe('same-origin');
  expect(headers.get('cross-origin-resource-policy')).toBe('same-origin');
  expect(headers.get('x-dns-prefetch-control')).toBe('off');
  expect(headers.get('x-permitted-cross-domain-policies')).toBe('none');
  // the existing hardening stays
  expect(headers.get('x-content-type-options')).toBe('nosniff');
  expect(headers.get('cache-control')).toBe('no-store');
  expect(headers.get('x-powered-by')).toBeNull();
}

describe('browser clients: CORS_ORIGINS with a list of origins', () => {
  let worker: RunningProcess;
  let api: RunningProcess;
  let base: string;

  beforeAll(async () => {
    await prepareRedis();
    worker = startWorker({ WHISPER_MODEL: 'synthetic-micro' });
    ({ api, base } = await startOnlyApi({ CORS_ORIGINS: `${ALLOWED}, ${ALSO_ALLOWED}` }));
    await waitFor('a healthy worker', async () => {
      const body = (await (await fetch(`${base}/health`, { headers: { authorization: `Bearer ${KEY}` } })).json()) as { workers?: unknown[] };
      return body.workers?.length ? true : undefined;
    }, 90_000);
  });

  afterAll(async () => {
    await Promise.all([api?.stop(), worker?.stop()]);
  });

  it('answers a preflight from an allowed origin with 204, without an API key', async () => {
    for (const [origin, path] of [[ALLOWED, '/transcribe'], [ALSO_ALLOWED, '/v1/audio/transcriptions'], [ALLOWED, '/jobs/0b8e7a52-5f4c-4b7e-9d1a-2c3f4e5a6b7c']]) {
      const response = await preflight(base, path, origin, path.startsWith('/jobs') ? 'DELETE' : 'POST');
      expect(response.status).toBe(204);
      expect(response.headers.get('access-control-allow-origin')).toBe(origin);
      expect(list(response.headers.get('access-control-allow-methods'))).toEqual(expect.arrayContaining(['get', 'post', 'delete']));
      expect(list(response.headers.get('access-control-allow-headers'))).toEqual(expect.arrayContaining(['authorization', 'content-type', 'x-api-key']));
      expect(list(response.headers.get('vary'))).toContain('origin');
      expect(Number(response.headers.get('access-control-max-age'))).toBeGreaterThan(0);
      // keys travel in Authorization, never in cookies
      expect(response.headers.get('access-control-allow-credentials')).toBeNull();
      expect(await response.text()).toBe('');
    }
  });

  it("lets the openai SDK's extra headers through (x-stainless-*)", async () => {
    const response = await preflight(base, '/v1/audio/transcriptions', ALLOWED, 'POST', 'authorization, content-type, x-stainless-os, x-stainless-retry-count');
    expect(response.status).toBe(204);
    const allowed = list(response.headers.get('access-control-allow-headers'));
    // '*' covers any header but Authorization, which is named
    expect(allowed).toEqual(expect.arrayContaining(['authorization', '*']));
  });

  it('gives an allowed origin the CORS headers on answers and on errors, and exposes the headers a page reads', async () => {
    const models = await fetch(`${base}/v1/models`, { headers: { origin: ALLOWED, authorization: `Bearer ${KEY}` } });
    expect(models.status).toBe(200);
    expect(models.headers.get('access-control-allow-origin')).toBe(ALLOWED);
    expect(list(models.headers.get('access-control-expose-headers'))).toEqual(expect.arrayContaining(['content-disposition', 'retry-after', 'x-job-id', 'x-request-id', 'x-ratelimit-reset']));
    expect(models.headers.get('access-control-allow-credentials')).toBeNull();

    // a refusal is readable by the page too (401 from the guard, 415 from the body middleware)
    const unauthorized = await fetch(`${base}/v1/models`, { headers: { origin: ALLOWED } });
    expect(unauthorized.status).toBe(401);
    expect(unauthorized.headers.get('access-control-allow-origin')).toBe(ALLOWED);
    const json = await fetch(`${base}/transcribe`, { method: 'POST', headers: { origin: ALLOWED, authorization: `Bearer ${KEY}`, 'content-type': 'application/json' }, body: '{}' });
    expect(json.status).toBe(415);
    expect(json.headers.get('access-control-allow-origin')).toBe(ALLOWED);
  });

  it('a page on an allowed origin transcribes and reads the download name and the job id (exposed headers)', async () => {
    const form = new FormData();
    form.append('file', new Blob([readFileSync(JFK_WAV)]), 'jfk.wav');
    form.append('response_format', 'srt');
    const response = await fetch(`${base}/transcribe`, { method: 'POST', body: form, headers: { origin: ALLOWED, authorization: `Bearer ${KEY}` } });
    expect(response.status).toBe(200);
    expect(response.headers.get('access-control-allow-origin')).toBe(ALLOWED);
    expect(response.headers.get('content-disposition')).toMatch(/^attachment; filename="jfk\.srt"/);
    expect(list(response.headers.get('access-control-expose-headers'))).toContain('content-disposition');
    expect(await response.text()).toMatch(/^1\n\d{2}:\d{2}:\d{2},\d{3} --> /);

    // OpenAI's route from a page: the job id header is readable too
    const openAiForm = new FormData();
    openAiForm.append('file', new Blob([readFileSync(JFK_WAV)]), 'jfk.wav');
    openAiForm.append('model', 'whisper-1');
    const openAi = await fetch(`${base}/v1/audio/transcriptions`, { method: 'POST', body: openAiForm, headers: { origin: ALSO_ALLOWED, authorization: `Bearer ${KEY}` } });
    expect(openAi.status).toBe(200);
    expect(openAi.headers.get('access-control-allow-origin')).toBe(ALSO_ALLOWED);
    expect(openAi.headers.get('x-job-id')).toMatch(/^[0-9a-f-]{36}$/);
    expect(list(openAi.headers.get('access-control-expose-headers'))).toContain('x-job-id');
    expect(((await openAi.json()) as { text: string }).text.length).toBeGreaterThan(0);
  });

  it('gives other origins no CORS header at all, preflight or not', async () => {
    const refused = await preflight(base, '/transcribe', OTHER);
    expect(refused.status).not.toBe(204);
    expect(corsHeaders(refused)).toEqual([]);
    const answer = await fetch(`${base}/health/live`, { headers: { origin: OTHER } });
    expect(answer.status).toBe(200);
    expect(corsHeaders(answer)).toEqual([]);
    // an origin differs by scheme or port too
    expect(corsHeaders(await preflight(base, '/transcribe', 'http://app.example.com'))).toEqual([]);
    expect(corsHeaders(await preflight(base, '/transcribe', 'http://localhost:5174'))).toEqual([]);
  });

  it('sends the security headers on every response: JSON, errors, middleware refusals, unknown routes', async () => {
    const responses = [
      await fetch(`${base}/health/live`),
      await fetch(`${base}/v1/models`, { headers: { authorization: `Bearer ${KEY}` } }),
      await fetch(`${base}/jobs/not-a-job`, { headers: { authorization: `Bearer ${KEY}` } }),
      await fetch(`${base}/transcribe`, { method: 'POST' }),
      await fetch(`${base}/transcribe`, { method: 'POST', headers: { authorization: `Bearer ${KEY}`, 'content-type': 'text/plain' }, body: 'hello' }),
      await fetch(`${base}/no-such-route`),
    ];
    expect(responses.map((response) => response.status)).toEqual([200, 200, 404, 401, 415, 404]);
    for (const response of responses) expectApiSecurityHeaders(response);
  });

  it('serves /docs with a CSP Swagger UI runs under: its own scripts and styles, nothing inline to run, no upgrade to https', async () => {
    const page = await fetch(`${base}/docs`);
    expect(page.status).toBe(200);
    const csp = page.headers.get('content-security-policy') ?? '';
    const directives = new Map(csp.split(';').map((directive) => {
      const [name, ...values] = directive.trim().split(/\s+/);
      return [name, values] as const;
    }));
    expect(directives.get('script-src')).toEqual(["'self'"]);
    expect(directives.get('style-src')).toEqual(expect.arrayContaining(["'self'", "'unsafe-inline'"]));
    expect(directives.get('img-src')).toEqual(expect.arrayContaining(["'self'", 'data:']));
    expect(directives.get('connect-src')).toEqual(["'self'"]);
    expect(directives.get('frame-ancestors')).toEqual(["'none'"]);
    expect(directives.has('upgrade-insecure-requests')).toBe(false);
    // the page runs under it: every script is an external one from this origin, none inline
    const html = await page.text();
    const scripts = [...html.matchAll(/<script([^>]*)>([\s\S]*?)<\/script>/g)];
    expect(scripts.length).toBeGreaterThan(0);
    for (const [, attributes, body] of scripts) {
      expect(attributes).toMatch(/src="\.\/docs\/[^"]+"/);
      expect(body.trim()).toBe('');
    }
    // the same relaxed CSP on the assets, and the other helmet headers stay
    const asset = await fetch(`${base}/docs/swagger-ui-bundle.js`);
    expect(asset.status).toBe(200);
    expect(asset.headers.get('content-security-policy')).toBe(csp);
    expect(page.headers.get('x-content-type-options')).toBe('nosniff');
    expect(page.headers.get('x-frame-options')).toBe('DENY');
    // the relaxed CSP is for /docs only
    expect((await fetch(`${base}/docsx`)).headers.get('content-security-policy')).toContain("default-src 'none'");
    // public, although API_KEYS is set; CORS applies there too
    const spec = await fetch(`${base}/docs/openapi.json`, { headers: { origin: ALLOWED } });
    expect(spec.status).toBe(200);
    expect(spec.headers.get('access-control-allow-origin')).toBe(ALLOWED);
  });
});

describe('browser clients: CORS_ORIGINS=*', () => {
  let api: RunningProcess;
  let base: string;

  beforeAll(async () => {
    ({ api, base } = await startOnlyApi({ CORS_ORIGINS: '*' }));
  });

  afterAll(async () => {
    await api?.stop();
  });

  it('allows any origin, without credentials', async () => {
    for (const origin of [ALLOWED, OTHER, 'http://192.168.1.20:8080']) {
      const response = await preflight(base, '/v1/audio/transcriptions', origin);
      expect(response.status).toBe(204);
      expect(response.headers.get('access-control-allow-origin')).toBe('*');
      expect(list(response.headers.get('access-control-allow-headers'))).toEqual(expect.arrayContaining(['authorization', 'content-type']));
      expect(response.headers.get('access-control-allow-credentials')).toBeNull();
    }
    const answer = await fetch(`${base}/health/live`, { headers: { origin: OTHER } });
    expect(answer.headers.get('access-control-allow-origin')).toBe('*');
  });
});

describe('browser clients: CORS_ORIGINS unset', () => {
  let api: RunningProcess;
  let base: string;

  beforeAll(async () => {
    ({ api, base } = await startOnlyApi({ CORS_ORIGINS: '' }));
  });

  afterAll(async () => {
    await api?.stop();
  });

  it('sends no CORS header to anyone: same-origin pages only', async () => {
    const refused = await preflight(base, '/transcribe', ALLOWED);
    expect(refused.status).not.toBe(204);
    expect(corsHeaders(refused)).toEqual([]);
    const answer = await fetch(`${base}/health/live`, { headers: { origin: ALLOWED } });
    expect(answer.status).toBe(200);
    expect(corsHeaders(answer)).toEqual([]);
    expectApiSecurityHeaders(answer);
  });
});
