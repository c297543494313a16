/**
 * The proof without downloadable weights: audio whose "characters" are tones with known boundaries,
 * a wav2vec2-contract ONNX model designed to hear those tones, and the real aligner in between.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeToneCtcModel } from '../../../scripts/fixtures/tone-ctc-model';
import { measureAlignmentAccuracy } from '../../../test/support/alignment-accuracy';
import { synthesizeToneSpeech } from '../../../test/support/tone-speech';
import { alignSegment } from './ctc-forced-align';
import { WAV2VEC2_FRAME_GEOMETRY, Wav2Vec2CtcModel } from './wav2vec2-ctc-model';

describe('alignment accuracy on designed tone speech', () => {
  let model: Wav2Vec2CtcModel;

  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tone-ctc-'));
    await writeToneCtcModel(dir);
    model = await Wav2Vec2CtcModel.load(dir, 'synthetic-tone-ctc', { useGpu: false, threads: 1 });
  });

  afterAll(() => model.release());

  it('reads the model folder: vocabulary, blank by name, normalisation flag', () => {
    expect(model.vocab.blankId).toBe(0);
    expect(model.vocab.ids.get('a')).toBeGreaterThan(4);
    expect(model.doNormalize).toBe(true);
  });

  it('recovers known word boundaries within one frame on average, two at most', async () => {
    const errors = await measureAlignmentAccuracy(model, { sentences: 12 });
    console.log(`alignment boundary error over ${errors.words} words: mean ${errors.meanMs.toFixed(1)} ms, max ${errors.maxMs.toFixed(1)} ms`);
    expect(errors.words).toBeGreaterThan(50);
    expect(errors.meanMs).toBeLessThanOrEqual(20);
    expect(errors.maxMs).toBeLessThanOrEqual(40);
  });

  it('pads segments shorter than the receptive field and interpolates instead of failing', async () => {
    const emissions = await model.emissions(new Float32Array(100));
    expect(emissions.frames).toBe(1);
    const result = alignSegment({ segment: { text: 'hello world', start: 3, end: 3.00625 }, ...emissions, vocab: model.vocab });
    expect(result.status).toBe('interpolated');
    expect(result.words.map((w) => w.word)).toEqual(['hello', 'world']);
    expect(result.words.every((w) => w.interpolated && w.start >= 3 && w.end <= 3.00625)).toBe(true);
  });

  it('aligns digits through the wildcard column and keeps the original spelling', async () => {
    const speech = synthesizeToneSpeech(['room', '42', 'now'], { charSeconds: 0.1 });
    const emissions = await model.emissions(speech.pcm);
    const result = alignSegment({ segment: { text: 'Room 42, now!', start: 0, end: speech.duration }, ...emissions, vocab: model.vocab, frameGeometry: WAV2VEC2_FRAME_GEOMETRY });
    expect(result.words.map((w) => w.word)).toEqual(['Room', '42,', 'now!']);
    expect(Math.abs(result.words[0].start - speech.words[0].start)).toBeLessThan(0.04);
    expect(Math.abs(result.words[2].end - speech.words[2].end)).toBeLessThan(0.04);
  });
});
