import type { InferenceSession } from 'onnxruntime-node';

/**
 * The batch size a model's first input is fixed to, read from its ONNX metadata: a positive number
 * in the first dimension (e.g. a segmentation model exported with batch 1, which then runs window by
 * window); null when that dimension is symbolic ("N", "batch_size"), unknown (-1, 0) or the shape is
 * not declared, i.e. any batch works.
 */
export function fixedBatchSize(metadata: readonly InferenceSession.ValueMetadata[] | undefined): number | null {
  const first = metadata?.[0];
  if (!first || !first.isTensor || first.shape.length === 0) return null;
  const batch = first.shape[0];
  return typeof batch === 'number' && Number.isInteger(batch) && batch > 0 ? batch : null;
}

/**
 * Runs `count` windows through a model whose batch is fixed to `batch`: groups of exactly `batch`
 * windows, the last one zero-padded, outputs concatenated (padding dropped).
 */
export async function runInFixedBatches(
  run: (windows: Float32Array, count: number) => Promise<{ logProbs: Float32Array; frames: number }>,
  windows: Float32Array,
  count: number,
  windowSamples: number,
  batch: number,
): Promise<{ logProbs: Float32Array; frames: number }> {
  const parts: Float32Array[] = [];
  let frames = 0;
  let perWindow = 0;
  for (let first = 0; first < count; first += batch) {
    const n = Math.min(batch, count - first);
    let input = windows.subarray(first * windowSamples, (first + n) * windowSamples);
    if (n < batch) {
      const padded = new Float32Array(batch * windowSamples);
      padded.set(input);
      input = padded;
    }
    const out = await run(input, batch);
    frames = out.frames;
    perWindow = out.logProbs.length / batch;
    parts.push(out.logProbs.subarray(0, n * perWindow));
  }
  const logProbs = new Float32Array(count * perWindow);
  parts.forEach((p, i) => logProbs.set(p, i * batch * perWindow));
  return { logProbs, frames };
}
