/**
 * Signed webhooks end to end (issue 13, item 3): a local receiver (node:http on 127.0.0.1, which
 * OUTBOUND_ALLOWED_HOSTS lists) verifies every delivery with the `standardwebhooks` package. It
 * answers 500 twice and then 200: three deliveries with one webhook-id, none after; the API is
 * killed (SIGKILL) and a new one started between the failed attempts, and the delivery still
 * arrives (the BullMQ queue persists). SSRF and secret rules give 400 at submission; a job that
 * fails (corrupt audio) announces transcription.failed, one cancelled while queued transcription.cancelled.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Queue } from 'bullmq';
import { Webhook } from 'standardwebhooks';
import { WEBHOOKS_QUEUE, webhookDeliveryJobId } from '@app/contracts';
import { redisOptionsFromUrl } from '@app/redis';
import { JFK_WAV } from '../support/samples';
import { freePort, postTranscribe, prepareRedis, RunningProcess, startApi, startWorker, TEST_REDIS_URL, waitFor, waitForHealthy } from '../support/service-harness';

interface Delivery {
  path: string;
  headers: http.IncomingHttpHeaders;
  body: string;
  answered: number;
  receivedAt: number;
}

const SECRET = `whsec_${randomBytes(32).toString('base64')}`;
const RETRY_BASE_MS = 3_000;

describe('signed webhooks (Standard Webhooks) with retries and an SSRF guard', () => {
  let receiver: http.Server;
  let hookBase: string;
  const deliveries: Delivery[] = [];
  /** per path: the statuses to answer, in order (then 200) */
  const script: Record<string, number[]> = {};
  let worker: RunningProcess;
  let api: RunningProcess;
  let port: number;
  let base: string;
  let deliveriesQueue: Queue;
  const jfk = readFileSync(JFK_WAV);
  const apiEnv = { WHISPER_MODEL: 'synthetic-micro', OUTBOUND_ALLOWED_HOSTS: '127.0.0.1', WEBHOOK_RETRY_BASE_MS: String(RETRY_BASE_MS) };

  beforeAll(async () => {
    receiver = http.createServer((req, res) => {
      let body = '';
      req.setEncoding('utf8');
      req.on('data', (chunk: string) => (body += chunk));
      req.on('end', () => {
        const path = req.url ?? '/';
        const answered = script[path]?.shift() ?? 200;
        deliveries.push({ path, headers: req.headers, body, answered, receivedAt: Date.now() });
        res.writeHead(answered, { 'content-type': 'text/plain' }).end(answered === 200 ? 'ok' : 'try again');
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    hookBase = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;

    await prepareRedis();
    port = await freePort();
    base = `http://127.0.0.1:${port}`;
    worker = startWorker({ WHISPER_MODEL: 'synthetic-micro' });
    api = startApi(port, apiEnv);
    await waitForHealthy(base, 1);
    deliveriesQueue = new Queue(WEBHOOKS_QUEUE, { connection: redisOptionsFromUrl(TEST_REDIS_URL) });
  });

  afterAll(async () => {
    await deliveriesQueue?.close();
    await Promise.all([api?.stop(), worker?.stop()]);
    await new Promise<void>((resolve) => receiver.close(() => resolve()));
  });

  const of = (path: string) => deliveries.filter((d) => d.path === path);
  const verify = (delivery: Delivery) => new Webhook(SECRET).verify(delivery.body, delivery.headers as Record<string, string>) as any;

  it.each([
    ['http://169.254.169.254/latest/meta-data/', /cloud metadata/],
    ['http://10.0.0.1/', /private/],
    ['http://localhost:1/', /loopback.*localhost resolves to/],
    ['http://[::ffff:169.254.169.254]/', /IPv4-mapped cloud metadata/],
    ['ftp://example.com/hook', /http\(s\) URL/],
  ])('refuses callback_url=%s with 400 on field callback_url', async (url, message) => {
    const response = await postTranscribe(base, jfk, { async: 'true', callback_url: url, callback_secret: SECRET });
    expect(response.status).toBe(400);
    expect(response.body.error).toMatchObject({ code: 'validation_failed', field: 'callback_url' });
    expect(response.body.error.message).toMatch(message);
  });

  it('refuses a callback_url without any secret, and a malformed secret', async () => {
    // this API has no WEBHOOK_SECRET
    const noSecret = await postTranscribe(base, jfk, { async: 'true', callback_url: `${hookBase}/none` });
    expect(noSecret.status).toBe(400);
    expect(noSecret.body.error).toMatchObject({ code: 'validation_failed', field: 'callback_url' });
    expect(noSecret.body.error.message).toMatch(/callback_secret.*WEBHOOK_SECRET/);
    const badSecret = await postTranscribe(base, jfk, { async: 'true', callback_url: `${hookBase}/none`, callback_secret: 'hunter2' });
    expect(badSecret.status).toBe(400);
    expect(badSecret.body.error).toMatchObject({ code: 'validation_failed', field: 'callback_secret' });
    const secretAlone = await postTranscribe(base, jfk, { async: 'true', callback_secret: SECRET });
    expect(secretAlone.status).toBe(400);
    expect(secretAlone.body.error).toMatchObject({ field: 'callback_secret' });
    expect(of('/none')).toHaveLength(0);
  });

  it('retries a failing receiver across an API restart: three deliveries with one webhook-id, the third accepted, none after', async () => {
    script['/done'] = [500, 500];
    const accepted = await postTranscribe(base, jfk, { async: 'true', callback_url: `${hookBase}/done`, callback_secret: SECRET });
    expect(accepted.status).toBe(202);
    const jobId: string = accepted.body.job_id;

    await waitFor('the first delivery', async () => (of('/done').length >= 1 ? true : undefined), 120_000);
    // the failed attempt is recorded (the delivery waits for its retry) before the API goes away
    await waitFor('the delivery to wait for its retry', async () => ((await deliveriesQueue.getJob(webhookDeliveryJobId(jobId)))?.getState().then((s) => (s === 'delayed' ? true : undefined))), 10_000, 50);
    await api.stop('SIGKILL');
    const restartedAt = Date.now();
    api = startApi(port, apiEnv);
    await waitForHealthy(base, 1);

    await waitFor('three deliveries', async () => (of('/done').length >= 3 ? true : undefined), 60_000);
    const done = of('/done');
    expect(done.map((d) => d.answered)).toEqual([500, 500, 200]);
    // the first attempt came from the killed API, the retries from the new one
    expect(done[0].receivedAt).toBeLessThan(restartedAt);
    expect(done[1].receivedAt).toBeGreaterThan(restartedAt);
    const ids = new Set(done.map((d) => d.headers['webhook-id']));
    expect(ids.size).toBe(1);
    expect([...ids][0]).toBe(`msg_${jobId}`);
    // exponential backoff: the second retry waited about twice as long as the first
    expect(done[1].receivedAt - done[0].receivedAt).toBeGreaterThanOrEqual(RETRY_BASE_MS - 100);
    expect(done[2].receivedAt - done[1].receivedAt).toBeGreaterThanOrEqual(2 * RETRY_BASE_MS - 100);

    const payload = verify(done[2]);
    expect(payload).toMatchObject({ type: 'transcription.completed', data: { job_id: jobId, status: 'completed', stage: 'done' } });
    expect(Number.isNaN(Date.parse(payload.timestamp))).toBe(false);
    expect(payload.data.result.job_id).toBe(jobId);
    expect(payload.data.result.segments.length).toBeGreaterThan(0);
    // the body is the job view GET /jobs/:id answers
    const view = await (await fetch(`${base}/jobs/${jobId}`)).json();
    expect(payload.data).toEqual(view);
    // every attempt is signed (with its own timestamp), and the same bytes are sent each time
    expect(done.every((d) => verify(d) !== undefined && d.body === done[2].body)).toBe(true);
    // a forged signature does not verify
    expect(() => new Webhook(`whsec_${randomBytes(32).toString('base64')}`).verify(done[2].body, done[2].headers as Record<string, string>)).toThrow();

    // delivered: never again
    await new Promise((resolve) => setTimeout(resolve, 4 * RETRY_BASE_MS));
    expect(of('/done')).toHaveLength(3);
    const delivered = await deliveriesQueue.getJob(webhookDeliveryJobId(jobId));
    expect(await delivered?.getState()).toBe('completed');
    // the ended delivery keeps neither the request's secret nor the body
    expect(delivered?.data).toEqual({ jobId, type: 'transcription.completed', url: `${hookBase}/done`, body: '' });
  }, 240_000);

  it('sends the webhook for a synchronous request too (beside the 200 with the transcript)', async () => {
    const response = await postTranscribe(base, jfk, { callback_url: `${hookBase}/sync`, callback_secret: SECRET });
    expect(response.status).toBe(200);
    await waitFor('the sync job delivery', async () => (of('/sync').length >= 1 ? true : undefined), 30_000);
    const payload = verify(of('/sync')[0]);
    expect(payload).toMatchObject({ type: 'transcription.completed', data: { job_id: response.body.job_id, status: 'completed' } });
    expect(payload.data.result.segments).toEqual(response.body.segments);
  }, 60_000);

  it('announces a failed job (corrupt audio) as transcription.failed with its error', async () => {
    const corrupt = Buffer.concat([Buffer.from('RIFF'), randomBytes(4096)]);
    const accepted = await postTranscribe(base, corrupt, { async: 'true', callback_url: `${hookBase}/failed`, callback_secret: SECRET }, 'broken.wav');
    expect(accepted.status).toBe(202);
    await waitFor('the failure delivery', async () => (of('/failed').length >= 1 ? true : undefined), 120_000);
    const [delivery] = of('/failed');
    const payload = verify(delivery);
    expect(payload).toMatchObject({ type: 'transcription.failed', data: { job_id: accepted.body.job_id, status: 'failed' } });
    expect(typeof payload.data.error.code).toBe('string');
    expect(payload.data.error.code).not.toBe('job_cancelled');
    expect(of('/failed')).toHaveLength(1);
  }, 180_000);

  it('announces a job cancelled while still queued as transcription.cancelled', async () => {
    // no worker: the job stays queued until it is cancelled
    await worker.stop();
    const accepted = await postTranscribe(base, jfk, { async: 'true', callback_url: `${hookBase}/cancelled`, callback_secret: SECRET });
    expect(accepted.status).toBe(202);
    const jobId: string = accepted.body.job_id;
    expect(((await (await fetch(`${base}/jobs/${jobId}`)).json()) as { status: string }).status).toBe('queued');
    const cancelled = await fetch(`${base}/jobs/${jobId}`, { method: 'DELETE' });
    expect(cancelled.status).toBe(200);
    await waitFor('the cancel delivery', async () => (of('/cancelled').length >= 1 ? true : undefined), 30_000);
    const payload = verify(of('/cancelled')[0]);
    expect(payload).toMatchObject({ type: 'transcription.cancelled', data: { job_id: jobId, status: 'cancelled', error: { code: 'job_cancelled' } } });
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    expect(of('/cancelled')).toHaveLength(1);
  }, 60_000);
});
