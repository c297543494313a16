/** Silero VAD cut & merge and batch_size through the real service (jfk speech, real VAD model). */
import { readFileSync } from 'node:fs';
import { JFK_WAV } from '../support/samples';
import { getJson, postTranscribe, ServiceStack, startStack, waitFor } from '../support/service-harness';
import { encodeWav, readPcm16Wav, repeatSpeech } from '../support/wav';

interface Segment {
  start: number;
  end: number;
}

describe('VAD and batch_size end to end', () => {
  let stack: ServiceStack;
  let base: string;
  const jfk = readPcm16Wav(readFileSync(JFK_WAV));

  beforeAll(async () => {
    stack = await startStack({ WHISPER_MODEL: 'synthetic-micro' }, { MAX_UPLOAD_MB: '50' });
    base = stack.base;
  });

  afterAll(() => stack?.stop());

  it('silence-only audio returns an empty transcript without running whisper', async () => {
    const started = Date.now();
    const { status, body } = await postTranscribe(base, encodeWav(new Float32Array(16_000 * 60)), { allowed_languages: 'en' });
    expect(status).toBe(200);
    expect(body.segments).toEqual([]);
    expect(body.word_segments).toEqual([]);
    expect(body.duration).toBe(60);
    expect(body.timings_ms.vad).toBeGreaterThan(0);
    expect(body.timings_ms.transcribe).toBeUndefined();
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('only speech reaches whisper: leading silence produces no segment', async () => {
    const padded = new Float32Array(16_000 * 20);
    padded.set(jfk, 16_000 * 6);
    const { body } = await postTranscribe(base, encodeWav(padded), { allowed_languages: 'en' });
    expect(body.segments.length).toBeGreaterThan(0);
    expect(Math.min(...body.segments.map((s: Segment) => s.start))).toBeGreaterThanOrEqual(6);
    expect(Math.max(...body.segments.map((s: Segment) => s.end))).toBeLessThanOrEqual(17.1);
  });

  it('batch_size 1 and 4 give the same segment boundaries; progress counts decoded speech', async () => {
    const audio = encodeWav(repeatSpeech(jfk, 180, 2));
    const one = await postTranscribe(base, audio, { allowed_languages: 'en', batch_size: '1' });
    const accepted = await postTranscribe(base, audio, { allowed_languages: 'en', batch_size: '4', async: 'true' });
    const seen: number[] = [];
    const four = await waitFor('the batch_size=4 job', async () => {
      const { body } = await getJson(`${base}/jobs/${accepted.body.job_id}`);
      seen.push(body.progress);
      return body.status === 'completed' ? body.result : undefined;
    }, 120_000, 50);
    const bounds = (result: { segments: Segment[] }) => result.segments.map((s) => [s.start, s.end]);
    expect(one.body.segments.length).toBeGreaterThan(6);
    expect(bounds(four)).toEqual(bounds(one.body));
    // progress never goes back and ends at 100
    expect([...seen].sort((a, b) => a - b)).toEqual(seen);
    expect(seen[seen.length - 1]).toBe(100);
  });

  it('vad=false decodes the whole file in one pass', async () => {
    const { body } = await postTranscribe(base, encodeWav(new Float32Array(16_000 * 8)), { allowed_languages: 'en', vad: 'false' });
    expect(body.timings_ms.vad).toBeUndefined();
    expect(body.timings_ms.transcribe).toBeGreaterThan(0);
  });
});
