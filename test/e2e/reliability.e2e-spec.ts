/**
 * Several workers on one Redis: both answer /gc (and one of another deployment, on another database
 * of the same server, does not), and a worker killed with SIGKILL mid-job does not lose the job —
 * BullMQ's stalled-job check hands it to the other worker within a minute.
 */
import { readFileSync } from 'node:fs';
import Redis from 'ioredis';
import { RedisKeys } from '@app/contracts';
import { JFK_WAV } from '../support/samples';
import {
  freePort,
  getJson,
  postTranscribe,
  prepareRedis,
  RunningProcess,
  startApi,
  TEST_REDIS_URL,
  startWorker,
  waitFor,
  waitForHealthy,
} from '../support/service-harness';
import { encodeWav, readPcm16Wav, repeatSpeech } from '../support/wav';

/** Another deployment on the same Redis server: the database after the tests' own. */
const OTHER_DEPLOYMENT_URL = (() => {
  const url = new URL(TEST_REDIS_URL);
  url.pathname = `/${Number(url.pathname.slice(1) || 0) + 1}`;
  return url.toString();
})();

describe('two workers on one Redis', () => {
  let api: RunningProcess;
  let impatientApi: RunningProcess;
  let workers: RunningProcess[];
  let otherDeployment: Redis;
  let otherWorker: RunningProcess;
  let base: string;
  let impatientBase: string;
  const jfkWav = readFileSync(JFK_WAV);
  const longWav = encodeWav(repeatSpeech(readPcm16Wav(jfkWav), 150));

  beforeAll(async () => {
    await prepareRedis();
    otherDeployment = new Redis(OTHER_DEPLOYMENT_URL);
    await otherDeployment.flushdb();
    otherWorker = startWorker({ WHISPER_MODEL: 'synthetic-micro', REDIS_URL: OTHER_DEPLOYMENT_URL }, 'other-deployment-worker');
    const [port, impatientPort] = [await freePort(), await freePort()];
    base = `http://127.0.0.1:${port}`;
    impatientBase = `http://127.0.0.1:${impatientPort}`;
    workers = [startWorker({ WHISPER_MODEL: 'synthetic-micro' }, 'worker-a'), startWorker({ WHISPER_MODEL: 'synthetic-micro' }, 'worker-b')];
    api = startApi(port);
    impatientApi = startApi(impatientPort, { SYNC_TIMEOUT_S: '1' });
    await waitForHealthy(base, 2);
  });

  afterAll(async () => {
    await Promise.all([api, impatientApi, otherWorker, ...workers].map((p) => p?.stop()));
    await otherDeployment?.flushdb();
    await otherDeployment?.quit();
  });

  /** The other deployment's worker's heartbeat (it lists the models it has loaded). */
  const otherHeartbeat = async (): Promise<{ models: string[] } | undefined> => {
    const [beat] = Object.values(await otherDeployment.hgetall(RedisKeys.workerHeartbeats));
    return beat ? JSON.parse(beat) : undefined;
  };

  it('both workers answer /gc; a worker of another deployment on another database keeps its models', async () => {
    const before = await waitFor('the other deployment to have its model loaded', async () => {
      const beat = await otherHeartbeat();
      return beat && beat.models.length > 0 ? beat : undefined;
    });
    const { status, body } = await getJson(`${base}/gc`, { method: 'POST' });
    expect(status).toBe(200);
    expect(body.workers).toHaveLength(2);
    for (const reply of body.workers) {
      expect(reply.models_unloaded).toBe(1);
      expect(reply.rss_mb_after).toBeLessThan(reply.rss_mb_before);
    }
    // a worker that unloads beats at once, so a second is ample to see it
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect((await otherHeartbeat())?.models).toEqual(before.models);
    expect(otherWorker.output()).not.toMatch(/gc: unloaded/);
  });

  it('a sync wait longer than SYNC_TIMEOUT_S answers 202 with the job id, and the job still finishes', async () => {
    const { status, body } = await postTranscribe(impatientBase, longWav, { allowed_languages: 'en' });
    expect(status).toBe(202);
    const done = await waitFor('the job behind the 202', async () => {
      const { body: job } = await getJson(`${base}/jobs/${body.job_id}`);
      return job.status === 'completed' ? job : undefined;
    }, 90_000);
    expect(done.result.duration).toBeCloseTo(150, 0);
  });

  it('a job survives SIGKILL of the worker running it', async () => {
    const { body } = await postTranscribe(base, longWav, { async: 'true', allowed_languages: 'en' });
    // the worker running this job: once it is active, the one worker whose heartbeat says busy (a
    // worker beats when it starts a job, and 0.1 s after its last one ended)
    await waitFor('the job to be active', async () => ((await getJson(`${base}/jobs/${body.job_id}`)).body.status === 'active' ? true : undefined), 60_000, 50);
    const busy = await waitFor('exactly one busy worker', async () => {
      const { body: health } = await getJson(`${base}/health`);
      const busyWorkers = (health.workers as { worker_id: string; busy: boolean }[]).filter((w) => w.busy);
      return busyWorkers.length === 1 ? busyWorkers[0] : undefined;
    }, 60_000, 50);
    const victim = workers.find((w) => busy.worker_id.includes(`-${w.child.pid}-`));
    expect(victim).toBeDefined();
    const killedAt = Date.now();
    victim!.child.kill('SIGKILL');
    const done = await waitFor('the job to finish on the surviving worker', async () => {
      const { body: job } = await getJson(`${base}/jobs/${body.job_id}`);
      if (job.status === 'failed') throw new Error(JSON.stringify(job.error));
      return job.status === 'completed' ? job : undefined;
    }, 100_000, 500);
    expect(done.result.duration).toBeCloseTo(150, 0);
    const survivor = workers.find((w) => w !== victim)!;
    expect(survivor.child.exitCode).toBeNull();
    expect(survivor.output()).toContain(`job ${body.job_id} done`);
    // picked up and finished within about a minute of the kill
    expect(Date.now() - killedAt).toBeLessThan(75_000);
  });
});
