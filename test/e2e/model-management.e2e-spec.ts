/**
 * Model management through the real service: GET /models, POST /models/:name/load and
 * DELETE /models/:name broadcast to the worker (which answers with what it did and its RSS), and
 * MODEL_IDLE_UNLOAD_S, which frees a model no job used for that long but never one a running job
 * holds. Models: the generated synthetic-tiny (~75 MB, so loading and freeing it shows in RSS) and
 * synthetic-micro (~8 MB) in ./models.
 */
import { readFileSync } from 'node:fs';
import { JFK_WAV } from '../support/samples';
import { freePort, getJson, postTranscribe, ServiceStack, startStack, waitFor } from '../support/service-harness';
import { encodeWav, readPcm16Wav, repeatSpeech } from '../support/wav';

const ADMIN = { authorization: 'Bearer models-admin-token' };

interface LoadedOn {
  worker_id: string;
  label: string;
  bytes: number;
  in_use: number;
  draining: boolean;
}

interface Catalog {
  models: { name: string; official: boolean; local_on: string[]; loaded_on: LoadedOn[] }[];
  workers: { worker_id: string; rss_mb?: number; loaded_bytes: number; loaded_models: { label: string; kind: string }[] }[];
}

/**
 * GET /models as this stack's worker sees it (picked by pid: a heartbeat left in Redis by another
 * spec's worker must not count).
 */
async function catalog(stack: ServiceStack): Promise<Catalog> {
  const { status, body } = await getJson(`${stack.base}/models`);
  expect(status).toBe(200);
  const mine = (workerId: string) => workerId.includes(`-${stack.worker.child.pid}-`);
  const view = body as Catalog;
  return {
    models: view.models.map((m) => ({ ...m, local_on: m.local_on.filter(mine), loaded_on: m.loaded_on.filter((l) => mine(l.worker_id)) })),
    workers: view.workers.filter((w) => mine(w.worker_id)),
  };
}

/** This stack's worker's reply to a load or unload. */
function replyOf(stack: ServiceStack, body: { workers: { worker_id: string }[] }): any {
  const reply = body.workers.find((w) => w.worker_id.includes(`-${stack.worker.child.pid}-`));
  if (!reply) throw new Error(`no reply from worker pid ${stack.worker.child.pid}: ${JSON.stringify(body)}`);
  return reply;
}

const loadedOn = (view: Catalog, name: string): LoadedOn[] => view.models.find((m) => m.name === name)?.loaded_on ?? [];

function call(base: string, method: 'POST' | 'DELETE', path: string, headers: Record<string, string> = ADMIN) {
  return getJson(`${base}${path}`, { method, headers });
}

describe('model management (ADMIN_TOKEN set, default model synthetic-micro)', () => {
  let stack: ServiceStack;
  let base: string;

  beforeAll(async () => {
    // no model hub reachable: an official model that is not in ./models cannot be had
    const closedPort = await freePort();
    stack = await startStack(
      { WHISPER_MODEL: 'synthetic-micro', HF_ENDPOINT: `http://127.0.0.1:${closedPort}`, MODEL_DOWNLOAD_TIMEOUT_S: '5', MODEL_DOWNLOAD_CONNECT_TIMEOUT_S: '2' },
      { ADMIN_TOKEN: 'models-admin-token' },
    );
    base = stack.base;
  });

  afterAll(async () => {
    await stack?.stop();
  });

  it('GET /models: official and custom models, where each is on disk and in memory', async () => {
    const view = await waitFor('the default model in the catalog', async () => {
      const current = await catalog(stack);
      return loadedOn(current, 'synthetic-micro').length === 1 ? current : undefined;
    }, 30_000);
    const [worker] = view.workers;
    expect(view.models.slice(0, 2).map((m) => m.name)).toEqual(['tiny', 'tiny.en']);
    expect(view.models.find((m) => m.name === 'large-v3')).toEqual({ name: 'large-v3', official: true, local_on: [], loaded_on: [] });
    expect(view.models.find((m) => m.name === 'synthetic-tiny')).toEqual({ name: 'synthetic-tiny', official: false, local_on: [worker.worker_id], loaded_on: [] });
    expect(loadedOn(view, 'synthetic-micro')).toEqual([
      { worker_id: worker.worker_id, label: 'synthetic-micro/ggml', bytes: expect.any(Number), in_use: 0, draining: false },
    ]);
    expect(loadedOn(view, 'synthetic-micro')[0].bytes).toBeGreaterThan(5_000_000);
    expect(worker.loaded_bytes).toBeGreaterThanOrEqual(loadedOn(view, 'synthetic-micro')[0].bytes);
    expect(worker.rss_mb).toBeGreaterThan(0);
  });

  it('load and unload need the admin token', async () => {
    const anonymous = await call(base, 'POST', '/models/synthetic-tiny/load', {});
    expect(anonymous.status).toBe(401);
    const wrongToken = await call(base, 'DELETE', '/models/synthetic-tiny', { authorization: 'Bearer not-the-admin-token' });
    expect(wrongToken.status).toBe(403);
    expect(wrongToken.body.error.code).toBe('forbidden');
  });

  it('POST /models/synthetic-tiny/load: the worker loads it, its RSS grows by about its size; a second load finds it loaded', async () => {
    const before = (await catalog(stack)).workers[0];
    const { status, body } = await call(base, 'POST', '/models/synthetic-tiny/load');
    expect(status).toBe(200);
    expect(body).toMatchObject({ model: 'synthetic-tiny', action: 'load' });
    const reply = replyOf(stack, body);
    console.log(`load synthetic-tiny: ${JSON.stringify(reply)}`);
    expect(reply).toMatchObject({ worker_id: before.worker_id, status: 'loaded', label: 'synthetic-tiny/ggml' });
    expect(reply.bytes).toBeGreaterThan(50_000_000);
    expect(reply.rss_mb_after - reply.rss_mb_before).toBeGreaterThan(40);
    // the worker beats after answering: the catalog shows it at once
    const after = await catalog(stack);
    expect(loadedOn(after, 'synthetic-tiny')).toEqual([{ worker_id: before.worker_id, label: 'synthetic-tiny/ggml', bytes: reply.bytes, in_use: 0, draining: false }]);
    expect(after.workers[0].rss_mb! - before.rss_mb!).toBeGreaterThan(40);
    expect(after.workers[0].loaded_bytes - before.loaded_bytes).toBe(reply.bytes);
    const again = await call(base, 'POST', '/models/synthetic-tiny/load');
    expect(replyOf(stack, again.body)).toMatchObject({ status: 'already_loaded', label: 'synthetic-tiny/ggml' });
    expect(stack.worker.output().match(/loaded ggml-synthetic-tiny\.bin/g)).toHaveLength(1);
  });

  it('DELETE /models/synthetic-tiny: freed on the worker, RSS drops, the catalog no longer lists it as loaded; again: not_loaded', async () => {
    const before = (await catalog(stack)).workers[0];
    expect(before.loaded_models.map((m) => m.label)).toContain('synthetic-tiny/ggml');
    const { status, body } = await call(base, 'DELETE', '/models/synthetic-tiny');
    expect(status).toBe(200);
    const reply = replyOf(stack, body);
    console.log(`unload synthetic-tiny: ${JSON.stringify(reply)}`);
    expect(reply).toMatchObject({ status: 'unloaded', models_unloaded: 1, models_pending: 0 });
    expect(reply.rss_mb_before - reply.rss_mb_after).toBeGreaterThan(30);
    const after = await catalog(stack);
    expect(loadedOn(after, 'synthetic-tiny')).toEqual([]);
    // the default model stays
    expect(loadedOn(after, 'synthetic-micro')).toHaveLength(1);
    expect(before.rss_mb! - after.workers[0].rss_mb!).toBeGreaterThan(30);
    expect(stack.worker.output()).toMatch(/freed whisper:ggml-synthetic-tiny\.bin/);
    const again = await call(base, 'DELETE', '/models/synthetic-tiny');
    expect(replyOf(stack, again.body)).toMatchObject({ status: 'not_loaded', models_unloaded: 0 });
  });

  it('DELETE of a model a running job holds: pending, the job completes, the model is freed when it ends', async () => {
    const jfk = readPcm16Wav(readFileSync(JFK_WAV));
    const { status, body } = await postTranscribe(base, encodeWav(repeatSpeech(jfk, 180, 2)), {
      async: 'true',
      allowed_languages: 'en',
      vad: 'false',
      whisper_model: 'synthetic-tiny',
    });
    expect(status).toBe(202);
    const jobUrl = `${base}/jobs/${body.job_id}`;
    await waitFor('the job to transcribe', async () => ((await getJson(jobUrl)).body.stage === 'transcribe' ? true : undefined), 60_000, 50);
    const unload = await call(base, 'DELETE', '/models/synthetic-tiny');
    const reply = replyOf(stack, unload.body);
    console.log(`unload during a job: ${JSON.stringify(reply)}`);
    expect(reply).toMatchObject({ status: 'unloaded', models_unloaded: 1, models_pending: 1 });
    // the worker beat after answering: the model shows as draining, held by the job
    expect(loadedOn(await catalog(stack), 'synthetic-tiny')).toMatchObject([{ in_use: 1, draining: true }]);
    const done = await waitFor('the job to finish', async () => {
      const { body: job } = await getJson(jobUrl);
      return ['completed', 'failed', 'cancelled'].includes(job.status) ? job : undefined;
    }, 240_000, 200);
    expect({ status: done.status, error: done.error }).toEqual({ status: 'completed', error: undefined });
    expect(done.result.segments.length).toBeGreaterThan(3);
    await waitFor('the model to be freed after the job', async () => (loadedOn(await catalog(stack), 'synthetic-tiny').length === 0 ? true : undefined), 10_000, 100);
    expect(stack.worker.output()).toMatch(/unloading whisper:ggml-synthetic-tiny\.bin:cpu \(removed\) once 1 job\(s\) using it let go/);
  }, 300_000);

  it('an official model that cannot be downloaded from here: the worker answers with model_unavailable', async () => {
    const { status, body } = await call(base, 'POST', '/models/tiny/load');
    expect(status).toBe(200);
    const reply = replyOf(stack, body);
    expect(reply).toMatchObject({ model: 'tiny', status: 'error', error: { code: 'model_unavailable' } });
    expect(reply.error.message.length).toBeGreaterThan(10);
    expect(loadedOn(await catalog(stack), 'tiny')).toEqual([]);
  });

  it('bad names: 400 with a clear body', async () => {
    const unknown = await call(base, 'POST', '/models/no-such-model/load');
    expect(unknown.status).toBe(400);
    expect(unknown.body.error).toMatchObject({ code: 'unknown_model', field: 'name' });
    expect(unknown.body.error.message).toMatch(/no-such-model/);
    const unknownDelete = await call(base, 'DELETE', '/models/no-such-model');
    expect(unknownDelete.status).toBe(400);
    expect(unknownDelete.body.error.code).toBe('unknown_model');
    const malformed = await call(base, 'POST', `/models/${encodeURIComponent('../ggml-synthetic-tiny')}/load`);
    expect(malformed.status).toBe(400);
    expect(malformed.body.error).toMatchObject({ code: 'validation_failed', field: 'name' });
  });
});

describe('MODEL_IDLE_UNLOAD_S=2', () => {
  let stack: ServiceStack;
  let base: string;
  const jfk = readPcm16Wav(readFileSync(JFK_WAV));

  beforeAll(async () => {
    stack = await startStack({ WHISPER_MODEL: 'synthetic-micro', MODEL_IDLE_UNLOAD_S: '2' });
    base = stack.base;
  });

  afterAll(async () => {
    await stack?.stop();
  });

  /** ms from now until the catalog no longer lists the model as loaded */
  async function msUntilUnloaded(name: string, timeoutMs = 15_000): Promise<number> {
    const started = Date.now();
    await waitFor(`${name} to be unloaded`, async () => (loadedOn(await catalog(stack), name).length === 0 ? true : undefined), timeoutMs, 100);
    return Date.now() - started;
  }

  it('a model no job uses is freed about 2 s after it was loaded, and the RSS drops', async () => {
    // the default model (synthetic-micro), loaded at boot, has gone idle too
    await msUntilUnloaded('synthetic-micro');
    expect(loadedOn(await catalog(stack), 'synthetic-tiny')).toEqual([]);
    const { body } = await call(base, 'POST', '/models/synthetic-tiny/load', {});
    const reply = replyOf(stack, body);
    expect(reply.status).toBe('loaded');
    const loadedAt = Date.now();
    const loaded = await catalog(stack);
    expect(loadedOn(loaded, 'synthetic-tiny')).toHaveLength(1);
    const elapsed = await msUntilUnloaded('synthetic-tiny');
    const idleFor = Date.now() - loadedAt;
    const freed = await catalog(stack);
    console.log(`idle unload: loaded → gone from the catalog after ${idleFor} ms; RSS ${loaded.workers[0].rss_mb} → ${freed.workers[0].rss_mb} MB`);
    expect(elapsed).toBeGreaterThan(1_000);
    expect(idleFor).toBeGreaterThanOrEqual(1_900);
    expect(idleFor).toBeLessThan(4_500);
    expect(loaded.workers[0].rss_mb! - freed.workers[0].rss_mb!).toBeGreaterThan(30);
    expect(stack.worker.output()).toMatch(/unused for 2 s \(MODEL_IDLE_UNLOAD_S\)/);
  });

  it('a model a running job holds is not freed, however long the job; it goes about 2 s after the job ends', async () => {
    const { status, body } = await postTranscribe(base, encodeWav(repeatSpeech(jfk, 100, 2)), { async: 'true', allowed_languages: 'en', vad: 'false', whisper_model: 'synthetic-tiny' });
    expect(status).toBe(202);
    const jobUrl = `${base}/jobs/${body.job_id}`;
    await waitFor('the job to transcribe', async () => ((await getJson(jobUrl)).body.stage === 'transcribe' ? true : undefined), 60_000, 50);
    // well past the idle time, the job still holds the model, and it is still loaded
    const transcribingSince = Date.now();
    await new Promise((resolve) => setTimeout(resolve, 6_000));
    expect((await getJson(jobUrl)).body.status).toBe('active');
    const during = await waitFor('a heartbeat showing the job holding the model', async () => {
      const held = loadedOn(await catalog(stack), 'synthetic-tiny');
      return held.length === 1 && held[0].in_use === 1 ? held : undefined;
    }, 6_000, 200);
    expect(during[0].draining).toBe(false);
    const done = await waitFor('the job to finish', async () => {
      const { body: job } = await getJson(jobUrl);
      return ['completed', 'failed', 'cancelled'].includes(job.status) ? job : undefined;
    }, 240_000, 100);
    expect({ status: done.status, error: done.error }).toEqual({ status: 'completed', error: undefined });
    const endedAt = Date.now();
    console.log(`job transcribed for ${endedAt - transcribingSince} ms past the first check with the model held`);
    expect(done.result.segments.length).toBeGreaterThan(5);
    const gone = await msUntilUnloaded('synthetic-tiny');
    console.log(`freed ${gone} ms after the job ended`);
    expect(gone).toBeLessThan(4_500);
  }, 300_000);
});
