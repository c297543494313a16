/**
 * The ONNX wrappers' release() while a call runs: it waits for the call (which completes normally)
 * and refuses calls after it. The model cache never frees a leased model; this is the second line.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Wav2Vec2CtcModel } from '@app/alignment';
import { locateDiarizationModels, SegmentationModel, SpeakerEmbeddingModel } from '@app/diarization';
import { SileroVadModel } from '@app/vad';
import { ensureDiarizationModels } from '../../../../scripts/fixtures/diarization-models';
import { writeToneCtcModel } from '../../../../scripts/fixtures/tone-ctc-model';

/** Deterministic noise, so every model has something to chew on. */
function noise(samples: number): Float32Array {
  const out = new Float32Array(samples);
  let state = 7;
  for (let i = 0; i < samples; i++) {
    state = (state * 48271) % 2147483647;
    out[i] = (state / 2147483647 - 0.5) * 0.2;
  }
  return out;
}

/** Starts `work`, calls release() while it runs, and checks the order of events. */
async function releaseDuring<T>(work: () => Promise<T>, release: () => Promise<void>): Promise<{ result: T; order: string[] }> {
  const order: string[] = [];
  const running = work().then((result) => {
    order.push('call done');
    return result;
  });
  const released = release().then(() => void order.push('released'));
  const [result] = await Promise.all([running, released]);
  return { result, order };
}

describe('ONNX models released while a call runs', () => {
  it('Silero VAD: the scoring in flight completes, then the session is freed; later calls are refused', async () => {
    const vad = await SileroVadModel.load(undefined, { threads: 1 });
    const { result, order } = await releaseDuring(() => vad.probabilities(noise(16_000 * 20)), () => vad.release());
    expect(result.length).toBe(Math.ceil((16_000 * 20) / 512));
    expect(order).toEqual(['call done', 'released']);
    await expect(vad.probabilities(noise(16_000))).rejects.toThrow(/released/);
    await vad.release(); // idempotent
  });

  it('wav2vec2 alignment model', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tone-ctc-'));
    await writeToneCtcModel(dir);
    const model = await Wav2Vec2CtcModel.load(dir, 'synthetic-tone-ctc', { useGpu: false, threads: 1 });
    const { result, order } = await releaseDuring(() => model.emissions(noise(16_000 * 40)), () => model.release());
    expect(result.frames).toBeGreaterThan(1000);
    expect(order).toEqual(['call done', 'released']);
    await expect(model.emissions(noise(16_000))).rejects.toThrow(/released/);
  });

  it('segmentation and speaker-embedding models', async () => {
    const modelDir = mkdtempSync(join(tmpdir(), 'diarize-'));
    await ensureDiarizationModels(modelDir);
    const paths = locateDiarizationModels(modelDir);
    const segmentation = await SegmentationModel.load(paths.segmentation, paths.segmentationName, { useGpu: false, threads: 1, configPath: join(paths.dir, 'segmentation.json') });
    const embedding = await SpeakerEmbeddingModel.load(paths.embedding, paths.embeddingName, { useGpu: false, threads: 1, configPath: join(paths.dir, 'embedding.json') });
    const windows = segmentation.geometry.windowSamples;
    const seg = await releaseDuring(() => segmentation.run(noise(windows * 4), 4), () => segmentation.release());
    expect(seg.order).toEqual(['call done', 'released']);
    expect(seg.result.frames).toBeGreaterThan(0);
    await expect(segmentation.run(noise(windows), 1)).rejects.toThrow(/released/);
    const emb = await releaseDuring(() => embedding.embed(noise(16_000 * 3)), () => embedding.release());
    expect(emb.order).toEqual(['call done', 'released']);
    expect(emb.result.length).toBeGreaterThan(0);
    await expect(embedding.embed(noise(16_000))).rejects.toThrow(/released/);
  });
});
