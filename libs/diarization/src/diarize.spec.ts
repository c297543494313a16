/**
 * The whole diarization pipeline on generated conversations with known turns, through designed
 * ONNX models that honour the real segmentation-3.0 and WeSpeaker contracts.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureDiarizationModels } from '../../../scripts/fixtures/diarization-models';
import { scoreConversation } from '../../../test/support/diarization-accuracy';
import { synthesizeConversation } from '../../../test/support/synthetic-conversation';
import { locateDiarizationModels } from './diarization-model-registry';
import { diarize, DiarizationModels } from './diarize';
import { SpeakerEmbeddingModel } from './embedding-model';
import { SegmentationModel } from './segmentation-model';

describe('diarize() on synthetic conversations', () => {
  let models: DiarizationModels;

  beforeAll(async () => {
    const modelDir = mkdtempSync(join(tmpdir(), 'diarize-'));
    await ensureDiarizationModels(modelDir);
    const paths = locateDiarizationModels(modelDir);
    models = {
      segmentation: await SegmentationModel.load(paths.segmentation, paths.segmentationName, { useGpu: false, threads: 1, configPath: join(paths.dir, 'segmentation.json') }),
      embedding: await SpeakerEmbeddingModel.load(paths.embedding, paths.embeddingName, { useGpu: false, threads: 1, configPath: join(paths.dir, 'embedding.json') }),
    };
  });

  afterAll(async () => {
    await models.segmentation.release();
    await models.embedding.release();
  });

  it.each([
    [2, 60, 3],
    [4, 90, 5],
  ])('%i speakers with overlaps: DER ≤ 5 %%', async (speakers, seconds, seed) => {
    const score = await scoreConversation(models, { speakers, seconds, seed });
    console.log(`${speakers} speakers, ${seconds} s: DER ${(score.der * 100).toFixed(2)} % (missed ${(score.missed * 100).toFixed(2)}, false alarm ${(score.falseAlarm * 100).toFixed(2)}, confusion ${(score.confusion * 100).toFixed(2)}), ${score.speakersFound} speakers found, ${score.elapsedMs.toFixed(0)} ms`);
    expect(score.der).toBeLessThanOrEqual(0.05);
    expect(score.speakersFound).toBe(speakers);
  });

  it('min_speakers = max_speakers gives exactly that many speakers', async () => {
    const two = await scoreConversation(models, { speakers: 2, seconds: 40, seed: 9, minSpeakers: 2, maxSpeakers: 2 });
    expect(two.speakersFound).toBe(2);
    const forcedThree = await scoreConversation(models, { speakers: 4, seconds: 60, seed: 4, minSpeakers: 3, maxSpeakers: 3 });
    expect(forcedThree.speakersFound).toBe(3);
  });

  it('silence, a single speaker and audio shorter than one window give valid results', async () => {
    expect((await diarize(new Float32Array(16_000 * 12), models)).turns).toEqual([]);
    expect((await diarize(new Float32Array(0), models)).turns).toEqual([]);
    const single = synthesizeConversation({ speakers: 1, turns: [{ speaker: 0, start: 0.5, end: 6 }], seed: 2 });
    const result = await diarize(single.pcm, models);
    expect(new Set(result.turns.map((t) => t.speaker))).toEqual(new Set(['SPEAKER_00']));
    expect(result.turns[0].start).toBeLessThan(0.8);
    expect(result.turns[result.turns.length - 1].end).toBeGreaterThan(5.7);
  });
});
