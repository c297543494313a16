/**
 * OpenAI-compatible routes end to end (issue 12, item 1) with the official `openai` npm client,
 * unchanged except baseURL and apiKey, against the real API and worker: every response_format,
 * timestamp_granularities, models.list, extras (diarize → diarized_json), prompt → initial_prompt,
 * and errors in OpenAI's shape (the SDK's own error classes). Generated models: the words are
 * gibberish, so structure, types and times are asserted, not words.
 */
import { readFileSync } from 'node:fs';
import { languageName } from '@app/contracts';
import OpenAI, { APIError, AuthenticationError, BadRequestError, PermissionDeniedError, toFile } from 'openai';
import { JFK_WAV } from '../support/samples';
import Redis from 'ioredis';
import { freePort, getJson, postTranscribe, prepareRedis, RunningProcess, startApi, startWorker, TEST_REDIS_URL, waitFor } from '../support/service-harness';
import { makeConversationScript, synthesizeConversation } from '../support/synthetic-conversation';
import { expectOrdered, parseCues } from '../support/subtitles';
import { encodeWav, readPcm16Wav, repeatSpeech } from '../support/wav';

const KEY = 'openai-compat-key-1';
const OTHER_KEY = 'openai-compat-key-2';

describe('OpenAI-compatible API with the official openai SDK', () => {
  let worker: RunningProcess;
  let api: RunningProcess;
  let client: OpenAI;
  let base: string;
  const jfk = readFileSync(JFK_WAV);
  const audio = () => toFile(jfk, 'jfk.wav');
  /** our own JSON for the same audio, for the text to compare with */
  let ours: any;

  beforeAll(async () => {
    await prepareRedis();
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    worker = startWorker({ WHISPER_MODEL: 'synthetic-micro' });
    api = startApi(port, { WHISPER_MODEL: 'synthetic-micro', API_KEYS: `${KEY},${OTHER_KEY}` });
    // with API_KEYS, /health lists workers to a key only
    await waitFor('a healthy worker', async () => {
      const response = await fetch(`${base}/health`, { headers: { authorization: `Bearer ${KEY}` } });
      const body = response.ok ? ((await response.json()) as { workers?: unknown[] }) : undefined;
      return body?.workers?.length ? true : undefined;
    }, 90_000);
    client = new OpenAI({ apiKey: KEY, baseURL: `${base}/v1`, maxRetries: 0, timeout: 120_000 });
    const response = await postTranscribe(base, jfk, {}, 'jfk.wav', { authorization: `Bearer ${KEY}` });
    expect(response.status).toBe(200);
    ours = response.body;
  });

  afterAll(async () => {
    await Promise.all([api?.stop(), worker?.stop()]);
  });

  it('json (the default): {text} equal to our JSON\'s text, none of our fields', async () => {
    const transcription = await client.audio.transcriptions.create({ file: await audio(), model: 'whisper-1' });
    expect(typeof transcription.text).toBe('string');
    expect(transcription.text.length).toBeGreaterThan(0);
    expect(transcription.text).toBe(ours.text);
    expect(transcription).not.toHaveProperty('segments');
    expect(transcription.usage).toEqual({ type: 'duration', seconds: Math.ceil(ours.duration) });
  });

  it('text: a string, the same text', async () => {
    const text = await client.audio.transcriptions.create({ file: await audio(), model: 'whisper-1', response_format: 'text' });
    expect(typeof text).toBe('string');
    expect(text.trim()).toBe(ours.text);
  });

  it('srt and vtt: strings that parse, cues ordered inside the audio', async () => {
    const srt = await client.audio.transcriptions.create({ file: await audio(), model: 'whisper-1', response_format: 'srt' });
    expect(typeof srt).toBe('string');
    expect(srt).toMatch(/^1\n\d{2}:\d{2}:\d{2},\d{3} --> \d{2}:\d{2}:\d{2},\d{3}\n/);
    const srtCues = parseCues(srt);
    expect(srtCues.length).toBeGreaterThan(0);
    expectOrdered(srtCues);
    expect(srtCues[srtCues.length - 1].end).toBeLessThanOrEqual(ours.duration + 1e-3);
    expect(srtCues.map((cue) => cue.lines.join(' ')).join(' ')).toBe(ours.text);

    const vtt = await client.audio.transcriptions.create({ file: await audio(), model: 'whisper-1', response_format: 'vtt' });
    expect(vtt.startsWith('WEBVTT\n\n')).toBe(true);
    const vttCues = parseCues(vtt);
    expect(vttCues.map(({ start, end }) => [start, end])).toEqual(srtCues.map(({ start, end }) => [start, end]));
  });

  it('verbose_json: segments always, words only with timestamp_granularities [word]', async () => {
    const plain = await client.audio.transcriptions.create({ file: await audio(), model: 'whisper-1', response_format: 'verbose_json' });
    expect(plain).toMatchObject({ task: 'transcribe', language: languageName(ours.language), duration: ours.duration, text: ours.text });
    expect(plain.segments?.length).toBe(ours.segments.length);
    for (const segment of plain.segments ?? []) {
      expect(segment).toEqual({
        id: expect.any(Number), seek: expect.any(Number), start: expect.any(Number), end: expect.any(Number), text: expect.any(String),
        tokens: [], temperature: 0, avg_logprob: expect.any(Number), compression_ratio: expect.any(Number), no_speech_prob: expect.any(Number),
      });
      expect(segment.end).toBeGreaterThanOrEqual(segment.start);
    }
    expect(plain.words).toBeUndefined();

    const withWords = await client.audio.transcriptions.create({
      file: await audio(),
      model: 'whisper-1',
      response_format: 'verbose_json',
      timestamp_granularities: ['word', 'segment'],
    });
    expect(withWords.segments?.length).toBe(ours.segments.length);
    expect(withWords.words?.length).toBeGreaterThan(0);
    for (const word of withWords.words ?? []) {
      expect(word).toEqual({ word: expect.any(String), start: expect.any(Number), end: expect.any(Number) });
      expect(word.end).toBeGreaterThanOrEqual(word.start);
    }
    const wordsOnly = await client.audio.transcriptions.create({ file: await audio(), model: 'whisper-1', response_format: 'verbose_json', timestamp_granularities: ['word'] });
    expect(wordsOnly.words).toEqual(withWords.words);
  });

  it('our model names are accepted as they are; language and prompt reach the job', async () => {
    const transcription = await client.audio.transcriptions.create({
      file: await audio(),
      model: 'synthetic-micro',
      language: 'en',
      prompt: 'President Kennedy, inaugural address.',
      temperature: 0,
    });
    expect(typeof transcription.text).toBe('string');
    const verbose = await client.audio.transcriptions.create({ file: await audio(), model: 'synthetic-micro', language: 'de', response_format: 'verbose_json' });
    // one code = forced: the language is the one asked for, whatever the audio
    expect(verbose.language).toBe('german');
  });

  it('models.list: whisper-1 first, the official models and the worker\'s own', async () => {
    const ids: string[] = [];
    for await (const model of client.models.list()) {
      expect(model).toEqual({ id: expect.any(String), object: 'model', created: expect.any(Number), owned_by: expect.any(String) });
      ids.push(model.id);
    }
    expect(ids[0]).toBe('whisper-1');
    expect(ids).toEqual(expect.arrayContaining(['tiny', 'large-v3-turbo', 'synthetic-micro', 'synthetic-tiny']));
    expect((await client.models.retrieve('synthetic-micro')).id).toBe('synthetic-micro');
  });

  it('a wrong key: the SDK throws AuthenticationError/PermissionDeniedError with our code in OpenAI\'s error shape', async () => {
    const wrong = new OpenAI({ apiKey: 'not-a-key', baseURL: `${base}/v1`, maxRetries: 0 });
    const error = await wrong.audio.transcriptions.create({ file: await audio(), model: 'whisper-1' }).then(() => undefined, (e: unknown) => e);
    expect(error instanceof AuthenticationError || error instanceof PermissionDeniedError).toBe(true);
    const apiError = error as PermissionDeniedError;
    expect([401, 403]).toContain(apiError.status);
    expect(apiError.error).toEqual({ message: expect.any(String), type: expect.stringMatching(/^(authentication|permission)_error$/), param: null, code: expect.stringMatching(/^(unauthorized|forbidden)$/) });

    const none = await fetch(`${base}/v1/models`);
    expect(none.status).toBe(401);
    expect(await none.json()).toEqual({ error: { message: expect.any(String), type: 'authentication_error', param: null, code: 'unauthorized' } });
  });

  it('bad input: BadRequestError / 415 with our code and the field as param', async () => {
    const notAudio = await client.audio.transcriptions
      .create({ file: await toFile(Buffer.from('this is plain text, not audio at all\n'.repeat(50)), 'notes.txt'), model: 'whisper-1' })
      .then(() => undefined, (e: unknown) => e as APIError);
    expect(notAudio).toBeInstanceOf(APIError);
    expect(notAudio?.status).toBe(415);
    expect(notAudio?.error).toMatchObject({ type: 'invalid_request_error', code: 'unsupported_media' });

    const badTemperature = await client.audio.transcriptions.create({ file: await audio(), model: 'whisper-1', temperature: 3 }).then(() => undefined, (e: unknown) => e);
    expect(badTemperature).toBeInstanceOf(BadRequestError);
    expect((badTemperature as BadRequestError).error).toMatchObject({ type: 'invalid_request_error', param: 'temperature', code: 'validation_failed' });

    const badModel = await client.audio.transcriptions.create({ file: await audio(), model: 'no-such-model' }).then(() => undefined, (e: unknown) => e);
    expect(badModel).toBeInstanceOf(BadRequestError);
    expect((badModel as BadRequestError).error).toMatchObject({ param: 'model', code: 'unknown_model' });

    const englishOnly = await client.audio.transcriptions.create({ file: await audio(), model: 'tiny.en', language: 'de' }).then(() => undefined, (e: unknown) => e);
    expect((englishOnly as BadRequestError).error).toMatchObject({ param: 'language', code: 'unsupported_language' });

    // a stream carries text only: no subtitles or timestamps (400 before any job is queued)
    const streamingSrt = await client.audio.transcriptions.create({ file: await audio(), model: 'whisper-1', stream: true, response_format: 'srt' as 'json' }).then(() => undefined, (e: unknown) => e);
    expect(streamingSrt).toBeInstanceOf(BadRequestError);
    expect((streamingSrt as BadRequestError).error).toMatchObject({ type: 'invalid_request_error', param: 'response_format', code: 'validation_failed' });
    expect((streamingSrt as BadRequestError).error).toMatchObject({ message: expect.stringMatching(/stream=true streams text only/) });
  });

  describe('stream=true (Server-Sent Events)', () => {
    /** ~100 s of speech: several VAD chunks, decoded one at a time (batch_size=1) so each is a step of its own */
    let long: Buffer;
    const streamExtras = { batch_size: '1' } as object;
    let redis: Redis;

    beforeAll(() => {
      long = encodeWav(repeatSpeech(readPcm16Wav(jfk), 100, 3));
      redis = new Redis(TEST_REDIS_URL);
    });
    afterAll(async () => {
      await redis?.quit();
    });

    it('transcript.text.delta events while the job decodes, then transcript.text.done; deltas == done.text == the non-stream text', async () => {
      const whole = await client.audio.transcriptions.create({ file: await toFile(long, 'long.wav'), model: 'whisper-1', ...streamExtras });
      const { data: stream, response } = await client.audio.transcriptions
        .create({ file: await toFile(long, 'long.wav'), model: 'whisper-1', stream: true, ...streamExtras })
        .withResponse();
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
      const jobId = response.headers.get('x-job-id');
      expect(jobId).toEqual(expect.any(String));

      const deltas: { text: string; at: number }[] = [];
      let done: OpenAI.Audio.TranscriptionTextDoneEvent | undefined;
      for await (const event of stream) {
        expect(done).toBeUndefined();
        if (event.type === 'transcript.text.delta') deltas.push({ text: event.delta, at: Date.now() });
        else if (event.type === 'transcript.text.done') done = event;
        else throw new Error(`unexpected event ${JSON.stringify(event)}`);
      }
      expect(deltas.length).toBeGreaterThanOrEqual(2);
      expect(done?.text.length).toBeGreaterThan(0);
      expect(done?.text).toBe(deltas.map((delta) => delta.text).join(''));
      expect(done?.text).toBe(whole.text);

      // real streaming: the first delta reached us before the job had finished (BullMQ's finishedOn, same
      // clock). The worker sends `completed` just before BullMQ records the end: finishedOn may lag done a little.
      const finishedOn = await waitFor('the job\'s finishedOn', async () => Number(await redis.hget(`bull:transcribe:${jobId}`, 'finishedOn')) || undefined, 10_000);
      expect(deltas[0].at).toBeLessThan(finishedOn);
      const view = await getJson(`${base}/jobs/${jobId}`, { headers: { authorization: `Bearer ${KEY}` } });
      expect(view.body).toMatchObject({ status: 'completed' });
      expect(view.body.result.segments.length).toBeGreaterThanOrEqual(deltas.length);
    });

    it('response_format=text streams the same events', async () => {
      const stream = await client.audio.transcriptions.create({ file: await audio(), model: 'whisper-1', stream: true, response_format: 'text' });
      const events: OpenAI.Audio.TranscriptionStreamEvent[] = [];
      for await (const event of stream) events.push(event);
      const last = events[events.length - 1];
      expect(last).toEqual({ type: 'transcript.text.done', text: ours.text });
      expect(events.slice(0, -1).map((event) => (event as OpenAI.Audio.TranscriptionTextDeltaEvent).delta).join('')).toBe(ours.text);
    });

    it('a job cancelled mid-stream: an error event in OpenAI\'s shape, which the SDK throws as an APIError', async () => {
      const { data: stream, response } = await client.audio.transcriptions
        .create({ file: await toFile(encodeWav(repeatSpeech(readPcm16Wav(jfk), 200, 3)), 'longer.wav'), model: 'whisper-1', stream: true, ...streamExtras })
        .withResponse();
      const jobId = response.headers.get('x-job-id');
      let cancelStatus: number | undefined;
      const thrown = await (async () => {
        try {
          for await (const event of stream) {
            // once, at the first delta: deltas already on their way may still arrive after it
            if (event.type !== 'transcript.text.delta' || cancelStatus !== undefined) continue;
            cancelStatus = (await fetch(`${base}/jobs/${jobId}`, { method: 'DELETE', headers: { authorization: `Bearer ${KEY}` } })).status;
          }
        } catch (error) {
          return error;
        }
        return undefined;
      })();
      expect(cancelStatus).toBe(200);
      expect(thrown).toBeInstanceOf(APIError);
      expect((thrown as APIError).error).toEqual({ message: expect.any(String), type: 'invalid_request_error', param: null, code: 'job_cancelled' });
    });

    it('a job cancelled while still queued (its worker never runs it): the stream ends with job_cancelled from the job\'s status', async () => {
      // one worker, one job at a time: the first stream's job keeps it busy while the second waits
      const busy = await client.audio.transcriptions
        .create({ file: await toFile(encodeWav(repeatSpeech(readPcm16Wav(jfk), 200, 3)), 'busy.wav'), model: 'whisper-1', stream: true, ...streamExtras })
        .withResponse();
      const { data: waiting, response } = await client.audio.transcriptions
        .create({ file: await audio(), model: 'whisper-1', stream: true })
        .withResponse();
      const jobId = response.headers.get('x-job-id');
      const { body: queued } = await getJson(`${base}/jobs/${jobId}`, { headers: { authorization: `Bearer ${KEY}` } });
      expect(queued.status).toBe('queued');
      expect((await fetch(`${base}/jobs/${jobId}`, { method: 'DELETE', headers: { authorization: `Bearer ${KEY}` } })).status).toBe(200);
      const events: unknown[] = [];
      const thrown = await (async () => {
        for await (const event of waiting) events.push(event);
      })().then(() => undefined, (error: unknown) => error);
      expect(events).toEqual([]);
      expect(thrown).toBeInstanceOf(APIError);
      expect((thrown as APIError).error).toMatchObject({ type: 'invalid_request_error', code: 'job_cancelled' });
      busy.data.controller.abort();
      await fetch(`${base}/jobs/${busy.response.headers.get('x-job-id')}`, { method: 'DELETE', headers: { authorization: `Bearer ${KEY}` } });
    });

    it('a client that stops reading does not cancel the job: its transcript is at GET /jobs/{X-Job-Id}/result', async () => {
      const { data: stream, response } = await client.audio.transcriptions
        .create({ file: await toFile(long, 'long.wav'), model: 'whisper-1', stream: true, ...streamExtras })
        .withResponse();
      const jobId = response.headers.get('x-job-id');
      for await (const event of stream) {
        expect(event.type).toBe('transcript.text.delta');
        break; // the SDK aborts the request
      }
      const view = await waitFor('the job to complete after the client left', async () => {
        const { body } = await getJson(`${base}/jobs/${jobId}`, { headers: { authorization: `Bearer ${KEY}` } });
        return body.status === 'completed' || body.status === 'failed' || body.status === 'cancelled' ? body : undefined;
      }, 120_000);
      expect(view.status).toBe('completed');
    });
  });

  it('temperature and our decoding extras reach whisper.cpp (the job\'s decoding report, read back from whisper_full_params)', async () => {
    const auth = { headers: { authorization: `Bearer ${KEY}` } };
    const { response } = await client.audio.transcriptions
      .create({ file: await audio(), model: 'whisper-1', temperature: 0.4, ...({ beam_size: '2', no_speech_threshold: '0.5' } as object) })
      .withResponse();
    const { body: job } = await getJson(`${base}/jobs/${response.headers.get('x-job-id')}`, auth);
    expect(job.result.decoding).toMatchObject({ task: 'transcribe', temperature: [0.4], beam_size: 2, no_speech_threshold: 0.5 });
    expect(job.result.decoding.whisper_params).toMatchObject({ translate: false, temperature: 0.4, no_speech_thold: 0.5 });

    // 0, OpenAI's "automatic" temperature: the fallback ladder
    const { response: automatic } = await client.audio.transcriptions.create({ file: await audio(), model: 'whisper-1', temperature: 0 }).withResponse();
    const { body: ladder } = await getJson(`${base}/jobs/${automatic.headers.get('x-job-id')}`, auth);
    expect(ladder.result.decoding.temperature).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1]);
  });

  describe('translations (to English)', () => {
    it('json, text, verbose_json and srt parse in the SDK; the job ran whisper with task=translate', async () => {
      const { data: json, response } = await client.audio.translations.create({ file: await audio(), model: 'whisper-1' }).withResponse();
      expect(typeof json.text).toBe('string');
      expect(json.text.length).toBeGreaterThan(0);
      const jobId = response.headers.get('x-job-id');
      const { body: job } = await getJson(`${base}/jobs/${jobId}`, { headers: { authorization: `Bearer ${KEY}` } });
      expect(job.status).toBe('completed');
      // what whisper.cpp itself was given (read back from its whisper_full_params)
      expect(job.result.decoding).toMatchObject({ task: 'translate', whisper_params: { translate: true } });

      // the SDK's translation types are not overloaded by format as the transcription ones are
      const text = (await client.audio.translations.create({ file: await audio(), model: 'whisper-1', response_format: 'text' })) as unknown as string;
      expect(typeof text).toBe('string');
      expect(text.trim()).toBe(json.text);

      const verbose = (await client.audio.translations.create({ file: await audio(), model: 'whisper-1', response_format: 'verbose_json' })) as OpenAI.Audio.TranslationVerbose;
      expect(verbose).toMatchObject({ task: 'translate', text: json.text, duration: expect.any(Number), language: expect.any(String) });
      expect(verbose.segments?.length).toBeGreaterThan(0);

      const srt = (await client.audio.translations.create({ file: await audio(), model: 'whisper-1', response_format: 'srt' })) as unknown as string;
      const cues = parseCues(srt);
      expect(cues.length).toBeGreaterThan(0);
      expectOrdered(cues);
      expect(cues.map((cue) => cue.lines.join(' ')).join(' ')).toBe(json.text);
    });

    it('400s: language is not a translation field; an English-only model cannot translate', async () => {
      const withLanguage = await client.audio.translations
        .create({ file: await audio(), model: 'whisper-1', ...({ language: 'de' } as object) })
        .then(() => undefined, (e: unknown) => e);
      expect(withLanguage).toBeInstanceOf(BadRequestError);
      expect((withLanguage as BadRequestError).error).toMatchObject({ type: 'invalid_request_error', param: 'language', code: 'validation_failed' });

      const englishOnly = await client.audio.translations.create({ file: await audio(), model: 'tiny.en' }).then(() => undefined, (e: unknown) => e);
      expect(englishOnly).toBeInstanceOf(BadRequestError);
      expect((englishOnly as BadRequestError).error).toMatchObject({ param: 'model', code: 'validation_failed' });
      expect((englishOnly as BadRequestError).error).toMatchObject({ message: expect.stringMatching(/multilingual model/) });
    });
  });

  it('a request that is not multipart: 415 in OpenAI\'s shape too', async () => {
    const response = await fetch(`${base}/v1/audio/transcriptions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'whisper-1' }),
    });
    expect(response.status).toBe(415);
    expect(await response.json()).toEqual({ error: { message: expect.any(String), type: 'invalid_request_error', param: null, code: 'unsupported_media_type' } });
  });

  it('our extras pass through: diarize with response_format=diarized_json gives OpenAI\'s diarized shape', async () => {
    const script = makeConversationScript({ speakers: 2, seconds: 30, seed: 21 });
    const wav = encodeWav(synthesizeConversation({ speakers: 2, turns: script, seed: 21 }).pcm);
    const extras = { diarize: 'true', min_speakers: '2', max_speakers: '2', vad: 'false' };
    const diarized = (await client.audio.transcriptions.create({
      file: await toFile(wav, 'meeting.wav'),
      model: 'whisper-1',
      language: 'en',
      response_format: 'diarized_json',
      ...(extras as object),
    })) as unknown as OpenAI.Audio.TranscriptionDiarized;
    expect(diarized).toMatchObject({ task: 'transcribe', duration: expect.any(Number), text: expect.any(String) });
    expect(diarized.segments.length).toBeGreaterThan(0);
    for (const segment of diarized.segments) {
      expect(segment).toEqual({ type: 'transcript.text.segment', id: expect.any(String), start: expect.any(Number), end: expect.any(Number), speaker: expect.stringMatching(/^SPEAKER_0[01]$/), text: expect.any(String) });
    }
    expect(new Set(diarized.segments.map((segment) => segment.speaker)).size).toBe(2);
    expect(diarized.text).toBe(diarized.segments.map((segment) => segment.text).filter(Boolean).join(' '));
  });
});
