/**
 * Issue 9's security findings, each against the real API and worker processes and the real Redis:
 * job ids that name BullMQ's keys, non-multipart bodies, stalled uploads, admin routes, headers,
 * job ownership and fair share, the bind address, and internal errors that carry an id.
 */
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { gzipSync } from 'node:zlib';
import Redis from 'ioredis';
import { JFK_MP3, JFK_WAV } from '../support/samples';
import {
  freePort,
  getJson,
  postTranscribe,
  prepareRedis,
  RunningProcess,
  startApi,
  startWorker,
  TEST_REDIS_URL,
  waitFor,
  waitForHealthy,
} from '../support/service-harness';
import { encodeWav, readPcm16Wav } from '../support/wav';

const KEY_A = 'key-a-7f3e9c21';
const KEY_B = 'key-b';
const ADMIN = 'admin-token-5d1a';
const KEYS_ENV = { API_KEYS: `${KEY_A},${KEY_B}`, ADMIN_TOKEN: ADMIN };
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

const jfkWav = readFileSync(JFK_WAV);
const oneSecondWav = encodeWav(readPcm16Wav(jfkWav).subarray(0, 16_000));

async function waitForLive(base: string): Promise<void> {
  await waitFor(`API at ${base}`, async () => ((await fetch(`${base}/health/live`)).ok ? true : undefined), 30_000);
}

function submit(base: string, token: string, file = oneSecondWav, fields: Record<string, string> = { async: 'true' }) {
  return postTranscribe(base, file, fields, 'audio.wav', bearer(token));
}

/** Raw HTTP over a socket: what arrives until the server closes it, and when. */
function rawRequest(port: number, head: string, body: Buffer, giveUpMs: number): Promise<{ response: string; closedAfterMs: number }> {
  return new Promise((resolve) => {
    const started = Date.now();
    const socket = net.connect(port, '127.0.0.1');
    let response = '';
    const timer = setTimeout(() => socket.destroy(), giveUpMs);
    socket.on('data', (chunk) => (response += chunk.toString()));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({ response, closedAfterMs: Date.now() - started });
    });
    socket.write(head);
    socket.write(body);
  });
}

describe('fair share, ownership and cancellation (jobs queued while no worker runs)', () => {
  let api: RunningProcess;
  let worker: RunningProcess | undefined;
  let base: string;
  const jobsOfA: string[] = [];
  let jobOfB: string;

  beforeAll(async () => {
    await prepareRedis();
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    api = startApi(port, { ...KEYS_ENV, MAX_QUEUED_PER_KEY: '100' });
    await waitForLive(base);
  });

  afterAll(async () => {
    await Promise.all([api?.stop(), worker?.stop()]);
    const redis = new Redis(TEST_REDIS_URL);
    await redis.flushdb();
    await redis.quit();
  });

  it('finding 6: one key cannot fill the queue for everyone (429 past MAX_QUEUED_PER_KEY, a quiet key goes first)', async () => {
    for (let i = 0; i < 100; i += 10) {
      const batch = await Promise.all(Array.from({ length: 10 }, () => submit(base, KEY_A)));
      for (const { status, body } of batch) {
        expect(status).toBe(202);
        jobsOfA.push(body.job_id);
      }
    }
    const over = await submit(base, KEY_A);
    expect(over.status).toBe(429);
    expect(over.body.error.code).toBe('too_many_queued_jobs');
    const other = await submit(base, KEY_B);
    expect(other.status).toBe(202);
    jobOfB = other.body.job_id;

    worker = startWorker({ WHISPER_MODEL: 'synthetic-micro' });
    await waitFor('the job of key B to complete', async () => {
      const { body } = await getJson(`${base}/jobs/${jobOfB}`, { headers: bearer(KEY_B) });
      return body.status === 'completed' ? body : undefined;
    }, 90_000);
    await worker.stop();
    worker = undefined;
    // when each job started, as BullMQ recorded it
    const redis = new Redis(TEST_REDIS_URL);
    const startedAt = async (id: string) => Number((await redis.hget(`bull:transcribe:${id}`, 'processedOn')) ?? Infinity);
    const startOfB = await startedAt(jobOfB);
    const startsOfA = await Promise.all(jobsOfA.map(startedAt));
    await redis.quit();
    // FIFO would have started all 100 of A's jobs first
    expect(startsOfA.filter((start) => start < startOfB).length).toBeLessThanOrEqual(2);
  });

  it('finding 6: a key sees and cancels only its own jobs; the admin token sees every job', async () => {
    const jobId = jobsOfA[jobsOfA.length - 1];
    const asB = await getJson(`${base}/jobs/${jobId}`, { headers: bearer(KEY_B) });
    expect(asB.status).toBe(404);
    expect(asB.body.error.code).toBe('job_not_found');
    expect((await getJson(`${base}/jobs/${jobId}`, { method: 'DELETE', headers: bearer(KEY_B) })).status).toBe(404);
    const asA = await getJson(`${base}/jobs/${jobId}`, { headers: bearer(KEY_A) });
    expect(asA.status).toBe(200);
    expect(asA.body.status).toBe('queued');
    expect((await getJson(`${base}/jobs/${jobId}`, { headers: bearer(ADMIN) })).body.job_id).toBe(jobId);
    expect((await getJson(`${base}/jobs/${jobOfB}`, { headers: bearer(KEY_A) })).status).toBe(404);
  });

  it('finding 10: DELETE on an already cancelled waiting job answers 409 job_finished, not 404', async () => {
    const jobId = jobsOfA[jobsOfA.length - 2];
    const first = await getJson(`${base}/jobs/${jobId}`, { method: 'DELETE', headers: bearer(KEY_A) });
    expect(first.status).toBe(200);
    expect(first.body.status).toBe('cancelled');
    const again = await getJson(`${base}/jobs/${jobId}`, { method: 'DELETE', headers: bearer(KEY_A) });
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('job_finished');
    // still another key's business only
    expect((await getJson(`${base}/jobs/${jobId}`, { headers: bearer(KEY_B) })).status).toBe(404);
    expect((await getJson(`${base}/jobs/${jobId}`, { headers: bearer(KEY_A) })).body.status).toBe('cancelled');
  });

  it('finding 10: results are kept by age (RESULT_TTL_S), never dropped by a count', async () => {
    const redis = new Redis(TEST_REDIS_URL);
    const opts = JSON.parse((await redis.hget(`bull:transcribe:${jobsOfA[0]}`, 'opts')) ?? '{}');
    await redis.quit();
    expect(opts.removeOnComplete).toEqual({ age: 3600 });
    expect(opts.removeOnFail.count).toBeUndefined();
  });
});

describe('the hardened HTTP surface', () => {
  let api: RunningProcess;
  let worker: RunningProcess;
  let base: string;
  let port: number;
  const IDLE_S = 2;

  beforeAll(async () => {
    await prepareRedis();
    port = await freePort();
    base = `http://127.0.0.1:${port}`;
    worker = startWorker({ WHISPER_MODEL: 'synthetic-micro' });
    api = startApi(port, { ...KEYS_ENV, UPLOAD_IDLE_TIMEOUT_S: String(IDLE_S) });
    // /health hides workers from callers without a key: ask with one
    await waitFor('a healthy worker', async () => ((await getJson(`${base}/health`, { headers: bearer(KEY_A) })).status === 200 ? true : undefined), 90_000);
  });

  afterAll(async () => {
    await Promise.all([api?.stop(), worker?.stop()]);
  });

  afterEach(() => {
    expect(api.child.exitCode).toBeNull();
    expect(worker.child.exitCode).toBeNull();
  });

  it('finding 1: ids naming BullMQ keys are 404 before Redis is asked, and the queue meta stays intact', async () => {
    const first = await submit(base, KEY_A, oneSecondWav, {});
    expect(first.status).toBe(200);
    const redis = new Redis(TEST_REDIS_URL);
    const metaBefore = await redis.hgetall('bull:transcribe:meta');
    expect(metaBefore.version).toBeDefined();
    for (const id of ['meta', 'id', 'events', 'stalled-check', 'wait', 'completed', 'failed', 'priority', 'limiter', 'marker', 'pc']) {
      for (const method of ['GET', 'DELETE']) {
        const { status, body } = await getJson(`${base}/jobs/${id}`, { method, headers: bearer(KEY_A) });
        expect([id, method, status, body.error.code]).toEqual([id, method, 404, 'job_not_found']);
      }
    }
    expect(await redis.hgetall('bull:transcribe:meta')).toEqual(metaBefore);
    await redis.quit();
  });

  it.each([
    ['a 2 MB JSON body', { 'content-type': 'application/json' }, Buffer.from(JSON.stringify({ pad: 'x'.repeat(2 * 1024 * 1024) }))],
    ['a 2 MB urlencoded body', { 'content-type': 'application/x-www-form-urlencoded' }, Buffer.from(`pad=${'x'.repeat(2 * 1024 * 1024)}`)],
    ['Content-Encoding: br with garbage', { 'content-type': 'application/json', 'content-encoding': 'br' }, Buffer.from('\x8b\x02\x80garbage'.repeat(100))],
    ['a gzip bomb', { 'content-type': 'application/json', 'content-encoding': 'gzip' }, gzipSync(Buffer.alloc(200 * 1024 * 1024))],
    ['a gzipped multipart body', { 'content-type': 'multipart/form-data; boundary=x', 'content-encoding': 'gzip' }, gzipSync(Buffer.alloc(1024))],
  ])('finding 2: %s is refused with 415, never a 500', async (_name, headers, body) => {
    const response = await fetch(`${base}/transcribe`, { method: 'POST', headers: { ...headers, ...bearer(KEY_A) }, body });
    expect(response.status).toBe(415);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe('unsupported_media_type');
    expect(api.output()).not.toMatch(/internal error/);
  });

  it('finding 3: 20 uploads that stall mid-body are answered 408 and closed after UPLOAD_IDLE_TIMEOUT_S', async () => {
    const boundary = 'stall';
    const head =
      `POST /transcribe HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${KEY_A}\r\n` +
      `Content-Type: multipart/form-data; boundary=${boundary}\r\nContent-Length: 500000\r\n\r\n`;
    const partial = Buffer.concat([
      Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.wav"\r\nContent-Type: audio/wav\r\n\r\n`),
      jfkWav.subarray(0, 50_000),
    ]);
    const outcomes = await Promise.all(Array.from({ length: 20 }, () => rawRequest(port, head, partial, 20_000)));
    for (const { response, closedAfterMs } of outcomes) {
      expect(response).toMatch(/^HTTP\/1\.1 408/);
      expect(response).toContain('"request_timeout"');
      expect(closedAfterMs).toBeGreaterThanOrEqual(IDLE_S * 1000 - 100);
      expect(closedAfterMs).toBeLessThan(IDLE_S * 1000 + 4_000);
    }
    // a client that keeps sending is not cut off, and the service still works
    const ok = await submit(base, KEY_A, jfkWav, {});
    expect(ok.status).toBe(200);
  });

  it('finding 4: admin routes take the admin token only, and the admin token opens nothing else', async () => {
    const withKey = await getJson(`${base}/gc`, { method: 'POST', headers: bearer(KEY_A) });
    expect(withKey.status).toBe(403);
    const adminUpload = await submit(base, ADMIN, oneSecondWav, {});
    expect(adminUpload.status).toBe(403);
    expect(adminUpload.body.error.code).toBe('forbidden');
    const gc = await getJson(`${base}/gc`, { method: 'POST', headers: bearer(ADMIN) });
    expect(gc.status).toBe(200);
    expect(gc.body.workers).toHaveLength(1);
  });

  it('finding 5: no X-Powered-By, nosniff everywhere, results not cached, a lower-case bearer scheme works', async () => {
    const response = await fetch(`${base}/transcribe`, {
      method: 'POST',
      headers: { authorization: `bearer ${KEY_B}` },
      body: (() => {
        const form = new FormData();
        form.append('file', new Blob([oneSecondWav]), 'a.wav');
        return form;
      })(),
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('x-powered-by')).toBeNull();
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    expect(response.headers.get('cache-control')).toBe('no-store');
    const notFound = await fetch(`${base}/nope`);
    expect(notFound.headers.get('x-powered-by')).toBeNull();
    expect(notFound.headers.get('x-content-type-options')).toBe('nosniff');
  });

  it('finding 5: /health shows only its status without a key; workers and models with one', async () => {
    const anonymous = await getJson(`${base}/health`);
    expect(anonymous.status).toBe(200);
    expect(anonymous.body).toEqual({ status: 'ok' });
    const wrongKey = await getJson(`${base}/health`, { headers: bearer('guess') });
    expect(wrongKey.body).toEqual({ status: 'ok' });
    const withKey = await getJson(`${base}/health`, { headers: bearer(KEY_A) });
    expect(withKey.body.workers).toHaveLength(1);
    expect(withKey.body.workers[0]).toMatchObject({ device: 'cpu' });
    const withAdmin = await getJson(`${base}/health`, { headers: bearer(ADMIN) });
    expect(withAdmin.body.workers).toHaveLength(1);
  });
});

/** Listening sockets on `port` from /proc/net/tcp{,6}: the bind address without sending a packet. */
function listeningAddresses(port: number): string[] {
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  const addresses: string[] = [];
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    for (const line of readFileSync(table, 'utf8').split('\n').slice(1)) {
      const [, local, , state] = line.trim().split(/\s+/);
      if (state === '0A' && local?.endsWith(`:${hexPort}`)) addresses.push(local.split(':')[0]);
    }
  }
  return addresses;
}

describe('defaults: loopback bind, admin routes closed without ADMIN_TOKEN', () => {
  let api: RunningProcess;
  let base: string;
  let port: number;

  beforeAll(async () => {
    await prepareRedis();
    port = await freePort();
    base = `http://127.0.0.1:${port}`;
    const env = { API_KEYS: KEY_A, HOST: '' };
    api = startApi(port, env);
    await waitForLive(base);
  });

  afterAll(async () => {
    await api?.stop();
  });

  it('finding 7: without HOST the API listens on 127.0.0.1 only', () => {
    expect(listeningAddresses(port)).toEqual(['0100007F']);
    expect(api.output()).toContain(`listening on 127.0.0.1:${port}`);
  });

  it('finding 4: with API_KEYS and no ADMIN_TOKEN, /gc is closed to every key', async () => {
    const { status, body } = await getJson(`${base}/gc`, { method: 'POST', headers: bearer(KEY_A) });
    expect(status).toBe(403);
    expect(body.error.message).toMatch(/ADMIN_TOKEN/);
  });
});

describe('finding 10: every 500 carries an error_id that is in the log line', () => {
  let api: RunningProcess;
  let worker: RunningProcess;
  let base: string;

  beforeAll(async () => {
    await prepareRedis();
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    // a worker whose ffmpeg is missing: a server fault, not the client's
    worker = startWorker({ WHISPER_MODEL: 'synthetic-micro', PATH: '/nonexistent' });
    api = startApi(port);
    await waitForHealthy(base, 1);
  });

  afterAll(async () => {
    await Promise.all([api?.stop(), worker?.stop()]);
  });

  it('sync and async', async () => {
    const mp3 = readFileSync(JFK_MP3);
    const sync = await postTranscribe(base, mp3, {}, 'jfk.mp3');
    expect(sync.status).toBe(500);
    expect(sync.body.error.code).toBe('internal_error');
    const errorId = sync.body.error.error_id;
    expect(errorId).toMatch(/^[0-9a-f-]{36}$/);
    expect(worker.output()).toMatch(new RegExp(`error id ${errorId}.*ffmpeg is not installed`));
    expect(api.output()).toContain(`internal error ${errorId}`);

    const accepted = await postTranscribe(base, mp3, { async: 'true' }, 'jfk.mp3');
    const failed = await waitFor('the async job to fail', async () => {
      const { body } = await getJson(`${base}/jobs/${accepted.body.job_id}`);
      return body.status === 'failed' ? body : undefined;
    });
    expect(failed.error.code).toBe('internal_error');
    expect(worker.output()).toContain(`error id ${failed.error.error_id}`);
  });
});
