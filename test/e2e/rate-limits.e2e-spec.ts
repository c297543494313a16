/**
 * Rate limits (issue 13, item 5) against real API processes sharing one Redis database:
 * RATE_LIMIT_PER_MIN per API key counted across replicas, 429 rate_limited with Retry-After (our
 * shape, OpenAI's under /v1), other keys unaffected, /health* and /metrics never limited, per client
 * IP without keys; the Redis storage's window on its own.
 */
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import Redis from 'ioredis';
import { RedisThrottlerStorage } from '../../apps/api/src/rate-limit/redis-throttler.storage';
import { freePort, prepareRedis, RunningProcess, startApi, TEST_REDIS_URL, waitFor } from '../support/service-harness';

const KEY = 'rate-limit-key-1';
const OTHER_KEY = 'rate-limit-key-2';
const LIMIT = 10;
const auth = (key: string) => ({ authorization: `Bearer ${key}` });
/** A job nobody has: 404, which counts like any other answer. */
const randomJob = () => `/jobs/${randomUUID()}`;

async function call(url: string, headers: Record<string, string> = {}) {
  const response = await fetch(url, { headers });
  const text = await response.text();
  let body: any;
  try {
    body = JSON.parse(text);
  } catch {
    body = text;
  }
  return { status: response.status, headers: response.headers, body };
}

/** GET from a chosen loopback address (127.0.0.x): another client IP as the API sees it. */
function callFrom(localAddress: string, url: string, headers: Record<string, string> = {}): Promise<{ status: number; body: any }> {
  return new Promise((resolve, reject) => {
    http.get(url, { localAddress, headers }, (response) => {
      let text = '';
      response.on('data', (chunk) => (text += chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body: JSON.parse(text) }));
    }).on('error', reject);
  });
}

describe('rate limits shared by API replicas through Redis', () => {
  const apis: RunningProcess[] = [];
  let first: string;
  let second: string;
  let keyless: string;

  beforeAll(async () => {
    await prepareRedis();
    const ports = await Promise.all([freePort(), freePort(), freePort()]);
    [first, second, keyless] = ports.map((port) => `http://127.0.0.1:${port}`);
    const env = { API_KEYS: `${KEY},${OTHER_KEY}`, RATE_LIMIT_PER_MIN: String(LIMIT) };
    apis.push(startApi(ports[0], env), startApi(ports[1], env), startApi(ports[2], { RATE_LIMIT_PER_MIN: '3' }));
    for (const base of [first, second, keyless]) {
      await waitFor(`${base} up`, async () => ((await fetch(`${base}/health/live`).catch(() => undefined))?.ok ? true : undefined), 60_000);
    }
  });

  afterAll(async () => {
    await Promise.all(apis.map((api) => api.stop()));
  });

  it('refuses the 11th request of a key in a minute, counted across two API processes, with Retry-After', async () => {
    for (let i = 1; i <= LIMIT; i++) {
      const base = i % 2 ? first : second;
      const answer = await call(`${base}${randomJob()}`, auth(KEY));
      expect(`${i}: ${answer.status}`).toBe(`${i}: 404`);
      expect(answer.headers.get('x-ratelimit-limit')).toBe(String(LIMIT));
      // the other process saw the previous hits: one budget
      expect(answer.headers.get('x-ratelimit-remaining')).toBe(String(LIMIT - i));
    }
    const refused = await call(`${second}${randomJob()}`, auth(KEY));
    expect(refused.status).toBe(429);
    expect(refused.body).toEqual({ error: { code: 'rate_limited', message: expect.stringContaining(`more than ${LIMIT} requests in a minute`) } });
    const retryAfter = Number(refused.headers.get('retry-after'));
    expect(Number.isInteger(retryAfter)).toBe(true);
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(refused.headers.get('x-ratelimit-remaining')).toBe('0');
    // the first process refuses it too, and so does every route (one budget per key)
    expect((await call(`${first}${randomJob()}`, auth(KEY))).status).toBe(429);
    const models = await call(`${first}/models`, auth(KEY));
    expect(models.status).toBe(429);
  });

  it('answers the refusal in OpenAI\'s shape under /v1', async () => {
    const refused = await call(`${second}/v1/models`, auth(KEY));
    expect(refused.status).toBe(429);
    expect(refused.body).toEqual({ error: { message: expect.stringContaining('RATE_LIMIT_PER_MIN'), type: 'rate_limit_error', param: null, code: 'rate_limited' } });
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
  });

  it('leaves another key alone', async () => {
    for (const base of [first, second]) {
      const answer = await call(`${base}${randomJob()}`, auth(OTHER_KEY));
      expect(answer.status).toBe(404);
      expect(Number(answer.headers.get('x-ratelimit-remaining'))).toBeLessThan(LIMIT);
    }
    expect((await call(`${first}/v1/models`, auth(OTHER_KEY))).status).toBe(200);
  });

  it('never limits /health, /health/live or /metrics, with or without the limited key', async () => {
    for (let i = 0; i < 2 * LIMIT; i++) {
      for (const path of ['/health', '/health/live', '/metrics']) {
        const answer = await call(`${i % 2 ? first : second}${path}`, i % 3 ? auth(KEY) : {});
        expect(`${path}: ${answer.status}`).not.toBe(`${path}: 429`);
        expect(answer.headers.get('x-ratelimit-limit')).toBeNull();
      }
    }
    // the API's documentation neither
    expect((await call(`${first}/docs/openapi.json`, auth(KEY))).status).toBe(200);
  });

  it('counts refused keys against the client IP: guessing keys ends in 429 too', async () => {
    const from = '127.0.0.2';
    for (let i = 1; i <= LIMIT; i++) {
      const answer = await callFrom(from, `${i % 2 ? first : second}${randomJob()}`, auth(`guess-${i}`));
      expect(`${i}: ${answer.status}`).toBe(`${i}: 403`);
    }
    expect((await callFrom(from, `${first}${randomJob()}`, auth('guess-11'))).status).toBe(429);
    expect((await callFrom(from, `${second}${randomJob()}`)).status).toBe(429);
    // the valid key with budget left, from the same address, is its own budget
    expect((await callFrom(from, `${first}${randomJob()}`, auth(OTHER_KEY))).status).toBe(404);
  });

  it('limits by client IP when the API has no keys; another IP is unaffected', async () => {
    const from = '127.0.0.3';
    for (let i = 1; i <= 3; i++) expect((await callFrom(from, `${keyless}${randomJob()}`)).status).toBe(404);
    const refused = await callFrom(from, `${keyless}${randomJob()}`);
    expect(refused.status).toBe(429);
    expect(refused.body.error.code).toBe('rate_limited');
    // a made-up key counts against the same address: rotating keys gains nothing
    expect((await callFrom(from, `${keyless}${randomJob()}`, auth('made-up'))).status).toBe(429);
    expect((await callFrom(from, `${keyless}/health/live`)).status).toBe(200);
    expect((await callFrom('127.0.0.4', `${keyless}${randomJob()}`)).status).toBe(404);
  });
});

describe('RedisThrottlerStorage', () => {
  let redis: Redis;

  beforeAll(async () => {
    await prepareRedis();
    redis = new Redis(TEST_REDIS_URL);
  });

  afterAll(async () => {
    await redis.quit();
  });

  it('counts hits in a window that starts with the first hit, blocks past the limit until the window ends, then starts over', async () => {
    const storage = new RedisThrottlerStorage(redis);
    const key = `storage-test-${Date.now()}`;
    const hit = () => storage.increment(key, 1_500, 2, 1_500, 'default');
    expect(await hit()).toMatchObject({ totalHits: 1, isBlocked: false, timeToExpire: 2, timeToBlockExpire: 0 });
    expect(await hit()).toMatchObject({ totalHits: 2, isBlocked: false });
    const blocked = await hit();
    expect(blocked).toMatchObject({ totalHits: 3, isBlocked: true });
    expect(blocked.timeToBlockExpire).toBeGreaterThanOrEqual(1);
    expect(blocked.timeToBlockExpire).toBeLessThanOrEqual(2);
    // a second storage (another replica) sees the same count
    const replica = redis.duplicate();
    expect(await new RedisThrottlerStorage(replica).increment(key, 1_500, 2, 1_500, 'default')).toMatchObject({ totalHits: 4, isBlocked: true });
    await replica.quit();
    await new Promise((resolve) => setTimeout(resolve, 1_600));
    expect(await hit()).toMatchObject({ totalHits: 1, isBlocked: false });
    expect(await redis.pttl(`tx:rate:default:${key}`)).toBeGreaterThan(0);
  });
});
