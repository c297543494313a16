/**
 * The real thing: API and worker processes from dist/, the real Redis, the real whisper.cpp addon
 * and generated random-weight models (their text is gibberish; times, languages and plumbing are not).
 */
import { readFileSync } from 'node:fs';
import { JFK_MP3, JFK_WAV } from '../support/samples';
import {
  freePort,
  getJson,
  postTranscribe,
  prepareRedis,
  RunningProcess,
  startApi,
  startWorker,
  waitFor,
  waitForHealthy,
} from '../support/service-harness';
import { encodeWav, readPcm16Wav, repeatSpeech } from '../support/wav';

const ADMIN_TOKEN = 'test-admin-token';

describe('transcription service end to end', () => {
  let api: RunningProcess;
  let worker: RunningProcess;
  let base: string;
  const jfkWav = readFileSync(JFK_WAV);
  const jfkMp3 = readFileSync(JFK_MP3);

  beforeAll(async () => {
    await prepareRedis();
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    worker = startWorker({ WHISPER_MODEL: 'synthetic-micro', MAX_AUDIO_SECONDS: '600' });
    api = startApi(port, { MAX_UPLOAD_MB: '10', ADMIN_TOKEN, WHISPER_MODEL: 'synthetic-micro' });
    await waitForHealthy(base, 1);
  });

  afterAll(async () => {
    await Promise.all([api?.stop(), worker?.stop()]);
  });

  afterEach(() => {
    // no test may bring a process down
    expect(api.child.exitCode).toBeNull();
    expect(worker.child.exitCode).toBeNull();
  });

  it('transcribes jfk.wav synchronously with synthetic-tiny', async () => {
    const { status, body } = await postTranscribe(base, jfkWav, { whisper_model: 'synthetic-tiny' }, 'jfk.wav');
    expect(status).toBe(200);
    expect(body.duration).toBeCloseTo(11.0, 1);
    expect(body.model).toBe('synthetic-tiny');
    expect(typeof body.language).toBe('string');
    expect(body.language_probability).toBeGreaterThan(0);
    expect(Array.isArray(body.segments)).toBe(true);
    for (const segment of body.segments) {
      expect(segment.start).toBeGreaterThanOrEqual(0);
      expect(segment.end).toBeLessThanOrEqual(11.1);
      expect(segment.end).toBeGreaterThanOrEqual(segment.start);
    }
    expect(body.word_segments.length).toBe(body.segments.reduce((n: number, s: { words: unknown[] }) => n + s.words.length, 0));
    expect(body.timings_ms.transcribe).toBeGreaterThan(0);
  });

  it('decodes mp3 uploads through ffmpeg', async () => {
    const { status, body } = await postTranscribe(base, jfkMp3, { allowed_languages: 'en' }, 'jfk.mp3');
    expect(status).toBe(200);
    expect(body.duration).toBeGreaterThan(10.9);
    expect(body.language).toBe('en');
    expect(body.language_probability).toBe(1);
  });

  it('restricts language detection to allowed_languages', async () => {
    const { status, body } = await postTranscribe(base, jfkWav, { allowed_languages: 'de,fr, it' });
    expect(status).toBe(200);
    expect(['de', 'fr', 'it']).toContain(body.language);
  });

  it('English-only models accept only en', async () => {
    const ok = await postTranscribe(base, jfkWav, { whisper_model: 'synthetic-micro-en' });
    expect(ok.status).toBe(200);
    expect(ok.body.language).toBe('en');
    const bad = await postTranscribe(base, jfkWav, { whisper_model: 'synthetic-micro-en', allowed_languages: 'de' });
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe('unsupported_language');
  });

  it('accepts async jobs and reports them through GET /jobs/:id', async () => {
    const accepted = await postTranscribe(base, jfkWav, { async: 'true' });
    expect(accepted.status).toBe(202);
    expect(accepted.body).toMatchObject({ status: 'queued', status_url: `/jobs/${accepted.body.job_id}` });
    const done = await waitFor('job completion', async () => {
      const { body } = await getJson(`${base}/jobs/${accepted.body.job_id}`);
      return body.status === 'completed' || body.status === 'failed' ? body : undefined;
    });
    expect(done.status).toBe('completed');
    expect(done.progress).toBe(100);
    expect(done.result.job_id).toBe(accepted.body.job_id);
    expect(done.result.duration).toBeCloseTo(11.0, 1);
  });

  it('"false" in multipart means false', async () => {
    const { status } = await postTranscribe(base, jfkWav, { async: 'false', diarize: 'false', align_words: '0' });
    expect(status).toBe(200);
  });

  it('lists the worker and its cached models in /health', async () => {
    const { status, body } = await getJson(`${base}/health`);
    expect(status).toBe(200);
    expect(body.redis).toBe('up');
    expect(body.workers).toHaveLength(1);
    expect(body.workers[0].models).toEqual(expect.arrayContaining(['synthetic-micro/ggml']));
    expect(body.workers[0].device).toBe('cpu');
    // each loaded model with its size: the generated micro model is ~8 MB on disk
    const micro = body.workers[0].loaded_models.find((m: { label: string }) => m.label === 'synthetic-micro/ggml');
    expect(micro).toMatchObject({ kind: 'whisper', draining: false });
    expect(micro.bytes).toBeGreaterThan(1_000_000);
    expect(body.workers[0].rss_mb).toBeGreaterThan(micro.bytes / 1e6);
    expect((await getJson(`${base}/health/live`)).body).toEqual({ status: 'ok' });
  });

  it('POST /gc needs the admin token, then unloads every model and frees memory', async () => {
    await postTranscribe(base, jfkWav, { whisper_model: 'synthetic-tiny' });
    expect((await getJson(`${base}/gc`, { method: 'POST' })).status).toBe(401);
    expect((await getJson(`${base}/gc`, { method: 'POST', headers: { authorization: 'Bearer wrong' } })).status).toBe(403);
    const { status, body } = await getJson(`${base}/gc`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    expect(status).toBe(200);
    expect(body.workers).toHaveLength(1);
    const reply = body.workers[0];
    expect(reply.models_unloaded).toBeGreaterThanOrEqual(2);
    // synthetic-tiny alone is ~75 MB of weights
    expect(reply.rss_mb_before - reply.rss_mb_after).toBeGreaterThan(30);
    const health = await waitFor('empty model list', async () => {
      const { body: h } = await getJson(`${base}/health`);
      return h.workers[0].models.length === 0 ? h : undefined;
    }, 10_000);
    expect(health.workers[0].models).toEqual([]);
  });

  describe('bad input gets a 4xx with a code, and nothing breaks', () => {
    const truncatedMp3 = jfkMp3.subarray(0, Math.floor(jfkMp3.length / 2));
    it.each([
      ['no file', undefined, {}, 400, 'missing_file', 'file'],
      ['an empty file', Buffer.alloc(0), {}, 400, 'empty_file', 'file'],
      ['a text file', Buffer.from('hello, I am not audio\n'.repeat(50)), {}, 415, 'unsupported_media', 'file'],
      ['a truncated mp3', truncatedMp3, {}, 422, 'invalid_audio', 'file'],
      ['an unknown whisper_model', jfkWav, { whisper_model: 'no-such-model' }, 400, 'unknown_model', 'whisper_model'],
      ['min_speakers > max_speakers', jfkWav, { min_speakers: '3', max_speakers: '2' }, 400, 'validation_failed', 'min_speakers'],
      ['allowed_languages=xx', jfkWav, { allowed_languages: 'xx' }, 400, 'validation_failed', 'allowed_languages'],
      ['diarize=maybe', jfkWav, { diarize: 'maybe' }, 400, 'validation_failed', 'diarize'],
      ['batch_size=0', jfkWav, { batch_size: '0' }, 400, 'validation_failed', 'batch_size'],
      ['an unknown field', jfkWav, { colour: 'blue' }, 400, 'validation_failed', 'colour'],
      ['an upload over MAX_UPLOAD_MB', Buffer.alloc(11 * 1024 * 1024, 1), {}, 413, 'upload_too_large', 'file'],
      ['align_words=yes', jfkWav, { align_words: 'yes' }, 400, 'validation_failed', 'align_words'],
    ])('%s', async (_name, file, fields, status, code, field) => {
      const response = await postTranscribe(base, file as Buffer | undefined, fields as Record<string, string>);
      expect(response.status).toBe(status);
      expect(response.body.error).toMatchObject({ code, field });
      expect(typeof response.body.error.message).toBe('string');
    });

    it('an unknown job id is a 404', async () => {
      const { status, body } = await getJson(`${base}/jobs/does-not-exist`);
      expect(status).toBe(404);
      expect(body.error.code).toBe('job_not_found');
      expect((await getJson(`${base}/jobs/does-not-exist`, { method: 'DELETE' })).status).toBe(404);
    });

    it('after all that, a normal request still works', async () => {
      const { status, body } = await postTranscribe(base, jfkWav, {});
      expect(status).toBe(200);
      expect(body.duration).toBeCloseTo(11.0, 1);
    });
  });

  it('cancels a waiting job (removed; its sync request answers 409 at once) and an active one (aborted in whisper.cpp)', async () => {
    const long = encodeWav(repeatSpeech(readPcm16Wav(jfkWav), 240));
    const first = await postTranscribe(base, long, { async: 'true', whisper_model: 'synthetic-tiny' });
    expect(first.status).toBe(202);
    await waitFor('first job active', async () => {
      const { body } = await getJson(`${base}/jobs/${first.body.job_id}`);
      return body.status === 'active' && body.stage === 'transcribe' ? body : undefined;
    });
    // a sync request whose job waits behind the first: its id from the job list
    const secondAnswer = postTranscribe(base, jfkWav, {});
    const secondId = await waitFor('second job queued', async () => {
      const { body } = await getJson(`${base}/jobs`);
      return (body.jobs as { job_id: string; status: string }[]).find((job) => job.status === 'queued' && job.job_id !== first.body.job_id)?.job_id;
    });
    const cancelWaiting = await getJson(`${base}/jobs/${secondId}`, { method: 'DELETE' });
    expect(cancelWaiting.status).toBe(200);
    expect(cancelWaiting.body.status).toBe('cancelled');
    const cancelledAt = Date.now();
    const second = await secondAnswer;
    expect(second.status).toBe(409);
    expect(second.body.error.code).toBe('job_cancelled');
    // from the cancel broadcast, not a re-read or SYNC_TIMEOUT_S
    expect(Date.now() - cancelledAt).toBeLessThan(1_500);
    expect((await getJson(`${base}/jobs/${secondId}`)).body.status).toBe('cancelled');

    const started = Date.now();
    const cancelActive = await getJson(`${base}/jobs/${first.body.job_id}`, { method: 'DELETE' });
    expect(cancelActive.status).toBe(200);
    const final = await waitFor('active job to stop', async () => {
      const { body } = await getJson(`${base}/jobs/${first.body.job_id}`);
      return body.status === 'cancelled' || body.status === 'completed' || body.status === 'failed' ? body : undefined;
    }, 30_000);
    if (final.status !== 'cancelled') console.log(`worker log tail:\n${worker.output().slice(-4000)}`);
    expect(final).toMatchObject({ status: 'cancelled', error: { code: 'job_cancelled' } });
    expect(Date.now() - started).toBeLessThan(15_000);
    expect((await getJson(`${base}/jobs/${first.body.job_id}`, { method: 'DELETE' })).status).toBe(409);
    // the worker is free again
    const after = await postTranscribe(base, jfkWav, {});
    expect(after.body.error).toBeUndefined();
    expect(after.status).toBe(200);
  });
});
