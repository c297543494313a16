/**
 * align_words end to end: tone "speech" spelling exactly what the synthetic whisper model writes,
 * placed inside the segments it reports, so every word's true start and end are known. The worker
 * aligns it with the designed wav2vec2-contract ONNX model that `npm run fixtures` put in
 * MODEL_DIR/align/en. VAD is off: Silero is trained on speech, not on tones.
 */
import { encodeWav } from '../support/wav';
import { getJson, postTranscribe, ServiceStack, startStack, waitFor } from '../support/service-harness';
import { synthesizeToneSegments } from '../support/tone-speech';

interface Word {
  word: string;
  start: number;
  end: number;
  score: number;
  interpolated?: boolean;
}

describe('word alignment end to end', () => {
  let stack: ServiceStack;
  let base: string;

  beforeAll(async () => {
    stack = await startStack({ WHISPER_MODEL: 'synthetic-tiny' });
    base = stack.base;
  });

  afterAll(() => stack?.stop());

  it('places every word within a frame of the generated ground truth', async () => {
    const seconds = 20;
    // 1. what does the model write, and where? (its decoder is scripted: the text ignores the audio)
    const probe = await postTranscribe(base, encodeWav(new Float32Array(seconds * 16_000)), { allowed_languages: 'en', vad: 'false' });
    expect(probe.status).toBe(200);
    const spans = (probe.body.segments as { start: number; end: number; text: string }[])
      .filter((segment) => segment.end - segment.start >= 2)
      .map((segment) => ({ words: segment.text.split(/\s+/).filter(Boolean), start: segment.start, end: segment.end }));
    expect(spans.length).toBeGreaterThanOrEqual(3);

    // 2. speech that says exactly that, inside those segments
    const speech = synthesizeToneSegments(spans, { totalSeconds: seconds, amplitude: 0.4 });
    const { status, body } = await postTranscribe(base, encodeWav(speech.pcm), { allowed_languages: 'en', align_words: 'true', vad: 'false' });
    expect(status).toBe(200);
    expect(body.alignment).toMatchObject({ status: 'ok', model: 'synthetic-tone-ctc', words_interpolated: 0 });
    expect(body.timings_ms.align).toBeGreaterThan(0);

    const aligned = (body.segments as { start: number; end: number; words: Word[] }[])
      .filter((segment) => segment.words.length > 0)
      .slice(0, spans.length);
    const words = aligned.flatMap((segment) => segment.words);
    expect(words.map((w) => w.word)).toEqual(speech.words.map((w) => w.word));
    const errors = words.flatMap((word, i) => [Math.abs(word.start - speech.words[i].start), Math.abs(word.end - speech.words[i].end)].map((s) => s * 1000));
    const mean = errors.reduce((a, b) => a + b, 0) / errors.length;
    const max = Math.max(...errors);
    console.log(`align_words end to end: ${words.length} words, boundary error mean ${mean.toFixed(1)} ms, max ${max.toFixed(1)} ms`);
    expect(mean).toBeLessThanOrEqual(20);
    expect(max).toBeLessThanOrEqual(40);
    for (const word of words) {
      expect(word.interpolated).toBeUndefined();
      expect(word.score).toBeGreaterThan(0);
    }
    // segments are tightened to their first and last aligned word
    for (const segment of aligned) {
      expect(segment.start).toBe(segment.words[0].start);
      expect(segment.end).toBe(Math.max(...segment.words.map((w) => w.end)));
    }
    expect(body.word_segments.length).toBe(body.segments.reduce((n: number, s: { words: Word[] }) => n + s.words.length, 0));

    // the alignment model sits in the worker's cache beside the whisper model (heartbeats every 5 s)
    const models = await waitFor('the alignment model in /health', async () => {
      const { body: health } = await getJson(`${base}/health`);
      const listed = health.workers[0].models as string[];
      return listed.includes('align:en/synthetic-tone-ctc') ? listed : undefined;
    }, 10_000);
    expect(models).toEqual(expect.arrayContaining(['synthetic-tiny/ggml', 'align:en/synthetic-tone-ctc']));
    // the worker says which onnxruntime execution provider each session got
    expect(stack.worker.output()).toContain('alignment en: model.onnx: onnxruntime execution provider cpu');
  });

  it('without an alignment model for the language, returns whisper times and says why', async () => {
    const { status, body } = await postTranscribe(base, encodeWav(new Float32Array(6 * 16_000)), { allowed_languages: 'de', align_words: 'true', vad: 'false' });
    expect(status).toBe(200);
    expect(body.language).toBe('de');
    expect(body.alignment.status).toBe('unavailable');
    expect(body.alignment.reason).toMatch(/align\/de/);
    expect(body.segments[0].words.length).toBeGreaterThan(0);
  });
});
