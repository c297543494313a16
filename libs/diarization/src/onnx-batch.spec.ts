import type { InferenceSession } from 'onnxruntime-node';
import { fixedBatchSize, runInFixedBatches } from './onnx-batch';

const tensor = (shape: Array<number | string>): InferenceSession.ValueMetadata[] => [{ name: 'x', isTensor: true, type: 'float32', shape }];

describe('fixedBatchSize (ONNX input metadata)', () => {
  it('reads a fixed batch from the first dimension', () => {
    expect(fixedBatchSize(tensor([1, 1, 160000]))).toBe(1);
    expect(fixedBatchSize(tensor([4, 1, 160000]))).toBe(4);
  });

  it('treats symbolic, unknown or undeclared batch dimensions as dynamic', () => {
    expect(fixedBatchSize(tensor(['N', 1, 160000]))).toBeNull();
    expect(fixedBatchSize(tensor(['batch_size', 1, 'num_samples']))).toBeNull();
    expect(fixedBatchSize(tensor([-1, 1, 160000]))).toBeNull();
    expect(fixedBatchSize(tensor([0, 1, 160000]))).toBeNull();
    expect(fixedBatchSize(tensor([]))).toBeNull();
    expect(fixedBatchSize([{ name: 'x', isTensor: false }])).toBeNull();
    expect(fixedBatchSize([])).toBeNull();
    expect(fixedBatchSize(undefined)).toBeNull();
  });
});

describe('runInFixedBatches', () => {
  /** A model that only takes `batch` windows of 2 samples and emits, per window, 3 frames × 1 class = its first sample. */
  const model = (batch: number, calls: number[]) => async (windows: Float32Array, count: number) => {
    if (count !== batch || windows.length !== batch * 2) throw new Error(`model takes ${batch} windows, got ${count}`);
    calls.push(count);
    const out = new Float32Array(count * 3);
    for (let w = 0; w < count; w++) out.fill(windows[w * 2], w * 3, (w + 1) * 3);
    return { logProbs: out, frames: 3 };
  };
  const windows = Float32Array.from([1, 0, 2, 0, 3, 0, 4, 0, 5, 0]); // 5 windows

  it('runs window by window for a batch of 1', async () => {
    const calls: number[] = [];
    const out = await runInFixedBatches(model(1, calls), windows, 5, 2, 1);
    expect(calls).toEqual([1, 1, 1, 1, 1]);
    expect(out.frames).toBe(3);
    expect(Array.from(out.logProbs)).toEqual([1, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 4, 5, 5, 5]);
  });

  it('pads the last group for a larger fixed batch and drops the padding', async () => {
    const calls: number[] = [];
    const out = await runInFixedBatches(model(2, calls), windows, 5, 2, 2);
    expect(calls).toEqual([2, 2, 2]);
    expect(Array.from(out.logProbs)).toEqual([1, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 4, 5, 5, 5]);
  });
});
