/**
 * Job list and queue view (issue 13, item 6) against the real API and worker: GET /jobs lists the
 * calling key's own jobs (newest first, without results, status filter, limit, cursor pages), the
 * admin token every job; bad parameters are 400 naming the field. Bull Board at /admin/queues is
 * closed without the admin token, opens with it as a Bearer header or through the session cookie
 * `?token=` sets, shows both queues read-only, and its API works with the same credentials.
 */
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import Redis from 'ioredis';
import { JobListKeys } from '@app/contracts';
import { JFK_WAV } from '../support/samples';
import { freePort, getJson, postTranscribe, prepareRedis, RunningProcess, startApi, startWorker, TEST_REDIS_URL, waitFor } from '../support/service-harness';
import { encodeWav, readPcm16Wav, repeatSpeech } from '../support/wav';

const K1 = 'job-list-key-1';
const K2 = 'job-list-key-2';
const ADMIN = 'job-list-admin-token';
const as = (key: string) => ({ authorization: `Bearer ${key}` });

describe('GET /jobs and Bull Board at /admin/queues', () => {
  let worker: RunningProcess;
  let api: RunningProcess;
  let base: string;
  let redis: Redis;
  const jfk = readFileSync(JFK_WAV);
  const ids: Record<string, string> = {};

  const submit = async (key: string, audio: Buffer, fileName: string) => {
    const response = await postTranscribe(base, audio, { async: 'true' }, fileName, as(key));
    expect(response.status).toBe(202);
    return response.body.job_id as string;
  };
  const list = (key: string, query = '') => getJson(`${base}/jobs${query}`, { headers: as(key) });
  const whenStatus = (jobId: string, statuses: string[]) =>
    waitFor(`job ${jobId} ${statuses.join('/')}`, async () => {
      const view = (await getJson(`${base}/jobs/${jobId}`, { headers: as(ADMIN) })).body;
      return statuses.includes(view.status) ? view : undefined;
    }, 120_000, 300);

  beforeAll(async () => {
    await prepareRedis();
    redis = new Redis(TEST_REDIS_URL);
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    worker = startWorker({ WHISPER_MODEL: 'synthetic-micro' });
    api = startApi(port, { WHISPER_MODEL: 'synthetic-micro', API_KEYS: `${K1},${K2}`, ADMIN_TOKEN: ADMIN });
    await waitFor('a healthy worker', async () => ((await getJson(`${base}/health`, { headers: as(K1) })).body?.workers?.length ? true : undefined), 90_000);
    // k1 two jobs, k2 one, one after another so their order is known
    ids.k1First = await submit(K1, jfk, 'first.wav');
    ids.k2Only = await submit(K2, jfk, 'k2.wav');
    ids.k1Second = await submit(K1, jfk, 'second.wav');
    for (const id of Object.values(ids)) await whenStatus(id, ['completed']);
  }, 180_000);

  afterAll(async () => {
    await redis?.quit();
    await Promise.all([api?.stop(), worker?.stop()]);
  });

  it("each key lists exactly its own jobs, newest first, as views without the result; the admin token lists all", async () => {
    const k1 = await list(K1);
    expect(k1.status).toBe(200);
    expect(k1.body.jobs.map((job: any) => job.job_id)).toEqual([ids.k1Second, ids.k1First]);
    expect(k1.body.next_cursor).toBeUndefined();
    for (const job of k1.body.jobs) {
      expect(job).toEqual({
        job_id: expect.any(String),
        status: 'completed',
        stage: 'done',
        progress: 100,
        created_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
        started_at: expect.any(String),
        finished_at: expect.any(String),
        file_name: expect.stringMatching(/^(first|second)\.wav$/),
        duration: expect.closeTo(11, 0),
        language: expect.any(String),
      });
      expect(Date.parse(job.created_at)).toBeLessThanOrEqual(Date.parse(job.started_at));
      expect(Date.parse(job.started_at)).toBeLessThanOrEqual(Date.parse(job.finished_at));
    }
    const k2 = await list(K2);
    expect(k2.body.jobs.map((job: any) => job.job_id)).toEqual([ids.k2Only]);
    expect(k2.body.jobs[0].file_name).toBe('k2.wav');
    const admin = await list(ADMIN);
    expect(admin.body.jobs.map((job: any) => job.job_id)).toEqual([ids.k1Second, ids.k2Only, ids.k1First]);
    // the listing reads a per-key index, not the queue: k1's sorted set holds k1's ids only
    const k1Index = JobListKeys.byOwner(createHash('sha256').update(K1).digest('hex'));
    expect((await redis.zrevrange(k1Index, 0, -1)).sort()).toEqual([ids.k1First, ids.k1Second].sort());
    expect(await redis.ttl(k1Index)).toBeGreaterThan(0);
    // without a key: 401
    expect((await getJson(`${base}/jobs`)).status).toBe(401);
  });

  it('status filters (queued, active, completed, failed, cancelled); limit and cursor page through, each job once', async () => {
    // a failed job and, behind a long one, a cancelled one: k1 has every status
    const corrupt = await submit(K1, Buffer.concat([Buffer.from('RIFF'), randomBytes(4096)]), 'broken.wav');
    await whenStatus(corrupt, ['failed']);
    const busy = await submit(K1, encodeWav(repeatSpeech(readPcm16Wav(jfk), 600, 2)), 'long.wav');
    await whenStatus(busy, ['active']);
    const waiting = await submit(K1, jfk, 'waiting.wav');
    const queuedAgain = await submit(K1, jfk, 'cancel-me.wav');
    expect((await fetch(`${base}/jobs/${queuedAgain}`, { method: 'DELETE', headers: as(K1) })).status).toBe(200);

    const byStatus = async (status: string) => (await list(K1, `?status=${status}`)).body.jobs.map((job: any) => job.job_id);
    expect(await byStatus('completed')).toEqual([ids.k1Second, ids.k1First]);
    expect(await byStatus('failed')).toEqual([corrupt]);
    expect(await byStatus('active')).toEqual([busy]);
    expect(await byStatus('queued')).toEqual([waiting]);
    expect(await byStatus('cancelled')).toEqual([queuedAgain]);
    const failed = (await list(K1, '?status=failed')).body.jobs[0];
    expect(failed).toMatchObject({ status: 'failed', file_name: 'broken.wav', error: { code: expect.any(String), message: expect.any(String) } });
    expect(failed.duration).toBeUndefined();
    const cancelled = (await list(K1, '?status=cancelled')).body.jobs[0];
    expect(cancelled).toMatchObject({ status: 'cancelled', error: { code: 'job_cancelled' } });
    // k2 still sees only its own
    expect((await list(K2, '?status=completed')).body.jobs.map((job: any) => job.job_id)).toEqual([ids.k2Only]);
    expect((await list(K2, '?status=failed')).body.jobs).toEqual([]);

    // limit=2 pages: newest first, each job once, the last page without a cursor
    const all = (await list(K1, '?limit=100')).body.jobs.map((job: any) => job.job_id);
    expect(all).toEqual([queuedAgain, waiting, busy, corrupt, ids.k1Second, ids.k1First]);
    const paged: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await list(K1, `?limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
      expect(page.status).toBe(200);
      expect(page.body.jobs.length).toBeLessThanOrEqual(2);
      paged.push(...page.body.jobs.map((job: any) => job.job_id));
      cursor = page.body.next_cursor;
      pages += 1;
    } while (cursor && pages < 10);
    expect(paged).toEqual(all);
    expect(pages).toBe(3);
    expect((await list(K1, '?limit=1')).body.jobs).toHaveLength(1);
    // a cursor with a status filter continues the filtered listing
    const firstCompleted = await list(K1, '?status=completed&limit=1');
    expect(firstCompleted.body.jobs.map((job: any) => job.job_id)).toEqual([ids.k1Second]);
    const nextCompleted = await list(K1, `?status=completed&limit=1&cursor=${encodeURIComponent(firstCompleted.body.next_cursor)}`);
    expect(nextCompleted.body.jobs.map((job: any) => job.job_id)).toEqual([ids.k1First]);

    await fetch(`${base}/jobs/${busy}`, { method: 'DELETE', headers: as(K1) });
    await fetch(`${base}/jobs/${waiting}`, { method: 'DELETE', headers: as(K1) });
    await whenStatus(busy, ['cancelled']);
  }, 240_000);

  it.each([
    ['?status=done', 'status'],
    ['?status=completed&status=failed', 'status'],
    ['?limit=0', 'limit'],
    ['?limit=101', 'limit'],
    ['?limit=ten', 'limit'],
    ['?limit=1.5', 'limit'],
    ['?cursor=not-a-cursor', 'cursor'],
    ['?page=2', 'page'],
  ])('GET /jobs%s → 400 validation_failed on %s', async (query, field) => {
    const response = await list(K1, query);
    expect(response.status).toBe(400);
    expect(response.body.error).toMatchObject({ code: 'validation_failed', field, message: expect.any(String) });
  });

  describe('Bull Board', () => {
    const board = `/admin/queues`;

    it('is closed without the admin token (401), to API keys (403) and to a wrong ?token= (403)', async () => {
      for (const path of [board, `${board}/api/queues`, `${board}/static/js/nothing.js`]) {
        const anonymous = await fetch(`${base}${path}`);
        expect(anonymous.status).toBe(401);
        expect(((await anonymous.json()) as any).error.code).toBe('unauthorized');
        expect((await fetch(`${base}${path}`, { headers: as(K1) })).status).toBe(403);
      }
      const wrong = await fetch(`${base}${board}?token=${K1}`, { redirect: 'manual' });
      expect(wrong.status).toBe(403);
      expect(wrong.headers.get('set-cookie')).toBeNull();
    });

    it('opens with the admin token as Bearer: the page (HTML), its assets, and its API with both queues, read-only', async () => {
      const page = await fetch(`${base}${board}`, { headers: as(ADMIN) });
      expect(page.status).toBe(200);
      expect(page.headers.get('content-type')).toMatch(/^text\/html/);
      const html = await page.text();
      expect(html).toContain('<div id="root">');
      expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
      expect(page.headers.get('x-powered-by')).toBeNull();
      const script = /src="(static\/js\/main\.[^"]+\.js)"/.exec(html)?.[1];
      expect(script).toBeDefined();
      const asset = await fetch(`${base}${board}/${script}`, { headers: as(ADMIN) });
      expect(asset.status).toBe(200);
      expect(asset.headers.get('content-type')).toMatch(/javascript/);

      const queues = await getJson(`${base}${board}/api/queues`, { headers: as(ADMIN) });
      expect(queues.status).toBe(200);
      expect(queues.body.queues.map((queue: any) => queue.name).sort()).toEqual(['transcribe', 'webhooks']);
      for (const queue of queues.body.queues) expect(queue.readOnlyMode).toBe(true);
      const transcribe = queues.body.queues.find((queue: any) => queue.name === 'transcribe');
      expect(transcribe.counts.completed).toBeGreaterThanOrEqual(3);
    });

    it('?token=<admin token> sets a short-lived HttpOnly SameSite=Strict cookie for /admin and redirects to the board without the token; the cookie opens page and API; a forged one does not', async () => {
      const login = await fetch(`${base}${board}?token=${encodeURIComponent(ADMIN)}`, { redirect: 'manual' });
      expect(login.status).toBe(303);
      expect(login.headers.get('location')).toBe(board);
      const setCookie = login.headers.get('set-cookie') ?? '';
      expect(setCookie).toMatch(/^tx_queue_board=[^;]+;/);
      for (const attribute of ['HttpOnly', 'SameSite=Strict', 'Path=/admin', 'Max-Age=1800']) expect(setCookie).toContain(attribute);
      // the cookie is a signature, not the token
      expect(setCookie).not.toContain(ADMIN);
      const cookie = setCookie.split(';')[0];

      const page = await fetch(`${base}${board}`, { headers: { cookie } });
      expect(page.status).toBe(200);
      expect(await page.text()).toContain('<div id="root">');
      const queues = await getJson(`${base}${board}/api/queues`, { headers: { cookie } });
      expect(queues.status).toBe(200);
      expect(queues.body.queues).toHaveLength(2);

      const [name, value] = cookie.split('=');
      const [expires, signature] = value.split('.');
      const forged = [
        `${name}=${Number(expires) + 86_400_000}.${signature}`,
        `${name}=${expires}.${signature.slice(0, -1)}${signature.endsWith('A') ? 'B' : 'A'}`,
        `${name}=${Date.now() - 1000}.${signature}`,
      ];
      for (const bad of forged) expect((await fetch(`${base}${board}/api/queues`, { headers: { cookie: bad } })).status).toBe(401);
      // the cookie opens the board only, not the admin routes
      expect((await fetch(`${base}/gc`, { method: 'POST', headers: { cookie } })).status).toBe(401);
    });
  });
});
