/**
 * The worker's model caches through the real service: one cache per kind (MODEL_CACHE_SIZE counts
 * whisper models only), and leases, so that neither eviction nor /gc frees a model a running job
 * still needs. Whisper models: the generated synthetic-tiny (~75 MB, so freeing it shows in RSS) and
 * synthetic-micro; alignment: the designed tone model in MODEL_DIR/align/en; diarization: the
 * designed pair in MODEL_DIR/diarize; VAD: the real Silero model, which hears the jfk sample.
 */
import { readFileSync } from 'node:fs';
import Redis from 'ioredis';
import { RedisKeys } from '@app/contracts';
import { JFK_WAV } from '../support/samples';
import { getJson, postTranscribe, ServiceStack, startStack, TEST_REDIS_URL, waitFor } from '../support/service-harness';
import { makeConversationScript, synthesizeConversation } from '../support/synthetic-conversation';
import { encodeWav, readPcm16Wav, repeatSpeech } from '../support/wav';

const jfkWav = readFileSync(JFK_WAV);
const jfk = readPcm16Wav(jfkWav);

interface JobView {
  status: string;
  stage?: string;
  error?: unknown;
  result?: { timings_ms: Record<string, number>; diarization?: { status: string }; alignment?: { status: string }; segments: unknown[] };
}

async function job(base: string, id: string): Promise<JobView> {
  return (await getJson(`${base}/jobs/${id}`)).body as JobView;
}

/** Waits for the job to end; a failure shows its error in the assertion. */
async function finished(base: string, id: string, timeoutMs = 240_000): Promise<JobView> {
  const view = await waitFor(`job ${id} to finish`, async () => {
    const current = await job(base, id);
    return ['completed', 'failed', 'cancelled'].includes(current.status) ? current : undefined;
  }, timeoutMs, 100);
  expect({ status: view.status, error: view.error }).toEqual({ status: 'completed', error: undefined });
  return view;
}

async function submit(base: string, wav: Buffer, fields: Record<string, string>): Promise<string> {
  const { status, body } = await postTranscribe(base, wav, { async: 'true', allowed_languages: 'en', ...fields });
  expect(status).toBe(202);
  return body.job_id as string;
}

/** Waits until the job reports `stage` (polling fast: some stages last a second or two); fails if it ends first. */
async function reaches(base: string, id: string, stage: string, timeoutMs = 240_000): Promise<JobView> {
  const view = await waitFor(`job ${id} in stage ${stage}`, async () => {
    const current = await job(base, id);
    return current.stage === stage || ['completed', 'failed', 'cancelled'].includes(current.status) ? current : undefined;
  }, timeoutMs, 20);
  expect({ status: view.status, stage: view.stage, error: view.error }).toEqual({ status: 'active', stage, error: undefined });
  return view;
}

/** What this test reads of a heartbeat (WorkerHeartbeat in libs/contracts). */
interface Heartbeat {
  models: string[];
  busy?: boolean;
  loaded_models?: { label: string; kind: string; bytes: number; in_use: number; draining: boolean }[];
}

/**
 * This stack's worker's heartbeat as it wrote it to Redis (the full record, loaded_models included),
 * picked by pid: a heartbeat left by another spec's worker must not stand in for it.
 */
async function heartbeat(redis: Redis, stack: ServiceStack): Promise<Heartbeat> {
  const beats = Object.values(await redis.hgetall(RedisKeys.workerHeartbeats)).map((value) => JSON.parse(value) as Heartbeat & { pid: number });
  const mine = beats.find((beat) => beat?.pid === stack.worker.child.pid);
  if (!mine) throw new Error(`no heartbeat from worker pid ${stack.worker.child.pid} yet`);
  return mine;
}

const labels = (models: Heartbeat['loaded_models']) => (models ?? []).map((m) => m.label).sort();

describe('model caches and leases (default MODEL_CACHE_SIZE, WORKER_CONCURRENCY=2)', () => {
  let stack: ServiceStack;
  let base: string;
  let redis: Redis;

  beforeAll(async () => {
    stack = await startStack({ WHISPER_MODEL: 'synthetic-tiny', WORKER_CONCURRENCY: '2' });
    base = stack.base;
    redis = new Redis(TEST_REDIS_URL);
  });

  afterAll(async () => {
    await redis?.quit();
    await stack?.stop();
  });

  it('three diarize + align_words jobs (whisper, VAD, alignment, diarization): no model is loaded twice', async () => {
    const loadTimes: number[] = [];
    for (let n = 0; n < 3; n++) {
      const { status, body } = await postTranscribe(base, jfkWav, { diarize: 'true', align_words: 'true', allowed_languages: 'en' });
      expect(status).toBe(200);
      expect(body.alignment.status).toBe('ok');
      expect(body.diarization.status).toBe('ok');
      expect(body.timings_ms.vad).toBeGreaterThan(0);
      loadTimes.push(body.timings_ms.load_model);
    }
    console.log(`load_model on jobs 1/2/3: ${loadTimes.join(' / ')} ms`);
    expect(loadTimes[1]).toBeLessThan(20);
    expect(loadTimes[2]).toBeLessThan(20);
    // every model was loaded once (whisper at boot), none evicted
    const log = stack.worker.output();
    expect(log.match(/loaded ggml-synthetic-tiny\.bin/g)).toHaveLength(1);
    expect(log.match(/loaded Silero VAD/g)).toHaveLength(1);
    expect(log.match(/loaded alignment model/g)).toHaveLength(1);
    expect(log.match(/loaded diarization models/g)).toHaveLength(1);
    expect(log).not.toMatch(/unloading/);
    // a heartbeat written after the last job (0.1 s after it, or the 5-s one): idle, nothing in use any more
    // (the beat a job start writes is busy, and lists the models loaded by then)
    const beat = await waitFor('an idle heartbeat', async () => {
      const current = await heartbeat(redis, stack);
      return current.busy === false && current.loaded_models?.length && current.loaded_models.every((m) => m.in_use === 0) ? current : undefined;
    }, 10_000);
    expect(beat.models.sort()).toEqual(['align:en/synthetic-tone-ctc', 'diarize/synthetic-voice-embedding', 'synthetic-tiny/ggml', 'vad/silero']);
    // /health's labels, and the heartbeat's sizes (the model files)
    expect(labels(beat.loaded_models)).toEqual(beat.models.sort());
    const tiny = beat.loaded_models?.find((m) => m.label === 'synthetic-tiny/ggml');
    expect(tiny).toMatchObject({ kind: 'whisper', in_use: 0, draining: false });
    expect(tiny?.bytes).toBeGreaterThan(50_000_000);
    for (const model of beat.loaded_models ?? []) expect(model.bytes).toBeGreaterThan(0);
    expect(beat.loaded_models?.map((m) => m.kind).sort()).toEqual(['align', 'diarize', 'vad', 'whisper']);
  });

  it('/gc during a running diarization: the job completes, and its models are freed when it ends', async () => {
    const script = makeConversationScript({ speakers: 2, seconds: 90, seed: 21 });
    const conversation = encodeWav(synthesizeConversation({ speakers: 2, turns: script, seed: 21 }).pcm);
    const id = await submit(base, conversation, { diarize: 'true', align_words: 'true', vad: 'false' });
    await reaches(base, id, 'diarize');
    const gc = await getJson(`${base}/gc`, { method: 'POST' });
    expect(gc.status).toBe(200);
    const [reply] = gc.body.workers;
    console.log(`/gc during diarize: ${JSON.stringify(reply)}`);
    const draining = await waitFor('the draining models in the heartbeat', async () => {
      const beat = await heartbeat(redis, stack);
      return beat.models.length === 0 ? beat : undefined;
    }, 10_000);

    const done = await finished(base, id);
    expect(done.result?.diarization?.status).toBe('ok');
    expect(done.result?.alignment?.status).toBe('ok');
    // whisper, alignment and diarization were held by the job: marked at /gc, freed when it let go
    expect(reply.models_pending).toBe(3);
    expect(reply.models_unloaded).toBeGreaterThanOrEqual(3);
    expect(draining.loaded_models?.map((m) => [m.kind, m.draining, m.in_use]).sort()).toEqual([
      ['align', true, 1],
      ['diarize', true, 1],
      ['whisper', true, 1],
    ]);
    // freed after the job: nothing in memory any more, /health lists no model
    await waitFor('the models to be freed', async () => ((await heartbeat(redis, stack)).loaded_models?.length === 0 ? true : undefined), 10_000);
    const health = (await getJson(`${base}/health`)).body;
    expect(health.workers[0].models).toEqual([]);
    // and the memory is back: synthetic-tiny alone is ~75 MB of weights
    const after = (await getJson(`${base}/gc`, { method: 'POST' })).body.workers[0];
    expect(after).toMatchObject({ models_unloaded: 0, models_pending: 0 });
    console.log(`RSS at the /gc during the job ${reply.rss_mb_after} MB → after the job ${after.rss_mb_before} MB`);
    expect(reply.rss_mb_after - after.rss_mb_before).toBeGreaterThan(30);
    expect(stack.worker.output()).toMatch(/freed whisper:ggml-synthetic-tiny\.bin/);
  }, 300_000);

  it('a second job with align_words + diarize while a long job transcribes: both complete', async () => {
    // long speech through VAD: many whisper calls, so a model freed under the job would fail the next one
    const long = await submit(base, encodeWav(repeatSpeech(jfk, 150, 2)), { batch_size: '1' });
    await reaches(base, long, 'transcribe');
    const second = await submit(base, jfkWav, { align_words: 'true', diarize: 'true' });
    const secondDone = await finished(base, second);
    expect(secondDone.result?.diarization?.status).toBe('ok');
    // the first job was still transcribing when the second had loaded all its models
    expect((await job(base, long)).status).toBe('active');
    const longDone = await finished(base, long);
    expect(longDone.result?.segments.length).toBeGreaterThan(5);
  }, 300_000);
});

describe('MODEL_CACHE_SIZE=1 (WORKER_CONCURRENCY=2)', () => {
  let stack: ServiceStack;
  let base: string;
  let redis: Redis;

  beforeAll(async () => {
    stack = await startStack({ WHISPER_MODEL: 'synthetic-micro', MODEL_CACHE_SIZE: '1', WORKER_CONCURRENCY: '2' });
    base = stack.base;
    redis = new Redis(TEST_REDIS_URL);
  });

  afterAll(async () => {
    await redis?.quit();
    await stack?.stop();
  });

  it('jobs with VAD complete: the VAD does not count against the whisper cache', async () => {
    for (let n = 0; n < 2; n++) {
      const { status, body } = await postTranscribe(base, jfkWav, { allowed_languages: 'en' });
      expect({ status, error: body.error }).toEqual({ status: 200, error: undefined });
      expect(body.timings_ms.vad).toBeGreaterThan(0);
      expect(body.segments.length).toBeGreaterThan(0);
    }
    expect(stack.worker.output().match(/loaded ggml-synthetic-micro\.bin/g)).toHaveLength(1);
    // heartbeats come every 5 s
    const beat = await waitFor('both models in the heartbeat', async () => {
      const current = await heartbeat(redis, stack);
      return current.models.length === 2 ? current : undefined;
    }, 10_000);
    expect(beat.models.sort()).toEqual(['synthetic-micro/ggml', 'vad/silero']);
  });

  it('a whisper model evicted under a running job is freed only after that job, which completes', async () => {
    const long = await submit(base, encodeWav(repeatSpeech(jfk, 150, 2)), { batch_size: '1' });
    await reaches(base, long, 'transcribe');
    // another whisper model: the cache holds one, so synthetic-micro is evicted while the long job uses it
    const other = await submit(base, jfkWav, { whisper_model: 'synthetic-tiny' });
    await finished(base, other);
    const beat = await waitFor('synthetic-micro draining', async () => {
      const current = await heartbeat(redis, stack);
      return current.loaded_models?.some((m) => m.label === 'synthetic-micro/ggml' && m.draining) ? current : undefined;
    }, 10_000);
    expect(beat.models).toContain('synthetic-tiny/ggml');
    expect(beat.models).not.toContain('synthetic-micro/ggml');
    await finished(base, long);
    await waitFor('synthetic-micro freed', async () => {
      const current = await heartbeat(redis, stack);
      return current.loaded_models?.some((m) => m.label === 'synthetic-micro/ggml') ? undefined : current;
    }, 10_000);
    expect(stack.worker.output()).toMatch(/freed whisper:ggml-synthetic-micro\.bin/);
  }, 300_000);
});
