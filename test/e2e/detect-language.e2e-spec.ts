/**
 * POST /detect-language end to end (issue 12, item 6): a real worker runs decode → Silero VAD →
 * whisper.cpp's language detection on the first speech, nothing else. The generated model's
 * weights are random, so the languages it ranks are arbitrary; what is checked is the contract
 * (ranking, top, names), that detection reads the first speech rather than leading silence, and
 * the 4xx answers.
 */
import { readFileSync } from 'node:fs';
import { languageName } from '@app/contracts';
import { JFK_WAV } from '../support/samples';
import { getJson, ServiceStack, startStack } from '../support/service-harness';
import { encodeWav, readPcm16Wav } from '../support/wav';

const SAMPLE_RATE = 16_000;

async function detect(base: string, file: Buffer | undefined, fields: Record<string, string> = {}) {
  const form = new FormData();
  if (file) form.append('file', new Blob([file]), 'speech.wav');
  for (const [name, value] of Object.entries(fields)) form.append(name, value);
  return getJson(`${base}/detect-language`, { method: 'POST', body: form });
}

/** `seconds` of silence, then the samples. */
function afterSilence(samples: Float32Array, seconds: number): Buffer {
  const out = new Float32Array(Math.round(seconds * SAMPLE_RATE) + samples.length);
  out.set(samples, out.length - samples.length);
  return encodeWav(out);
}

describe('POST /detect-language end to end', () => {
  let stack: ServiceStack;
  let base: string;
  const jfk = readFileSync(JFK_WAV);
  const jfkPcm = readPcm16Wav(jfk);

  beforeAll(async () => {
    stack = await startStack({ WHISPER_MODEL: 'synthetic-micro' });
    base = stack.base;
  });

  afterAll(async () => {
    await stack?.stop();
  });

  it('answers the most probable language and the `top` ranking, with whisper\'s names', async () => {
    const { status, body } = await detect(base, jfk, { top: '3' });
    expect(status).toBe(200);
    expect(body).toEqual({
      language: expect.stringMatching(/^[a-z]{2,3}$/),
      language_name: expect.any(String),
      probability: expect.any(Number),
      languages: expect.anything(),
      speech_start: expect.any(Number),
      duration: 11,
      model: 'synthetic-micro',
      job_id: expect.any(String),
    });
    expect(body.languages).toHaveLength(3);
    expect(body.languages[0]).toEqual({ language: body.language, name: body.language_name, probability: body.probability });
    expect(body.language_name).toBe(languageName(body.language));
    for (let i = 1; i < body.languages.length; i++) expect(body.languages[i].probability).toBeLessThanOrEqual(body.languages[i - 1].probability);
    expect(body.probability).toBeGreaterThan(0);
    expect(body.probability).toBeLessThanOrEqual(1);

    const all = await detect(base, jfk, { top: '100' });
    const total = all.body.languages.reduce((sum: number, entry: { probability: number }) => sum + entry.probability, 0);
    // a softmax over whisper's language tokens, rounded to 3 decimals per entry
    expect(total).toBeGreaterThan(0.9);
    expect(total).toBeLessThan(1.05);
    // the same audio, the same answer: detection is deterministic
    expect(all.body.languages.slice(0, 3)).toEqual(body.languages);
  });

  it('reads the first speech, not leading silence: 8 s of silence moves speech_start, not the answer', async () => {
    const direct = await detect(base, jfk, { top: '5' });
    const delayed = await detect(base, afterSilence(jfkPcm, 8), { top: '5' });
    expect(delayed.status).toBe(200);
    expect(delayed.body.duration).toBeCloseTo(19, 1);
    expect(delayed.body.speech_start - direct.body.speech_start).toBeGreaterThan(7.8);
    expect(delayed.body.speech_start - direct.body.speech_start).toBeLessThan(8.2);
    // the same 30 s window of audio reaches whisper (to within a VAD frame): the same ranking
    expect(delayed.body.language).toBe(direct.body.language);
    expect(Math.abs(delayed.body.probability - direct.body.probability)).toBeLessThan(0.05);

    // without VAD whisper reads from 0 s. (The random-weights model ranks languages almost
    // uniformly, so the ranking itself cannot show which window it read.)
    const whole = await detect(base, afterSilence(jfkPcm, 8), { top: '5', vad: 'false' });
    expect(whole.status).toBe(200);
    expect(whole.body.speech_start).toBe(0);
  });

  it('a file without speech: 200 with language null and no ranking', async () => {
    const { status, body } = await detect(base, encodeWav(new Float32Array(5 * SAMPLE_RATE)));
    expect(status).toBe(200);
    expect(body).toMatchObject({ language: null, language_name: null, probability: 0, languages: [], speech_start: null, duration: 5, model: 'synthetic-micro' });
  });

  it('bad input: 400s naming the field, English-only models refused, the job is not a transcription job', async () => {
    const cases: [Buffer | undefined, Record<string, string>, string, string][] = [
      [jfk, { top: '0' }, 'top', 'validation_failed'],
      [jfk, { top: 'many' }, 'top', 'validation_failed'],
      [jfk, { vad: 'maybe' }, 'vad', 'validation_failed'],
      [jfk, { language: 'en' }, 'language', 'validation_failed'],
      [jfk, { whisper_model: 'tiny.en' }, 'whisper_model', 'validation_failed'],
      [jfk, { whisper_model: 'no-such-model' }, 'whisper_model', 'unknown_model'],
      [undefined, {}, 'file', 'missing_file'],
    ];
    for (const [file, fields, field, code] of cases) {
      const { status, body } = await detect(base, file, fields);
      expect({ fields, status, code: body.error.code, field: body.error.field }).toEqual({ fields, status: 400, code, field });
      expect(body.error.message).toEqual(expect.any(String));
    }
    // a custom English-only model is known only once loaded: the worker says so
    const english = await detect(base, jfk, { whisper_model: 'synthetic-micro-en' });
    expect(english.status).toBe(400);
    expect(english.body.error).toMatchObject({ code: 'validation_failed', field: 'whisper_model', message: expect.stringContaining('English-only') });

    // the detection job answered already: it has no status or transcript under /jobs
    const done = await detect(base, jfk);
    expect((await getJson(`${base}/jobs/${done.body.job_id}`)).status).toBe(404);
  });
});
