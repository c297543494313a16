import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DownloadOptions } from '@app/model-cache';
import { AlignmentModelUnavailable, ensureAlignmentModel } from './alignment-model-download';
import { locateAlignmentModel } from './alignment-model-registry';

/** Error text that names the server's MODEL_DIR, as an fs failure would. */
function failingOptions(modelDir: string, warnings: string[]): DownloadOptions {
  return {
    timeoutMs: 5_000,
    log: () => undefined,
    warn: (message) => void warnings.push(message),
    fetchImpl: async () => {
      throw new Error(`EACCES: permission denied, open '${join(modelDir, 'align', 'de', 'vocab.json.partial')}'`);
    },
  };
}

describe('ensureAlignmentModel: what an unavailable model tells the client', () => {
  const modelDir = mkdtempSync(join(tmpdir(), 'align-models-'));

  it('a language without a default model: place the files in MODEL_DIR/align/<lang>, full path to the log', async () => {
    const warnings: string[] = [];
    const error = await ensureAlignmentModel(locateAlignmentModel('sw', modelDir), failingOptions(modelDir, warnings)).catch((e: Error) => e);
    expect(error).toBeInstanceOf(AlignmentModelUnavailable);
    expect(error?.message).toContain('place an ONNX wav2vec2 CTC model (model.onnx + vocab.json) in MODEL_DIR/align/sw');
    expect(error?.message).not.toContain(modelDir);
    expect(warnings.join('\n')).toContain(join(modelDir, 'align', 'sw'));
  });

  it('a failed download: the reason without the server path, and where to place the files', async () => {
    const warnings: string[] = [];
    const error = await ensureAlignmentModel(locateAlignmentModel('de', modelDir), failingOptions(modelDir, warnings)).catch((e: Error) => e);
    expect(error).toBeInstanceOf(AlignmentModelUnavailable);
    expect(error?.message).toContain('place model.onnx + vocab.json in MODEL_DIR/align/de');
    expect(error?.message).toContain('EACCES');
    expect(error?.message).not.toContain(modelDir);
    expect(warnings.join('\n')).toContain(join(modelDir, 'align', 'de'));
  });
});
