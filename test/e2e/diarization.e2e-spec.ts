/**
 * diarize=true end to end: a generated conversation with known turns (overlaps included) through
 * the real API and worker, with the designed segmentation and embedding models that
 * `npm run fixtures` put in MODEL_DIR/diarize.
 */
import type { SpeakerTurn } from '@app/diarization';
import { diarizationErrorRate } from '@app/testing';
import { getJson, postTranscribe, ServiceStack, startStack, waitFor } from '../support/service-harness';
import { makeConversationScript, synthesizeConversation } from '../support/synthetic-conversation';
import { encodeWav } from '../support/wav';

interface Word {
  word: string;
  start: number;
  end: number;
  speaker?: string;
}

describe('speaker diarization end to end', () => {
  let stack: ServiceStack;
  let base: string;

  beforeAll(async () => {
    stack = await startStack({ WHISPER_MODEL: 'synthetic-micro' });
    base = stack.base;
  });

  afterAll(() => stack?.stop());

  function conversation(speakers: number, seconds: number, seed: number) {
    const script = makeConversationScript({ speakers, seconds, seed });
    const audio = synthesizeConversation({ speakers, turns: script, seed });
    return { wav: encodeWav(audio.pcm), reference: audio.turns.map(({ speaker, start, end }): SpeakerTurn => ({ speaker, start, end })) };
  }

  it('labels words and segments with the right speakers (2 speakers, min = max = 2)', async () => {
    const { wav, reference } = conversation(2, 45, 21);
    const { status, body } = await postTranscribe(base, wav, { diarize: 'true', min_speakers: '2', max_speakers: '2', allowed_languages: 'en', vad: 'false' });
    expect(status).toBe(200);
    expect(body.diarization.status).toBe('ok');
    expect(body.diarization.model).toContain('synthetic');
    expect(body.speakers.map((s: { id: string }) => s.id)).toEqual(['SPEAKER_00', 'SPEAKER_01']);
    const turns = body.diarization.turns as SpeakerTurn[];
    const score = diarizationErrorRate(reference, turns, { collar: 0.25 });
    console.log(`diarize end to end (2 speakers, 45 s): DER ${(score.der * 100).toFixed(2)} %`);
    expect(score.der).toBeLessThanOrEqual(0.05);
    // speech time per speaker matches the reference within 10 %
    for (const speaker of body.speakers as { id: string; speech_seconds: number }[]) {
      const truth = reference.filter((t) => t.speaker === score.mapping.get(speaker.id)).reduce((sum, t) => sum + t.end - t.start, 0);
      expect(Math.abs(speaker.speech_seconds - truth) / truth).toBeLessThan(0.1);
    }
    // every word and segment carries the speaker of the diarization turn it overlaps most
    const words = (body.segments as { speaker: string; words: Word[] }[]).flatMap((segment) => {
      expect(['SPEAKER_00', 'SPEAKER_01']).toContain(segment.speaker);
      return segment.words;
    });
    expect(words.length).toBeGreaterThan(0);
    for (const word of words) {
      const overlaps = new Map<string, number>();
      for (const turn of turns) {
        const overlap = Math.min(turn.end, word.end) - Math.max(turn.start, word.start);
        if (overlap > 0) overlaps.set(turn.speaker, (overlaps.get(turn.speaker) ?? 0) + overlap);
      }
      if (overlaps.size === 0) continue;
      // during overlapped speech two speakers can tie; either is right then
      const most = Math.max(...overlaps.values());
      const best = [...overlaps.entries()].filter(([, overlap]) => overlap > most - 1e-6).map(([speaker]) => speaker);
      expect(best).toContain(word.speaker);
    }
    expect(body.word_segments.every((w: Word) => typeof w.speaker === 'string')).toBe(true);
    expect(body.timings_ms.diarize).toBeGreaterThan(0);
  });

  it('finds all four speakers of a 4-speaker conversation', async () => {
    const { wav, reference } = conversation(4, 60, 5);
    const { status, body } = await postTranscribe(base, wav, { diarize: 'true', allowed_languages: 'en', vad: 'false' });
    expect(status).toBe(200);
    const score = diarizationErrorRate(reference, body.diarization.turns, { collar: 0.25 });
    console.log(`diarize end to end (4 speakers, 60 s): DER ${(score.der * 100).toFixed(2)} %, ${body.speakers.length} speakers`);
    expect(body.speakers).toHaveLength(4);
    expect(score.der).toBeLessThanOrEqual(0.05);
  });

  it('silence gives a valid result with no speakers; the models show in /health', async () => {
    const { status, body } = await postTranscribe(base, encodeWav(new Float32Array(16_000 * 4)), { diarize: 'true', allowed_languages: 'en' });
    expect(status).toBe(200);
    expect(body.diarization).toMatchObject({ status: 'ok', turns: [] });
    expect(body.speakers).toEqual([]);
    const models = await waitFor('the diarization models in /health', async () => {
      const { body: health } = await getJson(`${base}/health`);
      const listed = health.workers[0].models as string[];
      return listed.some((m) => m.startsWith('diarize/')) ? listed : undefined;
    }, 10_000);
    expect(models).toEqual(expect.arrayContaining(['diarize/synthetic-voice-embedding']));
    // the worker says which onnxruntime execution provider each session got
    expect(stack.worker.output()).toContain('diarization: segmentation.onnx: onnxruntime execution provider cpu');
    expect(stack.worker.output()).toContain('diarization: embedding.onnx: onnxruntime execution provider cpu');
  });
});
