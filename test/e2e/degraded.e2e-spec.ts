/** The API without workers, and without Redis: clear 503s, never a hang, and queued jobs wait for a worker. */
import { readFileSync } from 'node:fs';
import { JFK_WAV } from '../support/samples';
import { freePort, getJson, postTranscribe, prepareRedis, RunningProcess, startApi, startWorker, waitFor } from '../support/service-harness';

describe('degraded operation', () => {
  const jfkWav = readFileSync(JFK_WAV);
  const running: RunningProcess[] = [];

  afterAll(async () => {
    await Promise.all(running.map((p) => p.stop()));
  });

  it('with no worker: /health is 503, sync requests get no_workers, async jobs wait and finish once a worker starts', async () => {
    await prepareRedis();
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    running.push(startApi(port));
    await waitFor('API up', async () => ((await getJson(`${base}/health/live`)).status === 200 ? true : undefined));

    const health = await getJson(`${base}/health`);
    expect(health.status).toBe(503);
    expect(health.body).toMatchObject({ status: 'unavailable', redis: 'up', workers: [] });

    const sync = await postTranscribe(base, jfkWav);
    expect(sync.status).toBe(503);
    expect(sync.body.error.code).toBe('no_workers');

    const queued = await postTranscribe(base, jfkWav, { async: 'true', whisper_model: 'synthetic-micro' });
    expect(queued.status).toBe(202);
    expect((await getJson(`${base}/jobs/${queued.body.job_id}`)).body.status).toBe('queued');

    running.push(startWorker({ WHISPER_MODEL: 'synthetic-micro' }));
    const done = await waitFor('queued job to finish', async () => {
      const { body } = await getJson(`${base}/jobs/${queued.body.job_id}`);
      return body.status === 'completed' ? body : undefined;
    });
    expect(done.result.duration).toBeCloseTo(11.0, 1);
  });

  it('with Redis down: the API still starts and answers 503 quickly', async () => {
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    // nothing listens on port 1: Redis is "down"
    running.push(startApi(port, { REDIS_URL: 'redis://127.0.0.1:1' }));
    await waitFor('API up', async () => ((await getJson(`${base}/health/live`)).status === 200 ? true : undefined));
    const started = Date.now();
    const health = await getJson(`${base}/health`);
    expect(health.status).toBe(503);
    expect(health.body.redis).toBe('down');
    const upload = await postTranscribe(base, jfkWav, { async: 'true' });
    expect(upload.status).toBe(503);
    expect(upload.body.error.code).toBe('redis_unavailable');
    expect(Date.now() - started).toBeLessThan(15_000);
  });
});
