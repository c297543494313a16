import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DiarizationModelUnavailable, ensureDiarizationModels, locateDiarizationModels } from './diarization-model-registry';

describe('ensureDiarizationModels: what an unavailable model tells the client', () => {
  it('names the file to place in MODEL_DIR/diarize; the full path goes to the log', async () => {
    const modelDir = mkdtempSync(join(tmpdir(), 'diarize-models-'));
    const warnings: string[] = [];
    const error = await ensureDiarizationModels(locateDiarizationModels(modelDir), {
      timeoutMs: 5_000,
      log: () => undefined,
      warn: (message) => void warnings.push(message),
      fetchImpl: async () => {
        throw new Error(`EACCES: permission denied, open '${join(modelDir, 'diarize', 'segmentation.onnx.partial')}'`);
      },
    }).catch((e: Error) => e);
    expect(error).toBeInstanceOf(DiarizationModelUnavailable);
    expect(error?.message).toContain('place segmentation.onnx in MODEL_DIR/diarize');
    expect(error?.message).toContain("open 'MODEL_DIR/diarize/segmentation.onnx.partial'");
    expect(error?.message).not.toContain(modelDir);
    expect(warnings.join('\n')).toContain(join(modelDir, 'diarize', 'segmentation.onnx'));
  });
});
