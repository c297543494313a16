/**
 * A segmentation model exported with a fixed batch of 1 (the designed model, written with batch 1)
 * is probed at load and run window by window, with the same output as the dynamic-batch export.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { buildSegmentationModel, SEGMENTATION_WINDOW } from '../../../scripts/fixtures/segmentation-model';
import { synthesizeConversation } from '../../../test/support/synthetic-conversation';
import { SegmentationModel } from './segmentation-model';

describe('SegmentationModel batch probing', () => {
  let dir: string;
  let dynamic: SegmentationModel;
  let single: SegmentationModel;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'segmentation-batch-'));
    writeFileSync(join(dir, 'dynamic.onnx'), buildSegmentationModel());
    writeFileSync(join(dir, 'batch1.onnx'), buildSegmentationModel({ batch: 1 }));
    dynamic = await SegmentationModel.load(join(dir, 'dynamic.onnx'), 'dynamic', { useGpu: false, threads: 1 });
    single = await SegmentationModel.load(join(dir, 'batch1.onnx'), 'batch1', { useGpu: false, threads: 1 });
  });

  afterAll(async () => {
    await dynamic?.release();
    await single?.release();
    rmSync(dir, { recursive: true, force: true });
  });

  it('reads the batch dimension from the model: symbolic → any batch, 1 → fixed', () => {
    expect(dynamic.fixedBatch).toBeNull();
    expect(single.fixedBatch).toBe(1);
  });

  it('onnxruntime refuses 3 windows at once on the batch-1 export', async () => {
    const session = await ort.InferenceSession.create(join(dir, 'batch1.onnx'));
    try {
      const x = new ort.Tensor('float32', new Float32Array(3 * SEGMENTATION_WINDOW), [3, 1, SEGMENTATION_WINDOW]);
      await expect(session.run({ x })).rejects.toThrow();
    } finally {
      await session.release();
    }
  });

  it('runs 3 windows through the batch-1 export window by window, as the dynamic one does at once', async () => {
    const speech = synthesizeConversation({
      speakers: 2,
      turns: [
        { speaker: 0, start: 0.5, end: 12 },
        { speaker: 1, start: 11, end: 29 },
      ],
      seed: 3,
    }).pcm.subarray(0, 3 * SEGMENTATION_WINDOW);
    const windows = new Float32Array(3 * SEGMENTATION_WINDOW);
    windows.set(speech);
    const a = await dynamic.run(windows, 3);
    const b = await single.run(windows, 3);
    expect(b.frames).toBe(a.frames);
    expect(b.logProbs).toHaveLength(3 * 589 * 7);
    let maxDiff = 0;
    for (let i = 0; i < a.logProbs.length; i++) maxDiff = Math.max(maxDiff, Math.abs(a.logProbs[i] - b.logProbs[i]));
    expect(maxDiff).toBeLessThan(1e-4);
  });
});
