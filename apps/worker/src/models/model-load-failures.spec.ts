import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Logger } from '@nestjs/common';
import { AlignmentModelUnavailable } from '@app/alignment';
import { loadConfig } from '@app/config';
import { DiarizationModelUnavailable } from '@app/diarization';
import { AlignmentModelsService } from '../alignment/alignment-models.service';
import { DiarizationModelsService } from '../diarization/diarization-models.service';
import { ModelCacheService } from './model-cache.service';

/** A model file that exists but is not ONNX: onnxruntime's error names its absolute path. */
function brokenModels(): string {
  const modelDir = mkdtempSync(join(tmpdir(), 'broken-models-'));
  mkdirSync(join(modelDir, 'align', 'de'), { recursive: true });
  writeFileSync(join(modelDir, 'align', 'de', 'model.onnx'), 'not onnx');
  writeFileSync(join(modelDir, 'align', 'de', 'vocab.json'), JSON.stringify({ '<pad>': 0, a: 1 }));
  mkdirSync(join(modelDir, 'diarize'));
  writeFileSync(join(modelDir, 'diarize', 'segmentation.onnx'), 'not onnx');
  writeFileSync(join(modelDir, 'diarize', 'embedding.onnx'), 'not onnx');
  return modelDir;
}

describe('models that are present but do not load', () => {
  const modelDir = brokenModels();
  const config = loadConfig({ MODEL_DIR: modelDir });
  let warnings: string[];

  beforeEach(() => {
    warnings = [];
    jest.spyOn(Logger.prototype, 'warn').mockImplementation((message: unknown) => void warnings.push(String(message)));
  });
  afterEach(() => jest.restoreAllMocks());

  it('alignment: the reason names MODEL_DIR/align/de, the log the full path', async () => {
    const error = await new AlignmentModelsService(config, new ModelCacheService(config)).acquire('de').then(() => undefined, (e: Error) => e);
    expect(error).toBeInstanceOf(AlignmentModelUnavailable);
    expect(error?.message).toContain('MODEL_DIR/align/de');
    expect(error?.message).not.toContain(modelDir);
    expect(warnings.join('\n')).toContain(join(modelDir, 'align', 'de'));
  });

  it('diarization: the reason names MODEL_DIR/diarize, the log the full path', async () => {
    const error = await new DiarizationModelsService(config, new ModelCacheService(config)).acquire().then(() => undefined, (e: Error) => e);
    expect(error).toBeInstanceOf(DiarizationModelUnavailable);
    expect(error?.message).toContain('MODEL_DIR/diarize');
    expect(error?.message).not.toContain(modelDir);
    expect(warnings.join('\n')).toContain(join(modelDir, 'diarize'));
  });
});
